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
