#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The appliance's RFC 3339 timestamps: `2015-01-01T22:13:05.651Z`, with or without fractional seconds.
public enum APITimestamp {
    public static func parse(_ text: String) -> Date? {
        var parser = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = try? parser.parse(text) { return date }
        parser = Date.ISO8601FormatStyle(includingFractionalSeconds: false)
        return try? parser.parse(text)
    }

    /// UTC with milliseconds, as the appliance writes them.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
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
