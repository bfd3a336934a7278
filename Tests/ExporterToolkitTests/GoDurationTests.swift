import ExporterToolkit
import Testing

@Suite struct GoDurationTests {
    @Test(arguments: [
        ("10s", Duration.seconds(10)), ("500ms", .milliseconds(500)), ("1m30s", .seconds(90)), ("1.5s", .milliseconds(1500)),
        ("2h", .seconds(7200)), ("0", .zero), ("250us", .microseconds(250)), ("100ns", .nanoseconds(100)),
    ])
    func parses(text: String, expected: Duration) throws {
        #expect(try GoDuration.parse(text) == expected)
    }

    /// Go's limit is an Int64 of nanoseconds; beyond it is an error, never a trap.
    @Test(arguments: ["", "10", "s", "10x", "1.2.3s", "-5s", "ten seconds", "3000000h", "9223372037s", "99999999999999999999h",
                      "1e5s", "inf", "nans", " 10s", "١٠s", String(repeating: "9", count: 400) + "s"])
    func rejects(text: String) {
        #expect(throws: GoDurationError.self) { try GoDuration.parse(text) }
    }

    @Test func errorSaysWhatWasExpected() {
        #expect(throws: GoDurationError.self) { try GoDuration.parse("10") }
        do { _ = try GoDuration.parse("10") } catch {
            #expect(error.description == "invalid duration \"10\": expected a number and unit, e.g. 10s, 500ms, 1m30s")
        }
    }
}
