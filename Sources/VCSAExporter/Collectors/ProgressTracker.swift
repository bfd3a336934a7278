import ApplianceAPI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Remembers when this exporter last saw the reconciliation progress change,
/// so that an alert can tell a slow job from a stalled one.
public final class ProgressTracker: Sendable {
    private struct Seen {
        var jobStart: Date?
        var progress: Int64
        var changedAt: Date
    }

    private let seen = Mutex<Seen?>(nil)

    public init() {}

    /// Records an observation and returns when progress last changed. A new job (another start time)
    /// counts as a change; so does the first observation after start-up.
    public func observe(_ job: ReconciliationJob, at now: Date) -> Date {
        seen.withLock { seen in
            if let previous = seen, previous.jobStart == job.startTime, previous.progress == job.progress {
                return previous.changedAt
            }
            seen = Seen(jobStart: job.startTime, progress: job.progress, changedAt: now)
            return now
        }
    }
}
