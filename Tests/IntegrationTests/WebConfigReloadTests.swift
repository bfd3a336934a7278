import Foundation
import TestHarness
import Testing

/// exporter-toolkit's web config on the real binary: client certificates, live reload, the check flag,
/// and Prometheus itself scraping through TLS, basic auth and a client certificate.
@Suite struct WebConfigReloadTests {
    /// bcrypt of "secret" (cost 4).
    static let secretHash = "$2y$04$r/lUtRAmpS7hjGWVeY8o/OGrbJvuARcwAJipgqSsHjiNTeby.oN2a"

    static func mutualTLS(_ pki: TestPKI, extra: String = "") -> String {
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n" + extra
    }

    /// An exporter serving HTTPS with `yaml` (written as web.yml in the PKI directory), answering HTTP at all.
    static func exporter(_ pki: TestPKI, _ yaml: String, simulator: Simulator) async throws -> Exporter {
        try yaml.write(toFile: pki.path("web.yml"), atomically: true, encoding: .utf8)
        let exporter = try await Exporter(simulator: simulator, extra: ["--web.config.file", pki.path("web.yml"), "--no-collector.restore", "--no-collector.backup"], wait: false)
        let deadline = ContinuousClock.now + .seconds(10)
        while try pki.curlStatus("https://127.0.0.1:\(exporter.port)/-/healthy", client: "client") == "000" {
            guard ContinuousClock.now < deadline, exporter.child.process.isRunning else { throw HarnessError("exporter not serving HTTPS:\n\(exporter.child.output)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        return exporter
    }

    /// A PKI with a client certificate for prometheus.example.com, a simulator, and an exporter serving mutual TLS plus `extra`.
    static func serving(_ extra: String = "") async throws -> (pki: TestPKI, simulator: Simulator, exporter: Exporter) {
        let pki = try TestPKI()
        try pki.issue("client", san: "DNS:prometheus.example.com")
        let simulator = try await Simulator(scenario: "running")
        return (pki, simulator, try await exporter(pki, mutualTLS(pki, extra: extra), simulator: simulator))
    }

    @Test func clientCertificatesAreCheckedBeforeAnyHandler() async throws {
        let (pki, simulator, exporter) = try await Self.serving("  client_allowed_sans: [prometheus.example.com]\n")
        try pki.issue("stranger", san: "DNS:prometheus.example.com", by: "other-ca")
        try pki.issue("outsider", san: "DNS:grafana.example.com")
        let url = "https://127.0.0.1:\(exporter.port)/metrics"
        #expect(try pki.curlStatus(url, client: "client") == "200")
        #expect(try pki.curlStatus(url, client: "stranger") == "000", "a certificate from another CA")
        #expect(try pki.curlStatus(url) == "000", "no certificate")
        #expect(try pki.curlStatus(url, client: "outsider") == "000", "a SAN outside client_allowed_sans")
        #expect(try await simulator.stats().reconciliation_gets == 1, "refused clients never reached the metrics handler")
        #expect(exporter.child.output.contains("TLS client refused"))
    }

    /// As Go's crypto/tls: a certificate whose extended key usage leaves out clientAuth (a server
    /// certificate, say, with its key) does not authenticate a client; one without the extension does.
    @Test func aClientCertificateMustAllowClientAuthentication() async throws {
        let (pki, _, exporter) = try await Self.serving()
        try pki.issue("server-only", san: "DNS:prometheus.example.com", extendedKeyUsage: "serverAuth")
        try pki.issue("client-usage", san: "DNS:prometheus.example.com", extendedKeyUsage: "clientAuth")
        let url = "https://127.0.0.1:\(exporter.port)/metrics"
        #expect(try pki.curlStatus(url, client: "server-only") == "000", "serverAuth only")
        #expect(try pki.curlStatus(url, client: "client-usage") == "200")
        #expect(try pki.curlStatus(url, client: "client") == "200", "no extended key usage: any")
    }

    @Test func aReplacedCertificateIsServedOnTheNextHandshake() async throws {
        let (pki, _, exporter) = try await Self.serving()
        let first = try pki.serial(of: pki.path("server.pem"))
        #expect(try pki.servedSerial(port: exporter.port) == first)
        // cert-manager renews: new files in place.
        let renewed = try pki.issue("server", san: "IP:127.0.0.1")
        // The files are looked at once a second: wait for that, not for a fixed time.
        try await eventually { try pki.servedSerial(port: exporter.port) == renewed }
        #expect(try pki.servedSerial(port: exporter.port) == renewed)
        #expect(renewed != first)
        #expect(exporter.child.output.contains("Web config reloaded"))
    }

    @Test func aUserAddedToTheFileCanLogInWithoutRestart() async throws {
        let (pki, _, exporter) = try await Self.serving("basic_auth_users:\n  alice: \(Self.secretHash)\n")
        let url = "https://127.0.0.1:\(exporter.port)/-/healthy"
        #expect(try pki.curlStatus(url, client: "client", ["-u", "alice:secret"]) == "200")
        #expect(try pki.curlStatus(url, client: "client", ["-u", "bob:secret"]) == "401")
        try Self.mutualTLS(pki, extra: "basic_auth_users:\n  alice: \(Self.secretHash)\n  bob: \(Self.secretHash)\n").write(toFile: pki.path("web.yml"), atomically: true, encoding: .utf8)
        try await eventually { try pki.curlStatus(url, client: "client", ["-u", "bob:secret"]) == "200" }
    }

    /// crypt_r stops at a NUL, and bcrypt reads 72 bytes: the real binary refuses passwords padded past either.
    @Test func aPaddedPasswordGets401() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString).yml").path
        try "basic_auth_users:\n  prom: \(Self.secretHash)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, extra: ["--web.config.file", config, "--no-collector.restore", "--no-collector.backup"])
        func status(_ password: String) async throws -> Int {
            try await http(.GET, "\(exporter.url)/-/healthy", headers: [("Authorization", "Basic " + Data("prom:\(password)".utf8).base64EncodedString())]).status
        }
        #expect(try await status("secret\0anything") == 401)
        #expect(try await status("secret") == 200)
    }

    @Test func aBrokenFileOnReloadKeepsTheLastGoodOne() async throws {
        let (pki, _, exporter) = try await Self.serving("basic_auth_users:\n  alice: \(Self.secretHash)\n")
        let url = "https://127.0.0.1:\(exporter.port)"
        try "tls_server_config:\n  cert_file: [\n".write(toFile: pki.path("web.yml"), atomically: true, encoding: .utf8)
        // The file is looked at on a request, at most once a second: ask until the exporter has tried the
        // broken file (each try is logged once), then it must still serve as before.
        try await eventually {
            _ = try pki.curlStatus(url + "/-/healthy", client: "client", ["-u", "alice:secret"])
            return exporter.child.output.contains("Web config reload failed")
        }
        #expect(try pki.curlStatus(url + "/-/healthy", client: "client", ["-u", "alice:secret"]) == "200", "still TLS, client certificates and the same users")
        #expect(try pki.curlStatus(url + "/-/healthy", client: "client") == "401")
        let metrics = parseMetrics(try run("curl", ["-s", "--cacert", pki.path("ca.pem"), "--cert", pki.path("client.pem"), "--key", pki.path("client.key"),
                                                    "-u", "alice:secret", url + "/metrics"]).1)
        #expect(metrics["vcsa_exporter_web_config_last_reload_successful"] == 0)
        #expect(exporter.child.output.components(separatedBy: "Web config reload failed").count == 2, "one error line, not one per request")
    }

    @Test func checkFlagValidatesAndExplains() async throws {
        let pki = try TestPKI()
        try Self.mutualTLS(pki).write(toFile: pki.path("web.yml"), atomically: true, encoding: .utf8)
        let good = try ChildProcess(try Binaries.path("vcsa_exporter"), ["--web.config.check", "--web.config.file", pki.path("web.yml")])
        defer { good.stop() }
        #expect(await good.waitForExit() == 0)
        #expect(good.output.contains("valid") && good.output.contains("client certificates: RequireAndVerifyClientCert"), "\(good.output)")
        try "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  min_version: TLS14\n".write(toFile: pki.path("bad.yml"), atomically: true, encoding: .utf8)
        let bad = try ChildProcess(try Binaries.path("vcsa_exporter"), ["--web.config.check", "--web.config.file", pki.path("bad.yml")])
        defer { bad.stop() }
        #expect(await bad.waitForExit() == 2)
        #expect(bad.output == "vcsa_exporter: --web.config.file: \(pki.path("bad.yml")): tls_server_config.min_version: unknown TLS version: TLS14 (expected TLS10, TLS11, TLS12 or TLS13)\n")
    }

    /// The real Prometheus, with tls_config and basic_auth in its scrape config, as users deploy it.
    @Test func prometheusScrapesThroughTLSBasicAuthAndAClientCertificate() async throws {
        let (pki, _, exporter) = try await Self.serving("  client_allowed_sans: [prometheus.example.com]\nbasic_auth_users:\n  prometheus: \(Self.secretHash)\n")
        let port = freePort()
        try """
        global: {scrape_interval: 2s, scrape_timeout: 2s}
        scrape_configs:
          - job_name: vcsa
            scheme: https
            tls_config: {ca_file: \(pki.path("ca.pem")), cert_file: \(pki.path("client.pem")), key_file: \(pki.path("client.key"))}
            basic_auth: {username: prometheus, password: secret}
            static_configs: [{targets: ['127.0.0.1:\(exporter.port)']}]
        """.write(toFile: pki.path("prometheus.yml"), atomically: true, encoding: .utf8)
        let prometheus = try ChildProcess("/usr/bin/env", ["prometheus", "--config.file", pki.path("prometheus.yml"), "--storage.tsdb.path", pki.path("tsdb"),
                                                           "--web.listen-address", "127.0.0.1:\(port)"])
        defer { prometheus.stop() }
        let deadline = ContinuousClock.now + .seconds(40)
        var answer = ""
        while ContinuousClock.now < deadline {
            answer = (try? await http(.GET, "http://127.0.0.1:\(port)/api/v1/query?query=vcsa_up%20and%20on()%20up%7Bjob%3D%22vcsa%22%7D%3D%3D1", timeout: .seconds(2)).text) ?? ""
            if answer.hasSuffix("\"1\"]}]}}") { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(answer.contains("\"value\":[") && answer.hasSuffix("\"1\"]}]}}"), "Prometheus: \(answer)\n\(prometheus.output.suffix(2000))\nexporter: \(exporter.child.output.suffix(2000))")
    }
}
