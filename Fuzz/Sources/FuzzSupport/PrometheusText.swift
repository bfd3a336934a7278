/// A strict reader of the Prometheus text format 0.0.4, as the exporter must write it: `# HELP` and
/// `# TYPE` lines, then the family's samples `name{label="value",...} value`; label values escape
/// only `\\`, `\"` and `\n`; values are floats, `NaN`, `+Inf` or `-Inf`. No blank lines, comments,
/// timestamps, repeated families or repeated series.
public enum PrometheusText {
    /// nil when `text` is well-formed; else the first bad line and what is wrong with it.
    public static func problem(in text: [UInt8]) -> String? {
        guard !text.isEmpty else { return nil }
        guard String(validating: text, as: UTF8.self) != nil else { return "not UTF-8" }
        guard text.last == 0x0A else { return "no newline at the end" }
        var state = State()
        for (number, line) in text.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if let problem = state.read(Array(line)) {
                return "line \(number + 1) \(String(decoding: line, as: UTF8.self).debugDescription): \(problem)"
            }
        }
        return nil
    }

    private struct State {
        var helped: Set<String> = []
        var typed: [String: String] = [:]
        /// The family whose samples may follow.
        var current: String?
        /// A HELP line waiting for its TYPE line, which comes next.
        var helpedLast: String?
        var series: Set<[UInt8]> = []

        mutating func read(_ line: [UInt8]) -> String? {
            if line.first == UInt8(ascii: "#") { return comment(line) }
            guard helpedLast == nil else { return "a HELP line without its TYPE line" }
            return sample(line)
        }

        mutating func comment(_ line: [UInt8]) -> String? {
            let help = Array("# HELP ".utf8), type = Array("# TYPE ".utf8)
            let isHelp = line.starts(with: help)
            guard isHelp || line.starts(with: type) else { return "a comment other than HELP or TYPE" }
            var reader = Reader(line, at: help.count)
            guard let name = reader.metricName() else { return "bad metric name" }
            guard reader.take(UInt8(ascii: " ")) else { return "no space after the name" }
            let rest = Array(line[reader.index...])
            if isHelp {
                guard typed[name] == nil, helped.insert(name).inserted else { return "HELP after TYPE, or twice" }
                current = nil
                helpedLast = name
                var index = 0
                while index < rest.count {
                    if rest[index] == UInt8(ascii: "\\") {
                        guard index + 1 < rest.count, [UInt8(ascii: "\\"), UInt8(ascii: "n")].contains(rest[index + 1]) else { return "bad escape in HELP" }
                        index += 1
                    }
                    index += 1
                }
                return nil
            }
            let kind = String(decoding: rest, as: UTF8.self)
            guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) else { return "unknown type \(kind)" }
            guard helpedLast == name, typed[name] == nil else { return "TYPE without its HELP just before, or twice" }
            helpedLast = nil
            typed[name] = kind
            current = name
            return nil
        }

        mutating func sample(_ line: [UInt8]) -> String? {
            var reader = Reader(line, at: 0)
            guard let name = reader.metricName() else { return "bad metric name" }
            guard let family = current, belongs(name, to: family) else { return "sample outside its family's TYPE" }
            var labelNames: Set<String> = []
            if reader.take(UInt8(ascii: "{")) {
                repeat {
                    guard let label = reader.labelName() else { return "bad label name" }
                    guard !label.hasPrefix("__"), labelNames.insert(label).inserted else { return "reserved or repeated label \(label)" }
                    guard reader.take(UInt8(ascii: "=")), reader.take(UInt8(ascii: "\"")) else { return "no =\" after label \(label)" }
                    guard reader.labelValue() else { return "bad label value for \(label)" }
                } while reader.take(UInt8(ascii: ","))
                guard reader.take(UInt8(ascii: "}")) else { return "labels not closed" }
            }
            guard series.insert(Array(line[..<reader.index])).inserted else { return "repeated series" }
            guard reader.take(UInt8(ascii: " ")) else { return "no space before the value" }
            let value = String(decoding: line[reader.index...], as: UTF8.self)
            guard Self.isFloat(value) else { return "bad value \(value.debugDescription)" }
            return nil
        }

        func belongs(_ name: String, to family: String) -> Bool {
            if name == family { return true }
            switch typed[family] {
            case "histogram": return ["_bucket", "_sum", "_count"].contains { name == family + $0 }
            case "summary": return ["_sum", "_count"].contains { name == family + $0 }
            default: return false
            }
        }

        /// What Go's ParseFloat takes, in the forms an exposition writes: no hex, no `inf` spelt otherwise.
        static func isFloat(_ text: String) -> Bool {
            if ["NaN", "+Inf", "-Inf"].contains(text) { return true }
            var bytes = Array(text.utf8)[...]
            if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            func digits() -> Int {
                let count = bytes.prefix { (48...57).contains($0) }.count
                bytes = bytes.dropFirst(count)
                return count
            }
            var mantissa = digits()
            if bytes.first == UInt8(ascii: ".") {
                bytes = bytes.dropFirst()
                mantissa += digits()
            }
            guard mantissa > 0 else { return false }
            if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
                bytes = bytes.dropFirst()
                if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
                guard digits() > 0 else { return false }
            }
            return bytes.isEmpty
        }
    }

    private struct Reader {
        let line: [UInt8]
        var index: Int

        init(_ line: [UInt8], at index: Int) {
            self.line = line
            self.index = index
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < line.count, line[index] == byte else { return false }
            index += 1
            return true
        }

        /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
        mutating func metricName() -> String? { name(colons: true) }

        /// `[a-zA-Z_][a-zA-Z0-9_]*`
        mutating func labelName() -> String? { name(colons: false) }

        private mutating func name(colons: Bool) -> String? {
            let start = index
            while index < line.count {
                let byte = line[index]
                let letter = (65...90).contains(byte) || (97...122).contains(byte) || byte == UInt8(ascii: "_") || (colons && byte == UInt8(ascii: ":"))
                guard letter || (index > start && (48...57).contains(byte)) else { break }
                index += 1
            }
            return index > start ? String(decoding: line[start..<index], as: UTF8.self) : nil
        }

        /// Up to and past the closing quote; a backslash escapes only `\`, `"` and `n`.
        mutating func labelValue() -> Bool {
            while index < line.count {
                switch line[index] {
                case UInt8(ascii: "\""):
                    index += 1
                    return true
                case UInt8(ascii: "\\"):
                    guard index + 1 < line.count, [UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "n")].contains(line[index + 1]) else { return false }
                    index += 2
                default:
                    index += 1
                }
            }
            return false
        }
    }
}
