@testable import ApplianceAPI
import Foundation
import Testing

@Suite struct DecodingTests {
    let decoder = ApplianceJSON.decoder()

    @Test func runningJobDecodesEveryField() throws {
        let job = try decoder.decode(ReconciliationJob.self, from: try Fixture.data("reconciliation-running.json"))
        #expect(job.status == .running)
        #expect(job.progress == 42)
        #expect(job.cancelable == true)
        #expect(job.parent == "com.vmware.appliance.recovery.restore.job")
        #expect(job.target == DynamicID(type: "com.vmware.appliance.recovery.reconciliation.job", id: "reconcile-1"))
        #expect(job.startTime?.timeIntervalSince1970 == 1_795_341_600.651)
        #expect(job.endTime == nil)
        #expect(job.messages.first?.args == ["2"])
        #expect(job.description.params == .object(["partner": .object(["s": .string("vcsa-02.example.com")])]))
    }

    /// Found by FuzzAPITimestamp: Foundation rolls out-of-range fields over, and truncates milliseconds when formatting.
    @Test(arguments: ["2026-11-22T10:83:00Z", "2026-02-30T10:00:00Z", "2026-11-22T25:00:00Z", "2026-11-22T10:00:61Z",
                      "2-1-1T0:83:0Z", "-0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "2026-11-22T10:00:00", "2026-11-22T10:00:00.Z",
                      "2026-11-22T10:00:00+2:00", "2026-11-22 10:00:00Z"])
    func malformedTimestampsAreRefused(text: String) {
        #expect(APITimestamp.parse(text) == nil)
    }

    @Test(arguments: ["2026-11-22T10:00:00.002Z", "2026-11-22T10:00:00.005Z", "2015-01-01T22:13:05.651Z", "0001-01-01T00:00:00.001Z",
                      "9999-12-31T23:59:59.999Z", "2024-02-29T23:59:59.999Z"])
    func millisecondsSurviveARoundTrip(text: String) throws {
        #expect(APITimestamp.format(try #require(APITimestamp.parse(text))) == text)
        #expect(APITimestamp.parse("2026-11-22T12:00:00.5+02:00").map(APITimestamp.format) == "2026-11-22T10:00:00.500Z")
    }

    @Test func timestampsWithoutFractionalSeconds() throws {
        let job = try decoder.decode(ReconciliationJob.self, from: try Fixture.data("reconciliation-succeeded.json"))
        #expect(job.status == .succeeded)
        #expect(job.startTime?.timeIntervalSince1970 == 1_795_341_600)
        #expect(job.endTime?.timeIntervalSince1970 == 1_795_343_400)
        #expect(job.cancelable == nil)
    }

    @Test func failedJobKeepsTheErrorObject() throws {
        let job = try decoder.decode(ReconciliationJob.self, from: try Fixture.data("reconciliation-failed.json"))
        #expect(job.status == .failed)
        guard case .object(let error)? = job.error else { Issue.record("error should decode as a JSON object"); return }
        #expect(error["error_type"] == .string("ERROR"))
        #expect(job.endTime?.timeIntervalSince1970 == 1_795_342_500.5)
    }

    @Test func noneStatusHasNoTimes() throws {
        let job = try decoder.decode(ReconciliationJob.self, from: try Fixture.data("reconciliation-none.json"))
        #expect(job.status == .none)
        #expect(job.startTime == nil && job.endTime == nil)
    }

    @Test func unknownStatusAndExtraFieldsDoNotFail() throws {
        let job = try decoder.decode(ReconciliationJob.self, from: try Fixture.data("reconciliation-unknown-status.json"))
        #expect(job.status == .unknown)
        #expect(job.progress == 50)
    }

    @Test func missingRequiredFieldIsAnError() {
        #expect(throws: DecodingError.self) {
            try decoder.decode(ReconciliationJob.self, from: Data(#"{"status": "RUNNING", "progress": 3}"#.utf8))
        }
    }

    @Test func badTimestampIsAnError() {
        let body = #"{"description":{"id":"a","default_message":"b","args":[]},"service":"s","operation":"o","status":"RUNNING","messages":[],"progress":1,"start_time":"yesterday"}"#
        #expect(throws: DecodingError.self) { try decoder.decode(ReconciliationJob.self, from: Data(body.utf8)) }
    }

    @Test func encodingOmitsUnsetFieldsAndRoundTrips() throws {
        let job = try decoder.decode(ReconciliationJob.self, from: try Fixture.data("reconciliation-none.json"))
        let text = String(decoding: try ApplianceJSON.encoder().encode(job), as: UTF8.self)
        #expect(!text.contains("start_time") && !text.contains("null") && !text.contains("cancelable"))
        #expect(try decoder.decode(ReconciliationJob.self, from: Data(text.utf8)) == job)
        let running = try decoder.decode(ReconciliationJob.self, from: try Fixture.data("reconciliation-running.json"))
        #expect(String(decoding: try ApplianceJSON.encoder().encode(running), as: UTF8.self).contains(#""start_time":"2026-11-22T10:00:00.651Z""#))
    }

    @Test func restoreAndCancelBodies() throws {
        let restore = try decoder.decode(RestoreJob.self, from: try Fixture.data("restore-inprogress.json"))
        #expect(restore.state == .inProgress && restore.progress == 55)
        let cancel = try decoder.decode(CancelResult.self, from: try Fixture.data("cancel-warning.json"))
        #expect(cancel.status == .warning)
        let unknown = try decoder.decode(RestoreJob.self, from: Data(#"{"state":"PAUSED","messages":[],"progress":1}"#.utf8))
        #expect(unknown.state == .unknown)
    }

    @Test func backupBodies() throws {
        let ids = try decoder.decode([String].self, from: try Fixture.data("backup-job-list.json"))
        #expect(ids.sorted(by: >).first == "20261124-020000-24322831", "ids sort by time")
        let details = try decoder.decode([String: BackupJobDetails].self, from: try Fixture.data("backup-job-details.json"))
        let running = try #require(details["20261124-020000-24322831"])
        #expect(running.status == .running && running.progress?.completed == 40 && running.endTime == nil && running.locationScheme == "sftp")
        let failed = try #require(details["20261123-020000-24322831"])
        #expect(failed.status == .failed && failed.type == "MANUAL" && failed.locationScheme == "nfs" && failed.error != nil)
        #expect(failed.endTime.map { $0.timeIntervalSince1970 } == 1795399500)
        let schedules = try decoder.decode([String: BackupSchedule].self, from: try Fixture.data("backup-schedules.json"))
        #expect(schedules["default"]?.enable == true && schedules["default"]?.retentionInfo?.maxCount == 7)
        #expect(schedules["weekly"]?.enable == false && schedules["weekly"]?.retentionInfo == nil)
    }

    @Test func backupTypesAndStatusesAreOpen() throws {
        let body = #"{"location":"LOCAL","location_user":"","type":"LOCAL_BACKUP","messages":[],"description":{"id":"x","default_message":"x","args":[]},"service":"s","operation":"o","status":"PAUSED","cancelable":false}"#
        let job = try decoder.decode(BackupJobDetails.self, from: Data(body.utf8))
        #expect(job.status == .unknown && job.type == "LOCAL_BACKUP" && job.locationScheme == "")
    }
}
