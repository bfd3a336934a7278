#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `Recovery.Backup.Job.Details.Info`: one backup job as `GET .../backup/job/details` reports it.
/// Finished jobs never change, so a caller may keep them.
public struct BackupJobDetails: Codable, Sendable, Equatable {
    /// `cis.task.Status` (not the INPROGRESS/NONE of BackupJobStatus); unknown values decode as `.unknown`.
    public enum Status: String, Codable, Sendable, OpenEnum {
        case pending = "PENDING"
        case running = "RUNNING"
        case blocked = "BLOCKED"
        case succeeded = "SUCCEEDED"
        case failed = "FAILED"
        case unknown = "UNKNOWN"

        public var isFinished: Bool { self == .succeeded || self == .failed }
    }

    /// `cis.task.Progress`.
    public struct Progress: Codable, Sendable, Equatable {
        public var total: Int64
        public var completed: Int64
        public var message: LocalizableMessage

        public init(total: Int64, completed: Int64, message: LocalizableMessage) {
            self.total = total
            self.completed = completed
            self.message = message
        }
    }

    /// The backup's URI; may name a user and a path: never publish more than its scheme.
    public var location: String
    public var locationUser: String
    /// SCHEDULED or MANUAL (a 9.0 appliance may say LOCAL_BACKUP): kept as sent.
    public var type: String
    public var messages: [LocalizableMessage]
    public var description: LocalizableMessage
    public var service: String
    public var operation: String
    public var status: Status
    public var cancelable: Bool
    /// Seconds since the start, or the whole run once finished.
    public var duration: Int64?
    /// "Size of the backup data transferred to remote location"; the spec gives no unit (see the README).
    public var size: Int64?
    public var progress: Progress?
    /// A string in the swagger, an error object on the wire elsewhere in vAPI: kept as any JSON.
    public var error: JSONValue?
    public var startTime: Date?
    public var endTime: Date?

    public init(location: String, locationUser: String = "", type: String, messages: [LocalizableMessage] = [],
                description: LocalizableMessage, service: String = "com.vmware.appliance.recovery.backup.job",
                operation: String = "create", status: Status, cancelable: Bool = false, duration: Int64? = nil, size: Int64? = nil,
                progress: Progress? = nil, error: JSONValue? = nil, startTime: Date? = nil, endTime: Date? = nil) {
        self.location = location
        self.locationUser = locationUser
        self.type = type
        self.messages = messages
        self.description = description
        self.service = service
        self.operation = operation
        self.status = status
        self.cancelable = cancelable
        self.duration = duration
        self.size = size
        self.progress = progress
        self.error = error
        self.startTime = startTime
        self.endTime = endTime
    }

    /// The location's scheme only ("sftp", "nfs", ...): a path or user in a label would leak.
    /// Read by UTF-8 byte as RFC 3986 has it (ASCII letter, then letters, digits, `+-.`): as Characters,
    /// a prepend scalar that is a letter (U+0D4E) joins the `@` or `/` after it and passes `isLetter`.
    public var locationScheme: String {
        let bytes = Array(location.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return "" }
        let scheme = bytes[..<colon].map { (65...90).contains($0) ? $0 + 32 : $0 }  // ASCII lowercase
        func letter(_ byte: UInt8) -> Bool { (97...122).contains(byte) }
        let valid = letter(scheme[0]) && scheme.allSatisfy { letter($0) || (48...57).contains($0) || [UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ".")].contains($0) }
        return valid ? String(decoding: scheme, as: UTF8.self) : ""
    }

    enum CodingKeys: String, CodingKey {
        case location, type, messages, description, service, operation, status, cancelable, duration, size, progress, error
        case locationUser = "location_user"
        case startTime = "start_time"
        case endTime = "end_time"
    }
}

/// `Recovery.Backup.Schedules.Info`: one backup schedule.
public struct BackupSchedule: Codable, Sendable, Equatable {
    public struct Retention: Codable, Sendable, Equatable {
        public var maxCount: Int64
        public init(maxCount: Int64) { self.maxCount = maxCount }
        enum CodingKeys: String, CodingKey { case maxCount = "max_count" }
    }

    public struct Recurrence: Codable, Sendable, Equatable {
        public var minute: Int64
        public var hour: Int64
        /// MONDAY ... SUNDAY; unset means every day.
        public var days: [String]?
        public init(minute: Int64, hour: Int64, days: [String]? = nil) {
            self.minute = minute
            self.hour = hour
            self.days = days
        }
    }

    public var parts: [String]
    public var location: String
    public var enable: Bool
    public var recurrenceInfo: Recurrence?
    public var retentionInfo: Retention?

    public init(parts: [String] = [], location: String, enable: Bool, recurrenceInfo: Recurrence? = nil, retentionInfo: Retention? = nil) {
        self.parts = parts
        self.location = location
        self.enable = enable
        self.recurrenceInfo = recurrenceInfo
        self.retentionInfo = retentionInfo
    }

    enum CodingKeys: String, CodingKey {
        case parts, location, enable
        case recurrenceInfo = "recurrence_info"
        case retentionInfo = "retention_info"
    }
}
