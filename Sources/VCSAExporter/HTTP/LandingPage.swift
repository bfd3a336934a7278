import ApplianceAPI
import ExporterToolkit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MicroHTTPD

/// The page at `/`: the last scrape's jobs at a glance (state in words and colour, progress, times,
/// errors), where the metrics are, and what the exporter is configured to do. Plain HTML and CSS:
/// no script, nothing loaded from elsewhere. It never calls the appliance.
struct LandingPage {
    var options: ExporterOptions
    /// The last scrape's result (nil before the first scrape); the page never calls the appliance.
    var snapshot: ScrapeSnapshot?
    /// The collectors whose API the appliance does not offer.
    var unsupported: Set<CollectorName> = []
    var adminEnabled: Bool
    /// `--config.file`'s targets, each with a link to its probe.
    var probeTargets: [ProbeTargets.Summary] = []
    /// What "ago" counts from.
    var now = Date()

    /// No script and no outside resource may run or load, even if markup slipped past escaping.
    static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'"

    func response() -> HTTPResponse {
        HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: html,
                     headers: [("Content-Security-Policy", Self.contentSecurityPolicy)])
    }

    var html: String {
        let escape = LandingHTML.escape
        let jobs = snapshot.map { "<div class=\"jobs\">\n" + cards($0).map(\.html).joined() + "</div>" } ?? ""
        let appliance = options.vcenterURL.isEmpty ? "" : """
        \(summary)
        \(jobs)
        """
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>VCSA Exporter</title>
        <style>
        \(LandingHTML.css)
        </style></head>
        <body>
        <h1>VCSA Exporter</h1>
        <p>Prometheus exporter for vCenter Server Appliance recovery jobs. Version \(escape(BuildInfo.version)).</p>
        <nav>\(navigation)</nav>
        \(appliance)
        \(targets)
        <section class="config"><h2>Configuration</h2>
        \(options.vcenterURL.isEmpty ? "<p>Appliance: none on the metrics path (no --vcenter.url)</p>" : "<p>Appliance: \(escape(options.vcenterURL))</p>\n<p>Collectors:</p><ul>\(collectors)</ul>")
        <p>Admin API: \(adminEnabled ? "enabled (POST \(AdminAPI.cancelPath))" : "disabled")</p>
        </section>
        </body>
        </html>
        """
    }

    /// A link to each route that asks for one.
    var navigation: String {
        RouteTable(telemetryPath: options.telemetryPath).routes.compactMap { route in route.link.map { "<a href=\"\(LandingHTML.escape(route.path))\">\($0)</a>" } }.joined()
    }

    /// A config file may list 10,000 targets: the page shows the first ones, in name order.
    static let maxTargetRows = 500

    /// `--config.file`'s targets, linked to their probes ("" without a config file).
    var targets: String {
        guard !probeTargets.isEmpty else { return "" }
        let escape = LandingHTML.escape
        var rows = probeTargets.prefix(Self.maxTargetRows).map { target in
            let state = target.up.map { $0 ? "up" : "down" } ?? "not probed lately"
            // Names hold only letters, digits and ._:- (see ExporterConfig): nothing to percent-encode.
            let query = "target=\(target.name)"
            return "<tr><td><a href=\"\(escape("/probe?" + query))\">\(escape(target.name))</a></td><td>\(escape(target.url))</td>"
                + "<td>\(escape(target.module))</td><td>\(state)</td></tr>"
        }
        if probeTargets.count > Self.maxTargetRows {
            rows.append("<tr><td colspan=\"4\">and \(probeTargets.count - Self.maxTargetRows) more (vcsa_exporter_probe_targets on the metrics path counts them all)</td></tr>")
        }
        return "<section class=\"targets\"><h2>Probe targets</h2>\n<table><tr><th>Target</th><th>URL</th><th>Module</th><th>Last probe</th></tr>\n"
            + rows.joined(separator: "\n") + "\n</table></section>"
    }

    /// When the last scrape was, and whether every collector got an answer.
    var summary: String {
        guard let snapshot else {
            return "<p class=\"summary none\"><b>No scrape yet.</b> This page shows what the last scrape of "
                + "<a href=\"\(LandingHTML.escape(options.telemetryPath))\">the metrics</a> found; it never calls the appliance itself.</p>"
        }
        let seconds = snapshot.duration.seconds
        // A negative duration is clamped before Int(): Duration's range is far larger than Int's in milliseconds.
        let took = seconds < 1 ? "\(Int((max(0, seconds) * 1000).rounded())) ms" : LandingHTML.words(seconds)
        let outcomes: [(CollectorName, Bool)] = Collectors.all.compactMap { collector in collector.succeeded(in: snapshot).map { (collector.name, $0) } }
        let failed = outcomes.filter { !$0.1 }.map(\.0.rawValue)
        let health = failed.isEmpty
            ? "The appliance answered every collector."
            : "Failed collector\(failed.count == 1 ? "" : "s"): \(failed.joined(separator: ", ")) (vcsa_up 0); its job below shows why."
        return "<p class=\"summary \(failed.isEmpty ? "succeeded" : "warning")\"><b>Last scrape:</b> "
            + "\(LandingHTML.utc(snapshot.finishedAt, now: now)), took \(took). \(health)</p>"
    }

    var collectors: String {
        CollectorName.allCases.map { name in
            let unsupported = unsupported.contains(name)
            return "<li>\(name.rawValue): \(options.collectors.contains(name) ? "enabled" : "disabled")"
                + (unsupported ? " (the appliance does not offer the \(name.rawValue) job API; \(name.rawValue) metrics are left out)" : "")
                + "</li>"
        }.joined()
    }

    func cards(_ snapshot: ScrapeSnapshot) -> [JobCard] {
        Collectors.all.map { $0.card(snapshot, on: self) }
    }

    /// A collector's card: its job when it got an answer, else why there is none.
    func card<Value>(_ title: String, _ collector: CollectorName, _ outcome: CollectorOutcome<Value>?, _ make: (Value) -> JobCard) -> JobCard {
        let name = collector.rawValue
        var card = JobCard(title, state: "Not collected", tone: .none)
        guard options.collectors.contains(collector) else {
            card.notes = ["The \(name) collector is off (--no-collector.\(name))."]
            return card
        }
        switch outcome {
        case .success(let value)?:
            return make(value)
        case .failure(let error)?:
            card.state = "Scrape failed"
            card.tone = .warning
            card.notes = ["The last scrape could not read this job (error type \(error.errorType))."]
            card.fact("Detail", "\(error)")
        case .unsupported?:
            card.state = "Not offered"
            card.notes = ["The appliance does not offer the \(name) job API; its metrics are left out (it is asked again every 10 minutes)."]
        case nil:
            card.notes = ["The last scrape did not ask for this job."]
        }
        return card
    }

    /// A job state in words and colour: green succeeded, blue under way, red failed, grey none or unknown.
    static func state(_ raw: String) -> (String, Tone) {
        switch raw {
        case "RUNNING": ("Running", .running)
        case "INPROGRESS": ("In progress", .running)
        case "PENDING": ("Pending", .running)
        case "BLOCKED": ("Blocked", .warning)
        case "SUCCEEDED": ("Succeeded", .succeeded)
        case "FAILED": ("Failed", .failed)
        case "NONE": ("None", .none)
        default: ("Unknown", .none)
        }
    }
}
