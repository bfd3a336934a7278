import ApplianceAPI
import ExporterToolkit
import Logging

/// One part of what the exporter collects from an appliance. A collector's file holds all of it:
/// its appliance calls, its place in a round's `ScrapeSnapshot`, its metric families and its card
/// on the landing page. A new collector is one such file and one line in `Collectors.all` (and its
/// `--collector.NAME` flag in the command).
///
/// One instance per target, so it may remember things across that target's rounds (finished
/// backups, an API the appliance lacks); rounds of one target never overlap.
protocol Collector: Actor {
    static var name: CollectorName { get }
    /// Its card's title on the landing page.
    static var title: String { get }

    init(client: ApplianceClient, logger: Logger)

    /// What to record without asking the appliance this round (an API known to be missing), or nil to ask.
    func settled(at now: ContinuousClock.Instant) -> CollectorUpdate?
    /// One round's calls, by `deadline`; returns how the snapshot records them, given the time they took.
    func collect(deadline: ContinuousClock.Instant) async -> CollectorUpdate

    /// Whether it did its job in this snapshot (nil: it was not asked).
    static func succeeded(in snapshot: ScrapeSnapshot) -> Bool?
    /// Records a failure for a scrape answered at its deadline before this collector finished.
    static func timeOut(_ snapshot: inout ScrapeSnapshot, after budget: Duration)
    /// Its families, from what the snapshot holds.
    static func write(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter)
    /// Its job on the landing page, when it has an answer (the page says why otherwise).
    static func card(_ snapshot: ScrapeSnapshot, on page: LandingPage) -> JobCard
}

/// How a round's snapshot records what a collector learnt, given how long its calls took.
typealias CollectorUpdate = @Sendable (inout ScrapeSnapshot, _ took: Duration) -> Void

/// The collectors, in the order their families and cards appear.
enum Collectors {
    static let all: [any Collector.Type] = [
        ReconciliationCollector.self,
        RestoreCollector.self,
        BackupCollector.self,
    ]

    static var names: [CollectorName] { all.map { $0.name } }
}
