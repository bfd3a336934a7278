#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `Recovery_Reconciliation_Job_Info`: the reconciliation job as the appliance reports it.
/// Optional fields are omitted on the wire when unset, never null.
public struct ReconciliationJob: Codable, Sendable, Equatable {
    /// `Job.Status`; values this client does not know decode as `.unknown` rather than failing.
    public enum Status: String, Codable, Sendable, OpenEnum {
        case none = "NONE"
        case running = "RUNNING"
        case succeeded = "SUCCEEDED"
        case failed = "FAILED"
        case unknown = "UNKNOWN"
    }

    public var description: LocalizableMessage
    public var service: String
    public var operation: String
    public var parent: String?
    public var target: DynamicID?
    public var status: Status
    public var cancelable: Bool?
    /// A structured error object on the wire, although the swagger says string.
    public var error: JSONValue?
    public var startTime: Date?
    public var endTime: Date?
    public var messages: [LocalizableMessage]
    /// Percent complete.
    public var progress: Int64

    public init(description: LocalizableMessage, service: String = "com.vmware.appliance.recovery.reconciliation.job",
                operation: String = "reconcile", parent: String? = nil, target: DynamicID? = nil, status: Status,
                cancelable: Bool? = nil, error: JSONValue? = nil, startTime: Date? = nil, endTime: Date? = nil,
                messages: [LocalizableMessage] = [], progress: Int64) {
        self.description = description
        self.service = service
        self.operation = operation
        self.parent = parent
        self.target = target
        self.status = status
        self.cancelable = cancelable
        self.error = error
        self.startTime = startTime
        self.endTime = endTime
        self.messages = messages
        self.progress = progress
    }

    enum CodingKeys: String, CodingKey {
        case description, service, operation, parent, target, status, cancelable, error, messages, progress
        case startTime = "start_time"
        case endTime = "end_time"
    }
}
