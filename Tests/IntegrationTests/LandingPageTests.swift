import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestHarness
import Testing

/// The landing page as an operator sees it during a restore: the real binaries, and the page
/// rendered by a real browser (Debian's chromium, headless; `make deps` installs it).
@Suite(.serialized) struct LandingPageTests {
    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        /// The simulator's reconciliation, restore and backup scenarios.
        var reconciliation: String, restore: String, backup: String
        /// Phrases the rendered page's text must hold: each job's state in words, its percent, its error.
        var texts: [String]
        /// Each job's state in colour: the state badge's class and its word, as the browser's DOM has them.
        var badges: [(tone: String, word: String)]
        /// Whether a job has a start time: shown in words, with the time in UTC under it.
        var started = true
        var testDescription: String { "\(name) (\(reconciliation), \(restore), \(backup))" }
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "running", reconciliation: "running", restore: "in-progress", backup: "running",
                 texts: ["Reconciliation job Running 42%", "Message Reconciling with partner nodes", "Restore job In progress 55%",
                         "Newest backup job Running 40%", "Step Backing up the database", "Last success 5 hours 40 minutes ago"],
                 badges: [("running", "Running"), ("running", "In progress"), ("running", "Running")]),
        Scenario(name: "failed", reconciliation: "failed", restore: "failed", backup: "last-failed",
                 texts: ["Reconciliation job Failed 63% Error: Reconciliation with partner vCenter failed: partner unreachable.",
                         "Took 15 minutes", "Restore job Failed 40% Error: Restore failed.",
                         "Newest backup job Failed Error: Backup failed: the remote location is full.", "Last success 1 day 5 hours ago"],
                 badges: [("failed", "Failed"), ("failed", "Failed"), ("failed", "Failed")]),
        Scenario(name: "succeeded", reconciliation: "succeeded", restore: "none", backup: "nightly",
                 texts: ["Reconciliation job Succeeded 100%", "Took 30 minutes", "Restore job None Job none: no restore is in progress",
                         "Newest backup job Succeeded 100%", "Took 20 minutes", "Size 1.5 GB", "Schedules default enabled", "Last success 5 hours 40 minutes ago"],
                 badges: [("succeeded", "Succeeded"), ("none", "None"), ("succeeded", "Succeeded")]),
        Scenario(name: "none", reconciliation: "none", restore: "none", backup: "never",
                 texts: ["Reconciliation job None Job none: the appliance reports no reconciliation job", "Restore job None",
                         "Newest backup job None No successful backup is known. Job none: the appliance lists no backup job"],
                 badges: [("none", "None"), ("none", "None"), ("none", "None")], started: false),
        Scenario(name: "stale", reconciliation: "succeeded", restore: "none", backup: "stale",
                 texts: ["Newest backup job Succeeded 100%", "Last success 3 days 5 hours ago"],
                 badges: [("succeeded", "Succeeded"), ("none", "None"), ("succeeded", "Succeeded")]),
        Scenario(name: "degraded", reconciliation: "error-500", restore: "in-progress", backup: "unsupported",
                 texts: ["Failed collector: reconciliation (vcsa_up 0)", "Reconciliation job Scrape failed The last scrape could not read this job (error type ERROR). Detail HTTP 500 ERROR "
                             + "(com.vmware.appliance.recovery.internal: Internal error while reading the reconciliation job.)", "Restore job In progress 55%",
                         "Newest backup job Not offered The appliance does not offer the backup job API"],
                 badges: [("warning", "Scrape failed"), ("running", "In progress"), ("none", "Not offered")], started: false),
    ]

    @Test(arguments: scenarios)
    func jobsAtAGlance(_ scenario: Scenario) async throws {
        let simulator = try await Simulator(scenario: scenario.reconciliation, extra: ["--restore-scenario", scenario.restore, "--backup-scenario", scenario.backup])
        let exporter = try await Exporter(simulator: simulator)
        #expect(try await exporter.scrape().status == 200, "a scrape first, so that there is a last scrape")

        let dom = try Chromium.dumpDOM("\(exporter.url)/")
        let text = Chromium.text(of: dom)
        for phrase in scenario.texts {
            #expect(text.contains(phrase), "\(scenario.name): page text lacks \"\(phrase)\":\n\(text)")
        }
        #expect(text.contains("Last scrape:") && !text.contains("No scrape yet"))
        let started = text.range(of: #"Started [0-9a-z ]+ ago \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"#, options: .regularExpression)
        #expect((started != nil) == scenario.started, "\(scenario.name): a start time in words and in UTC")
        let badges = dom.components(separatedBy: "<span class=\"state ").dropFirst().map { $0.prefix { $0 != "<" } }
        #expect(badges == scenario.badges.map { "\($0.tone)\">\($0.word)"[...] }, "\(scenario.name): state badges (colour and word) in the DOM")

        let png = try Chromium.screenshot("\(exporter.url)/", name: scenario.name)
        print("Landing page, scenario \(scenario.name): \(png)")
    }

    @Test func beforeTheFirstScrapeItSaysSoAndCallsNothing() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--restore-scenario", "in-progress", "--backup-scenario", "running"])
        let exporter = try await Exporter(simulator: simulator)
        let text = Chromium.text(of: try Chromium.dumpDOM("\(exporter.url)/"))
        #expect(text.contains("No scrape yet."), "page text:\n\(text)")
        #expect(!text.contains("Reconciliation job") && !text.contains("Last scrape:"))
        #expect(text.contains("Metrics") && text.contains("Appliance: \(simulator.url)"))
        let png = try Chromium.screenshot("\(exporter.url)/", name: "no-scrape")
        print("Landing page, before the first scrape: \(png)")

        let stats = try JSONDecoder().decode([String: Int].self, from: Data(try await http(.GET, "\(simulator.url)/simulator/stats").body))
        #expect(stats.count >= 10 && stats.values.allSatisfy { $0 == 0 }, "the page called the appliance: \(stats)")
    }

    @Test func aScriptInAnApplianceMessageStaysText() async throws {
        // The simulator's texts are fixed, so a fake appliance answers with the message.
        let evil = #"<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"#
        let upstream = try FakeAppliance(reconciliationBody: #"""
            {"description":{"id":"d","default_message":"d","args":[]},"service":"s","operation":"o","status":"FAILED",
             "error":{"error_type":"ERROR","messages":[{"id":"e","default_message":"\#(evil)","args":[]}]},
             "messages":[{"id":"m","default_message":"\#(evil)","args":[]}],"progress":12}
            """#)
        let exporter = try await Exporter(vcenterURL: upstream.url, extra: ["--no-collector.restore", "--no-collector.backup"])
        #expect(try await exporter.scrape().status == 200)
        let dom = try Chromium.dumpDOM("\(exporter.url)/")
        #expect(dom.contains("<title>VCSA Exporter</title>"), "a script ran: \(dom.prefix(400))")
        #expect(!dom.contains("<script") && !dom.contains("<img"))
        let text = Chromium.text(of: dom)
        #expect(text.contains("Reconciliation job Failed 12% Error: <script>document.title='pwned'</script>"), "page text:\n\(text)")
        let raw = try await http(.GET, "\(exporter.url)/")
        #expect(!raw.text.contains("<script") && raw.text.contains("&lt;script&gt;"))
        #expect(raw.headers.first(name: "Content-Security-Policy") == "default-src 'none'; style-src 'unsafe-inline'")
    }
}

/// Debian's chromium, headless, every run bounded by timeout(1) (which kills the whole process group).
enum Chromium {
    static let path = "/usr/bin/chromium"
    static let seconds = 20

    static func dumpDOM(_ url: String) throws -> String {
        try run(["--dump-dom", url])
    }

    /// A PNG at a stable path under the temp dir; checked to be one, 1280×1000 and not blank.
    static func screenshot(_ url: String, name: String) throws -> String {
        let png = FileManager.default.temporaryDirectory.appendingPathComponent("vcsa_exporter-landing-\(name).png").path
        try? FileManager.default.removeItem(atPath: png)
        _ = try run(["--screenshot=\(png)", "--window-size=1280,1000", "--hide-scrollbars", url])
        let bytes = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: png))) ?? Data())
        guard bytes.count > 20_000, bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) else {
            throw HarnessError("\(png): not a PNG of a rendered page (\(bytes.count) bytes)")
        }
        let size = { (offset: Int) in bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        #expect(size(16) == 1280 && size(20) == 1000, "\(png): \(size(16))×\(size(20))")
        return png
    }

    /// The visible text of a dumped DOM: the body without tags, entities decoded, white space collapsed.
    static func text(of dom: String) -> String {
        var body = dom.range(of: "<body").map { String(dom[$0.lowerBound...]) } ?? dom
        body = body.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression)
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            body = body.replacingOccurrences(of: entity, with: character)
        }
        return body.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    private static func run(_ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("chromium is not installed (\(path)): the landing page tests need a real browser; `make deps` installs Debian's chromium")
        }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("vcsa-chromium-\(UUID().uuidString)")
        let stdout = profile.path + ".out", stderr = profile.path + ".err"
        defer { for path in [profile.path, stdout, stderr] { try? FileManager.default.removeItem(atPath: path) } }
        let out = try Libc.open(stdout, O_WRONLY | O_CREAT | O_TRUNC), err = try Libc.open(stderr, O_WRONLY | O_CREAT | O_TRUNC)
        let null = try Libc.open("/dev/null", O_RDONLY)
        defer { close(out); close(err); close(null) }
        let process = try Spawned("/usr/bin/timeout", ["--kill-after=5", "\(seconds)", path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                      "--no-first-run", "--user-data-dir=\(profile.path)"] + arguments,
                                  stdin: null, stdout: out, stderr: err)
        let deadline = ContinuousClock.now + .seconds(seconds + 10)
        while process.isRunning && ContinuousClock.now < deadline { usleep(5_000) }
        guard let status = process.terminationStatus else {
            process.kill()
            throw HarnessError("chromium did not exit")
        }
        let output = (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let log = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
            throw HarnessError("chromium \(arguments.joined(separator: " ")) exited \(status)"
                               + (status == 124 ? " (killed after \(seconds) s)" : "") + ":\n\(log.suffix(2000))")
        }
        return output
    }
}

/// An appliance that says whatever a test needs (the simulator's texts are fixed): a login, then
/// `reconciliationBody` for the reconciliation job, 404 route-not-found for anything else. Plain HTTP,
/// one connection at a time, each closed after its answer.
final class FakeAppliance: Sendable {
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }
    /// Set when the fake is dropped: its thread closes the listener within 100 ms.
    private let stopped = Flag()

    init(reconciliationBody: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound, listen(fd, 16) == 0 else { throw HarnessError("fake appliance: cannot listen on 127.0.0.1") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [stopped] in
            defer { close(fd) }
            while !stopped.isSet {
                var listener = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&listener, 1, 100) > 0 else { continue }
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { continue }
                Self.answer(connection, reconciliationBody)
                close(connection)
            }
        }.start()
    }

    deinit { stopped.set() }

    private static func answer(_ fd: Int32, _ jobBody: String) {
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
            var readable = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&readable, 1, 2000) > 0 else { return }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            request += chunk[..<count]
        }
        let line = String(decoding: request, as: UTF8.self).prefix { $0 != "\r" }
        let (status, body) = switch line.split(separator: " ").prefix(2).joined(separator: " ") {
        case "POST /api/session": ("201 Created", #""fake-session""#)
        case "DELETE /api/session": ("204 No Content", "")
        case "GET /api/appliance/recovery/reconciliation/job": ("200 OK", jobBody)
        default: ("404 Not Found", #"{"error_type":"NOT_FOUND","messages":[{"id":"com.vmware.vapi.rest.httpNotFound","default_message":"Not found.","args":[]}]}"#)
        }
        let answer = Array("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        _ = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
