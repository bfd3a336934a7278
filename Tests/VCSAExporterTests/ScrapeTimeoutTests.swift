import Testing
import VCSAExporter

@Suite struct ScrapeTimeoutTests {
    let timeout = ScrapeTimeout(timeout: .seconds(10), offset: .milliseconds(500))

    @Test func withoutHeaderTheTimeoutApplies() {
        #expect(timeout.budget(scrapeTimeoutHeader: nil) == .seconds(10))
        #expect(timeout.budget(scrapeTimeoutHeader: "garbage") == .seconds(10))
    }

    @Test func headerMinusOffsetWhenShorter() {
        #expect(timeout.budget(scrapeTimeoutHeader: "3") == .milliseconds(2500))
        #expect(timeout.budget(scrapeTimeoutHeader: "30") == .seconds(10))
    }

    @Test func neverZeroOrNegative() {
        #expect(timeout.budget(scrapeTimeoutHeader: "0.2") == .milliseconds(100))
    }

    /// The header is client input: values that used to trap converting to a Duration.
    @Test(arguments: ["1e10", "1e308", "inf", "+inf", "-inf", "nan", "-1", "0", "-0", "", "1e-320", String(repeating: "9", count: 500), "0x10"])
    func hostileHeaderValuesGetABoundedBudget(value: String) {
        let budget = timeout.budget(scrapeTimeoutHeader: value)
        #expect(budget > .zero && budget <= .seconds(10))
    }
}
