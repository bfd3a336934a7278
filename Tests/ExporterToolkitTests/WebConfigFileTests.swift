@testable import ExporterToolkit
import Foundation
import TestHarness
import Testing

/// Web config files as users write them for node_exporter and blackbox_exporter, each accepted
/// or refused as exporter-toolkit would. A `.bad.yml` says what the error must contain in an
/// `# expect:` line. The files name `server.pem`, `server.key`, `ca.pem` and `client.key`, made here.
@Suite struct WebConfigFileTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("WebConfigFiles")
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".yml") }.sorted()

    /// A directory with the certificates the files name, made once with the openssl command.
    static let material: String = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webconfig-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, subject) in [("server", "/CN=localhost"), ("ca", "/CN=test-ca"), ("client", "/CN=client")] {
            _ = try? run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                                     "-subj", subject, "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).pem"])
        }
        return directory
    }()

    @Test func everyFileIsHere() {
        #expect(Self.files.count >= 50)
        #expect(Self.files.allSatisfy { $0.hasSuffix(".good.yml") || $0.hasSuffix(".bad.yml") })
    }

    @Test(arguments: files)
    func loadsAsExporterToolkitWould(_ name: String) throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
            .replacingOccurrences(of: "@DIR@", with: Self.material)
        let path = "\(Self.material)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let outcome: String?
        do {
            _ = try WebConfig(path: path)
            outcome = nil
        } catch {
            outcome = error.description
        }
        if name.hasSuffix(".good.yml") {
            #expect(outcome == nil, "\(name) was refused: \(outcome ?? "")")
        } else {
            let expected = try #require(text.split(separator: "\n").first { $0.hasPrefix("# expect: ") }?.dropFirst(10), "\(name) has no # expect: line")
            #expect(outcome?.contains(expected) == true, "\(name): expected \"\(expected)\", got \(outcome ?? "no error")")
            #expect(outcome?.hasPrefix("--web.config.file: \(path)") == true, "errors name the file")
        }
    }

    @Test func inlineCertificateKeyAndClientCA() throws {
        let pem = { (name: String) in try String(contentsOfFile: "\(Self.material)/\(name)", encoding: .utf8) }
        func block(_ text: String) -> String { "|\n" + text.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n" }
        let yaml = "tls_server_config:\n  cert: " + block(try pem("server.pem")) + "  key: " + block(try pem("server.key"))
            + "  client_ca: " + block(try pem("ca.pem")) + "  client_auth_type: RequireAndVerifyClientCert\n"
        let path = "\(Self.material)/inline-\(UUID().uuidString).yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let tls = try #require(try WebConfig(path: path).tls)
        #expect(tls.certificate.subject == "CN=localhost")
        #expect(tls.policy.mode == .requireAndVerifyClientCert && tls.policy.trust != nil)
        #expect(tls.files.isEmpty, "inline material names no file to watch")
    }

    @Test func prioritiesFollowVersionsCiphersAndCurves() throws {
        let path = "\(Self.material)/priorities-\(UUID().uuidString).yml"
        try "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  min_version: TLS12\n  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n  curve_preferences: [CurveP384]\n  prefer_server_cipher_suites: false\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let tls = try #require(try WebConfig(path: path).tls)
        #expect(tls.priorities == "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+AES-256-GCM:-MAC-ALL:+AEAD:-GROUP-ALL:+GROUP-SECP384R1")
    }
}
