import ApplianceAPI
import Foundation

/// What the simulated appliance answers on the reconciliation job endpoint.
enum ReconciliationScenario: String, CaseIterable, Sendable {
    case none, idle, running, progressing, stalled, succeeded, failed, expiring
    case badCredentials = "bad-credentials"
    case slow
    case error500 = "error-500"
    case unavailable503 = "unavailable-503"
    case malformedJSON = "malformed-json"
    case routeNotFound = "route-not-found"
    case legacyBusy = "legacy-busy"
    case unknownStatus = "unknown-status"
    case oversized
}

/// What the simulated appliance answers on the restore job endpoint.
enum RestoreScenario: String, CaseIterable, Sendable {
    case none
    case inProgress = "in-progress"
    case succeeded, failed, unsupported
}

/// What the simulated appliance answers on the backup endpoints (job list, details, schedules).
enum BackupScenario: String, CaseIterable, Sendable {
    /// No job was ever run; a schedule is enabled.
    case never
    /// The appliance's first backup, a success.
    case first
    /// A successful backup every night for a week.
    case nightly
    /// Nightly, but last night's backup failed with an error.
    case lastFailed = "last-failed"
    /// Nightly, and one is running now.
    case running
    /// The last success ended three days ago.
    case stale
    /// Nightly jobs, but the only schedule is disabled.
    case disabled
    /// An older appliance: the backup routes are missing.
    case unsupported
    /// 500 nightly successes.
    case many
}

/// How the simulated appliance answers a restore cancel.
enum CancelOutcome: String, CaseIterable, Sendable {
    case ok = "OK"
    case warning = "WARNING"
    case fail = "FAIL"
    case error = "ERROR"
    /// A `ReturnResult` whose status is not in today's spec (PARTIAL).
    case unknownStatus = "UNKNOWN-STATUS"
}

/// Canned bodies, all shaped as `recovery-api.json` says (checked by the tests).
enum Bodies {
    static func message(_ id: String, _ text: String) -> LocalizableMessage {
        LocalizableMessage(id: id, defaultMessage: text, args: [])
    }

    static func job(_ status: ReconciliationJob.Status, progress: Int64, start: Date?, end: Date?, error: JSONValue? = nil) -> ReconciliationJob {
        ReconciliationJob(
            description: message("com.vmware.appliance.recovery.reconciliation.job", "Reconciliation of the restored appliance with its partners"),
            status: status, cancelable: status == .running ? false : nil, error: error, startTime: start, endTime: end,
            messages: [message("com.vmware.appliance.recovery.reconciliation.progress", "Reconciling with partner nodes")],
            progress: progress)
    }

    /// `YYYYMMDD-hhmmss-<build>`, as VMware's own scripts read backup job ids.
    static func backupID(_ start: Date) -> String {
        let text = APITimestamp.format(start)  // 2026-11-24T02:00:00.000Z
        let digits = text.filter(\.isNumber)
        return "\(digits.prefix(8))-\(digits.dropFirst(8).prefix(6))-24322831"
    }

    static func backup(_ status: BackupJobDetails.Status, start: Date, end: Date?, now: Date, size: Int64?, error: JSONValue? = nil) -> BackupJobDetails {
        let running = status == .running
        return BackupJobDetails(
            location: "sftp://backup.example.com/vcsa/\(backupID(start))", locationUser: "backup", type: "SCHEDULED",
            messages: error == nil ? [] : [backupFailureMessage],
            description: message("com.vmware.applmgmt.backup.job", "Backup job"),
            status: status, cancelable: running, duration: Int64((end ?? now).timeIntervalSince(start)), size: size,
            progress: running ? .init(total: 100, completed: 40, message: message("com.vmware.applmgmt.backup.progress", "Backing up the database")) : nil,
            error: error, startTime: start, endTime: end)
    }

    /// A job's `error`: a vAPI error object on the wire.
    static func failure(_ message: LocalizableMessage) -> JSONValue {
        .object([
            "error_type": .string("ERROR"),
            "messages": .array([.object(["id": .string(message.id), "default_message": .string(message.defaultMessage), "args": .array([])])]),
        ])
    }

    static let backupFailureMessage = message("com.vmware.applmgmt.backup.failed", "Backup failed: the remote location is full.")
    static let backupFailure = failure(backupFailureMessage)
    static let jobFailure = failure(message("com.vmware.appliance.recovery.reconciliation.failed", "Reconciliation with partner vCenter failed: partner unreachable."))

    static func error(_ type: ErrorType, _ id: String, _ text: String) -> VAPIError {
        VAPIError(errorType: type, messages: [message(id, text)])
    }
}
