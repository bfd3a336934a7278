#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MicroHTTPD
import Synchronization

/// The web config as it is now. exporter-toolkit reads the file on every request; this re-reads it
/// when it or a file it names changes (checked at most once a second, on requests and handshakes):
/// users, headers and the rate limit apply to the next request, certificate and client CA to the next
/// handshake. A file that no longer loads keeps the last good configuration and logs one error line.
public final class WebConfigStore: Sendable {
    public let path: String?
    /// The HTTPS credentials when the server started with TLS; reloads replace what they hold.
    public let credentials: TLSCredentials?
    /// `WWW-Authenticate` of a request basic auth refuses: `Basic realm="<realm>"`.
    private let challenge: String
    /// The names of the families `writeMetrics` writes: `<namespace>_web_config_last_reload_…`.
    private let reloadSuccessfulName: String
    private let reloadTimestampName: String
    private let logger: Logger
    /// The clock of the once-a-second look at the files and of the rate limit (a test's moves when the
    /// test says so). The reload timestamp is wall time, a `Date`.
    private let now: @Sendable () -> ContinuousClock.Instant
    private let live: Mutex<Live>

    private struct Live {
        var config: WebConfig
        var authenticator: BasicAuthenticator?
        var limiter: RateLimiter?
        var stamps: [FileStamp]
        var checkedAt: ContinuousClock.Instant
        var lastReloadSuccessful = true
        var lastSuccess = Date()
        /// The stamps of a file that failed to load, so that its error is logged once.
        var failedStamps: [FileStamp]?
    }

    static let checkInterval: Duration = .seconds(1)

    /// Loads the file (nil: no web config); an error here stops start-up. `realm` is the basic-auth
    /// realm (a plain word: it goes between quotes as it is); `metricNamespace` starts the names of
    /// the families `writeMetrics` writes, as a Go exporter's `Namespace` does.
    public init(path: String?, realm: String, metricNamespace: String, logger: Logger,
                now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) throws(ConfigFileError) {
        let config = try path.map { (path: String) throws(ConfigFileError) in try WebConfig(path: path) } ?? WebConfig()
        self.path = path
        challenge = "Basic realm=\"\(realm)\""
        reloadSuccessfulName = "\(metricNamespace)_web_config_last_reload_successful"
        reloadTimestampName = "\(metricNamespace)_web_config_last_reload_success_timestamp_seconds"
        self.logger = logger
        self.now = now
        credentials = config.tls.map { TLSCredentials(certificate: $0.certificate, policy: $0.policy) }
        let start = now()
        live = Mutex(Live(config: config, authenticator: Self.authenticator(config), limiter: Self.limiter(config, at: start),
                          stamps: config.sources.map(FileStamp.init), checkedAt: start))
        credentials?.onHandshake = { [weak self] in self?.refreshIfDue() }
    }

    /// How the server serves TLS, as the file said at start-up (protocol versions and ciphers need a restart).
    public var serverTLS: ServerTLS? {
        guard let credentials, let tls = live.withLock({ $0.config.tls }) else { return nil }
        return ServerTLS(credentials: credentials, priorities: tls.priorities)
    }

    public var config: WebConfig { live.withLock { $0.config } }

    /// Re-reads the configuration if a second has passed since the last look and a file changed.
    func refreshIfDue() {
        guard let path else { return }
        let due = live.withLock { live -> [FileStamp]? in
            let now = self.now()
            guard now - live.checkedAt >= Self.checkInterval else { return nil }
            live.checkedAt = now
            return live.stamps
        }
        guard let previous = due, previous != previous.map({ FileStamp(path: $0.path) }) else { return }
        reload(path)
    }

