import Foundation
import MicroHTTPD
import Synchronization
import Testing
@testable import VCSAExporter

@Suite struct WebConfigTests {
    func write(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString).yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func error(_ yaml: String) throws -> String {
        let path = try write(yaml)
        do {
            _ = try WebConfig(path: path)
            return "no error"
        } catch {
            return error.description.replacingOccurrences(of: path, with: "FILE")
        }
    }

    @Test func unknownKeysAreNamed() throws {
        #expect(try error("tls_server_confg: {}\n") == "--web.config.file: FILE: tls_server_confg: unknown key (expected tls_server_config, http_server_config or basic_auth_users)")
        #expect(try error("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [x]\n").hasPrefix("--web.config.file: FILE: tls_server_config.cipher_suites: not supported"))
    }

    @Test func clientCertificatesAreRefusedRatherThanIgnored() throws {
        #expect(try error("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n").contains("only NoClientCert is supported"))
    }

    @Test func missingCertificateFile() throws {
        #expect(try error("tls_server_config:\n  cert_file: /nonexistent.pem\n  key_file: /nonexistent.key\n") == "--web.config.file: FILE: tls_server_config.cert_file: /nonexistent.pem is not a readable PEM certificate")
    }

    @Test func basicAuthNeedsBcrypt() throws {
        #expect(try error("basic_auth_users:\n  alice: plaintext\n") == "--web.config.file: FILE: basic_auth_users.alice: expected a bcrypt hash ($2y$...)")
    }

    @Test func headersAreLimitedToSecurityHeaders() throws {
        #expect(try error("http_server_config:\n  headers:\n    Set-Cookie: a\n").contains("not an allowed header"))
        let config = try WebConfig(path: try write("http_server_config:\n  headers:\n    x-frame-options: DENY\n"))
        #expect(config.headers.map(\.name) == ["X-Frame-Options"])
    }

    @Test func basicAuthGuardsTheHandler() async throws {
        // bcrypt of "secret" (cost 4), as htpasswd -nbBC 4 would make.
        let config = try WebConfig(path: try write("basic_auth_users:\n  alice: $2y$04$r/lUtRAmpS7hjGWVeY8o/OGrbJvuARcwAJipgqSsHjiNTeby.oN2a\n"))
        let handler = config.wrap { _, responder in responder.respond(.text(200, "ok")) }
        let good = "Basic " + Data("alice:secret".utf8).base64EncodedString()
        let bad = "Basic " + Data("alice:wrong".utf8).base64EncodedString()
        #expect(await answer(handler, HTTPRequest(method: "GET", path: "/", headers: ["authorization": good])).status == 200)
        // Verified once, the same credentials are answered on the spot.
        #expect(await answer(handler, HTTPRequest(method: "GET", path: "/", headers: ["authorization": good])).status == 200)
        #expect(await answer(handler, HTTPRequest(method: "GET", path: "/", headers: ["authorization": bad])).status == 401)
        let refused = await answer(handler, HTTPRequest(method: "GET", path: "/"))
        #expect(refused.status == 401 && refused.header("WWW-Authenticate") == "Basic realm=\"vcsa_exporter\"")
    }
}

@Suite struct BasicAuthBurstTests {
    /// bcrypt of "secret" at cost 12 (about 0.4 s a hash here), as htpasswd -nbBC 12 would make.
    static let config = "basic_auth_users:\n  alice: $2b$12$rnJb0uNeEfOw6ioAV5FKueyWIii.w/w7AbVGRHWn6QIxF8brnDaG2\n"

    /// libmicrohttpd's thread calls the handler: a cached pair must be answered before the call
    /// returns, even while other threads are hashing wrong passwords.
    @Test func aBurstOfWrongPasswordsNeverHoldsUpCachedCredentials() async throws {
        let config = try WebConfig(path: try WebConfigTests().write(Self.config))
        let handler = config.wrap { _, responder in responder.respond(.text(200, "ok")) }
        let good = HTTPRequest(method: "GET", path: "/", headers: ["authorization": "Basic " + Data("alice:secret".utf8).base64EncodedString()])
        #expect(await answer(handler, good).status == 200)

        let wrongAnswers = Counter()
        let statuses = Mutex<[Int]>([])
        for index in 0..<20 {
            let wrong = HTTPRequest(method: "GET", path: "/", headers: ["authorization": "Basic " + Data("alice:wrong\(index)".utf8).base64EncodedString()])
            handler(wrong, HTTPResponder { response in
                statuses.withLock { $0.append(response.status) }
                _ = wrongAnswers.next()
            })
        }
        let answeredOnTheSpot = Flag()
        handler(good, HTTPResponder { response in if response.status == 200 { answeredOnTheSpot.set() } })
        #expect(answeredOnTheSpot.isSet, "the cached pair was answered within the handler call")
        let busy = statuses.withLock { $0.filter { $0 == 503 }.count }
        #expect(busy >= 20 - BasicAuthenticator.maxConcurrentHashes, "hashes beyond the cap are refused at once, not queued")

        let deadline = ContinuousClock.now + .seconds(30)
        while wrongAnswers.value < 20 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(statuses.withLock { $0.sorted() } == Array(repeating: 401, count: 20 - busy) + Array(repeating: 503, count: busy))
    }
}

/// A one-way switch, for "had this happened yet?" checks.
final class Flag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// Calls a responder-style handler and waits for its answer.
func answer(_ handler: HTTPHandler, _ request: HTTPRequest) async -> HTTPResponse {
    await withCheckedContinuation { continuation in
        handler(request, HTTPResponder { continuation.resume(returning: $0) })
    }
}

/// Counts under a lock, for tests.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; count += 1; return count }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
