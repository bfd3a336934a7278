@testable import ExporterToolkit
import Foundation
import Logging
import MicroHTTPD
import TestHarness
import Testing

/// The web config's reload and rate limit on a clock the test moves: no test waits out the second between looks at the files.
@Suite struct WebConfigStoreTests {
    static let deny = "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
    static let sameOrigin = "http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n"

    let clock = ManualClock()

    func store(_ yaml: String) throws -> (WebConfigStore, path: String) {
        let path = try WebConfigTests().write(yaml)
        let store = try WebConfigStore(path: path, realm: "vcsa_exporter", metricNamespace: "vcsa_exporter",
                                       logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, now: clock.now)
        return (store, path)
    }

    func request(_ store: WebConfigStore) async -> HTTPResponse {
        await answer(store.wrap { _, responder in responder.respond(.text(200, "ok")) }, HTTPRequest(method: "GET", path: "/"))
    }

    func lastReloadSuccessful(_ store: WebConfigStore) -> Double? {
        var writer = ExpositionWriter()
        store.writeMetrics(to: &writer)
        return parseMetrics(writer.text)["vcsa_exporter_web_config_last_reload_successful"]
    }

    @Test func aChangedFileIsReadAgainOnceASecondHasPassedSinceTheLastLook() async throws {
        let (store, path) = try store(Self.deny)
        try Self.sameOrigin.write(toFile: path, atomically: true, encoding: .utf8)
        clock.advance(by: .milliseconds(999))
        #expect(await request(store).header("X-Frame-Options") == "deny")
        clock.advance(by: .milliseconds(1))
        #expect(await request(store).header("X-Frame-Options") == "sameorigin")

        try Self.deny.write(toFile: path, atomically: true, encoding: .utf8)
        clock.advance(by: .milliseconds(999))
        #expect(await request(store).header("X-Frame-Options") == "sameorigin", "a second counts from the last look")
        clock.advance(by: .milliseconds(1))
        #expect(await request(store).header("X-Frame-Options") == "deny")
    }

    @Test func aFileThatNoLongerLoadsKeepsTheLastGoodConfiguration() async throws {
        let (store, path) = try store(Self.deny)
        #expect(lastReloadSuccessful(store) == 1)
        try "http_server_config:\n  headers: [\n".write(toFile: path, atomically: true, encoding: .utf8)
        clock.advance(by: .seconds(1))
        #expect(await request(store).header("X-Frame-Options") == "deny")
        #expect(lastReloadSuccessful(store) == 0)
        try Self.sameOrigin.write(toFile: path, atomically: true, encoding: .utf8)
        clock.advance(by: .seconds(1))
        #expect(await request(store).header("X-Frame-Options") == "sameorigin")
        #expect(lastReloadSuccessful(store) == 1)
    }

    @Test func theRateLimitRefillsOnTheStoresClock() async throws {
        let (store, _) = try store("rate_limit:\n  interval: 10s\n  burst: 1\n")
        #expect(await request(store).status == 200)
        #expect(await request(store).status == 429)
        clock.advance(by: .seconds(10))
        #expect(await request(store).status == 200)
        #expect(await request(store).status == 429)
    }
}
