import ApplianceAPI
import Logging
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Runs the enabled collectors against the appliance, concurrently, one round at a time; each
/// collector remembers what it learnt across rounds.
public actor Scraper {
    private let collectors: [any Collector]

    public init(client: ApplianceClient, collectors enabled: Set<CollectorName>, logger: Logger) {
        collectors = Collectors.all.filter { enabled.contains($0.name) }.map { $0.init(client: client, logger: logger) }
    }

    /// One round of appliance calls; callers serialise rounds (see `SingleFlight`). `progress` is
    /// handed the snapshot so far each time a collector finishes, so that a scrape answered at its
    /// own deadline keeps what did answer.
    public func collect(deadline: ContinuousClock.Instant, progress: @Sendable (ScrapeSnapshot) -> Void = { _ in }) async -> ScrapeSnapshot {
        let clock = ContinuousClock()
        let started = clock.now
        var snapshot = ScrapeSnapshot()
        // What is already settled (an API known to be missing) is not asked.
        var asked: [any Collector] = []
        for collector in collectors {
            if let settled = await collector.settled(at: started) { settled(&snapshot, .zero) } else { asked.append(collector) }
        }
        progress(snapshot)
        await withTaskGroup(of: (CollectorUpdate, Duration).self) { group in
            for collector in asked {
                group.addTask {
                    let began = clock.now
                    let update = await collector.collect(deadline: deadline)
                    return (update, clock.now - began)
                }
            }
            for await (update, took) in group {
                update(&snapshot, took)
                snapshot.finishedAt = Date()
                snapshot.duration = clock.now - started
                progress(snapshot)
            }
        }
        snapshot.finishedAt = Date()
        snapshot.duration = clock.now - started
        return snapshot
    }
}
