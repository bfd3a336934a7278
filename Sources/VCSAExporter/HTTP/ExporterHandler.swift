import ApplianceAPI
import ExporterToolkit
import Logging
import MicroHTTPD
import Synchronization

/// Turns one HTTP request into one answer: the routes of the exporter.
public final class ExporterHandler: Sendable {
    let options: ExporterOptions
    /// The `--vcenter.*` appliance, collected on the metrics path; nil with only `--config.file` targets.
    let appliance: ApplianceTarget?
    /// `--config.file`'s targets, for `/probe`.
    let probes: ProbeTargets?
    let admin: AdminAPI?
    let webConfig: WebConfigStore?
    let logger: Logger
    let routes: RouteTable
    /// Families about the exporter itself, never about an appliance: they stay on the metrics path.
    let ownSources: [any MetricsSource]
    private let limit: InFlightLimit

    public init(options: ExporterOptions, client: ApplianceClient?, stats: APICallStats, probes: ProbeTargets?, admin: AdminAPI?,
                webConfig: WebConfigStore? = nil, logger: Logger) {
        self.options = options
        self.routes = RouteTable(telemetryPath: options.telemetryPath)
        self.limit = InFlightLimit(limit: options.maxRequests)
        self.probes = probes
        self.admin = admin
        self.webConfig = webConfig
        self.logger = logger
        // The exporter's own families, after the appliance's on the metrics path, rendered once per round.
        ownSources = Self.ownSources(admin: admin, webConfig: webConfig, probes: probes, options: options)
        appliance = client.map { [ownSources] client in
            ApplianceTarget(name: "", client: client, stats: stats, collectors: options.collectors, scrapeTimeout: options.scrapeTimeout,
                            logger: logger, extraSources: ownSources)
        }
    }

    /// Routes a request. Cheap answers are given on the spot; the rest answer through `responder` later.
    public func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard let route = routes.route(for: request.path) else { return responder.respond(.text(404, "Not Found")) }
        if route.readOnly && !route.methods.contains(request.method) {
            return responder.respond(.text(405, "Method Not Allowed", headers: [("Allow", route.allow)]))
        }
        switch route.endpoint {
        case .metrics:
            guard let appliance else { return responder.respond(ownMetrics()) }
            guard let admitted = limit.admit(responder) else { return responder.respond(InFlightLimit.refusal) }
            appliance.scrape(request, admitted)
        case .probe:
            probe(request, responder)
        case .landingPage:
            Task { [self] in responder.respond(landingPage().response()) }
        case .healthy:
            responder.respond(.text(200, "Healthy"))
        case .ready:
            // Ready once the configuration is loaded, which is before the server starts; not tied to vCenter.
            responder.respond(.text(200, "Ready"))
        case .reload:
            reload(request, route, responder)
        case .cancel:
            guard let admin else { return responder.respond(.text(404, "Not Found (the admin API is off; see --web.enable-admin-api)")) }
            guard let admitted = limit.admit(responder) else { return responder.respond(InFlightLimit.refusal) }
            Task { admitted.respond(await admin.handle(request)) }
        }
    }

    /// `GET /probe?target=NAME[&module=MODULE]`: one allow-listed appliance's families, nothing of the exporter's own.
    func probe(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard let probes else {
            return responder.respond(.text(400, "Bad Request: /probe needs --config.file, whose targets are the only ones it may reach"))
        }
        let names = request.queryValues("target")
        let modules = request.queryValues("module")
        guard names.count <= 1, modules.count <= 1 else {
            return responder.respond(.text(400, "Bad Request: give target and module at most once each"))
        }
        // Admitted first: a probe refused for the limit must not start a target's client.
        guard let admitted = limit.admit(responder) else { return responder.respond(InFlightLimit.refusal) }
        // An empty `module=` means none, as Prometheus drops empty labels anyway.
        probes.target(named: names.first, module: modules.first.flatMap { $0.isEmpty ? nil : $0 }) { found in
            switch found {
            case .success(let target): target.scrape(request, admitted)
            case .failure(let error): admitted.respond(.text(error.status, "\(error.status == 400 ? "Bad Request" : "Error"): \(error)"))
            }
        }
    }

    /// `POST /-/reload`, as Prometheus serves it: only with `--web.enable-lifecycle`, which is checked first.
    func reload(_ request: HTTPRequest, _ route: Route, _ responder: HTTPResponder) {
        guard options.enableLifecycle else { return responder.respond(.text(403, "Lifecycle API is not enabled (--web.enable-lifecycle)")) }
        guard route.methods.contains(request.method) else {
            return responder.respond(.text(405, "Method Not Allowed", headers: [("Allow", route.allow)]))
        }
        guard let probes else { return responder.respond(.text(400, "Bad Request: there is no --config.file to reload")) }
        // Counted like a scrape: each waits for a read of a file of up to 10,000 targets.
        guard let admitted = limit.admit(responder) else { return responder.respond(InFlightLimit.refusal) }
        probes.reload { error in
            guard let error else { return admitted.respond(.text(200, "Config reloaded")) }
            admitted.respond(.text(500, "failed to reload config: \(error)"))
        }
    }

    /// The metrics path without a `--vcenter.url` appliance: the exporter's own families only.
    func ownMetrics() -> HTTPResponse {
        var writer = ExpositionWriter()
        for source in ownSources { source.writeMetrics(to: &writer) }
        return HTTPResponse(status: 200, headers: [("Content-Type", ExpositionWriter.contentType)], body: writer.bytes)
    }

    /// What is on: the admin API's counters, the web config's and the config file's reload state,
    /// the build, and (unless `--web.disable-exporter-metrics`) the process.
    static func ownSources(admin: AdminAPI?, webConfig: WebConfigStore?, probes: ProbeTargets?, options: ExporterOptions) -> [any MetricsSource] {
        let parts: [(any MetricsSource)?] = [admin, webConfig, probes]
        var sources = parts.compactMap { $0 }
        sources.append(BuildInfo.Metrics())
        if !options.disableExporterMetrics { sources.append(ProcessMetricsSource()) }
        return sources
    }

    /// Built from the last round's snapshot: the page never reaches into the scraper.
    func landingPage() -> LandingPage {
        let snapshot = appliance?.snapshot
        return LandingPage(options: options, snapshot: snapshot, unsupported: snapshot?.unsupported ?? [], adminEnabled: admin != nil,
                           probeTargets: probes?.summaries ?? [])
    }
}
