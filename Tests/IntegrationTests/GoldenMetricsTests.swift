import Foundation
import TestHarness
import Testing

/// The first scrape of every simulator scenario, byte for byte, against a file kept in
/// `Golden/` (as node_exporter's `collector/fixtures/e2e-output.txt`): a change to any family,
/// label, HELP text or order shows up in review. Only values that depend on the clock or the
/// machine are masked (see `normalized`).
///
/// After an intended change: `VCSA_UPDATE_GOLDEN=1 swift test --filter GoldenMetricsTests`, then
/// read the diff of `Tests/IntegrationTests/Golden/` before committing it.
@Suite struct GoldenMetricsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var arguments: [String]
        var testDescription: String { file }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Each reconciliation scenario whose values hold still (not `progressing`, `slow` or `expiring`),
    /// then each restore and backup scenario beside a reconciliation with no job.
    static let cases: [Case] =
        ["none", "idle", "running", "stalled", "succeeded", "failed", "unknown-status", "error-500", "unavailable-503",
         "malformed-json", "route-not-found", "legacy-busy", "oversized", "bad-credentials"]
            .map { Case(file: "reconciliation-\($0).prom", arguments: ["--scenario", $0]) }
        + ["none", "in-progress", "succeeded", "failed", "unsupported"]
            .map { Case(file: "restore-\($0).prom", arguments: ["--scenario", "none", "--restore-scenario", $0]) }
        + ["never", "first", "nightly", "last-failed", "running", "stale", "disabled", "unsupported", "many"]
            .map { Case(file: "backup-\($0).prom", arguments: ["--scenario", "none", "--backup-scenario", $0]) }

    @Test(arguments: cases)
    func firstScrape(_ golden: Case) async throws {
        let simulator = try await Simulator(scenario: golden.arguments[1], extra: Array(golden.arguments.dropFirst(2)))
        let exporter = try await Exporter(simulator: simulator)
        let scrape = try await exporter.scrape()
        #expect(scrape.status == 200)
        let actual = Self.normalized(scrape.text)
        let path = Self.directory.appendingPathComponent(golden.file).path
        if ProcessInfo.processInfo.environment["VCSA_UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        let (have, want) = (actual.split(separator: "\n", omittingEmptySubsequences: false), expected.split(separator: "\n", omittingEmptySubsequences: false))
        let first = (0..<min(have.count, want.count)).first { have[$0] != want[$0] } ?? min(have.count, want.count)
        let same = actual == expected
        #expect(same, """
            \(golden.file) differs at line \(first + 1):
              expected: \(first < want.count ? String(want[first]) : "(end)")
              actual:   \(first < have.count ? String(have[first]) : "(end)")
            """)
    }

    /// Masks what changes from run to run and nothing else: the values of families counted in
    /// seconds (durations, timestamps, CPU time), the process families, and three labels (the build's
    /// revision and Swift version, and backup job ids, which the simulator makes from the time).
    static func normalized(_ exposition: String) -> String {
        exposition.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " ") else { return String(line) }
            var series = String(line[..<space])
            let name = series.prefix { $0 != "{" }
            for label in ["revision", "swift_version", "id"] {
                series = series.replacingOccurrences(of: "\(label)=\"[^\"]*\"", with: "\(label)=\"<masked>\"", options: .regularExpression)
            }
            let timed = name.hasSuffix("_seconds") || name.hasSuffix("_seconds_total") || name.hasPrefix("process_")
            return series + " " + (timed ? "<masked>" : String(line[line.index(after: space)...]))
        }.joined(separator: "\n")
    }
}
