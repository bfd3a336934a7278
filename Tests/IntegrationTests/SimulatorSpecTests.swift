import ApplianceAPI
import Foundation
import SpecConformance
import TestHarness
import Testing

/// The simulator's bodies are what `recovery-api.json` says, for every scenario.
@Suite struct SimulatorSpecTests {
    static let job = "/api/appliance/recovery/reconciliation/job"
    static let restore = "/api/appliance/recovery/restore/job"

    func session(_ simulator: Simulator) async throws -> String {
        let login = try await http(.POST, "\(simulator.url)/api/session",
                                   headers: [("Authorization", "Basic " + Data("administrator@vsphere.local:\(Simulator.password)".utf8).base64EncodedString())])
        #expect(login.status == 201)
        #expect(try SpecSchema().problems(Data(login.body), path: "/api/session", method: "post", status: 201) == [])
        return try JSONDecoder().decode(String.self, from: Data(login.body))
    }

    @Test func reconciliationBodiesConform() async throws {
        let spec = try SpecSchema()
        let simulator = try await Simulator(scenario: "none")
        let id = try await session(simulator)
        // Scenarios that answer with a spec'd status; the rest (malformed, oversized, 503, legacy) misbehave on purpose.
        for scenario in ["none", "idle", "running", "progressing", "stalled", "succeeded", "failed", "error-500", "route-not-found"] {
            try await simulator.control("scenario", scenario)
            let response = try await http(.GET, "\(simulator.url)\(Self.job)", headers: [("vmware-api-session-id", id)])
            #expect(try spec.problems(Data(response.body), path: Self.job, method: "get", status: response.status) == [], "scenario \(scenario)")
        }
    }

    @Test func restoreAndCancelBodiesConform() async throws {
        let spec = try SpecSchema()
        let simulator = try await Simulator(scenario: "none")
        let id = try await session(simulator)
        for scenario in ["none", "in-progress", "succeeded", "failed"] {
            try await simulator.control("restore-scenario", scenario)
            let response = try await http(.GET, "\(simulator.url)\(Self.restore)", headers: [("vmware-api-session-id", id)])
            #expect(response.status == 200)
            #expect(try spec.problems(Data(response.body), path: Self.restore, method: "get", status: 200) == [], "restore \(scenario)")
        }
        for outcome in ["OK", "WARNING", "FAIL", "ERROR"] {
            try await simulator.control("cancel-result", outcome)
            let response = try await http(.POST, "\(simulator.url)\(Self.restore)?action=cancel", headers: [("vmware-api-session-id", id)])
            #expect(try spec.problems(Data(response.body), path: "\(Self.restore)?action=cancel", method: "post", status: response.status) == [], "cancel \(outcome)")
        }
    }

    @Test func backupBodiesConform() async throws {
        let spec = try SpecSchema()
        let simulator = try await Simulator(scenario: "none")
        let id = try await session(simulator)
        let base = "/api/appliance/recovery/backup"
        // `unsupported` answers a route-not-found 404 on purpose, as an older appliance does.
        for scenario in ["never", "first", "nightly", "last-failed", "running", "stale", "disabled", "many"] {
            try await simulator.control("backup-scenario", scenario)
            let list = try await http(.GET, "\(simulator.url)\(base)/job", headers: [("vmware-api-session-id", id)])
            #expect(list.status == 200)
            #expect(try spec.problems(Data(list.body), path: "\(base)/job", method: "get", status: 200) == [], "list \(scenario)")
            let ids = try JSONDecoder().decode([String].self, from: Data(list.body))
            let query = ids.prefix(3).map { "jobs=\($0)" }.joined(separator: "&")
            let details = try await http(.GET, "\(simulator.url)\(base)/job/details?\(query)", headers: [("vmware-api-session-id", id)])
            #expect(details.status == 200)
            #expect(try spec.problems(Data(details.body), path: "\(base)/job/details", method: "get", status: 200) == [], "details \(scenario)")
            #expect(try JSONDecoder().decode([String: JSONValue].self, from: Data(details.body)).keys.sorted() == ids.prefix(3).sorted(), "only the jobs asked for")
            let schedules = try await http(.GET, "\(simulator.url)\(base)/schedules", headers: [("vmware-api-session-id", id)])
            #expect(try spec.problems(Data(schedules.body), path: "\(base)/schedules", method: "get", status: 200) == [], "schedules \(scenario)")
        }
    }

    @Test func unauthenticatedAndLogoutConform() async throws {
        let spec = try SpecSchema()
        let simulator = try await Simulator(scenario: "running")
        let refused = try await http(.GET, "\(simulator.url)\(Self.job)")
        #expect(refused.status == 401)
        #expect(try spec.problems(Data(refused.body), against: try spec.responseSchema(path: "/api/session", method: "delete", status: 401)) == [])
        let id = try await session(simulator)
        #expect(try await http(.DELETE, "\(simulator.url)/api/session", headers: [("vmware-api-session-id", id)]).status == 204)
        #expect(try await http(.GET, "\(simulator.url)\(Self.job)", headers: [("vmware-api-session-id", id)]).status == 401)
    }
}
