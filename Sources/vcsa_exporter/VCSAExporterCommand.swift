import ApplianceAPI
import ArgumentParser
import ExporterToolkit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MicroHTTPD
import NIOCore
import NIOPosix
import VCSAExporter

/// Flags and wiring only: everything else lives in the VCSAExporter, ApplianceAPI and MicroHTTPD modules.
@main
struct VCSAExporterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vcsa_exporter",
        abstract: "Prometheus exporter for vCenter Server Appliance recovery jobs.",
        discussion: """
        The vCenter user comes from --vcenter.username or VCSA_USERNAME; the password from --vcenter.password-file or VCSA_PASSWORD. \
        With --config.file, GET /probe?target=NAME collects one of the appliances it lists (the multi-target pattern); \
        SIGHUP (or POST /-/reload with --web.enable-lifecycle) reloads it.
        """,
        version: "vcsa_exporter \(BuildInfo.version) (revision \(BuildInfo.revision), swift \(BuildInfo.swiftVersion))"
    )

    @OptionGroup var web: WebOptions
    @OptionGroup var config: ConfigFileOptions
    @OptionGroup var vcenter: VCenterOptions
    @OptionGroup var collection: CollectorOptions
    @OptionGroup var log: LogOptions

    /// Exit code 2 and one line for any flag problem, as Go exporters do.
    static func main() async {
        // One event loop for the appliance clients. NIO is also asked to run Swift tasks on it (so a
        // scrape's hand-offs would stay on one thread); the call reports success, but Swift 6.3's
        // runtime still runs jobs on Dispatch's pool (heaptrack shows swift_job_run under
        // _dispatch_async_redirect_invoke), so today tasks and the loop are separate threads.
        NIOSingletons.groupLoopCountSuggestion = 1
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        raiseOpenFileLimit()
        do {
            var parsed = try parseAsRoot()
            if var command = parsed as? VCSAExporterCommand {
                try await command.run()
            } else {
                try parsed.run()  // `help`
            }
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let message = error is StartupError ? String(describing: error) : message(for: error)
            let line = Array("vcsa_exporter: \(message)\n".utf8)
            _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            Glibc.exit(2)
        }
    }

    mutating func run() async throws {
        if web.checkWebConfig { return try Self.check("--web.config", file: web.webConfigFile) { path throws(ConfigFileError) in try WebConfig(path: path).summary } }
        if config.checkConfig { return try Self.check("--config", file: config.configFile) { path throws(ConfigFileError) in try ExporterConfig(path: path).summary } }
        // Before anything can take time: SIGHUP's default action would end the process.
        let reloads = ReloadSignal.install()
        let settings = try validatedSettings()
        let logger = settings.logger
        if vcenter.insecureSkipVerify {
            logger.warning("TLS certificate verification of the appliance is OFF (--vcenter.tls.insecure-skip-verify)")
        }
        if settings.appliance?.url.hasPrefix("http://") == true {
            logger.warning("The appliance URL is plain HTTP: the password and session id cross the network unencrypted")
        }
        if let probes = settings.probes {
            let unverified = probes.config.modules.filter(\.value.insecureSkipVerify).keys.sorted()
            if !unverified.isEmpty {
                logger.warning("TLS certificate verification is OFF for these modules' targets (insecure_skip_verify)", metadata: ["modules": "\(unverified.joined(separator: ","))"])
            }
            let plain = probes.config.targets.filter { $0.value.url.hasPrefix("http://") }.keys.sorted()
            if !plain.isEmpty {
                logger.warning("Some targets' URLs are plain HTTP: the password and session id cross the network unencrypted",
                               metadata: ["count": "\(plain.count)", "first": "\(plain.prefix(5).joined(separator: ","))"])
            }
        }

        let stats = APICallStats()
        var client: ApplianceClient?
        if let appliance = settings.appliance {
            do {
                client = try ApplianceClient(
                    configuration: ApplianceConfiguration(baseURL: appliance.url, credentials: appliance.credentials,
                                                          caFile: vcenter.caFile, insecureSkipVerify: vcenter.insecureSkipVerify),
                    logger: logger, observer: { stats.record($0) })
            } catch {
                throw StartupError("--vcenter.tls.ca-file: \(error.reason)")
            }
        }
        let admin = settings.adminToken.flatMap { token in client.map { AdminAPI(token: token, client: $0, timeout: settings.timeout, logger: logger) } }
        let options = ExporterOptions(telemetryPath: web.telemetryPath, disableExporterMetrics: web.disableExporterMetrics,
                                      scrapeTimeout: ScrapeTimeout(timeout: settings.timeout, offset: .seconds(vcenter.timeoutOffset)),
                                      vcenterURL: settings.appliance?.url ?? "", collectors: settings.collectors, maxRequests: web.maxRequests,
                                      enableLifecycle: web.enableLifecycle)
        let handler = ExporterHandler(options: options, client: client, stats: stats, probes: settings.probes, admin: admin,
                                      webConfig: settings.webConfig, logger: logger)
        let serve = settings.webConfig.wrap { handler.handle($0, $1) }
        let refusedClient: @Sendable (String, String) -> Void = { client, reason in
            logger.warning("TLS client refused", metadata: ["client": "\(client)", "reason": "\(reason)"])
        }

        var servers: [HTTPServer] = []
        for address in settings.addresses {
            let configuration = HTTPServer.Configuration(address: address, tls: settings.webConfig.serverTLS, maxConnectionsPerIP: web.maxConnectionsPerIP)
            let server = HTTPServer(configuration: configuration, refusedClient: refusedClient, handler: serve)
            do {
                try server.start()
            } catch {
                for started in servers { await started.shutdown(drainTimeout: .zero) }
                await client?.shutdown()
                throw StartupError("--web.listen-address: \(error)")
            }
            servers.append(server)
            logger.info("Listening", metadata: ["address": "\(address.host ?? ""):\(server.boundPort)", "tls": "\(settings.webConfig.serverTLS != nil)"])
        }
        logger.info("Starting vcsa_exporter", metadata: [
            "version": "\(BuildInfo.version)", "vcenter": "\(settings.appliance?.url ?? "")", "user": "\(settings.appliance?.credentials.username ?? "")",
            "collectors": "\(settings.collectors.map(\.rawValue).sorted().joined(separator: ","))", "admin_api": "\(admin != nil)",
            "config_file": "\(config.configFile ?? "")", "probe_targets": "\(settings.probes?.config.targets.count ?? 0)",
        ])
        if let probes = settings.probes {
            reloads.onSignal { probes.reload() }
        } else {
            reloads.onSignal { logger.info("SIGHUP received; there is no --config.file to reload (the web config reloads by itself)") }
        }

        MemoryTrim.start()
        // Every request in flight ends by its deadline, at most the longest timeout: that bounds the drain.
        let longest = ([settings.timeout] + (settings.probes?.config.modules.values.map(\.timeout) ?? [])).max()!
        await Shutdown(servers: servers, client: client, probes: settings.probes, logger: logger).run(drainTimeout: longest + .milliseconds(500))
    }
}

extension VCSAExporterCommand {
    /// `--web.config.check` and `--config.check`: the same validation as at start-up and reload,
    /// then what the file configures; nothing is started.
    static func check(_ flag: String, file: String?, summary: (String) throws(ConfigFileError) -> [String]) throws {
        guard let file else { throw StartupError("\(flag).check needs \(flag).file") }
        let lines: [String]
        do { lines = try summary(file) } catch { throw StartupError(error.description) }
        print("\(file): valid")
        for line in lines { print("  " + line) }
    }
}

/// Raises the soft limit on open files to the hard one, as Go's runtime does for every exporter:
/// systemd's default soft limit (1024) is below the connections the server may hold.
private func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
