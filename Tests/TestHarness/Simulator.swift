import Foundation

/// The real vcsa_simulator on a loopback port.
public final class Simulator: @unchecked Sendable {
    public struct Stats: Decodable, Equatable, Sendable {
        public var logins: Int
        public var failed_logins: Int
        public var logouts: Int
        public var active_sessions: Int
        public var reconciliation_gets: Int
        public var restore_gets: Int
        public var cancels: Int
        public var backup_list_gets: Int
        public var backup_details_gets: Int
        public var backup_details_jobs: Int
        public var backup_schedule_gets: Int
    }

    public static let password = "sim-Pa55-\(UUID().uuidString.prefix(8))"
    public let port: Int
    public let child: ChildProcess
    /// "127.0.0.1", or "[::1]" for an IPv6 appliance.
    public let host: String
    public var url: String { "\(scheme)://\(host):\(port)" }
    public let scheme: String

    /// `port`: a given one, e.g. to restart an appliance where the exporter expects it; a free one by default.
    public init(scenario: String = "running", extra: [String] = [], tls: Bool = false, host: String = "127.0.0.1", port: Int? = nil) async throws {
        self.port = port ?? freePort()
        scheme = tls ? "https" : "http"
        self.host = host
        child = try ChildProcess(try Binaries.path("vcsa_simulator"),
                                 ["--listen-address", "\(host):\(self.port)", "--scenario", scenario] + extra,
                                 environment: ["VCSA_PASSWORD": Self.password])
        let deadline = ContinuousClock.now + .seconds(15)
        // The banner line says the server is up (works for HTTPS without trusting its certificate).
        while !child.output.contains("listening on") {
            guard ContinuousClock.now < deadline, child.process.isRunning else { throw HarnessError("simulator did not start:\n\(child.output)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public func control(_ path: String, _ value: String) async throws {
        let url = "\(self.url)/simulator/\(path)"
        let response = try await http(.PUT, url, body: value)
        guard response.status == 204 else { throw HarnessError("PUT \(path) \(value): \(response.status) \(response.text)") }
    }

    public func stats() async throws -> Stats {
        try JSONDecoder().decode(Stats.self, from: Data(try await http(.GET, "\(url)/simulator/stats").body))
    }

    deinit { child.stop() }
}

/// The real vcsa_exporter pointed at a simulator (or any upstream URL).
public final class Exporter: @unchecked Sendable {
    public let port = freePort()
    public let child: ChildProcess
    public let passwordFile: String
    /// The `--config.file`, when started with one.
    public let configFile: String?
    public var url: String { "http://127.0.0.1:\(port)" }

    /// The simulators this exporter points at, kept alive as long as the exporter (Swift may release a local after its last use).
    private let upstreams: [Simulator]

    public convenience init(simulator: Simulator, extra: [String] = [], password: String = Simulator.password, wait: Bool = true) async throws {
        try await self.init(vcenterURL: simulator.url, upstream: simulator, extra: extra, password: password, wait: wait)
    }

    public init(vcenterURL: String, upstream: Simulator? = nil, extra: [String] = [], password: String = Simulator.password, wait: Bool = true) async throws {
        upstreams = upstream.map { [$0] } ?? []
        configFile = nil
        passwordFile = Self.writePasswordFile(password)
        child = try ChildProcess(try Binaries.path("vcsa_exporter"), [
            "--web.listen-address", "127.0.0.1:\(port)", "--vcenter.url", vcenterURL,
            "--vcenter.username", "administrator@vsphere.local", "--vcenter.password-file", passwordFile, "--vcenter.timeout", "3s",
        ] + extra)
        if wait { try await waitUntilServing("\(url)/-/healthy", process: child) }
    }

    /// An exporter with `--config.file` holding `config`, in which PASSWORD_FILE stands for the password file's path.
    public init(config: String, upstreams: [Simulator], extra: [String] = [], password: String = Simulator.password, wait: Bool = true) async throws {
        self.upstreams = upstreams
        passwordFile = Self.writePasswordFile(password)
        let configFile = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).yml").path
        try config.replacingOccurrences(of: "PASSWORD_FILE", with: passwordFile).write(toFile: configFile, atomically: true, encoding: .utf8)
        self.configFile = configFile
        child = try ChildProcess(try Binaries.path("vcsa_exporter"), ["--web.listen-address", "127.0.0.1:\(port)", "--config.file", configFile] + extra)
        if wait { try await waitUntilServing("\(url)/-/healthy", process: child) }
    }

    /// Replaces the `--config.file` (PASSWORD_FILE as in `init(config:)`).
    public func rewriteConfig(_ config: String) throws {
        guard let configFile else { throw HarnessError("this exporter has no --config.file") }
        try config.replacingOccurrences(of: "PASSWORD_FILE", with: passwordFile).write(toFile: configFile, atomically: true, encoding: .utf8)
    }

    /// `GET /probe?target=...` (and `&module=...`).
    public func probe(_ target: String, module: String? = nil, headers: [(String, String)] = []) async throws -> HTTPResult {
        try await http(.GET, "\(url)/probe?target=\(target)" + (module.map { "&module=\($0)" } ?? ""), headers: headers)
    }

    private static func writePasswordFile(_ password: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
        return path
    }

    public func scrape(headers: [(String, String)] = []) async throws -> HTTPResult {
        try await http(.GET, "\(url)/metrics", headers: headers)
    }

    public func metrics() async throws -> [String: Double] {
        parseMetrics(try await scrape().text)
    }

    deinit {
        child.stop()
        try? FileManager.default.removeItem(atPath: passwordFile)
        if let configFile { try? FileManager.default.removeItem(atPath: configFile) }
    }
}
