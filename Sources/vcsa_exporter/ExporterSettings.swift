import ApplianceAPI
import ExporterToolkit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import MicroHTTPD
import VCSAExporter

/// The flags after validation: every value the wiring needs, or a StartupError naming the flag.
struct ExporterSettings {
    var logger: Logger
    /// The `--vcenter.*` appliance the metrics path collects; nil with only `--config.file` targets.
    var appliance: (url: String, credentials: Credentials)?
    var timeout: Duration
    var addresses: [ListenAddress]
    var collectors: Set<CollectorName>
    var adminToken: String?
    var webConfig: WebConfigStore
    var probes: ProbeTargets?
}

extension VCSAExporterCommand {
    func validatedSettings() throws -> ExporterSettings {
        let environment = ProcessInfo.processInfo.environment
        guard let format = StderrLogHandler.Format(rawValue: log.logFormat) else {
            throw StartupError("--log.format: \"\(log.logFormat)\" is not one of logfmt, json")
        }
        let levels: [String: Logger.Level] = ["debug": .debug, "info": .info, "warn": .warning, "error": .error]
        guard let level = levels[log.logLevel] else {
            throw StartupError("--log.level: \"\(log.logLevel)\" is not one of debug, info, warn, error")
        }
        let logger = Logger(label: "vcsa_exporter") { _ in StderrLogHandler(format: format, level: level) }

        let rawURL = vcenter.vcenterURL ?? environment["VCSA_URL"]
        guard rawURL != nil || config.configFile != nil else {
            throw StartupError("--vcenter.url (or --config.file with targets for /probe) is required (e.g. --vcenter.url=https://vcsa.example.com)")
        }
        var appliance: (url: String, credentials: Credentials)?
        if let rawURL {
            guard let url = ApplianceURL.normalized(rawURL) else {
                throw StartupError("--vcenter.url: \"\(rawURL)\" is not \(ApplianceURL.expected)")
            }
            guard let user = vcenter.username ?? environment["VCSA_USERNAME"], !user.isEmpty else {
                throw StartupError("--vcenter.username (or VCSA_USERNAME) is required")
            }
            let password: PasswordSource
            if let passwordFile = vcenter.passwordFile {
                do { password = try .file(passwordFile) } catch { throw StartupError("--vcenter.password-file: \(error)") }
            } else if let fromEnvironment = environment["VCSA_PASSWORD"], !fromEnvironment.isEmpty {
                password = .literal(fromEnvironment)
            } else {
                throw StartupError("--vcenter.password-file (or VCSA_PASSWORD) is required")
            }
            appliance = (url, Credentials(username: user, password: password))
        }
        let timeout: Duration
        do { timeout = try GoDuration.parse(vcenter.timeout) } catch { throw StartupError("--vcenter.timeout: \(error)") }
        guard timeout > .zero, timeout <= .seconds(3600) else {
            throw StartupError("--vcenter.timeout: \"\(vcenter.timeout)\" must be greater than 0 and at most 1h")
        }
        guard vcenter.timeoutOffset.isFinite, (0...3600).contains(vcenter.timeoutOffset) else {
            throw StartupError("--timeout-offset: \(vcenter.timeoutOffset) must be a number of seconds from 0 to 3600")
        }
        guard web.maxRequests >= 0 else { throw StartupError("--web.max-requests: must be 0 (unlimited) or more") }
        // libmicrohttpd takes an unsigned int: 4294967297 would become a limit of 1.
        guard (1...Int(UInt32.max)).contains(web.maxConnectionsPerIP) else {
            throw StartupError("--web.max-connections-per-ip: must be from 1 to \(UInt32.max)")
        }
        guard web.telemetryPath.hasPrefix("/"), !RouteTable.fixedPaths.contains(web.telemetryPath) else {
            throw StartupError("--web.telemetry-path: \"\(web.telemetryPath)\" must start with / and not be a path the exporter already serves")
        }
        if let caFile = vcenter.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw StartupError("--vcenter.tls.ca-file: \(caFile) cannot be read")
        }
        var addresses: [ListenAddress] = []
        for text in web.listenAddresses.isEmpty ? [":28272"] : web.listenAddresses {
            do { addresses.append(try ListenAddress(parsing: text)) } catch { throw StartupError("--web.listen-address: \(error)") }
        }
        let flags: [(CollectorName, Bool)] = [(.reconciliation, collection.collectReconciliation), (.restore, collection.collectRestore), (.backup, collection.collectBackup)]
        let collectors = Set(flags.filter(\.1).map(\.0))
        guard !collectors.isEmpty else {
            throw StartupError("--no-collector.reconciliation, --no-collector.restore and --no-collector.backup leave nothing to collect; enable at least one collector")
        }

        var adminToken: String?
        if web.enableAdminAPI {
            guard appliance != nil else {
                throw StartupError("--web.enable-admin-api needs --vcenter.url: it cancels that appliance's restore job")
            }
            guard let adminTokenFile = web.adminTokenFile else {
                throw StartupError("--web.enable-admin-api needs --web.admin-token-file (a file holding the bearer token)")
            }
            do { adminToken = try SecretFile.read(adminTokenFile) } catch { throw StartupError("--web.admin-token-file: \(error)") }
            if adminToken!.count < 16 {
                throw StartupError("--web.admin-token-file: the token must be at least 16 characters")
            }
            if SecretFile.isWorldReadable(adminTokenFile) {
                logger.warning("The admin token file is world-readable; restrict it (chmod 600)", metadata: ["file": "\(adminTokenFile)"])
            }
        } else if web.adminTokenFile != nil {
            logger.warning("--web.admin-token-file is set but the admin API is off (--web.enable-admin-api)")
        }
        let webConfig: WebConfigStore
        do { webConfig = try WebConfigStore(path: web.webConfigFile, realm: "vcsa_exporter", metricNamespace: "vcsa_exporter", logger: logger) } catch { throw StartupError(error.description) }
        var probes: ProbeTargets?
        if let configFile = config.configFile {
            do { probes = try ProbeTargets(path: configFile, offset: .seconds(vcenter.timeoutOffset), logger: logger) } catch { throw StartupError(error.description) }
        }
        return ExporterSettings(
            logger: logger, appliance: appliance, timeout: timeout, addresses: addresses,
            collectors: collectors, adminToken: adminToken, webConfig: webConfig, probes: probes)
    }
}
