import ApplianceAPI
import Logging
import MicroHTTPD

/// Turns one HTTP request into one answer: the routes of the exporter.
public final class ExporterHandler: Sendable {
    let options: ExporterOptions
    let scraper: Scraper
    let stats: APICallStats
    let admin: AdminAPI?
    let logger: Logger

    public init(options: ExporterOptions, scraper: Scraper, stats: APICallStats, admin: AdminAPI?, logger: Logger) {
        self.options = options
        self.scraper = scraper
        self.stats = stats
        self.admin = admin
        self.logger = logger
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case options.telemetryPath:
            guard Self.isRead(request) else { return Self.methodNotAllowed("GET, HEAD") }
            return await metrics(request).encoded(for: request)
        case "/":
            guard Self.isRead(request) else { return Self.methodNotAllowed("GET, HEAD") }
            return await LandingPage.response(options: options, restoreUnsupported: scraper.restoreUnsupported, adminEnabled: admin != nil)
        case "/-/healthy":
            guard Self.isRead(request) else { return Self.methodNotAllowed("GET, HEAD") }
            return .text(200, "Healthy")
        case "/-/ready":
            // Ready once the configuration is loaded, which is before the server starts; not tied to vCenter.
            guard Self.isRead(request) else { return Self.methodNotAllowed("GET, HEAD") }
            return .text(200, "Ready")
        case AdminAPI.cancelPath:
            guard let admin else { return .text(404, "Not Found (the admin API is off; see --web.enable-admin-api)") }
            return await admin.handle(request)
        default:
            return .text(404, "Not Found")
        }
    }

    /// Calls the appliance (or joins the call already running) and writes every family.
    func metrics(_ request: HTTPRequest) async -> HTTPResponse {
        let budget = options.deadline.budget(scrapeTimeoutHeader: request.header("X-Prometheus-Scrape-Timeout-Seconds"))
        let snapshot = await scraper.scrape(deadline: .now + budget)
        logger.debug("Scrape answered", metadata: [
            "up": "\(snapshot.up)", "upstream_seconds": "\(snapshot.duration.seconds)", "budget_seconds": "\(budget.seconds)",
        ])
        var writer = ExpositionWriter()
        JobMetrics.writeScrapeHealth(snapshot, to: &writer)
        JobMetrics.writeReconciliation(snapshot, to: &writer)
        JobMetrics.writeRestore(snapshot, to: &writer)
        stats.write(to: &writer)
        admin?.writeMetrics(to: &writer)
        BuildInfo.write(to: &writer)
        if !options.disableExporterMetrics {
            ProcessMetrics.write(to: &writer)
        }
        return HTTPResponse(status: 200, contentType: ExpositionWriter.contentType, body: writer.text)
    }

    static func isRead(_ request: HTTPRequest) -> Bool {
        request.method == "GET" || request.method == "HEAD"
    }

    static func methodNotAllowed(_ allow: String) -> HTTPResponse {
        .text(405, "Method Not Allowed", headers: [("Allow", allow)])
    }
}
