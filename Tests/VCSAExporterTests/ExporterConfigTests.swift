import ExporterToolkit
import Foundation
import Testing
@testable import VCSAExporter

/// `--config.file`: what it accepts, and a precise error (file, key, what was expected) for what it does not.
@Suite struct ExporterConfigTests {
    static let passwordFile: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("config-pw-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: Data("secret\n".utf8), attributes: [.posixPermissions: 0o600])
        return path
    }()

    static let module = "modules:\n  default:\n    username: u\n    password_file: \(passwordFile)\n"

    func load(_ yaml: String) throws(ConfigFileError) -> ExporterConfig {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).yml").path
        try? yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try ExporterConfig(path: path)
    }

    @Test func aFullConfigIsRead() throws {
        let config = try load(Self.module + """
                timeout: 4s
                collectors: [reconciliation, backup]
                session_idle_timeout: 2m
                insecure_skip_verify: yes
            targets:
              vc01.example.com:
                url: https://VC01.example.com:443/
              vc-02:
                url: https://[2001:db8::1]:8443
                module: default

            """)
        let module = try #require(config.modules["default"])
        #expect(module.timeout == .seconds(4) && module.sessionIdleTimeout == .seconds(120) && module.insecureSkipVerify)
        #expect(module.collectors == [.reconciliation, .backup])
        #expect(config.targets["vc01.example.com"] == .init(url: "https://VC01.example.com:443", module: "default"), "the trailing slash goes")
        #expect(config.targets["vc-02"]?.url == "https://[2001:db8::1]:8443")
    }

    @Test func relativeFilesAreRelativeToTheConfigFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-dir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "secret\n".write(toFile: directory + "/password", atomically: true, encoding: .utf8)
        try "modules:\n  default:\n    username: u\n    password_file: password\n".write(toFile: directory + "/c.yml", atomically: true, encoding: .utf8)
        #expect(try ExporterConfig(path: directory + "/c.yml").modules["default"]?.passwordFile == directory + "/password")
    }

    @Test func defaultsApply() throws {
        let module = try #require(try load(Self.module).modules["default"])
        #expect(module.timeout == .seconds(10) && module.sessionIdleTimeout == .seconds(600))
        #expect(module.collectors == Set(CollectorName.allCases) && !module.insecureSkipVerify && module.caFile == nil)
    }

    /// Names are checked by byte: as Characters, the Kelvin sign U+212A equals "K" and would pass, unencoded, into the landing page's probe links.
    @Test(arguments: ["vc\u{212A}", "vc\u{0301}", "\u{0600}vc"])
    func namesAreASCIIByByte(_ name: String) throws {
        #expect {
            _ = try load(Self.module + "targets:\n  \"\(name)\":\n    url: https://vc1\n")
        } throws: { error in
            String(describing: error).contains("targets: name \"\(name)\" must be 1 to 253 letters")
        }
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var yaml: String
        var message: String
        var testDescription: String { message }
    }

    static let bad: [Bad] = [
        .init(yaml: "modules: [a]\n", message: "modules: line 1: expected a mapping"),
        .init(yaml: "module:\n  a: {}\n", message: "module: unknown key (expected one of modules, targets)"),
        .init(yaml: "modules:\n  a:\n    password_file: /etc/hostname\n", message: "modules.a.username: is required"),
        .init(yaml: "modules:\n  a:\n    username: u\n", message: "modules.a.password_file: is required (a file holding the password)"),
        .init(yaml: "modules:\n  a:\n    username: u\n    password: secret\n", message: "modules.a.password: unknown key"),
        .init(yaml: "modules:\n  a:\n    username: u\n    password_file: /nonexistent\n", message: "modules.a.password_file: /nonexistent does not exist"),
        .init(yaml: module + "    timeout: 2h\n", message: "modules.default.timeout: must be greater than 0 and at most 1h"),
        .init(yaml: module + "    timeout: 10\n", message: "modules.default.timeout: invalid duration \"10\""),
        .init(yaml: module + "    session_idle_timeout: 500ms\n", message: "modules.default.session_idle_timeout: must be from 1s to 24h"),
        .init(yaml: module + "    collectors: [reconciliation, vms]\n", message: "modules.default.collectors: unknown collector \"vms\""),
        .init(yaml: module + "    collectors: []\n", message: "modules.default.collectors: lists no collector"),
        .init(yaml: module + "    ca_file: /nonexistent.pem\n", message: "modules.default.ca_file: /nonexistent.pem cannot be read"),
        .init(yaml: module + "    insecure_skip_verify: maybe\n", message: "modules.default.insecure_skip_verify: line 5: expected true or false"),
        .init(yaml: module + "targets:\n  vc1: {}\n", message: "targets.vc1.url: is required"),
        .init(yaml: module + "targets:\n  vc1:\n    url: https://vc1/api\n", message: "targets.vc1.url: \"https://vc1/api\" is not a URL of the form https://host[:port]"),
        .init(yaml: module + "targets:\n  vc1:\n    url: https://user@vc1\n", message: "targets.vc1.url: \"https://user@vc1\" is not a URL"),
        // A port past 65535 used to pass the load and trap at the first probe; one past Int's range quietly meant 443.
        .init(yaml: module + "targets:\n  vc1:\n    url: https://vc1:65536\n", message: "targets.vc1.url: \"https://vc1:65536\" is not a URL"),
        .init(yaml: module + "targets:\n  vc1:\n    url: https://vc1:99999999999999999999\n", message: "is not a URL of the form https://host[:port] (no path, query or user; a port from 1 to 65535)"),
        .init(yaml: module + "targets:\n  vc1:\n    url: https://[::1]:70000\n", message: "targets.vc1.url: \"https://[::1]:70000\" is not a URL"),
        .init(yaml: module + "targets:\n  vc1:\n    url: https://vc1:0\n", message: "targets.vc1.url: \"https://vc1:0\" is not a URL"),
        .init(yaml: module + "targets:\n  vc1:\n    url: https://vc1\n    module: other\n", message: "targets.vc1.module: no module named \"other\" (modules: default)"),
        .init(yaml: module + "targets:\n  \"vc 1\":\n    url: https://vc1\n", message: "targets: name \"vc 1\" must be 1 to 253 letters"),
        .init(yaml: module + "targets:\n  vc1:\n    url: https://vc1\n  vc1:\n    url: https://vc2\n", message: "key \"vc1\" already set"),
        .init(yaml: "targets:\n  vc1:\n    url: https://vc1\n", message: "targets.vc1.module: no module named \"default\""),
    ]

    @Test(arguments: bad)
    func refused(_ bad: Bad) throws {
        #expect {
            _ = try load(bad.yaml)
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix("--config.file: ") && text.contains(bad.message)
        }
    }
}
