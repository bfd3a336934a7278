import Foundation
import Testing
import ExporterToolkit

/// The admin API's error body quotes the appliance's words with JSON escapes chosen by byte.
@Suite struct AdminAPIEscapingTests {
    @Test(arguments: ["\u{0600}\",\"error_type\":\"NONE", "\u{0600}\\\u{0600}\n", "\r\n\"\u{0301}\\", "\u{2028}\u{0}\u{1F}"])
    func graphemeClustersCannotEndTheString(_ text: String) throws {
        let body = #"{"error":\#(JSONText.quoted(text)),"error_type":"ERROR"}"#
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(body.utf8))
        #expect(decoded == ["error": text, "error_type": "ERROR"])
    }
}
