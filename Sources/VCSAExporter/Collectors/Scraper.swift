import ApplianceAPI
import Logging
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Runs the enabled collectors against the appliance, concurrently, and remembers what it
/// learnt across rounds (progress changes, finished backups, APIs the appliance lacks).
public actor Scraper {
    private let client: ApplianceClient
    private let collectors: Set<CollectorName>
    private let tracker = ProgressTracker()
    private let backups: BackupCollector
    private let logger: Logger
    private var restoreAPI = OptionalAPI(name: "restore job")
    private var backupAPI = OptionalAPI(name: "backup job")

    public init(client: ApplianceClient, collectors: Set<CollectorName>, logger: Logger) {
        self.client = client
        self.collectors = collectors
        self.backups = BackupCollector(client: client)
        self.logger = logger
    }

    /// What one collector brought back, as it finishes.
    private enum Finished: Sendable {
        case reconciliation((CollectorOutcome<ReconciliationJob?>, Duration))
        case restore((CollectorOutcome<RestoreJob>, Duration))
        case backup((CollectorOutcome<BackupSnapshot>, Duration))
    }

    /// One round of appliance calls; callers serialise rounds (see `SingleFlight`). `progress` is
    /// handed the snapshot so far each time a collector finishes, so that a scrape answered at its
    /// own deadline keeps what did answer.
    public func collect(deadline: ContinuousClock.Instant, progress: @Sendable (ScrapeSnapshot) -> Void = { _ in }) async -> ScrapeSnapshot {
        let clock = ContinuousClock()
        let started = clock.now
        let client = self.client
        let backups = self.backups
        var snapshot = ScrapeSnapshot()
        // An API known to be missing is not asked: it is already settled.
        if collectors.contains(.restore) && restoreAPI.skipped(at: started) { snapshot.restore = .unsupported }
        if collectors.contains(.backup) && backupAPI.skipped(at: started) { snapshot.backup = .unsupported }
        progress(snapshot)
        await withTaskGroup(of: Finished.self) { group in
            if collectors.contains(.reconciliation) {
                group.addTask { .reconciliation(await Self.timed { () async throws(ApplianceError) in try await client.reconciliationJob(deadline: deadline) }) }
            }
            if collectors.contains(.restore) && snapshot.restore == nil {
                group.addTask { .restore(await Self.timed { () async throws(ApplianceError) in try await client.restoreJob(deadline: deadline) }) }
            }
            if collectors.contains(.backup) && snapshot.backup == nil {
                group.addTask { .backup(await Self.timed { () async throws(ApplianceError) in try await backups.collect(deadline: deadline) }) }
            }
            for await finished in group {
                switch finished {
                case .reconciliation(let (outcome, duration)):
                    snapshot.reconciliation = outcome
                    snapshot.reconciliationDuration = duration
                    switch outcome {
                    case .failure(let error):
                        logger.warning("Reconciliation job scrape failed", metadata: ["error_type": "\(error.errorType)", "error": "\(error)"])
                    case .success(let job?):
                        snapshot.lastProgressChange = tracker.observe(job, at: Date())
                    default:
                        break
                    }
                case .restore(let (outcome, duration)):
                    snapshot.restore = restoreAPI.record(outcome, at: clock.now, logger: logger)
                    snapshot.restoreDuration = duration
                case .backup(let (outcome, duration)):
                    snapshot.backup = backupAPI.record(outcome, at: clock.now, logger: logger)
                    snapshot.backupDuration = duration
                }
                snapshot.finishedAt = Date()
                snapshot.duration = clock.now - started
                progress(snapshot)
            }
        }
        snapshot.finishedAt = Date()
        snapshot.duration = clock.now - started
        snapshot.restoreUnsupported = restoreAPI.unsupported
        snapshot.backupUnsupported = backupAPI.unsupported
        return snapshot
    }

    private static func timed<T: Sendable>(_ body: () async throws(ApplianceError) -> T) async -> (CollectorOutcome<T>, Duration) {
        let clock = ContinuousClock()
        let started = clock.now
        do throws(ApplianceError) {
            let value = try await body()
            return (.success(value), clock.now - started)
        } catch {
            return (.failure(error), clock.now - started)
        }
    }
}
