/// Writes the Prometheus text exposition format (version 0.0.4), one family at a time, in call order.
public struct ExpositionWriter {
    public enum MetricType: String {
        case gauge, counter
    }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// UTF-8 straight into one buffer: rendering is on every scrape round's path.
    public private(set) var bytes: [UInt8] = []

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public init() {
        bytes.reserveCapacity(8192)
    }

    /// Starts a family: its HELP and TYPE lines.
    public mutating func family(_ name: String, _ type: MetricType, help: String) {
        append("# HELP ")
        append(name)
        append(" ")
        append(Self.escapeHelp(help))
        append("\n# TYPE ")
        append(name)
        append(" ")
        append(type.rawValue)
        append("\n")
    }

    /// One sample line; labels keep the order given.
    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        append(name)
        if !labels.isEmpty {
            bytes.append(UInt8(ascii: "{"))
            for (index, label) in labels.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                append(label.0)
                append("=\"")
                append(Self.escapeLabelValue(label.1))
                append("\"")
            }
            bytes.append(UInt8(ascii: "}"))
        }
        append(" ")
        append(Self.format(value))
        append("\n")
    }

    /// A family with a single sample.
    public mutating func single(_ name: String, _ type: MetricType, help: String, labels: [(String, String)] = [], _ value: Double) {
        family(name, type, help: help)
        sample(name, labels, value)
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    static func escapeLabelValue(_ value: String) -> String {
        escape(value, quotes: true)
    }

    static func escapeHelp(_ help: String) -> String {
        escape(help, quotes: false)
    }

    /// Backslash and newline (and, in label values, the double quote) get a backslash.
    /// Most text has none of them, so that case returns the string untouched.
    private static func escape(_ text: String, quotes: Bool) -> String {
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A || (quotes && $0 == 0x22) }) else { return text }
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": escaped.append(contentsOf: "\\n".unicodeScalars)
            case "\"" where quotes: escaped.append(contentsOf: "\\\"".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}
