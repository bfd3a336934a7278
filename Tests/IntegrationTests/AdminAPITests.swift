import Foundation
import TestHarness
import Testing

/// The restore-cancel admin endpoint: off by default, a bare authenticated POST, audited and counted.
@Suite struct AdminAPITests {
    static let path = "/api/v1/admin/restore-job/cancel"

    struct Setup {
        let simulator: Simulator
        let exporter: Exporter
        let token: String
        var cancelURL: String { exporter.url + AdminAPITests.path }
        var bearer: (String, String) { ("Authorization", "Bearer \(token)") }
    }

    static func tokenFile(_ token: String, mode: Int = 0o600) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: mode])
        return path
    }

    static func setup(simulatorExtra: [String] = [], exporterExtra: [String] = [], tokenMode: Int = 0o600) async throws -> Setup {
        let token = "admin-\(UUID().uuidString)"
        let simulator = try await Simulator(scenario: "running", extra: ["--restore-scenario", "in-progress"] + simulatorExtra)
        let exporter = try await Exporter(simulator: simulator, extra: [
            "--web.enable-admin-api", "--web.admin-token-file", tokenFile(token, mode: tokenMode),
        ] + exporterExtra)
        return Setup(simulator: simulator, exporter: exporter, token: token)
    }

    @Test func refusals() async throws {
        let s = try await Self.setup()
        let sameLength = String(repeating: "x", count: s.token.count)
        for headers in [[], [("Authorization", "Bearer \(sameLength)")], [("Authorization", "Bearer short")],
                        [("Authorization", "Bearer \(s.token)x")], [("Authorization", "Basic \(s.token)")]] {
            let response = try await http(.POST, s.cancelURL, headers: headers)
            #expect(response.status == 401)
            #expect(response.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
        }
        let get = try await http(.GET, s.cancelURL, headers: [s.bearer])
        #expect(get.status == 405 && get.headers.first(name: "Allow") == "POST")
        for type in ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"] {
            #expect(try await http(.POST, s.cancelURL, headers: [s.bearer, ("Content-Type", type)]).status == 415)
        }
        #expect(try await http(.POST, s.cancelURL, headers: [s.bearer, ("Content-Type", "application/json")], body: "{}").status == 400)
        #expect(try await http(.POST, s.cancelURL + "?force=true", headers: [s.bearer]).status == 400)
        let metrics = try await s.exporter.metrics()
        #expect(metrics["vcsa_admin_restore_cancel_requests_total{result=\"REJECTED\"}"] == 11)
        #expect(metrics["vcsa_admin_restore_cancel_requests_total{result=\"OK\"}"] == 0)
        #expect(try await s.simulator.stats().cancels == 0)
    }

    /// The appliance has acted; a status this exporter does not know must not turn that into a 502 an operator might retry.
    @Test func unknownStatusIsPassedOnNotFailed() async throws {
        let s = try await Self.setup(simulatorExtra: ["--cancel-result", "UNKNOWN-STATUS"])
        let response = try await http(.POST, s.cancelURL, headers: [s.bearer])
        #expect(response.status == 200)
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(body?["status"] as? String == "PARTIAL", "the appliance's answer, as sent")
        let metrics = try await s.exporter.metrics()
        #expect(metrics["vcsa_admin_restore_cancel_requests_total{result=\"UNKNOWN\"}"] == 1)
        #expect(metrics["vcsa_admin_restore_cancel_requests_total{result=\"ERROR\"}"] == 0)
        #expect(metrics["vcsa_restore_job_state{state=\"FAILED\"}"] == 1, "the simulated restore was cancelled")
    }

    @Test(arguments: ["OK", "WARNING", "FAIL"])
    func upstreamResultIsReturned(result: String) async throws {
        let s = try await Self.setup(simulatorExtra: ["--cancel-result", result])
        let response = try await http(.POST, s.cancelURL, headers: [s.bearer])
        #expect(response.status == 200)
        #expect(response.headers.first(name: "Content-Type") == "application/json")
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(body?["status"] as? String == result)
        #expect((body?["messages"] as? [[String: Any]])?.first?["id"] as? String == "com.vmware.appliance.recovery.restore.cancel")
        #expect(try await s.simulator.stats().cancels == 1)
        let metrics = try await s.exporter.metrics()
        #expect(metrics["vcsa_admin_restore_cancel_requests_total{result=\"\(result)\"}"] == 1)
        // The appliance moves an accepted cancel's restore to FAILED.
        #expect(metrics["vcsa_restore_job_state{state=\"FAILED\"}"] == (result == "FAIL" ? 0 : 1))
        #expect(metrics["vcsa_api_requests_total{operation=\"restore_job_cancel\"}"] == 1)
    }

    @Test func upstreamErrorIs502AndTimeoutIs504() async throws {
        let s = try await Self.setup(simulatorExtra: ["--cancel-result", "ERROR"])
        let failed = try await http(.POST, s.cancelURL, headers: [s.bearer])
        #expect(failed.status == 502)
        let body = try JSONSerialization.jsonObject(with: Data(failed.body)) as? [String: Any]
        #expect(body?["error_type"] as? String == "ERROR")
        #expect((body?["error"] as? String)?.contains("HTTP 500") == true)

        let slow = try await Self.setup(simulatorExtra: ["--latency", "2"], exporterExtra: ["--vcenter.timeout", "1s"])
        let timedOut = try await http(.POST, slow.cancelURL, headers: [slow.bearer])
        #expect(timedOut.status == 504)
        #expect(try await slow.exporter.metrics()["vcsa_admin_restore_cancel_requests_total{result=\"ERROR\"}"] == 1)
    }

    @Test func concurrentCancelGets409() async throws {
        let s = try await Self.setup(simulatorExtra: ["--latency", "3"], exporterExtra: ["--vcenter.timeout", "8s"])
        _ = try await s.exporter.metrics()  // logs in, so that both cancels race on the cancel call itself
        async let first = http(.POST, s.cancelURL, headers: [s.bearer])
        // The first is under way (3 s at the appliance) well before the second is sent, even on a loaded machine.
        try await Task.sleep(for: .seconds(1))
        let second = try await http(.POST, s.cancelURL, headers: [s.bearer])
        #expect(second.status == 409)
        #expect(try await first.status == 200)
        #expect(try await s.simulator.stats().cancels == 1)
    }

    @Test func everyCallIsAuditedWithoutTheToken() async throws {
        let s = try await Self.setup()
        _ = try await http(.POST, s.cancelURL, headers: [s.bearer])
        _ = try await http(.POST, s.cancelURL, headers: [("Authorization", "Bearer wrong")])
        _ = try await http(.GET, s.cancelURL, headers: [s.bearer])
        func audit() -> [Substring] { s.exporter.child.output.split(separator: "\n").filter { $0.contains("audit=restore_job_cancel") } }
        // The log is written after each answer: wait for the three lines, not for a fixed time.
        try await eventually { audit().count >= 3 }
        let audit = audit()
        #expect(audit.count == 3)
        #expect(audit[0].contains("result=OK") && audit[0].contains("status=200") && audit[0].contains("client=127.0.0.1:"))
        #expect(audit[1].contains("result=REJECTED") && audit[1].contains("status=401"))
        #expect(audit[2].contains("result=REJECTED") && audit[2].contains("status=405"))
        #expect(!s.exporter.child.output.contains(s.token))
    }

    @Test func worldReadableTokenFileWarns() async throws {
        let s = try await Self.setup(tokenMode: 0o644)
        #expect(s.exporter.child.output.contains("The admin token file is world-readable"))
    }

    @Test func shortTokenIsRefusedAtStartUp() async throws {
        let child = try ChildProcess(try Binaries.path("vcsa_exporter"), [
            "--vcenter.url", "https://127.0.0.1:1", "--vcenter.username", "u", "--vcenter.password-file", "/etc/hostname",
            "--web.enable-admin-api", "--web.admin-token-file", Self.tokenFile("short"),
        ])
        defer { child.stop() }
        #expect(await child.waitForExit() == 2)
        #expect(child.output.contains("--web.admin-token-file: the token must be at least 16 characters"))
    }

    @Test func behindBasicAuthTheTokenComesInItsOwnHeader() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString).yml").path
        // bcrypt of "secret" (cost 4).
        try "basic_auth_users:\n  alice: $2y$04$r/lUtRAmpS7hjGWVeY8o/OGrbJvuARcwAJipgqSsHjiNTeby.oN2a\n".write(toFile: config, atomically: true, encoding: .utf8)
        let s = try await Self.setup(exporterExtra: ["--web.config.file", config])
        let basic = ("Authorization", "Basic " + Data("alice:secret".utf8).base64EncodedString())
        #expect(try await http(.POST, s.cancelURL, headers: [s.bearer]).status == 401)
        #expect(try await http(.POST, s.cancelURL, headers: [basic]).status == 401)
        let accepted = try await http(.POST, s.cancelURL, headers: [basic, ("X-Admin-Token", s.token)])
        #expect(accepted.status == 200)
        #expect(try await http(.GET, "\(s.exporter.url)/metrics").status == 401)
        #expect(try await http(.GET, "\(s.exporter.url)/metrics", headers: [basic]).status == 200)
    }
}
