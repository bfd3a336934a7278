#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Text as a JSON string literal, quotes included, escaped by the encoder (never by `Character`):
/// what the JSON log lines and the JSON error bodies both need. "/" is left as it is, as Go's
/// encoding/json writes it.
public enum JSONText {
    public static func quoted(_ value: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return String(decoding: (try? encoder.encode(value)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
