@testable import ExporterToolkit
import Foundation
import Logging
import MicroHTTPD
import Synchronization
import TestHarness
import Testing

@Suite struct WebConfigTests {
    func write(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString).yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func headersAreAddedAndTheRateLimitAnswers429() async throws {
        let store = try WebConfigStore(path: try write("http_server_config:\n  headers:\n    X-Frame-Options: deny\nrate_limit:\n  interval: 1h\n  burst: 2\n"), realm: "vcsa_exporter", metricNamespace: "vcsa_exporter", logger: Logger(label: "test"))
        let handler = store.wrap { _, responder in responder.respond(.text(200, "ok")) }
        let statuses = [await answer(handler, HTTPRequest(method: "GET", path: "/")), await answer(handler, HTTPRequest(method: "GET", path: "/")),
                        await answer(handler, HTTPRequest(method: "GET", path: "/"))]
        #expect(statuses.map(\.status) == [200, 200, 429], "a burst of 2, then one token an hour")
        #expect(statuses.allSatisfy { $0.header("X-Frame-Options") == "deny" })
    }

    @Test func basicAuthGuardsTheHandler() async throws {
        // bcrypt of "secret" (cost 4), as htpasswd -nbBC 4 would make.
        let store = try WebConfigStore(path: try write("basic_auth_users:\n  alice: $2y$04$r/lUtRAmpS7hjGWVeY8o/OGrbJvuARcwAJipgqSsHjiNTeby.oN2a\n"), realm: "vcsa_exporter", metricNamespace: "vcsa_exporter", logger: Logger(label: "test"))
        let handler = store.wrap { _, responder in responder.respond(.text(200, "ok")) }
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
        let store = try WebConfigStore(path: try WebConfigTests().write(Self.config), realm: "vcsa_exporter", metricNamespace: "vcsa_exporter", logger: Logger(label: "test"))
        let handler = store.wrap { _, responder in responder.respond(.text(200, "ok")) }
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
        #expect(busy >= 20 - BasicAuthenticator.Limits().perClient, "beyond what one client may have hashing or waiting, refused at once, not queued")

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
