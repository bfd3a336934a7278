import Foundation
import SpecConformance
import Testing

/// Every fixture is what the spec says the appliance sends; fixtures that go beyond the spec on purpose
/// are checked to fail in exactly the expected places.
@Suite struct FixtureSpecTests {
    static let job = "/api/appliance/recovery/reconciliation/job"

    @Test(arguments: [
        ("reconciliation-running.json", job, "get", 200),
        ("reconciliation-succeeded.json", job, "get", 200),
        ("reconciliation-failed.json", job, "get", 200),
        ("reconciliation-none.json", job, "get", 200),
        ("error-not-found.json", job, "get", 404),
        ("error-route-not-found.json", job, "get", 404),
        ("error-unauthenticated.json", "/api/session", "post", 401),
        ("error-legacy-not-found.json", "/rest/appliance/recovery/reconciliation/job", "get", 404),
        ("restore-inprogress.json", "/api/appliance/recovery/restore/job", "get", 200),
        ("cancel-warning.json", "/api/appliance/recovery/restore/job?action=cancel", "post", 200),
        ("backup-job-list.json", "/api/appliance/recovery/backup/job", "get", 200),
        ("backup-job-details.json", "/api/appliance/recovery/backup/job/details", "get", 200),
        ("backup-schedules.json", "/api/appliance/recovery/backup/schedules", "get", 200),
    ])
    func fixtureConformsToSpec(name: String, path: String, method: String, status: Int) throws {
        let spec = try SpecSchema()
        #expect(try spec.problems(try Fixture.data(name), path: path, method: method, status: status) == [])
    }

    @Test func unknownStatusFixtureDeviatesOnlyWhereIntended() throws {
        let problems = try SpecSchema().problems(try Fixture.data("reconciliation-unknown-status.json"), path: Self.job, method: "get", status: 200)
        #expect(problems == [
            "(root).future_field: not a field of ApplianceRecoveryReconciliationJobInfo",
            "(root).status: string(\"PAUSED\") is not one of the enum values",
        ])
    }

    @Test func validatorCatchesMissingFieldsAndNulls() throws {
        let body = Data(#"{"state": "INPROGRESS", "messages": null}"#.utf8)
        let problems = try SpecSchema().problems(body, path: "/api/appliance/recovery/restore/job", method: "get", status: 200)
        #expect(problems == ["(root): missing required field progress", "(root).messages: null (unset fields must be omitted)"])
    }
}
