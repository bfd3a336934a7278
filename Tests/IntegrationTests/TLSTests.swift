import Foundation
import TestHarness
import Testing

/// Certificate verification is on by default, a CA file makes a private CA trusted, and skipping is explicit.
@Suite struct TLSTests {
    @Test func verificationIsOnByDefault() async throws {
        let certificate = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: certificate) }
        let simulator = try await Simulator(scenario: "running", extra: ["--tls", "--tls.cert-out", certificate], tls: true)

        let untrusted = try await Exporter(simulator: simulator, extra: ["--no-collector.restore"])
        let refused = try await untrusted.metrics()
        #expect(refused["vcsa_up"] == 0)
        #expect(refused["vcsa_api_request_errors_total{error_type=\"TLS_ERROR\"}"] == 1)

        let trusted = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--vcenter.tls.ca-file", certificate])
        #expect(try await trusted.metrics()["vcsa_up"] == 1)

        let skipping = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--vcenter.tls.insecure-skip-verify"])
        #expect(try await skipping.metrics()["vcsa_up"] == 1)
        #expect(skipping.child.output.contains("TLS certificate verification of the appliance is OFF"))
    }

    @Test func refusedConnectionIsATransportError() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore"])
        simulator.child.stop()
        let metrics = try await exporter.metrics()
        #expect(metrics["vcsa_up"] == 0)
        #expect(metrics["vcsa_api_request_errors_total{error_type=\"TRANSPORT_ERROR\"}"] == 1)
    }

    @Test func exporterServesHTTPSFromTheWebConfig() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webtls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (status, output) = try run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                                                   "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                                                   "-keyout", "\(directory)/key.pem", "-out", "\(directory)/cert.pem"])
        #expect(status == 0, "\(output)")
        try "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  min_version: TLS12\n".write(toFile: "\(directory)/web.yml", atomically: true, encoding: .utf8)
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, extra: ["--web.config.file", "\(directory)/web.yml"], wait: false)
        let deadline = ContinuousClock.now + .seconds(10)
        var answer = (Int32(-1), "")
        while ContinuousClock.now < deadline {
            answer = try run("curl", ["-s", "--cacert", "\(directory)/cert.pem", "https://127.0.0.1:\(exporter.port)/metrics"])
            if answer.0 == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(answer.0 == 0)
        #expect(answer.1.contains("vcsa_up 1"))
        let plain = try run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(exporter.port)/metrics"])
        #expect(plain.1 != "200")
    }
}
