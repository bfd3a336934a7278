import ArgumentParser
import VCSAExporter

/// The HTTP server: where it listens, its web config, its limits, its optional endpoints.
struct WebOptions: ParsableArguments {
    @Option(name: .customLong("web.listen-address"), help: "Address to listen on; repeat for several (default :28272).")
    var listenAddresses: [String] = []

    @Option(name: .customLong("web.config.file"), help: "Path to an exporter-toolkit web configuration file (TLS, basic auth, headers).")
    var webConfigFile: String?

    @Flag(name: .customLong("web.config.check"), help: "Check the --web.config.file, print what it configures, and exit (0: valid, 2: not).")
    var checkWebConfig = false

    @Flag(name: .customLong("web.enable-lifecycle"), help: "Serve POST /-/reload, which reloads the --config.file.")
    var enableLifecycle = false

    @Option(name: .customLong("web.telemetry-path"), help: "Path under which to expose metrics.")
    var telemetryPath = "/metrics"

    @Option(name: .customLong("web.max-requests"), help: "Maximum scrapes and admin calls handled at once; more get 503 (0: no limit).")
    var maxRequests = 40

    @Option(name: .customLong("web.max-connections-per-ip"), help: "Maximum open connections from one client address; more are closed.")
    var maxConnectionsPerIP = 64

    @Flag(name: .customLong("web.disable-exporter-metrics"), help: "Leave out the process_* metrics about the exporter itself.")
    var disableExporterMetrics = false

    @Flag(name: .customLong("web.enable-admin-api"), help: "Serve POST \(AdminAPI.cancelPath) (needs --web.admin-token-file).")
    var enableAdminAPI = false

    @Option(name: .customLong("web.admin-token-file"), help: "File holding the bearer token for the admin API.")
    var adminTokenFile: String?

    /// What can be checked without reading a file or binding a socket.
    func validate() throws {
        guard maxRequests >= 0 else { throw StartupError("--web.max-requests: must be 0 (unlimited) or more") }
        // libmicrohttpd takes an unsigned int: 4294967297 would become a limit of 1.
        guard (1...Int(UInt32.max)).contains(maxConnectionsPerIP) else {
            throw StartupError("--web.max-connections-per-ip: must be from 1 to \(UInt32.max)")
        }
        guard telemetryPath.hasPrefix("/"), !RouteTable.fixedPaths.contains(telemetryPath) else {
            throw StartupError("--web.telemetry-path: \"\(telemetryPath)\" must start with / and not be a path the exporter already serves")
        }
    }
}
