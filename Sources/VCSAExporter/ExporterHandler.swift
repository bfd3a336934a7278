import ApplianceAPI
import Logging
import MicroHTTPD
import Synchronization

/// Turns one HTTP request into one answer: the routes of the exporter.
public final class ExporterHandler: Sendable {
    let options: ExporterOptions
    let scraper: Scraper
    let stats: APICallStats
    let admin: AdminAPI?
    let webConfig: WebConfigStore?
    let logger: Logger
    private let rounds = SingleFlight<ScrapeRound>()
    private let limit: InFlightLimit
    /// The last round's result, for the landing page: it never calls the appliance itself.
    private let lastSnapshot = Mutex<ScrapeSnapshot?>(nil)

    public init(options: ExporterOptions, scraper: Scraper, stats: APICallStats, admin: AdminAPI?, webConfig: WebConfigStore? = nil, logger: Logger) {
        self.options = options
        self.limit = InFlightLimit(limit: options.maxRequests)
        self.scraper = scraper
        self.stats = stats
        self.admin = admin
        self.webConfig = webConfig
        self.logger = logger
    }

    /// Routes a request. Cheap answers are given on the spot; the rest answer through `responder` later.
    public func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let readOnly = request.path == options.telemetryPath || ["/", "/-/healthy", "/-/ready"].contains(request.path)
        if readOnly && request.method != "GET" && request.method != "HEAD" {
            return responder.respond(.text(405, "Method Not Allowed", headers: [("Allow", "GET, HEAD")]))
        }
        switch request.path {
        case options.telemetryPath:
            guard let admitted = limit.admit(responder) else { return responder.respond(InFlightLimit.refusal) }
            metrics(request, admitted)
        case "/":
            let snapshot = lastSnapshot.withLock { $0 }
            Task { [options, scraper, admin] in
                let page = LandingPage(options: options, snapshot: snapshot, restoreUnsupported: await scraper.restoreUnsupported,
                                       backupUnsupported: await scraper.backupUnsupported, adminEnabled: admin != nil)
                responder.respond(page.response())
            }
        case "/-/healthy":
            responder.respond(.text(200, "Healthy"))
        case "/-/ready":
            // Ready once the configuration is loaded, which is before the server starts; not tied to vCenter.
            responder.respond(.text(200, "Ready"))
        case AdminAPI.cancelPath:
            guard let admin else { return responder.respond(.text(404, "Not Found (the admin API is off; see --web.enable-admin-api)")) }
            guard let admitted = limit.admit(responder) else { return responder.respond(InFlightLimit.refusal) }
            Task { admitted.respond(await admin.handle(request)) }
        default:
            responder.respond(.text(404, "Not Found"))
        }
    }

    /// Joins the round in flight, or starts one: the appliance calls, then every family rendered once.
    /// A round may take the configured timeout; each scrape is answered by its own deadline, which
    /// Prometheus' scrape timeout header can make shorter.
    func metrics(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let budget = options.deadline.budget(scrapeTimeoutHeader: request.header("X-Prometheus-Scrape-Timeout-Seconds"))
        rounds.join(until: .now + budget, roundDuration: options.deadline.timeout, { [self] round in
            guard let round else {
                logger.warning("Scrape deadline passed before the appliance answered", metadata: ["budget_seconds": "\(budget.seconds)"])
                return responder.respond(timedOut(after: budget).response(for: request))
            }
            logger.debug("Scrape answered", metadata: [
                "up": "\(round.snapshot.up)", "upstream_seconds": "\(round.snapshot.duration.seconds)", "budget_seconds": "\(budget.seconds)",
            ])
            responder.respond(round.response(for: request))
        }, startingWith: { [self] deadline in
            let snapshot = await scraper.collect(deadline: deadline)
            lastSnapshot.withLock { $0 = snapshot }
            return ScrapeRound(snapshot: snapshot, body: render(snapshot))
        })
    }

    /// The answer for a scrape whose deadline came before the appliance's answer: every enabled collector failed.
    func timedOut(after budget: Duration) -> ScrapeRound {
        var snapshot = ScrapeSnapshot()
        snapshot.duration = budget
        if options.collectors.contains(.reconciliation) {
            snapshot.reconciliation = .failure(.deadlineExceeded)
            snapshot.reconciliationDuration = budget
        }
        if options.collectors.contains(.restore) {
            snapshot.restore = .failure(.deadlineExceeded)
            snapshot.restoreDuration = budget
        }
        if options.collectors.contains(.backup) {
            snapshot.backup = .failure(.deadlineExceeded)
            snapshot.backupDuration = budget
        }
        return ScrapeRound(snapshot: snapshot, body: render(snapshot))
    }

    /// Every family, in a stable order: scrape health, jobs, counters, build and process.
    func render(_ snapshot: ScrapeSnapshot) -> [UInt8] {
        var writer = ExpositionWriter()
        JobMetrics.writeScrapeHealth(snapshot, to: &writer)
        JobMetrics.writeReconciliation(snapshot, to: &writer)
        JobMetrics.writeRestore(snapshot, to: &writer)
        JobMetrics.writeBackup(snapshot, to: &writer)
        stats.write(to: &writer)
        admin?.writeMetrics(to: &writer)
        webConfig?.writeMetrics(to: &writer)
        BuildInfo.write(to: &writer)
        if !options.disableExporterMetrics {
            ProcessMetrics.write(to: &writer)
        }
        return writer.bytes
    }
}
