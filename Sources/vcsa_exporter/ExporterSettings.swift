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
        let logger = try log.logger()

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
        let timeout = try vcenter.scrapeTimeout()
        if let caFile = vcenter.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw StartupError("--vcenter.tls.ca-file: \(caFile) cannot be read")
        }
        var addresses: [ListenAddress] = []
        for text in web.listenAddresses.isEmpty ? [":28272"] : web.listenAddresses {
            do { addresses.append(try ListenAddress(parsing: text)) } catch { throw StartupError("--web.listen-address: \(error)") }
        }
        let collectors = try collection.enabled()

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