    private func reload(_ path: String) {
        let stamps: [FileStamp]
        do {
            let config = try WebConfig(path: path)
            stamps = config.sources.map(FileStamp.init)
            let old = live.withLock { $0.config }
            if (old.tls == nil) != (config.tls == nil) || old.tls?.priorities != config.tls?.priorities {
                logger.warning("Web config: TLS on or off, protocol versions, ciphers and curves take effect at restart; the rest is applied", metadata: ["file": "\(path)"])
            }
            if let tls = config.tls { credentials?.update(certificate: tls.certificate, policy: tls.policy) }
            live.withLock { live in
                if live.config.basicAuthUsers != config.basicAuthUsers { live.authenticator = Self.authenticator(config) }
                if live.config.rateLimit?.interval != config.rateLimit?.interval || live.config.rateLimit?.burst != config.rateLimit?.burst {
                    live.limiter = Self.limiter(config, at: now())
                }
                live.config = config
                live.stamps = stamps
                live.lastReloadSuccessful = true
                live.lastSuccess = Date()
                live.failedStamps = nil
            }
            logger.info("Web config reloaded", metadata: ["file": "\(path)", "tls_certificate_serial": "\(config.tls?.certificate.serial ?? "")"])
        } catch {
            let current = ([path] + live.withLock { $0.config.sources.dropFirst() }).map(FileStamp.init)
            let firstTime = live.withLock { live -> Bool in
                live.lastReloadSuccessful = false
                defer { live.failedStamps = current }
                return live.failedStamps != current
            }
            if firstTime { logger.error("Web config reload failed; keeping the last good configuration", metadata: ["error": "\(error)"]) }
        }
    }

    /// The handler behind the rate limit and basic auth (when configured), with the configured headers added.
    public func wrap(_ handler: @escaping HTTPHandler) -> HTTPHandler {
        { [self] request, responder in
            refreshIfDue()
            let (headers, authenticator, limiter) = live.withLock { ($0.config.headers, $0.authenticator, $0.limiter) }
            let responder = headers.isEmpty ? responder : responder.mapping { response in
                var response = response
                response.headers += headers
                return response
            }
            if let limiter, !limiter.allow(at: now()) {
                return responder.respond(.text(429, "Too Many Requests (rate_limit in the web config)"))
            }
            guard let authenticator else { return handler(request, responder) }
            authenticator.check(request.header("authorization"), client: request.clientAddress) { verdict in
                switch verdict {
                case .allowed:
                    handler(request, responder)
                case .denied:
                    responder.respond(.text(401, "Unauthorized", headers: [("WWW-Authenticate", self.challenge)]))
                case .busy:
                    responder.respond(.text(503, "Service Unavailable: too many password checks at once", headers: [("Retry-After", "1")]))
                }
            }
        }
    }

    /// The web config's own families, when there is a file: whether its last load worked, and when one last did.
    public func writeMetrics(to writer: inout ExpositionWriter) {
        guard path != nil else { return }
        let (successful, lastSuccess) = live.withLock { ($0.lastReloadSuccessful, $0.lastSuccess) }
        writer.single(reloadSuccessfulName, .gauge, help: "Whether the last load of the web config file worked (the last good one is in use otherwise).", successful ? 1 : 0)
        writer.single(reloadTimestampName, .gauge, help: "When the web config file was last loaded successfully, as a Unix timestamp.", lastSuccess.timeIntervalSince1970)
    }

    private static func authenticator(_ config: WebConfig) -> BasicAuthenticator? {
        config.basicAuthUsers.isEmpty ? nil : BasicAuthenticator(users: config.basicAuthUsers)
    }

    private static func limiter(_ config: WebConfig, at now: ContinuousClock.Instant) -> RateLimiter? {
        config.rateLimit.map { RateLimiter(interval: $0.interval, burst: $0.burst, at: now) }
    }
}

/// What identifies a file's content cheaply: a Kubernetes Secret update swaps a symlink (new inode),
/// an editor rewrites in place (new mtime or size).
struct FileStamp: Equatable, Sendable {
    var path: String
    var device: UInt64 = 0
    var inode: UInt64 = 0
    var size: Int64 = -1
    var modified: Int = 0
    var modifiedNanoseconds: Int = 0
    var changed: Int = 0

    init(path: String) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
        changed = info.st_ctim.tv_nsec
    }
}
