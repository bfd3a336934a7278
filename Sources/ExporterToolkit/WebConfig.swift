#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MicroHTTPD

/// exporter-toolkit's web configuration file (`--web.config.file`): TLS, client certificates,
/// basic auth, response headers and rate limiting, read and validated as exporter-toolkit does.
///
/// A key this exporter does not know is an error, never silently ignored: an operator who asks
/// for client certificates must not get a server without them.
public struct WebConfig: Sendable {
    public var tls: TLS?
    /// user -> bcrypt hash.
    public var basicAuthUsers: [String: String] = [:]
    public var headers: [(name: String, value: String)] = []
    /// Accepted for compatibility; libmicrohttpd serves HTTP/1.1 only.
    public var http2 = true
    public var rateLimit: (interval: Duration, burst: Int)?
    /// The files read: the config itself and the TLS files it names, to notice when they change.
    public var sources: [String] = []

    /// No file: plain HTTP, no auth.
    public init() {}

    /// exporter-toolkit's extra headers, and the values it allows for some (case matters, as there).
    static let allowedHeaders: [(name: String, values: [String]?)] = [
        ("Strict-Transport-Security", nil), ("X-Content-Type-Options", ["nosniff"]), ("X-Frame-Options", ["deny", "sameorigin"]),
        ("X-XSS-Protection", nil), ("Content-Security-Policy", nil),
    ]

    /// Loads and validates the file; errors name the file and the key.
    public init(path: String) throws(ConfigFileError) {
        let reader = ConfigReader(flag: "--web.config.file", path: path)
        let root = try reader.root()
        self.init()
        sources = [path]
        let sections = try reader.mapping(root, at: "", known: ["tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"]) ?? []
        let section = { (name: String) in sections.first { $0.key == name }?.value }
        tls = try TLS(section("tls_server_config"), reader: reader)
        sources += tls?.files ?? []

        if let http = try reader.mapping(section("http_server_config"), at: "http_server_config", known: ["http2", "headers"]) {
            let field = { (name: String) in http.first { $0.key == name }?.value }
            http2 = try reader.bool(field("http2"), at: "http_server_config.http2") ?? true
            for (name, value) in try reader.stringMap(field("headers"), at: "http_server_config.headers") {
                guard let allowed = Self.allowedHeaders.first(where: { $0.name == name }) else {
                    throw reader.fail("http_server_config.headers", "HTTP header \"\(name)\" can not be configured (allowed: \(Self.allowedHeaders.map(\.name).joined(separator: ", ")))")
                }
                if let values = allowed.values, !values.contains(value) {
                    throw reader.fail("http_server_config.headers.\(name)", "invalid value \"\(value)\"; expected one of \(values.joined(separator: ", "))")
                }
                headers.append((name, value))
            }
        }
        for (user, hash) in try reader.stringMap(section("basic_auth_users"), at: "basic_auth_users") {
            if let problem = BasicAuthenticator.problem(withHash: hash) {
                throw reader.fail("basic_auth_users.\(user)", "not a bcrypt hash: \(problem)")
            }
            basicAuthUsers[user] = hash
        }
        if let limit = try reader.mapping(section("rate_limit"), at: "rate_limit", known: ["interval", "burst"]) {
            let field = { (name: String) in limit.first { $0.key == name }?.value }
            let interval = try reader.duration(field("interval"), at: "rate_limit.interval") ?? .zero
            var burst = 0
            if let text = try reader.string(field("burst"), at: "rate_limit.burst") {
                guard let value = Int(text), value >= 0 else { throw reader.fail("rate_limit.burst", "expected a whole number, got \"\(text)\"") }
                burst = value
            }
            // As in exporter-toolkit, an interval of 0 turns the limiter off.
            if interval > .zero { rateLimit = (interval, burst) }
        }
    }

    /// What the file configures, one line per part: for `--web.config.check` and the start-up log.
    public var summary: [String] {
        var lines = tls?.summary ?? ["tls: off (plain HTTP)"]
        lines.append(basicAuthUsers.isEmpty ? "basic auth: off" : "basic auth: \(basicAuthUsers.count) user(s): \(basicAuthUsers.keys.sorted().joined(separator: ", "))")
        lines.append(headers.isEmpty ? "headers: none" : "headers: " + headers.map { "\($0.name): \($0.value)" }.joined(separator: "; "))
        lines.append(rateLimit.map { "rate limit: a request every \($0.interval.seconds)s, burst \($0.burst)" } ?? "rate limit: off")
        if tls != nil { lines.append("http2: \(http2) (not applicable: the server speaks HTTP/1.1)") }
        return lines
    }
}
