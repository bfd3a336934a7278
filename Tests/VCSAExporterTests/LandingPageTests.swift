import ApplianceAPI
import Foundation
import Testing
@testable import VCSAExporter

/// The landing page's rendering: states, progress, times in words, and escaping of everything the appliance says.
@Suite struct LandingPageTests {
    static let start = Date(timeIntervalSince1970: 1_795_341_600)  // 2026-11-22 10:00:00 UTC
    static let options = ExporterOptions(scrapeTimeout: ScrapeTimeout(timeout: .seconds(10), offset: .milliseconds(500)), vcenterURL: "https://vcsa.example.com")

    static func page(_ snapshot: ScrapeSnapshot?, options: ExporterOptions = options) -> String {
        LandingPage(options: options, snapshot: snapshot, adminEnabled: false,
                    now: start.addingTimeInterval(700)).html
    }

    static func message(_ text: String) -> LocalizableMessage { LocalizableMessage(id: "m", defaultMessage: text) }

    static func errorObject(_ text: String) -> JSONValue {
        .object(["error_type": .string("ERROR"), "messages": .array([.object(["id": .string("e"), "default_message": .string(text), "args": .array([])])])])
    }

    @Test func beforeTheFirstScrapeItSaysSo() {
        let html = Self.page(nil)
        #expect(html.contains("No scrape yet"))
        #expect(!html.contains("class=\"jobs\""))
        #expect(html.contains("href=\"/metrics\"") && html.contains("https://vcsa.example.com"))
    }

    @Test func probeTargetsAreListedWithTheirProbeLinks() {
        let options = ExporterOptions(scrapeTimeout: ScrapeTimeout(timeout: .seconds(10), offset: .milliseconds(500)), vcenterURL: "")
        let html = LandingPage(options: options, snapshot: nil, adminEnabled: false,
                               probeTargets: [.init(name: "vc01", url: "https://vc01.example.com", module: "default", up: true),
                                              .init(name: "vc02", url: "https://vc02.example.com", module: "lab", up: nil)]).html
        #expect(html.contains("<a href=\"/probe?target=vc01\">vc01</a>"), "\(html)")
        #expect(html.contains("<td>up</td>") && html.contains("<td>not probed lately</td>"))
        #expect(!html.contains("No scrape yet"), "no --vcenter.url appliance: no scrape summary")
        #expect(html.contains("Appliance: none on the metrics path"))
        let many = (0..<600).map { ProbeTargets.Summary(name: "vc\($0)", url: "https://vc\($0)", module: "default", up: nil) }
        let long = LandingPage(options: options, snapshot: nil, adminEnabled: false,
                               probeTargets: many).html
        #expect(long.components(separatedBy: "<a href=\"/probe?target=").count - 1 == LandingPage.maxTargetRows)
        #expect(long.contains("and 100 more"))
    }

    @Test func runningReconciliationInWordsColourAndPercent() {
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = .success(ReconciliationJob(description: Self.message("d"), status: .running, startTime: Self.start,
                                                             messages: [Self.message("Reconciling with partner nodes")], progress: 42))
        snapshot.restore = .success(RestoreJob(state: .inProgress, progress: 55))
        snapshot.finishedAt = Self.start.addingTimeInterval(600)
        let html = Self.page(snapshot)
        #expect(html.contains("<span class=\"state running\">Running</span>"))
        #expect(html.contains("aria-valuenow=\"42\"") && html.contains("width:42%") && html.contains(">42%<"))
        #expect(html.contains("<th>Started</th><td>11 minutes 40 seconds ago<br><small>2026-11-22 10:00:00 UTC</small></td>"))
        #expect(html.contains("<th>Running for</th><td>10 minutes</td>"))
        #expect(html.contains("Reconciling with partner nodes"))
        #expect(html.contains("<span class=\"state running\">In progress</span>") && html.contains(">55%<"))
        #expect(html.contains("The appliance answered every collector."))
    }

