import Foundation
import TestHarness
import Testing

/// The vCenter password never shows up in argv, logs, metrics or pages, even at debug level and on errors.
@Suite struct SecretTests {
    @Test func passwordNeverLeaks() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--session-expiry-requests", "1"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--log.level", "debug", "--log.format", "json"])
        var seen = ""
        for _ in 0..<3 { seen += try await exporter.scrape().text }
        seen += try await http(.GET, "\(exporter.url)/").text
        try await simulator.control("scenario", "error-500")
        seen += try await exporter.scrape().text
        // A refused login must not echo the password either.
        let refused = try await Exporter(simulator: simulator, extra: ["--log.level", "debug"], password: "wrong-\(Simulator.password)")
        seen += try await refused.scrape().text
        let cmdline = try String(contentsOfFile: "/proc/\(exporter.child.pid)/cmdline", encoding: .utf8)
        exporter.child.signal(SIGTERM)
        _ = await exporter.child.waitForExit()
        seen += exporter.child.output + refused.child.output + cmdline
        #expect(exporter.child.output.contains("\"level\":\"info\""), "json logs expected")
        #expect(!seen.contains(Simulator.password))
        #expect(!seen.contains(Data("administrator@vsphere.local:\(Simulator.password)".utf8).base64EncodedString()))
    }

    @Test func passwordFromEnvironment() async throws {
        let simulator = try await Simulator(scenario: "running")
        let port = freePort()
        let child = try ChildProcess(try Binaries.path("vcsa_exporter"), [
            "--web.listen-address", "127.0.0.1:\(port)", "--vcenter.url", simulator.url,
        ], environment: ["VCSA_USERNAME": "administrator@vsphere.local", "VCSA_PASSWORD": Simulator.password])
        defer { child.stop() }
        try await waitUntilServing("http://127.0.0.1:\(port)/-/healthy", process: child)
        #expect(parseMetrics(try await http(.GET, "http://127.0.0.1:\(port)/metrics").text)["vcsa_up"] == 1)
    }
}
