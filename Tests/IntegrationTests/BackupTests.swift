import Foundation
import TestHarness
import Testing

/// The backup collector on the real binaries: every metric in every simulator scenario, and what it costs the appliance.
@Suite struct BackupTests {
    static let hour = 3600.0
    static let day = 86_400.0

    /// An exporter with only the backup collector, against a simulator in `scenario`; the first scrape's samples.
    static func scrape(_ scenario: String) async throws -> (metrics: [String: Double], text: String, simulator: Simulator) {
        let simulator = try await Simulator(scenario: "none", extra: ["--backup-scenario", scenario])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.reconciliation", "--no-collector.restore"])
        let text = try await exporter.scrape().text
        return (parseMetrics(text), text, simulator)
    }

    static func status(_ metrics: [String: Double]) -> String? {
        ["PENDING", "RUNNING", "BLOCKED", "SUCCEEDED", "FAILED", "UNKNOWN"].first { metrics["vcsa_backup_job_status{status=\"\($0)\"}"] == 1 }
    }

    static func age(_ metrics: [String: Double]) -> Double? {
        metrics["vcsa_backup_last_success_timestamp_seconds"].map { Date().timeIntervalSince1970 - $0 }
    }

    @Test func nightly() async throws {
        let (m, text, _) = try await Self.scrape("nightly")
        #expect(m["vcsa_up"] == 1 && m["vcsa_scrape_collector_success{collector=\"backup\"}"] == 1)
        #expect(m["vcsa_backup_jobs_listed"] == 7)
        #expect(Self.status(m) == "SUCCEEDED")
        // The newest ran 6 h before the scenario was set and took 20 minutes.
        let age = try #require(Self.age(m))
        #expect(age > 5.5 * Self.hour && age < 5.8 * Self.hour)
        #expect(m["vcsa_backup_last_success_duration_seconds"] == 1200 && m["vcsa_backup_job_duration_seconds"] == 1200)
        #expect(m["vcsa_backup_job_progress_ratio"] == 1)
        #expect(m["vcsa_backup_job_size_bytes"] == 1_500_000_000)
        #expect(m["vcsa_backup_job_end_time_seconds"]! - m["vcsa_backup_job_start_time_seconds"]! == 1200)
        #expect(m.keys.contains { $0.hasPrefix("vcsa_backup_job_info{id=\"") && $0.hasSuffix("\",type=\"SCHEDULED\",location_scheme=\"sftp\"}") })
        #expect(m["vcsa_backup_schedule_enabled{schedule=\"default\"}"] == 1 && m["vcsa_backup_schedule_retention_max_jobs{schedule=\"default\"}"] == 7)
        #expect(!text.contains("example.com") && !text.contains("sftp://"), "never the location's host, path or user")
    }

    @Test func lastFailed() async throws {
        let (m, _, _) = try await Self.scrape("last-failed")
        #expect(Self.status(m) == "FAILED")
        #expect(m["vcsa_backup_job_duration_seconds"] == 300 && m["vcsa_backup_job_progress_ratio"] == nil)
        // The last success is the night before the failure.
        let age = try #require(Self.age(m))
        #expect(age > Self.day + 5.5 * Self.hour && age < Self.day + 5.8 * Self.hour)
    }

    @Test func running() async throws {
        let (m, _, _) = try await Self.scrape("running")
        #expect(Self.status(m) == "RUNNING")
        #expect(m["vcsa_backup_job_progress_ratio"] == 0.4)
        #expect(m["vcsa_backup_job_end_time_seconds"] == nil)
        let duration = try #require(m["vcsa_backup_job_duration_seconds"])
        #expect(duration >= 600 && duration < 660, "so far")
        #expect(m["vcsa_backup_jobs_listed"] == 8 && m["vcsa_backup_last_success_duration_seconds"] == 1200)
    }

    @Test func stale() async throws {
        let (m, _, _) = try await Self.scrape("stale")
        let age = try #require(Self.age(m))
        #expect(age > 3 * Self.day, "three days and more without a success")
        #expect(Self.status(m) == "SUCCEEDED")
    }

    @Test func neverBackedUp() async throws {
        let (m, _, _) = try await Self.scrape("never")
        #expect(m["vcsa_up"] == 1 && m["vcsa_backup_jobs_listed"] == 0)
        #expect(m["vcsa_backup_last_success_timestamp_seconds"] == nil && Self.status(m) == nil)
        #expect(m["vcsa_backup_schedule_enabled{schedule=\"default\"}"] == 1)
    }

    @Test func disabledSchedule() async throws {
        let (m, _, _) = try await Self.scrape("disabled")
        #expect(m["vcsa_backup_schedule_enabled{schedule=\"default\"}"] == 0)
        #expect(Self.status(m) == "SUCCEEDED")
    }

    @Test func noBackupAPI() async throws {
        let (m, _, _) = try await Self.scrape("unsupported")
        #expect(m["vcsa_up"] == 1 && m["vcsa_scrape_collector_success{collector=\"backup\"}"] == 1, "a missing API is not a failure")
        #expect(!m.keys.contains { $0.hasPrefix("vcsa_backup_") })
    }

    @Test func manyJobs() async throws {
        let (m, _, _) = try await Self.scrape("many")
        #expect(m["vcsa_backup_jobs_listed"] == 500 && Self.status(m) == "SUCCEEDED")
        #expect(m["vcsa_backup_schedule_retention_max_jobs{schedule=\"default\"}"] == 500)
    }

    /// A scrape lists the ids and the schedules; it asks for details only of jobs it has not seen finish.
    @Test(arguments: [("never", 0, 2, 2), ("first", 1, 3, 2), ("many", 500, 3, 2), ("running", 8, 3, 3)])
    func upstreamCallsPerScrape(scenario: String, jobs: Int, first: Int, steady: Int) async throws {
        let simulator = try await Simulator(scenario: "none", extra: ["--backup-scenario", scenario])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.reconciliation", "--no-collector.restore"])
        func calls() async throws -> Int {
            let stats = try await simulator.stats()
            return stats.backup_list_gets + stats.backup_details_gets + stats.backup_schedule_gets
        }
        #expect(parseMetrics(try await exporter.scrape().text)["vcsa_backup_jobs_listed"] == Double(jobs))
        #expect(try await calls() == first, "first scrape")
        for round in 1...3 {
            _ = try await exporter.scrape()
            #expect(try await calls() == first + round * steady, "scrape \(round + 1)")
        }
        #expect(try await simulator.stats().backup_details_jobs <= 10 + 3, "details of the newest jobs only")
    }
}
