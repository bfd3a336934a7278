#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The appliance's RFC 3339 timestamps: `2015-01-01T22:13:05.651Z`, with or without fractional seconds.
public enum APITimestamp {
    /// The date, or nil unless `text` is a well-formed RFC 3339 date-time: Foundation's parser alone
    /// rolls minute 83 or February 30 over into another date instead of refusing them.
    public static func parse(_ text: String) -> Date? {
        guard wellFormed(Array(text.utf8)) else { return nil }
        var parser = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = try? parser.parse(text) { return date }
        parser = Date.ISO8601FormatStyle(includingFractionalSeconds: false)
        return try? parser.parse(text)
    }

    /// UTC with milliseconds, as the appliance writes them. Foundation truncates to the millisecond,
    /// and `.002` is stored as `.00199…`: half a millisecond more makes that rounding.
    public static func format(_ date: Date) -> String {
        date.addingTimeInterval(0.0005).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// `YYYY-MM-DDThh:mm:ss[.f…](Z|±hh:mm)` with every field in its range.
    private static func wellFormed(_ bytes: [UInt8]) -> Bool {
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count, range.allSatisfy({ (48...57).contains(bytes[$0]) }) else { return nil }
            return range.reduce(0) { $0 * 10 + Int(bytes[$1] - 48) }
        }
        func byte(_ index: Int, _ expected: Character) -> Bool { index < bytes.count && bytes[index] == expected.asciiValue! }
        guard let year = number(0..<4), byte(4, "-"), let month = number(5..<7), byte(7, "-"), let day = number(8..<10), byte(10, "T"),
              let hour = number(11..<13), byte(13, ":"), let minute = number(14..<16), byte(16, ":"), let second = number(17..<19),
              year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60
        else { return false }
        var index = 19
        if byte(index, ".") {
            index += 1
            let digits = index
            while index < bytes.count && (48...57).contains(bytes[index]) { index += 1 }
            guard index > digits else { return false }
        }
        if byte(index, "Z") { return index + 1 == bytes.count }
        guard byte(index, "+") || byte(index, "-"), bytes.count == index + 6, let offsetHours = number((index + 1)..<(index + 3)),
              byte(index + 3, ":"), let offsetMinutes = number((index + 4)..<(index + 6)) else { return false }
        return offsetHours < 24 && offsetMinutes < 60
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// The JSON coders for the appliance's wire format.
public enum ApplianceJSON {
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = APITimestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an RFC 3339 timestamp, got \"\(text)\"")
            }
            return date
        }
        return decoder
    }

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(APITimestamp.format(date))
        }
        return encoder
    }
}
