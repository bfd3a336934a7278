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

    static let jobFailure: JSONValue = .object([
        "error_type": .string("ERROR"),
        "messages": .array([.object([
            "id": .string("com.vmware.appliance.recovery.reconciliation.failed"),
            "default_message": .string("Reconciliation with partner vCenter failed: partner unreachable."),
            "args": .array([]),
        ])]),
    ])

    static func error(_ type: ErrorType, _ id: String, _ text: String) -> VAPIError {
        VAPIError(errorType: type, messages: [message(id, text)])
    }
}
