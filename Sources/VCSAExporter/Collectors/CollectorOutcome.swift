import ApplianceAPI

/// What one collector got from the appliance during a scrape.
public enum CollectorOutcome<Value: Sendable>: Sendable {
    case success(Value)
    case failure(ApplianceError)
    /// The appliance does not offer this API; not an error.
    case unsupported

    /// Whether the collector did its job (an unsupported API is not a failure).
    var succeeded: Bool {
        if case .failure = self { return false }
        return true
    }
}

/// The collectors a user can turn on or off.
public enum CollectorName: String, Sendable, CaseIterable {
    case reconciliation
    case restore
    case backup
}

/// One round of upstream calls, shared by every scrape that arrived while it ran.
public struct ScrapeSnapshot: Sendable {
    public var reconciliation: CollectorOutcome<ReconciliationJob?>?
    public var reconciliationDuration: Duration = .zero
    public var restore: CollectorOutcome<RestoreJob>?
    public var restoreDuration: Duration = .zero
    public var backup: CollectorOutcome<BackupSnapshot>?
    public var backupDuration: Duration = .zero
    /// When the exporter last saw reconciliation progress change (set with a present job).
    public var lastProgressChange: Date?
    public var duration: Duration = .zero
    public var finishedAt: Date = Date()
    /// The optional APIs known missing at the round's end (the landing page says so).
    public var restoreUnsupported = false
    public var backupUnsupported = false

    public init() {}

    /// True when every enabled collector succeeded.
    public var up: Bool {
        (reconciliation?.succeeded ?? true) && (restore?.succeeded ?? true) && (backup?.succeeded ?? true)
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
