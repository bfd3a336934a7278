import ApplianceAPI
import ArgumentParser
import Foundation
import MicroHTTPD

/// A simulated vCenter appliance API on loopback: the demo's and the tests' upstream.
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vcsa_simulator",
        abstract: "Simulated vCenter appliance recovery API, for demos and tests.",
        discussion: """
        Reconciliation scenarios: \(ReconciliationScenario.allCases.map(\.rawValue).joined(separator: ", ")).
        Restore scenarios: \(RestoreScenario.allCases.map(\.rawValue).joined(separator: ", ")).
        Backup scenarios: \(BackupScenario.allCases.map(\.rawValue).joined(separator: ", ")).
        Control API: PUT /simulator/scenario, PUT /simulator/restore-scenario, PUT /simulator/backup-scenario,
        PUT /simulator/cancel-result (body: the name),
        PUT /simulator/password (body: the new password), GET /simulator/stats, POST /simulator/reset.
        """
    )

    @Option(name: .customLong("listen-address"), help: "host:port to listen on (loopback is the point).")
    var listenAddress = "127.0.0.1:8443"

    @Option(help: "Serve this many independent appliances, on consecutive ports from --listen-address's (each with its own scenarios, sessions, stats and control API): a fleet for `make scale`.")
    var appliances = 1

    @Option(help: "Reconciliation scenario.")
    var scenario = "progressing"

    @Option(name: .customLong("restore-scenario"), help: "Restore scenario.")
    var restoreScenario = "none"

    @Option(name: .customLong("backup-scenario"), help: "Backup scenario.")
    var backupScenario = "nightly"

    @Option(name: .customLong("cancel-result"), help: "Answer to a restore cancel: OK, WARNING, FAIL, ERROR or UNKNOWN-STATUS.")
    var cancelResult = "OK"

    @Option(name: .customLong("progress-duration"), help: "Seconds the progressing scenario takes from 0 to 100%.")
    var progressDuration = 60.0

    @Option(name: .customLong("session-expiry-requests"), help: "Sessions expire after this many authenticated requests (0: never).")
    var sessionExpiryRequests = 0

    @Flag(name: .customLong("unshared-sessions"), help: "Answer every authenticated call 401 although logins succeed, as two HA nodes behind a load balancer that share no sessions do.")
    var unsharedSessions = false

    @Option(help: "Extra seconds before every API answer.")
    var latency = 0.0

    @Option(name: .customLong("latency-path"), help: "Give --latency only to this API path (repeat for several; default: every path).")
    var latencyPaths: [String] = []

    @Option(name: .customLong("login-latency"), help: "Extra seconds before answering a login (POST /api/session).")
    var loginLatency = 0.0

    @Flag(help: "Serve HTTPS with a self-signed certificate made at start-up.")
    var tls = false

    @Option(name: .customLong("tls.cert-out"), help: "With --tls: write the certificate (PEM) here, for the client's CA file.")
    var certOut: String?

    @Option(name: .customLong("tls.cert-file"), help: "Serve HTTPS with this certificate (PEM) ...")
    var certFile: String?

    @Option(name: .customLong("tls.key-file"), help: "... and this key (PEM).")
    var keyFile: String?

    @Option(name: .customLong("tls.priorities"), help: "With HTTPS: a GnuTLS priority string, e.g. to offer only old protocol versions.")
    var tlsPriorities = ServerTLS.defaultPriorities

    @Option(help: "Accepted user name.")
    var username = "administrator@vsphere.local"

    @Option(name: .customLong("password-file"), help: "File holding the accepted password (else VCSA_PASSWORD, else \"vmware\").")
    var passwordFile: String?

    mutating func run() async throws {
        guard let scenario = ReconciliationScenario(rawValue: scenario) else {
            throw ValidationError("--scenario: unknown \"\(scenario)\"; expected one of \(ReconciliationScenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let restore = RestoreScenario(rawValue: restoreScenario) else {
            throw ValidationError("--restore-scenario: unknown \"\(restoreScenario)\"; expected one of \(RestoreScenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let backup = BackupScenario(rawValue: backupScenario) else {
            throw ValidationError("--backup-scenario: unknown \"\(backupScenario)\"; expected one of \(BackupScenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let cancel = CancelOutcome(rawValue: cancelResult) else {
            throw ValidationError("--cancel-result: expected one of \(CancelOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let address: ListenAddress
        do { address = try ListenAddress(parsing: listenAddress) } catch { throw ValidationError("--listen-address: \(error)") }
        let password: String
        if let passwordFile {
            do { password = try SecretFile.read(passwordFile) } catch { throw ValidationError("--password-file: \(error)") }
        } else {
            password = ProcessInfo.processInfo.environment["VCSA_PASSWORD"] ?? "vmware"
        }

        var serverTLS: ServerTLS?
        if let certFile, let keyFile {
            serverTLS = try ServerTLS(certificatePEM: try String(contentsOfFile: certFile, encoding: .utf8), privateKeyPEM: try String(contentsOfFile: keyFile, encoding: .utf8))
        } else if tls {
            let made = try SelfSignedCertificate.make()
            if let certOut { try made.certificatePEM.write(toFile: certOut, atomically: true, encoding: .utf8) }
            serverTLS = try ServerTLS(certificatePEM: made.certificatePEM, privateKeyPEM: made.keyPEM)
        }
        if serverTLS != nil {
            do { try ServerTLS.validate(priorities: tlsPriorities) } catch { throw ValidationError("--tls.priorities: \(error)") }
            serverTLS?.priorities = tlsPriorities
        }

        guard (1...1000).contains(appliances) else { throw ValidationError("--appliances: expected 1 to 1000") }
        guard appliances == 1 || (address.port > 0 && Int(address.port) + appliances - 1 <= 65535) else {
            throw ValidationError("--appliances: \(appliances) appliances need a fixed --listen-address port with room for as many consecutive ports")
        }
        var servers: [HTTPServer] = []
        for index in 0..<appliances {
            let appliance = ApplianceState(
                username: username, password: password, scenario: scenario, restore: restore, backup: backup, cancelOutcome: cancel,
                progressDuration: progressDuration, sessionExpiryRequests: sessionExpiryRequests, unsharedSessions: unsharedSessions,
                latency: try seconds(latency, "--latency"), latencyPaths: Set(latencyPaths), loginLatency: try seconds(loginLatency, "--login-latency"))
            let routes = SimulatorRoutes(appliance: appliance)
            var applianceAddress = address
            if index > 0 { applianceAddress.port = address.port + UInt16(index) }
            let server = HTTPServer(configuration: HTTPServer.Configuration(address: applianceAddress, tls: serverTLS, maxConnectionsPerIP: 1024),
                                    handler: HTTPServer.asyncHandler { await routes.handle($0) })
            try server.start()
            servers.append(server)
            let scheme = serverTLS == nil ? "http" : "https"
            let banner = "vcsa_simulator listening on \(scheme)://\(address.host ?? "0.0.0.0"):\(server.boundPort) scenario=\(scenario.rawValue) restore=\(restore.rawValue)\n"
            FileHandle.standardOutput.write(Data(banner.utf8))
        }
        _ = await ShutdownSignal.wait()
        for server in servers { await server.shutdown(drainTimeout: .seconds(2)) }
    }

    /// A delay flag in seconds, checked: a Duration from a huge or non-finite number would trap.
    private func seconds(_ value: Double, _ flag: String) throws -> Duration {
        guard value.isFinite, (0...3600).contains(value) else { throw ValidationError("\(flag): expected seconds from 0 to 3600") }
        return .seconds(value)
    }
}
