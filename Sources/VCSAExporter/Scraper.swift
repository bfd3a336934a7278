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

    /// Shown on the landing page.
    public var restoreUnsupported: Bool { restoreAPI.unsupported }
    public var backupUnsupported: Bool { backupAPI.unsupported }

    /// One round of appliance calls; callers serialise rounds (see `SingleFlight`).
    public func collect(deadline: ContinuousClock.Instant) async -> ScrapeSnapshot {
        let clock = ContinuousClock()
        let started = clock.now
        let client = self.client
        let backups = self.backups
        let askReconciliation = collectors.contains(.reconciliation)
        let askRestore = collectors.contains(.restore) && !restoreAPI.skipped
        let askBackup = collectors.contains(.backup) && !backupAPI.skipped
        async let reconciliation = askReconciliation
            ? Self.timed { () async throws(ApplianceError) in try await client.reconciliationJob(deadline: deadline) } : nil
        async let restore = askRestore
            ? Self.timed { () async throws(ApplianceError) in try await client.restoreJob(deadline: deadline) } : nil
        async let backup = askBackup
            ? Self.timed { () async throws(ApplianceError) in try await backups.collect(deadline: deadline) } : nil

        var snapshot = ScrapeSnapshot()
        if let (outcome, duration) = await reconciliation {
            snapshot.reconciliation = outcome
            snapshot.reconciliationDuration = duration
            if case .failure(let error) = outcome {
                logger.warning("Reconciliation job scrape failed", metadata: ["error_type": "\(error.errorType)", "error": "\(error)"])
            }
        }
        if collectors.contains(.restore) {
            let (outcome, duration) = await restore ?? (.unsupported, .zero)
            snapshot.restore = restoreAPI.record(outcome, logger: logger)
            snapshot.restoreDuration = duration
        }
        if collectors.contains(.backup) {
            let (outcome, duration) = await backup ?? (.unsupported, .zero)
            snapshot.backup = backupAPI.record(outcome, logger: logger)
            snapshot.backupDuration = duration
        }
        snapshot.finishedAt = Date()
        snapshot.duration = clock.now - started
        if case .success(let job?) = snapshot.reconciliation {
            snapshot.lastProgressChange = tracker.observe(job, at: snapshot.finishedAt)
        }
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
