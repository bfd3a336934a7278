import Foundation
import Synchronization
import TestHarness
import Testing

/// What Prometheus and people see of the HTTP side.
@Suite struct HTTPBehaviourTests {
    @Test func concurrentScrapesShareOneUpstreamCall() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--latency", "1"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        // Log in first so that only the job GET is in flight when the scrapes arrive.
        _ = try await exporter.metrics()
        let before = try await simulator.stats().reconciliation_gets
        let ups = try await withThrowingTaskGroup(of: Double?.self) { group in
            for _ in 0..<10 { group.addTask { try await exporter.metrics()["vcsa_up"] } }
            return try await group.reduce(into: [Double?]()) { $0.append($1) }
        }
        #expect(ups == Array(repeating: 1, count: 10))
        #expect(try await simulator.stats().reconciliation_gets - before == 1)
    }

    @Test func scrapeTimeoutHeaderShortensTheDeadline() async throws {
        // The appliance takes 30 s: an answer well before that can only come from the 1 s deadline, however
        // loaded the machine (the scrape's own duration below shows the deadline itself).
        let simulator = try await Simulator(scenario: "running", extra: ["--latency", "30", "--latency-path", "/api/appliance/recovery/reconciliation/job"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "60s", "--timeout-offset", "0.5"])
        let clock = ContinuousClock()
        let started = clock.now
        let response = try await exporter.scrape(headers: [("X-Prometheus-Scrape-Timeout-Seconds", "1.5")])
        let elapsed = clock.now - started
        let metrics = parseMetrics(response.text)
        #expect(response.status == 200)
        #expect(metrics["vcsa_up"] == 0)
        #expect(metrics["vcsa_scrape_collector_success{collector=\"reconciliation\"}"] == 0)
        #expect(elapsed < .seconds(15), "answered after \(elapsed), the appliance takes 30 s")
        #expect(try #require(metrics["vcsa_scrape_duration_seconds"]) < 2)
    }

    /// Prometheus' default scrape timeout is shorter than the default --vcenter.timeout: a scrape
    /// answered at its own deadline keeps the collectors that did answer, and only the unfinished
    /// one is failed.
    @Test func aScrapeAnsweredAtItsDeadlineKeepsWhatAnswered() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--restore-scenario", "in-progress",
                                                                         "--latency", "5", "--latency-path", "/api/appliance/recovery/reconciliation/job"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--vcenter.timeout", "10s", "--timeout-offset", "0.5"])
        let response = try await exporter.scrape(headers: [("X-Prometheus-Scrape-Timeout-Seconds", "2")])
        let metrics = parseMetrics(response.text)
        #expect(response.status == 200)
        #expect(metrics["vcsa_up"] == 0)
        #expect(metrics["vcsa_scrape_collector_success{collector=\"reconciliation\"}"] == 0)
        #expect(metrics["vcsa_scrape_collector_success{collector=\"restore\"}"] == 1, "\(response.text)")
        #expect(metrics["vcsa_scrape_collector_success{collector=\"backup\"}"] == 1)
        #expect(metrics["vcsa_restore_job_progress_ratio"] != nil && metrics["vcsa_backup_jobs_listed"] != nil, "the families of the collectors that answered")
        #expect(metrics["vcsa_reconciliation_job_present"] == nil)
    }

    /// A scrape that joins a round keeps its own deadline, and a round started by a hurried
    /// scraper still serves the patient ones (it lasts --vcenter.timeout, not the starter's budget).
    @Test func joinedScrapesKeepTheirOwnDeadlines() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--latency", "2"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "8s"])
        _ = try await exporter.metrics()  // logged in; now only the job GET (2 s) is in flight per round
        let hurriedHeader = [("X-Prometheus-Scrape-Timeout-Seconds", "1")]
        let patientHeader = [("X-Prometheus-Scrape-Timeout-Seconds", "10")]

        // Patient first, hurried joins: the hurried one is answered by its own 0.5 s budget.
        let before = try await simulator.stats().reconciliation_gets
        let patientDone = Flag()
        let patient = Task {
            defer { patientDone.set() }
            return try await exporter.scrape(headers: patientHeader)
        }
        try await Task.sleep(for: .milliseconds(200))
        let hurried = parseMetrics(try await exporter.scrape(headers: hurriedHeader).text)
        #expect(hurried["vcsa_up"] == 0 && hurried["vcsa_scrape_collector_success{collector=\"reconciliation\"}"] == 0)
        #expect(!patientDone.isSet, "the hurried scrape was answered while the round still ran")
        #expect(parseMetrics(try await patient.value.text)["vcsa_up"] == 1)
        #expect(try await simulator.stats().reconciliation_gets - before == 1, "they shared one round")

        // Hurried first, patient joins: the round is not cut short by the starter's budget.
        async let first = exporter.scrape(headers: hurriedHeader)
        try await Task.sleep(for: .milliseconds(200))
        let second = parseMetrics(try await exporter.scrape(headers: patientHeader).text)
        #expect(parseMetrics(try await first.text)["vcsa_up"] == 0)
        #expect(second["vcsa_up"] == 1, "the joiner with 10 s gets the appliance's answer")
        #expect(second["vcsa_api_request_errors_total{error_type=\"DEADLINE_EXCEEDED\"}"] == 0)
    }

    @Test func maxRequestsZeroMeansNoLimit() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--latency", "1"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--web.max-requests", "0", "--no-collector.restore", "--no-collector.backup"])
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 { group.addTask { try await exporter.scrape().status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 50))
    }

    @Test func gzipWhenAsked() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator)
        let compressed = try await exporter.scrape(headers: [("Accept-Encoding", "gzip")])
        #expect(compressed.headers.first(name: "Content-Encoding") == "gzip")
        #expect(compressed.headers.first(name: "Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let plain = try await exporter.scrape()
        #expect(plain.headers.first(name: "Content-Encoding") == nil)
        #expect(compressed.body.count < plain.body.count)
        let inflated = try gunzip(compressed.body)
        #expect(inflated.contains("vcsa_up 1\n"))
        #expect(inflated.hasSuffix("\n"))
    }

    @Test func routesAndMethods() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, extra: ["--web.telemetry-path", "/custom-metrics"])
        #expect(try await http(.GET, "\(exporter.url)/nope").status == 404)
        #expect(try await http(.GET, "\(exporter.url)/metrics").status == 404)
        let metrics = try await http(.GET, "\(exporter.url)/custom-metrics")
        #expect(metrics.status == 200 && metrics.text.contains("vcsa_up 1"))
        let post = try await http(.POST, "\(exporter.url)/custom-metrics")
        #expect(post.status == 405 && post.headers.first(name: "Allow") == "GET, HEAD")
        #expect(try await http(.GET, "\(exporter.url)/-/healthy").status == 200)
        #expect(try await http(.GET, "\(exporter.url)/-/ready").status == 200)
        #expect(try await http(.DELETE, "\(exporter.url)/-/ready").status == 405)
        let landing = try await http(.GET, "\(exporter.url)/")
        #expect(landing.status == 200 && landing.text.contains("href=\"/custom-metrics\"") && landing.text.contains(BuildVersion.version))
        // The admin API is off by default.
        #expect(try await http(.POST, "\(exporter.url)/api/v1/admin/restore-job/cancel").status == 404)
    }

    @Test func keepAliveConnectionsServeManyScrapes() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator)
        for _ in 0..<5 {
            let response = try await exporter.scrape()
            #expect(response.headers.first(name: "Connection")?.lowercased() != "close")
        }
    }

    @Test func tooManyConcurrentRequestsGet503() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--latency", "1.5"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--web.max-requests", "1", "--no-collector.restore", "--no-collector.backup"])
        async let slow = exporter.scrape()
        try await Task.sleep(for: .milliseconds(300))
        let refused = try await exporter.scrape()
        #expect(refused.status == 503)
        #expect(try await slow.status == 200)
    }

    @Test func promtoolAcceptsRealOutput() async throws {
        let simulator = try await Simulator(scenario: "failed", extra: ["--restore-scenario", "in-progress"])
        let exporter = try await Exporter(simulator: simulator)
        let text = try await exporter.scrape().text
        let (status, output) = try run("promtool", ["check", "metrics"], input: text)
        #expect(status == 0, "promtool check metrics: \(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool lint: \(output)")
    }

    @Test func exporterMetricsCanBeDisabled() async throws {
        let simulator = try await Simulator(scenario: "running")
        let on = try await Exporter(simulator: simulator).metrics()
        #expect(on["process_resident_memory_bytes"].map { $0 > 1_000_000 } == true)
        #expect(on["process_open_fds"].map { $0 > 3 } == true)
        #expect(on["process_max_fds"] != nil && on["process_cpu_seconds_total"] != nil && on["process_virtual_memory_bytes"] != nil)
        let start = try #require(on["process_start_time_seconds"])
        #expect(abs(start - Date().timeIntervalSince1970) < 60)
        #expect(on.keys.contains { $0.hasPrefix("vcsa_exporter_build_info{version=\"\(BuildVersion.version)\",revision=") })
        let off = try await Exporter(simulator: simulator, extra: ["--web.disable-exporter-metrics"]).metrics()
        #expect(off.keys.filter { $0.hasPrefix("process_") }.isEmpty)
    }
}

/// A one-way switch, for "had this happened yet?" checks.
final class Flag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

enum BuildVersion {
    static let version = "0.1.0"
}

func gunzip(_ bytes: [UInt8]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("scrape-\(UUID().uuidString).gz").path
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let (status, output) = try run("gzip", ["-dc", path])
    guard status == 0 else { throw HarnessError("gzip -dc failed: \(output)") }
    return output
}
