import ApplianceAPI
import ExporterToolkit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import MicroHTTPD
import Synchronization

/// One appliance the exporter collects: its client and session, its single-flight rounds, its
/// call counters and its last result. `/metrics` has one (the `--vcenter.*` flags), `/probe` one
/// per target in use; each is independent, so a slow or broken appliance delays nobody else.
final class ApplianceTarget: Sendable {
    let name: String
    let client: ApplianceClient
    let scraper: Scraper
    let stats: APICallStats
    let collectors: Set<CollectorName>
    let scrapeTimeout: ScrapeTimeout
    let logger: Logger
    /// Families rendered after the target's own in each round (the exporter's own metrics on `/metrics`).
    private let extraSources: [any MetricsSource]
    private let rounds = SingleFlight<ScrapeRound>()
    /// The last round's result, for the landing page: it never calls the appliance itself.
    private let lastSnapshot = Mutex<ScrapeSnapshot?>(nil)
    /// What the round in flight has so far (nil between rounds): the answer for a scrape whose deadline comes first.
    private let partial = Mutex<ScrapeSnapshot?>(nil)
    /// Set when the probe registry hands the target out (unset: never handed out, e.g. `/metrics`' own).
    private let lastUsed = Mutex<ContinuousClock.Instant?>(nil)

    init(name: String, client: ApplianceClient, stats: APICallStats, collectors: Set<CollectorName>, scrapeTimeout: ScrapeTimeout,
         logger: Logger, extraSources: [any MetricsSource] = []) {
        self.name = name
        self.client = client
        self.stats = stats
        self.collectors = collectors
        self.scrapeTimeout = scrapeTimeout
        self.logger = logger
        self.extraSources = extraSources
        self.scraper = Scraper(client: client, collectors: collectors, logger: logger)
    }

    var snapshot: ScrapeSnapshot? { lastSnapshot.withLock { $0 } }

    /// When a probe last asked for this target.
    var lastScrape: ContinuousClock.Instant? { lastUsed.withLock { $0 } }

    func markUsed(at instant: ContinuousClock.Instant) {
        lastUsed.withLock { $0 = instant }
    }

    /// Joins the round in flight, or starts one: the appliance calls, then every family rendered once.
    /// A round may take the configured timeout; each scrape is answered by its own deadline, which
    /// Prometheus' scrape timeout header can make shorter.
    func scrape(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let budget = scrapeTimeout.budget(scrapeTimeoutHeader: request.header("X-Prometheus-Scrape-Timeout-Seconds"))
        rounds.join(until: .now + budget, roundDuration: scrapeTimeout.timeout, { [self] round in
            guard let round else {
                logger.warning("Scrape deadline passed before the appliance answered", metadata: ["budget_seconds": "\(budget.seconds)"])
                return responder.respond(timedOut(after: budget).response(for: request))
            }
            logger.debug("Scrape answered", metadata: [
                "up": "\(round.snapshot.up)", "upstream_seconds": "\(round.snapshot.duration.seconds)", "budget_seconds": "\(budget.seconds)",
            ])
            responder.respond(round.response(for: request))
        }, startingWith: { [self] deadline in
            let snapshot = await scraper.collect(deadline: deadline) { progress in self.partial.withLock { $0 = progress } }
            partial.withLock { $0 = nil }
            lastSnapshot.withLock { $0 = snapshot }
            return ScrapeRound(snapshot: snapshot, body: render(snapshot))
        })
    }

    /// The answer for a scrape whose deadline came before the round's end: what the round has so
    /// far, and every enabled collector that has not answered yet failed.
    func timedOut(after budget: Duration) -> ScrapeRound {
        var snapshot = partial.withLock { $0 } ?? ScrapeSnapshot()
        snapshot.duration = budget
        snapshot.finishedAt = Date()
        for collector in Collectors.all where collectors.contains(collector.name) {
            collector.timeOut(&snapshot, after: budget)
        }
        return ScrapeRound(snapshot: snapshot, body: render(snapshot))
    }

    /// The target's families in a stable order (scrape health, jobs, call counters), then the extra ones.
    func render(_ snapshot: ScrapeSnapshot) -> [UInt8] {
        var writer = ExpositionWriter()
        JobMetrics.write(snapshot, to: &writer)
        stats.write(to: &writer)
        for source in extraSources { source.writeMetrics(to: &writer) }
        return writer.bytes
    }

    /// Logs out (waiting at most until `deadline`) and closes the client's connections.
    func close(deadline: ContinuousClock.Instant) async {
        await client.logout(deadline: deadline)
        await client.shutdown()
    }
}
