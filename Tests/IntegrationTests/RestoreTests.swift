import Foundation
import TestHarness
import Testing

/// Restore job metrics next to the reconciliation job's, and the collector switches.
@Suite struct RestoreTests {
    @Test(arguments: [("none", "NONE", 0.0), ("in-progress", "INPROGRESS", 0.55), ("succeeded", "SUCCEEDED", 1), ("failed", "FAILED", 0.4)])
    func restoreStates(scenario: String, state: String, progress: Double) async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--restore-scenario", scenario])
        let exporter = try await Exporter(simulator: simulator)
        let metrics = try await exporter.metrics()
        #expect(metrics["vcsa_up"] == 1)
        for candidate in ["NONE", "INPROGRESS", "SUCCEEDED", "FAILED", "UNKNOWN"] {
            #expect(metrics["vcsa_restore_job_state{state=\"\(candidate)\"}"] == (candidate == state ? 1 : 0), "state \(candidate)")
        }
        #expect(metrics["vcsa_restore_job_progress_ratio"] == progress)
        #expect(metrics["vcsa_reconciliation_job_status{status=\"RUNNING\"}"] == 1)
        #expect(metrics["vcsa_scrape_collector_success{collector=\"restore\"}"] == 1)
    }

    @Test func bothCallsRunConcurrently() async throws {
        // 8 s each: in sequence they would take 16 s, together 8 s; the margin between is wide enough
        // for a loaded machine, and the exporter's own measure is checked too.
        let simulator = try await Simulator(scenario: "running", extra: ["--latency", "8", "--latency-path", "/api/appliance/recovery/reconciliation/job",
                                                                          "--latency-path", "/api/appliance/recovery/restore/job"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--vcenter.timeout", "60s"])
        _ = try await exporter.metrics()  // logs in
        let clock = ContinuousClock()
        let started = clock.now
        let metrics = try await exporter.metrics()
        #expect(clock.now - started < .seconds(14), "two 8 s calls in sequence would take 16 s")
        #expect(try #require(metrics["vcsa_scrape_duration_seconds"]) < 14)
        #expect(metrics["vcsa_up"] == 1 && metrics["vcsa_restore_job_state{state=\"NONE\"}"] == 1)
    }

    @Test func oneFailingCallDoesNotHideTheOther() async throws {
        let simulator = try await Simulator(scenario: "error-500", extra: ["--restore-scenario", "in-progress"])
        let exporter = try await Exporter(simulator: simulator)
        let metrics = try await exporter.metrics()
        #expect(metrics["vcsa_up"] == 0)
        #expect(metrics["vcsa_scrape_collector_success{collector=\"reconciliation\"}"] == 0)
        #expect(metrics["vcsa_scrape_collector_success{collector=\"restore\"}"] == 1)
        #expect(metrics["vcsa_restore_job_state{state=\"INPROGRESS\"}"] == 1)
        #expect(metrics["vcsa_reconciliation_job_present"] == nil)
    }

    @Test func missingRestoreAPIIsNotedOnceAndNotCountedEveryScrape() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--restore-scenario", "unsupported"])
        let exporter = try await Exporter(simulator: simulator)
        for _ in 0..<4 {
            let metrics = try await exporter.metrics()
            #expect(metrics["vcsa_up"] == 1)
            #expect(metrics.keys.filter { $0.hasPrefix("vcsa_restore_job") }.isEmpty)
        }
        let metrics = try await exporter.metrics()
        #expect(metrics["vcsa_api_request_errors_total{error_type=\"NOT_FOUND\"}"] == 1)
        #expect(try await simulator.stats().restore_gets == 1)
        #expect(exporter.child.output.components(separatedBy: "does not offer the restore job API").count == 2)
        #expect(try await http(.GET, "\(exporter.url)/").text.contains("the appliance does not offer the restore job API"))
    }

    @Test func collectorsCanBeTurnedOff() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--restore-scenario", "in-progress"])
        let noRestore = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"]).metrics()
        #expect(noRestore.keys.filter { $0.hasPrefix("vcsa_restore_job") || $0.contains("collector=\"restore\"") }.isEmpty)
        let noReconciliation = try await Exporter(simulator: simulator, extra: ["--no-collector.reconciliation", "--collector.restore"]).metrics()
        #expect(noReconciliation.keys.filter { $0.hasPrefix("vcsa_reconciliation_job") }.isEmpty)
        #expect(noReconciliation["vcsa_restore_job_state{state=\"INPROGRESS\"}"] == 1)
        #expect(noReconciliation["vcsa_up"] == 1)
        let stats = try await simulator.stats()
        #expect(stats.reconciliation_gets == 1 && stats.restore_gets == 1)
    }
}
