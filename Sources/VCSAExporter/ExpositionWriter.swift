/// Writes the Prometheus text exposition format (version 0.0.4), one family at a time, in call order.
public struct ExpositionWriter {
    public enum MetricType: String {
        case gauge, counter
    }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public private(set) var text = ""

    public init() {
        text.reserveCapacity(8192)
    }

    /// Starts a family: its HELP and TYPE lines.
    public mutating func family(_ name: String, _ type: MetricType, help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    /// One sample line; labels keep the order given.
    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (index, label) in labels.enumerated() {
                if index > 0 { text += "," }
                text += "\(label.0)=\"\(Self.escapeLabelValue(label.1))\""
            }
            text += "}"
        }
        text += " \(Self.format(value))\n"
    }

    /// A family with a single unlabelled sample.
    public mutating func single(_ name: String, _ type: MetricType, help: String, _ value: Double) {
        family(name, type, help: help)
        sample(name, [], value)
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    static func escapeLabelValue(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ help: String) -> String {
        help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}

import Foundation
