import Foundation

/// The real vcsa_simulator on a loopback port.
final class Simulator: @unchecked Sendable {
    struct Stats: Decodable, Equatable {
        var logins: Int
        var failed_logins: Int
        var logouts: Int
        var active_sessions: Int
        var reconciliation_gets: Int
        var restore_gets: Int
        var cancels: Int
    }

    static let password = "sim-Pa55-\(UUID().uuidString.prefix(8))"
    let port = freePort()
    let child: ChildProcess
    /// "127.0.0.1", or "[::1]" for an IPv6 appliance.
    let host: String
    var url: String { "\(scheme)://\(host):\(port)" }
    let scheme: String

    init(scenario: String = "running", extra: [String] = [], tls: Bool = false, host: String = "127.0.0.1") async throws {
        scheme = tls ? "https" : "http"
        self.host = host
        child = try ChildProcess(try Binaries.path("vcsa_simulator"),
                                 ["--listen-address", "\(host):\(port)", "--scenario", scenario] + extra,
                                 environment: ["VCSA_PASSWORD": Self.password])
        let deadline = ContinuousClock.now + .seconds(15)
        // The banner line says the server is up (works for HTTPS without trusting its certificate).
        while !child.output.contains("listening on") {
            guard ContinuousClock.now < deadline, child.process.isRunning else { throw HarnessError("simulator did not start:\n\(child.output)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func control(_ path: String, _ value: String) async throws {
        let url = "\(self.url)/simulator/\(path)"
        let response = try await http(.PUT, url, body: value)
        guard response.status == 204 else { throw HarnessError("PUT \(path) \(value): \(response.status) \(response.text)") }
    }

    func stats() async throws -> Stats {
        try JSONDecoder().decode(Stats.self, from: Data(try await http(.GET, "\(url)/simulator/stats").body))
    }

    deinit { child.stop() }
}

/// The real vcsa_exporter pointed at a simulator.
final class Exporter: @unchecked Sendable {
    let port = freePort()
    let child: ChildProcess
    let passwordFile: String
    var url: String { "http://127.0.0.1:\(port)" }

    init(simulator: Simulator, extra: [String] = [], password: String = Simulator.password, wait: Bool = true) async throws {
        passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: passwordFile, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
        child = try ChildProcess(try Binaries.path("vcsa_exporter"), [
            "--web.listen-address", "127.0.0.1:\(port)", "--vcenter.url", simulator.url,
            "--vcenter.username", "administrator@vsphere.local", "--vcenter.password-file", passwordFile, "--vcenter.timeout", "3s",
        ] + extra)
        if wait { try await waitUntilServing("\(url)/-/healthy", process: child) }
    }

    func scrape(headers: [(String, String)] = []) async throws -> HTTPResult {
        try await http(.GET, "\(url)/metrics", headers: headers)
    }

    func metrics() async throws -> [String: Double] {
        parseMetrics(try await scrape().text)
    }

    deinit {
        child.stop()
        try? FileManager.default.removeItem(atPath: passwordFile)
    }
}
