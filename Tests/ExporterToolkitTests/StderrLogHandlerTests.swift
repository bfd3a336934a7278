@testable import ExporterToolkit
import Foundation
import Testing

/// The log line's quoting: a value from the appliance stays one logfmt value (or JSON string) on one line.
@Suite struct StderrLogHandlerTests {
    @Test func plainValuesStayBareAndOthersAreQuoted() {
        #expect(StderrLogHandler.logfmtValue("restore_job_cancel") == "restore_job_cancel")
        #expect(StderrLogHandler.logfmtValue("") == "\"\"" && StderrLogHandler.logfmtValue("a b") == "\"a b\"")
        #expect(StderrLogHandler.logfmtValue("a=b") == "\"a=b\"" && StderrLogHandler.logfmtValue("a\"b") == "\"a\\\"b\"")
    }

    /// CR LF is one Character, and a space, `=` or `"` followed by a combining mark or preceded by a
    /// prepend scalar is another Character than the one compared with: bytes decide.
    @Test(arguments: ["ok\r\nforged_line", "a \u{0301}b", "x=\u{0301}y", "\u{0600}\"x", "\u{0600} x", "a\rb", "a\tb", "a\u{7F}b"])
    func graphemeClustersCannotHideWhatNeedsQuoting(_ value: String) throws {
        let quoted = StderrLogHandler.logfmtValue(value)
        #expect(quoted.hasPrefix("\"") && !quoted.utf8.contains(0x0A) && !quoted.utf8.contains(0x0D), "\(quoted.debugDescription)")
        #expect(try JSONDecoder().decode(String.self, from: Data(quoted.utf8)) == value)
    }

    @Test(arguments: ["\u{0600}\"}, \"level\":\"error", "\u{0600}\\\u{0600}\n", "\r\n\"\u{0301}", "\u{2028}\u{0}"])
    func jsonStringsReadBackAsTheValue(_ value: String) throws {
        let json = JSONText.quoted(value)
        #expect(!json.utf8.contains(0x0A) && !json.utf8.contains(0x0D) && !json.utf8.contains(0))
        #expect(try JSONDecoder().decode(String.self, from: Data(json.utf8)) == value)
    }

    /// A whole line: appliance text in the message and a value stays in its field, on one line.
    @Test func aLineKeepsApplianceTextInItsFields() {
        let time = Date(timeIntervalSince1970: 1_795_341_600)
        let line = StderrLogHandler(format: .logfmt, level: .info)
            .line(time: time, level: .warning, message: "Job failed", metadata: ["error": "ok\r\nlevel=error msg=forged", "target": "vc1"])
        #expect(line == #"time=2026-11-22T10:00:00.000Z level=warn msg="Job failed" error="ok\r\nlevel=error msg=forged" target=vc1"#)
        let json = StderrLogHandler(format: .json, level: .info).line(time: time, level: .error, message: "m", metadata: [:])
        #expect(json == #"{"time":"2026-11-22T10:00:00.000Z","level":"error","msg":"m"}"#)
    }

    /// Keys come from the code, but one with a space or `=` still could not split into other fields.
    @Test func keysArePlainWords() {
        #expect(StderrLogHandler.logfmtKey("probe_target") == "probe_target")
        #expect(StderrLogHandler.logfmtKey("a b=c\u{0600}") == "a_b_c__")
        #expect(StderrLogHandler.logfmtKey("") == "_")
    }
}
