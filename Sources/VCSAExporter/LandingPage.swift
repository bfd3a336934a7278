import MicroHTTPD

/// The page at `/`: what this is, where the metrics are, and what it is configured to do.
struct LandingPage {
    var options: ExporterOptions
    /// The last scrape's result (nil before the first scrape); the page never calls the appliance.
    var snapshot: ScrapeSnapshot?
    var restoreUnsupported: Bool
    var backupUnsupported: Bool
    var adminEnabled: Bool

    func response() -> HTTPResponse {
        let collectors = CollectorName.allCases.map { name in
            "<li>\(name.rawValue): \(options.collectors.contains(name) ? "enabled" : "disabled")"
                + (name == .restore && restoreUnsupported ? " (the appliance does not offer the restore job API; restore metrics are left out)" : "")
                + "</li>"
        }.joined()
        let html = """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>VCSA Exporter</title></head>
        <body>
        <h1>VCSA Exporter</h1>
        <p>Prometheus exporter for vCenter Server Appliance recovery jobs. Version \(BuildInfo.version).</p>
        <ul>
        <li><a href="\(Self.escape(options.telemetryPath))">Metrics</a></li>
        <li><a href="/-/healthy">Health</a></li>
        <li><a href="/-/ready">Readiness</a></li>
        </ul>
        <h2>Configuration</h2>
        <p>Appliance: \(Self.escape(options.vcenterURL))</p>
        <p>Collectors:</p><ul>\(collectors)</ul>
        <p>Admin API: \(adminEnabled ? "enabled (POST \(AdminAPI.cancelPath))" : "disabled")</p>
        </body>
        </html>
        """
        return HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: html)
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
