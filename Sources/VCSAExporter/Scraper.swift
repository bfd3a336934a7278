import ApplianceAPI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// Runs the enabled collectors against the appliance, concurrently, and remembers what it
/// learnt across rounds (progress changes, a missing restore API).
public actor Scraper {
    private let client: ApplianceClient
    private let collectors: Set<CollectorName>
    private let tracker = ProgressTracker()
    private let logger: Logger
    /// Set once the appliance said it has no restore API; shown on the landing page.
    public private(set) var restoreUnsupported = false
    /// While the restore API is known to be missing, it is asked again only after this time.
    private var restoreRecheckAt: ContinuousClock.Instant?
    static let restoreRecheckInterval: Duration = .seconds(600)

    public init(client: ApplianceClient, collectors: Set<CollectorName>, logger: Logger) {
        self.client = client
        self.collectors = collectors
        self.logger = logger
    }

    /// One round of appliance calls; callers serialise rounds (see `SingleFlight`).
    public func collect(deadline: ContinuousClock.Instant) async -> ScrapeSnapshot {
        let clock = ContinuousClock()
        let started = clock.now
        let client = self.client
        async let reconciliation: (CollectorOutcome<ReconciliationJob?>, Duration)? = collectors.contains(.reconciliation)
            ? Self.timed { () async throws(ApplianceError) in try await client.reconciliationJob(deadline: deadline) } : nil
        let skipRestore = restoreRecheckAt.map { clock.now < $0 } ?? false
        async let restore: (CollectorOutcome<RestoreJob>, Duration)? = collectors.contains(.restore) && !skipRestore
            ? Self.timed { () async throws(ApplianceError) in try await client.restoreJob(deadline: deadline) } : nil

        var snapshot = ScrapeSnapshot()
        if let (outcome, duration) = await reconciliation {
            snapshot.reconciliation = outcome
            snapshot.reconciliationDuration = duration
            if case .failure(let error) = outcome {
                logger.warning("Reconciliation job scrape failed", metadata: ["error_type": "\(error.errorType)", "error": "\(error)"])
            }
        }
        if collectors.contains(.restore) && skipRestore {
            snapshot.restore = .unsupported
        }
        if let (outcome, duration) = await restore {
            snapshot.restore = outcome
            snapshot.restoreDuration = duration
            if case .success = outcome {
                // The API is there (again, after an appliance upgrade): stop skipping it.
                restoreRecheckAt = nil
                restoreUnsupported = false
            }
            if case .failure(let error) = outcome {
                if error.isOperationMissing {
                    snapshot.restore = .unsupported
                    noteRestoreUnsupported(error)
                    restoreRecheckAt = clock.now + Self.restoreRecheckInterval
                } else {
                    logger.warning("Restore job scrape failed", metadata: ["error_type": "\(error.errorType)", "error": "\(error)"])
                }
            }
        }
        snapshot.finishedAt = Date()
        snapshot.duration = clock.now - started
        if case .success(let job?) = snapshot.reconciliation {
            snapshot.lastProgressChange = tracker.observe(job, at: snapshot.finishedAt)
        }
        return snapshot
    }

    private func noteRestoreUnsupported(_ error: ApplianceError) {
        guard !restoreUnsupported else { return }
        restoreUnsupported = true
        logger.notice("The appliance does not offer the restore job API; restore metrics are left out", metadata: ["error": "\(error)"])
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
