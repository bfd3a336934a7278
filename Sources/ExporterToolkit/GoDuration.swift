/// Durations written the Go way, as Prometheus tools take them: "10s", "500ms", "1m30s", "1.5s".
public enum GoDuration {
    private static let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]

    /// Parses a duration; the error message says what was expected.
    public static func parse(_ text: String) throws(GoDurationError) -> Duration {
        var rest = Substring(text)
        guard !rest.isEmpty, rest.utf8.count <= 64 else { throw GoDurationError(text: text) }
        if rest == "0" { return .zero }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard let value = Double(number) else { throw GoDurationError(text: text) }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.0 == unitText }) else { throw GoDurationError(text: text) }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        // Go's limit: a time.Duration is an Int64 of nanoseconds (about 292 years); Double(Int64.max) is 2^63.
        let nanoseconds = (total * 1e9).rounded(.down)
        guard nanoseconds < Double(Int64.max) else { throw GoDurationError(text: text, reason: "out of range (at most about 292 years)") }
        return .nanoseconds(Int64(nanoseconds))
    }
}

public struct GoDurationError: Error, CustomStringConvertible {
    public var text: String
    public var reason = "expected a number and unit, e.g. 10s, 500ms, 1m30s"
    public var description: String { "invalid duration \"\(text)\": \(reason)" }
}
