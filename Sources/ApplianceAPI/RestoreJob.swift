/// `RestoreJobStatus`: the file-based restore that precedes a reconciliation.
public struct RestoreJob: Codable, Sendable, Equatable {
    /// `BackupRestoreProcessState` (INPROGRESS, not RUNNING); unknown values decode as `.unknown`.
    public enum State: String, Codable, Sendable, OpenEnum {
        case none = "NONE"
        case inProgress = "INPROGRESS"
        case succeeded = "SUCCEEDED"
        case failed = "FAILED"
        case unknown = "UNKNOWN"
    }

    public var state: State
    public var messages: [LocalizableMessage]
    /// Percent complete.
    public var progress: Int64

    public init(state: State, messages: [LocalizableMessage] = [], progress: Int64) {
        self.state = state
        self.messages = messages
        self.progress = progress
    }
}

/// `ReturnResult`: what the appliance answers to a restore cancel.
public struct CancelResult: Codable, Sendable, Equatable {
    /// `ReturnStatus`; a value this client does not know decodes as `.unknown`: the appliance has
    /// already acted, so its answer must not be reported as a failure an operator might retry.
    public enum Status: String, Codable, Sendable, OpenEnum {
        case ok = "OK"
        case warning = "WARNING"
        case fail = "FAIL"
        case unknown = "UNKNOWN"
    }

    public var status: Status
    public var messages: [LocalizableMessage]

    public init(status: Status, messages: [LocalizableMessage] = []) {
        self.status = status
        self.messages = messages
    }
}