    @Test func failedJobsShowTheAppliancesReason() {
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = .success(ReconciliationJob(description: Self.message("d"), status: .failed, error: Self.errorObject("partner unreachable"),
                                                             startTime: Self.start, endTime: Self.start.addingTimeInterval(900), progress: 63))
        snapshot.restore = .success(RestoreJob(state: .failed, messages: [Self.message("Restore failed.")], progress: 40))
        let backup = BackupJobDetails(location: "sftp://user@host/secret/path", type: "SCHEDULED", description: Self.message("b"), status: .failed,
                                      error: Self.errorObject("the remote location is full"), startTime: Self.start, endTime: Self.start.addingTimeInterval(300))
        var backups = BackupSnapshot()
        backups.jobsListed = 1
        backups.newest = ("20261122-100000-1", backup)
        snapshot.backup = .success(backups)
        let html = Self.page(snapshot)
        #expect(html.components(separatedBy: "<span class=\"state failed\">Failed</span>").count == 4)
        #expect(html.contains("<b>Error:</b> partner unreachable") && html.contains("<b>Error:</b> Restore failed."))
        #expect(html.contains("<b>Error:</b> the remote location is full"))
        #expect(html.contains("<th>Took</th><td>15 minutes</td>") && html.contains("<small>scheduled, to sftp</small>"))
        #expect(!html.contains("secret/path") && !html.contains("user@"))
        #expect(html.contains("No successful backup is known."))
    }

    @Test func collectorFailuresMissingAPIsAndDisabledCollectors() {
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = .failure(.deadlineExceeded)
        snapshot.backup = .unsupported
        var options = Self.options
        options.collectors = [.reconciliation, .backup]
        let html = Self.page(snapshot, options: options)
        #expect(html.contains("Scrape failed") && html.contains("could not read this job (error type DEADLINE_EXCEEDED).") && html.contains("<th>Detail</th><td>deadline exceeded</td>"))
        #expect(html.contains("Failed collector: reconciliation (vcsa_up 0)"))
        #expect(html.contains("Not offered") && html.contains("does not offer the backup job API"))
        #expect(html.contains("The restore collector is off (--no-collector.restore)."))
    }

    @Test func nothingFromTheApplianceCanInjectMarkup() {
        let evil = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = .success(ReconciliationJob(description: Self.message(evil), status: .failed, error: Self.errorObject(evil),
                                                             messages: [Self.message(evil)], progress: 10))
        snapshot.restore = .failure(.api(httpStatus: 500, error: VAPIError(errorType: .error, messages: [Self.message(evil)])))
        let backup = BackupJobDetails(location: "sftp://x", type: evil, description: Self.message(evil), status: .running,
                                      progress: .init(total: 10, completed: 4, message: Self.message(evil)), error: .string(evil))
        var backups = BackupSnapshot()
        backups.jobsListed = 1
        backups.newest = (evil, backup)
        backups.schedules = [(evil, BackupSchedule(location: evil, enable: true))]
        snapshot.backup = .success(backups)
        var options = Self.options
        options.vcenterURL = "https://vcsa.example.com/" + evil
        let html = Self.page(snapshot, options: options)
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("'x'"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;&lt;img"))
        #expect(html.components(separatedBy: "&lt;script&gt;").count >= 7, "error, message, restore error, backup id, type, step, schedule, URL")
        let response = LandingPage(options: options, snapshot: snapshot, adminEnabled: false).response()
        #expect(response.header("Content-Security-Policy") == "default-src 'none'; style-src 'unsafe-inline'")
    }

    /// Scalars of Grapheme_Cluster_Break=Prepend: each joins the `<` after it into one Character.
    static let prependScalars: [Unicode.Scalar] = ["\u{0600}", "\u{0605}", "\u{06DD}", "\u{070F}", "\u{0890}", "\u{0891}", "\u{08E2}",
                                                   "\u{0D4E}", "\u{110BD}", "\u{110CD}", "\u{111C2}", "\u{11A3A}"]

    @Test func prependScalarsCannotOpenATag() {
        for scalar in Self.prependScalars {
            let attack = "\(scalar)<meta http-equiv=refresh content=0>\(scalar)\"\(scalar)'\(scalar)&"
            #expect(LandingHTML.escape(attack) == "\(scalar)&lt;meta http-equiv=refresh content=0&gt;\(scalar)&quot;\(scalar)&#39;\(scalar)&amp;",
                    "U+\(String(scalar.value, radix: 16, uppercase: true))")
        }
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = .success(ReconciliationJob(description: Self.message("d"), status: .running,
                                                             messages: [Self.message("\u{0600}<meta http-equiv=refresh content=0>")], progress: 1))
        let html = Self.page(snapshot)
        #expect(!html.contains("<meta http-equiv") && html.contains("\u{0600}&lt;meta http-equiv=refresh content=0&gt;"))
    }

    @Test func nulBecomesTheReplacementCharacter() {
        #expect(LandingHTML.escape("a\u{0}b\u{0}") == "a\u{FFFD}b\u{FFFD}" && LandingHTML.escape("\u{1}\u{7F}") == "\u{1}\u{7F}")
    }

