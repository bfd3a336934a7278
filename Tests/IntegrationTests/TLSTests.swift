import Foundation
import TestHarness
import Testing

/// Certificate verification is on by default, a CA file makes a private CA trusted, and skipping is explicit.
@Suite struct TLSTests {
    @Test func verificationIsOnByDefault() async throws {
        let certificate = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: certificate) }
        let simulator = try await Simulator(scenario: "running", extra: ["--tls", "--tls.cert-out", certificate], tls: true)

        let untrusted = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        let refused = try await untrusted.metrics()
        #expect(refused["vcsa_up"] == 0)
        #expect(refused["vcsa_api_request_errors_total{error_type=\"TLS_ERROR\"}"] == 1)

        let trusted = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.tls.ca-file", certificate])
        #expect(try await trusted.metrics()["vcsa_up"] == 1)

        let skipping = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.tls.insecure-skip-verify"])
        #expect(try await skipping.metrics()["vcsa_up"] == 1)
        #expect(skipping.child.output.contains("TLS certificate verification of the appliance is OFF"))
    }

    /// An appliance (or a proxy) that offers only TLS 1.0 and 1.1 is refused: the password and the
    /// session id never travel over them. The same appliance on TLS 1.2 is fine.
    @Test func applianceTLSBelow12IsRefused() async throws {
        let certificate = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: certificate) }
        let old = try await Simulator(scenario: "running", extra: ["--tls", "--tls.cert-out", certificate,
                                                                   "--tls.priorities", "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0"], tls: true)
        let exporter = try await Exporter(simulator: old, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.tls.ca-file", certificate])
        let refused = try await exporter.metrics()
        #expect(refused["vcsa_up"] == 0)
        #expect(refused["vcsa_api_request_errors_total{error_type=\"TLS_ERROR\"}"] == 1)

        let current = try await Simulator(scenario: "running", extra: ["--tls", "--tls.cert-out", certificate,
                                                                       "--tls.priorities", "NORMAL:-VERS-ALL:+VERS-TLS1.2"], tls: true)
        let exporter12 = try await Exporter(simulator: current, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.tls.ca-file", certificate])
        #expect(try await exporter12.metrics()["vcsa_up"] == 1)
    }

    @Test func refusedConnectionIsATransportError() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        simulator.child.stop()
        let metrics = try await exporter.metrics()
        #expect(metrics["vcsa_up"] == 0)
        #expect(metrics["vcsa_api_request_errors_total{error_type=\"TRANSPORT_ERROR\"}"] == 1)
    }

    /// A test PKI with a web config serving its server certificate (plus `extra` lines) as web.yml.
    static func webTLS(_ extra: String = "") throws -> TestPKI {
        let pki = try TestPKI()
        try "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n\(extra)".write(toFile: pki.path("web.yml"), atomically: true, encoding: .utf8)
        return pki
    }

    /// Polls until the exporter answers over HTTPS; returns curl's status and output.
    static func curlHTTPS(_ pki: TestPKI, port: Int) async throws -> (Int32, String) {
        let deadline = ContinuousClock.now + .seconds(10)
        var answer = (Int32(-1), "")
        while ContinuousClock.now < deadline {
            answer = try run("curl", ["-s", "--cacert", pki.path("ca.pem"), "https://127.0.0.1:\(port)/metrics"])
            if answer.0 == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return answer
    }

    @Test func exporterServesHTTPSFromTheWebConfig() async throws {
        let pki = try Self.webTLS("  min_version: TLS12\n")
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, extra: ["--web.config.file", pki.path("web.yml")], wait: false)
        let answer = try await Self.curlHTTPS(pki, port: exporter.port)
        #expect(answer.0 == 0)
        #expect(answer.1.contains("vcsa_up 1"))
        let plain = try run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(exporter.port)/metrics"])
        #expect(plain.1 != "200")
    }

    /// exporter-toolkit's default minimum is TLS 1.2; GnuTLS's own default would still offer 1.0 and 1.1.
    @Test func tlsBelow12IsRefusedWithoutMinVersion() async throws {
        let pki = try Self.webTLS()
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, extra: ["--web.config.file", pki.path("web.yml")], wait: false)
        #expect(try await Self.curlHTTPS(pki, port: exporter.port).0 == 0)
        // SECLEVEL=0 lets the client offer the old versions at all; the server must refuse them.
        for version in ["-tls1", "-tls1_1"] {
            let (status, output) = try run("openssl", ["s_client", "-connect", "127.0.0.1:\(exporter.port)", version, "-cipher", "DEFAULT@SECLEVEL=0"], input: "")
            #expect(status != 0 && output.contains("Cipher is (NONE)"), "\(version) was accepted: \(output)")
        }
        let (status, output) = try run("openssl", ["s_client", "-connect", "127.0.0.1:\(exporter.port)", "-tls1_2"], input: "")
        #expect(status == 0 && output.contains("TLSv1.2"), "\(output)")
    }

    @Test func anIPv6ApplianceURLWorks() async throws {
        let simulator = try await Simulator(scenario: "running", host: "[::1]")
        #expect(simulator.url.hasPrefix("http://[::1]:"))
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        let metrics = try await exporter.metrics()
        #expect(metrics["vcsa_up"] == 1)
        #expect(metrics["vcsa_api_request_errors_total{error_type=\"TRANSPORT_ERROR\"}"] == 0)
    }
}
