import ApplianceAPI
import Foundation
import FuzzSupport

/// `APITimestamp.parse`, the appliance's RFC 3339 timestamps (`start_time`, `end_time`).
/// Foundation's parser is not instrumented (a prebuilt library), so coverage cannot guide the fuzzer
/// inside it: the invariants are strong instead.
/// - A parsed date formats to a timestamp that parses back within a millisecond.
/// - The appliance's own form (`2015-01-01T22:13:05.651Z`) formats back to exactly itself.
/// - A `y-m-dTh:m:sZ` text parses to those fields, or not at all (never to another date).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPITimestamp(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    guard let date = APITimestamp.parse(text) else { return 0 }
    let formatted = APITimestamp.format(date)
    guard let again = APITimestamp.parse(formatted) else {
        invariant(false, "\(text.debugDescription) parsed to \(date.timeIntervalSince1970), formatted as \(formatted.debugDescription), which does not parse")
        return 0
    }
    invariant(abs(again.timeIntervalSince(date)) < 0.001,
              "\(text.debugDescription): \(date.timeIntervalSince1970) -> \(formatted) -> \(again.timeIntervalSince1970)")
    if text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z/) != nil {
        invariant(formatted == text, "\(text.debugDescription) formats back as \(formatted.debugDescription)")
    }
    if let fields = text.wholeMatch(of: /([0-9]+)-([0-9]+)-([0-9]+)T([0-9]+):([0-9]+):([0-9]+)(\.[0-9]+)?Z/) {
        let expected = [fields.1, fields.2, fields.3, fields.4, fields.5, fields.6].map { Int($0) }
        let parsed = utc.dateComponents([.era, .year, .month, .day, .hour, .minute, .second], from: date)
        // ISO 8601 numbers years astronomically: 0000 is 1 BC, which Calendar reports as era 0, year 1.
        let year = parsed.era == 0 ? parsed.year.map { 1 - $0 } : parsed.year
        let actual = [year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second]
        invariant(actual == expected, "\(text.debugDescription) parsed as \(formatted): fields \(actual) instead of \(expected)")
    }
    return 0
}

private let utc: Calendar = {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar
}()
