@testable import ExporterToolkit
import Testing

@Suite struct ExpositionWriterTests {
    @Test func goldenText() {
        var writer = ExpositionWriter()
        writer.family("vcsa_example_total", .counter, help: "An example counter.")
        writer.sample("vcsa_example_total", [("operation", "a"), ("code", "200")], 3)
        writer.single("vcsa_example_ratio", .gauge, help: "A ratio.", 0.42)
        #expect(writer.text == """
        # HELP vcsa_example_total An example counter.
        # TYPE vcsa_example_total counter
        vcsa_example_total{operation="a",code="200"} 3
        # HELP vcsa_example_ratio A ratio.
        # TYPE vcsa_example_ratio gauge
        vcsa_example_ratio 0.42

        """)
    }

    @Test func escaping() {
        var writer = ExpositionWriter()
        writer.family("m", .gauge, help: "back\\slash and\nnewline")
        writer.sample("m", [("l", "quote\" back\\ nl\n")], 1)
        #expect(writer.text == "# HELP m back\\\\slash and\\nnewline\n# TYPE m gauge\nm{l=\"quote\\\" back\\\\ nl\\n\"} 1\n")
    }

    /// Escaping goes by scalar: a prepend scalar before, or a combining mark after, a quote or backslash changes nothing.
    @Test func graphemeClustersDoNotHideQuotesOrBackslashes() {
        var writer = ExpositionWriter()
        writer.family("m", .gauge, help: "\u{0600}\\\u{0301}\r\n")
        writer.sample("m", [("l", "\u{0600}\"\u{0301} \u{0600}\\ \u{0600}\n \r\n")], 1)
        #expect(writer.text == "# HELP m \u{0600}\\\\\u{0301}\r\\n\n# TYPE m gauge\nm{l=\"\u{0600}\\\"\u{0301} \u{0600}\\\\ \u{0600}\\n \r\\n\"} 1\n")
    }

    @Test(arguments: [
        (1.0, "1"), (0.0, "0"), (-2.0, "-2"), (0.5, "0.5"), (1_795_341_600.651, "1795341600.651"),
        (Double.nan, "NaN"), (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (1e20, "1e+20"),
    ])
    func valueFormatting(value: Double, expected: String) {
        #expect(ExpositionWriter.format(value) == expected)
    }
}