    @Test func hugeNumbersFromTheApplianceDoNotTrap() {
        let huge = BackupJobDetails(location: "sftp://x", type: "MANUAL", description: Self.message("b"), status: .succeeded,
                                    duration: .max, size: .max, progress: .init(total: .max, completed: .min, message: Self.message("s")))
        var backups = BackupSnapshot()
        backups.jobsListed = .max
        backups.newest = ("20261122-100000-1", huge)
        backups.lastSuccess = backups.newest
        var snapshot = ScrapeSnapshot()
        snapshot.backup = .success(backups)
        snapshot.reconciliation = .success(ReconciliationJob(description: Self.message("d"), status: .running, startTime: Date(timeIntervalSince1970: -1e300),
                                                             progress: .max))
        snapshot.restore = .success(RestoreJob(state: .inProgress, progress: .min))
        snapshot.duration = .seconds(Int64.max)
        snapshot.finishedAt = Date(timeIntervalSince1970: 1e300)
        let html = Self.page(snapshot)
        #expect(html.contains("<th>Took</th><td>more than 100000 days</td>"), "\(html)")
        #expect(html.contains("<th>Size</th><td>9.2 EB</td>") && html.contains("took more than 100000 days."))
        #expect(html.contains("<th>Started</th><td>more than 100000 days ago<br><small>before the year 1</small></td>"))
        snapshot.duration = .seconds(Int64.min)
        #expect(Self.page(snapshot).contains("took 0 ms."))
    }

    @Test func timesAndSizesAtTheEdgesOfTheirTypes() {
        #expect(LandingHTML.words(Double(Int64.max)) == "more than 100000 days" && LandingHTML.words(1e300) == "more than 100000 days")
        #expect(LandingHTML.words(.infinity) == "more than 100000 days" && LandingHTML.words(-.infinity) == "0 seconds")
        #expect(LandingHTML.words(.nan) == "an unknown time" && LandingHTML.words(100_000 * 86_400) == "100000 days")
        #expect(LandingHTML.ago(Date(timeIntervalSince1970: 1e300), now: Self.start) == "in more than 100000 days")
        #expect(LandingHTML.ago(Date(timeIntervalSinceReferenceDate: .infinity), now: Date(timeIntervalSinceReferenceDate: .infinity)) == "at an unknown time")
        #expect(LandingHTML.utc(Date(timeIntervalSince1970: 1e300)) == "after the year 9999")
        #expect(LandingHTML.utc(Date(timeIntervalSince1970: -1e300)) == "before the year 1")
        #expect(LandingHTML.utc(Date(timeIntervalSince1970: .nan)) == "an invalid date")
        #expect(LandingHTML.utc(Date(timeIntervalSince1970: 253_402_300_799)) == "9999-12-31 23:59:59 UTC")
        #expect(LandingHTML.bytes(.max) == "9.2 EB" && LandingHTML.bytes(.min) == "-9223372036854775808 bytes")
        #expect(LandingHTML.percent(.infinity) == 0 && LandingHTML.percent(-.infinity) == 0 && LandingHTML.percent(Double(Int64.max)) == 100)
    }

    @Test func wordsForTimesAndSizes() {
        #expect(LandingHTML.words(1) == "1 second" && LandingHTML.words(42) == "42 seconds")
        #expect(LandingHTML.words(200) == "3 minutes 20 seconds" && LandingHTML.words(3600) == "1 hour")
        #expect(LandingHTML.words(3 * 86_400 + 6 * 3600 + 59) == "3 days 6 hours" && LandingHTML.words(-5) == "0 seconds")
        #expect(LandingHTML.ago(Self.start.addingTimeInterval(90), now: Self.start) == "in 1 minute 30 seconds")
        #expect(LandingHTML.utc(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00 UTC")
        #expect(LandingHTML.bytes(999) == "999 bytes" && LandingHTML.bytes(1_500_000_000) == "1.5 GB" && LandingHTML.bytes(600_000_000) == "600.0 MB")
        #expect(LandingHTML.percent(0.425) == 43 && LandingHTML.percent(7) == 100 && LandingHTML.percent(.nan) == 0)
        #expect(LandingHTML.message(of: .string("plain")) == "plain" && LandingHTML.message(of: nil) == nil)
        #expect(LandingHTML.message(of: Self.errorObject("first")) == "first" && LandingHTML.message(of: .object([:])) == nil)
    }
}
