#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// A swift-log handler writing one line per event to stderr, as logfmt or JSON, like exporter-toolkit's promslog.
public struct StderrLogHandler: LogHandler {
    public enum Format: String, CaseIterable, Sendable {
        case logfmt, json
    }

    public let format: Format
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    public init(format: Format, level: Logger.Level) {
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        // One write(2) per line, so that lines from different threads never interleave.
        let bytes = Array((line(time: Date(), level: event.level, message: event.message.description, metadata: merged) + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// The line for one event, without its newline: time, level, message, then the metadata by key.
    func line(time: Date, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var fields: [(String, String)] = [
            ("time", time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))),
            ("level", Self.levelName(level)),
            ("msg", message),
        ]
        fields += metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value.description) }
        switch format {
        case .logfmt:
            return fields.map { "\(Self.logfmtKey($0.0))=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
        case .json:
            return "{" + fields.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}"
        }
    }

    /// A key is written as it is when it is a plain word (as every key of this exporter is); else with
    /// each byte outside `[A-Za-z0-9_.-]` as `_`, so that a key cannot break the line into other fields.
    static func logfmtKey(_ key: String) -> String {
        let plain = { (byte: UInt8) in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || [0x5F, 0x2E, 0x2D].contains(byte)
        }
        guard !key.isEmpty else { return "_" }
        guard !key.utf8.allSatisfy(plain) else { return key }
        return String(decoding: key.utf8.map { plain($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
    }

    /// swift-log's levels folded onto promslog's four.
    public static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: return "debug"
        case .info, .notice: return "info"
        case .warning: return "warn"
        case .error, .critical: return "error"
        }
    }

    /// Quoted when empty or holding a space, control byte, `=` or `"` (as go-logfmt decides), looked for by UTF-8 byte:
    /// as Characters, CR LF is not "\n", and a space or quote next to a prepend scalar or combining mark is another Character.
    static func logfmtValue(_ value: String) -> String {
        guard value.isEmpty || value.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\"") }) else {
            return value
        }
        return JSONText.quoted(value)
    }
}
