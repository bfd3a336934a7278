import Foundation
import TestHarness
import Testing

/// Wrong flags stop start-up with one line naming the flag, and exit code 2.
@Suite struct StartupTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var message: String
        var testDescription: String { message }
    }

    static let base = ["--vcenter.url", "https://127.0.0.1:1", "--vcenter.username", "u"]

    static let cases: [Case] = [
        .init(arguments: ["--vcenter.username", "u", "--vcenter.password-file", "/etc/hostname"], message: "--vcenter.url (or --config.file with targets for /probe) is required"),
        .init(arguments: ["--config.file", "/nonexistent.yml"], message: "--config.file: /nonexistent.yml cannot be read"),
        .init(arguments: ["--config.file", "/etc/hostname"], message: "--config.file: /etc/hostname line 1: expected a mapping"),
        .init(arguments: ["--config.check"], message: "--config.check needs --config.file"),
        .init(arguments: ["--vcenter.url", "ftp://x", "--vcenter.username", "u", "--vcenter.password-file", "/etc/hostname"], message: "--vcenter.url: \"ftp://x\" is not a URL"),
        .init(arguments: base, message: "--vcenter.password-file (or VCSA_PASSWORD) is required"),
        .init(arguments: base + ["--vcenter.password-file", "/nonexistent/pw"], message: "--vcenter.password-file: /nonexistent/pw does not exist"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--vcenter.timeout", "10"], message: "--vcenter.timeout: invalid duration \"10\""),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--web.listen-address", "28272"], message: "--web.listen-address: invalid listen address \"28272\""),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--log.level", "verbose"], message: "--log.level: \"verbose\" is not one of debug, info, warn, error"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--log.format", "xml"], message: "--log.format: \"xml\" is not one of logfmt, json"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--web.enable-admin-api"], message: "--web.enable-admin-api needs --web.admin-token-file"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--vcenter.tls.ca-file", "/nonexistent.pem"], message: "--vcenter.tls.ca-file: /nonexistent.pem cannot be read"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--web.config.file", "/nonexistent.yml"], message: "--web.config.file: /nonexistent.yml cannot be read"),
        .init(arguments: base + ["--vcenter.password", "secret"], message: "Unknown option '--vcenter.password'"),
        // Numbers from flags are parsed checked: these used to trap converting to a Duration.
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--timeout-offset", "1e10"], message: "--timeout-offset: 10000000000.0 must be a number of seconds from 0 to 3600"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--timeout-offset", "inf"], message: "--timeout-offset: inf must be a number of seconds from 0 to 3600"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--timeout-offset", "nan"], message: "--timeout-offset: nan must be a number of seconds from 0 to 3600"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--vcenter.timeout", "3000000h"], message: "--vcenter.timeout: invalid duration \"3000000h\": out of range"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--vcenter.timeout", "2h"], message: "--vcenter.timeout: \"2h\" must be greater than 0 and at most 1h"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--web.max-requests=-1"], message: "--web.max-requests: must be 0 (unlimited) or more"),
        // libmicrohttpd takes an unsigned int: this became a limit of 1.
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--web.max-connections-per-ip=4294967297"],
              message: "--web.max-connections-per-ip: must be from 1 to 4294967295"),
        // Passed start-up and trapped at the first scrape, in NIO's socket address.
        .init(arguments: ["--vcenter.url", "https://127.0.0.1:65536", "--vcenter.username", "u", "--vcenter.password-file", "/etc/hostname"],
              message: "--vcenter.url: \"https://127.0.0.1:65536\" is not a URL of the form https://host[:port] (no path, query or user; a port from 1 to 65535)"),
        .init(arguments: base + ["--vcenter.password-file", "/etc/hostname", "--no-collector.reconciliation", "--no-collector.restore", "--no-collector.backup"],
              message: "--no-collector.reconciliation, --no-collector.restore and --no-collector.backup leave nothing to collect"),
    ]

    @Test(arguments: cases)
    func refused(_ testCase: Case) async throws {
        let child = try ChildProcess(try Binaries.path("vcsa_exporter"), testCase.arguments)
        defer { child.stop() }
        #expect(await child.waitForExit() == 2)
        let lines = child.output.split(separator: "\n")
        #expect(lines.count == 1, "one line expected: \(child.output)")
        #expect(child.output.hasPrefix("vcsa_exporter: "))
        #expect(child.output.contains(testCase.message), "\(child.output)")
    }

    @Test func versionAndHelpExitZero() async throws {
        let version = try ChildProcess(try Binaries.path("vcsa_exporter"), ["--version"])
        defer { version.stop() }
        #expect(await version.waitForExit() == 0)
        #expect(version.output.hasPrefix("vcsa_exporter \(BuildVersion.version)"))
        let help = try ChildProcess(try Binaries.path("vcsa_exporter"), ["--help"])
        defer { help.stop() }
        #expect(await help.waitForExit() == 0)
        for flag in ["--web.listen-address", "--web.config.file", "--web.telemetry-path", "--log.level", "--log.format", "--no-collector.restore", "--no-collector.backup"] {
            #expect(help.output.contains(flag), "help lacks \(flag)")
        }
    }

    @Test func listenAddressInUseIsAClearError() async throws {
        let simulator = try await Simulator(scenario: "running")
        let child = try ChildProcess(try Binaries.path("vcsa_exporter"), [
            "--web.listen-address", "127.0.0.1:\(simulator.port)", "--vcenter.url", simulator.url,
            "--vcenter.username", "u", "--vcenter.password-file", "/etc/hostname",
        ])
        defer { child.stop() }
        #expect(await child.waitForExit() == 2)
        #expect(child.output.contains("--web.listen-address: cannot serve on 127.0.0.1:\(simulator.port)"))
    }
}
