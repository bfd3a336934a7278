import Foundation
import TestHarness
import Testing

/// Every simulator scenario, scraped through the real exporter, gives exactly these values.
@Suite struct ScenarioTests {
    struct Expectation: Sendable, CustomTestStringConvertible {
        var scenario: String
        var up: Double
        /// The one status that is 1, or nil when job series must be absent.
        var status: String?
        var present: Double?
        var progress: Double?
        var errorType: String?
        var testDescription: String { scenario }
    }

    static let expectations: [Expectation] = [
        .init(scenario: "none", up: 1, status: "NONE", present: 0),
        .init(scenario: "idle", up: 1, status: "NONE", present: 1, progress: 0),
        .init(scenario: "running", up: 1, status: "RUNNING", present: 1, progress: 0.42),
        .init(scenario: "stalled", up: 1, status: "RUNNING", present: 1, progress: 0.37),
        .init(scenario: "succeeded", up: 1, status: "SUCCEEDED", present: 1, progress: 1),
        .init(scenario: "failed", up: 1, status: "FAILED", present: 1, progress: 0.63),
        .init(scenario: "unknown-status", up: 1, status: "UNKNOWN", present: 1, progress: 0.5),
        .init(scenario: "error-500", up: 0, errorType: "ERROR"),
        .init(scenario: "unavailable-503", up: 0, errorType: "SERVICE_UNAVAILABLE"),
        .init(scenario: "malformed-json", up: 0, errorType: "INVALID_RESPONSE"),
        .init(scenario: "route-not-found", up: 0, errorType: "NOT_FOUND"),
        .init(scenario: "legacy-busy", up: 0, errorType: "RESOURCE_BUSY"),
        .init(scenario: "oversized", up: 0, errorType: "INVALID_RESPONSE"),
        .init(scenario: "bad-credentials", up: 0, errorType: "UNAUTHENTICATED"),
    ]

    @Test(arguments: expectations)
    func scenario(_ expected: Expectation) async throws {
        let simulator = try await Simulator(scenario: expected.scenario)
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        let metrics = try await exporter.metrics()
        #expect(metrics["vcsa_up"] == expected.up)
        #expect(metrics["vcsa_scrape_collector_success{collector=\"reconciliation\"}"] == expected.up)
        #expect(metrics["vcsa_scrape_duration_seconds"] != nil)
        #expect(metrics["vcsa_reconciliation_job_present"] == expected.present)
        #expect(metrics["vcsa_reconciliation_job_progress_ratio"] == expected.progress)
        let statuses = ["NONE", "RUNNING", "SUCCEEDED", "FAILED", "UNKNOWN"]
        for status in statuses {
            let value = metrics["vcsa_reconciliation_job_status{status=\"\(status)\"}"]
            if let one = expected.status {
                #expect(value == (status == one ? 1 : 0), "status \(status)")
            } else {
                #expect(value == nil, "job series must be absent when the scrape failed")
            }
        }
        for errorType in ["ERROR", "SERVICE_UNAVAILABLE", "INVALID_RESPONSE", "NOT_FOUND", "RESOURCE_BUSY", "UNAUTHENTICATED", "DEADLINE_EXCEEDED"] {
            #expect(metrics["vcsa_api_request_errors_total{error_type=\"\(errorType)\"}"] == (errorType == expected.errorType ? 1 : 0), "error_type \(errorType)")
        }
        #expect(metrics.keys.filter { $0.hasPrefix("vcsa_api_request_errors_total{") }.count == 29)
        #expect(metrics.keys.filter { $0.hasPrefix("vcsa_restore_job") }.isEmpty)
    }

    @Test func timesForFinishedAndRunningJobs() async throws {
        let simulator = try await Simulator(scenario: "failed")
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        var metrics = try await exporter.metrics()
        let start = try #require(metrics["vcsa_reconciliation_job_start_time_seconds"])
        #expect(metrics["vcsa_reconciliation_job_end_time_seconds"] == start + 900)
        #expect(metrics["vcsa_reconciliation_job_duration_seconds"] == 900)
        #expect(abs(start + 900 - Date().timeIntervalSince1970) < 30, "it ended when the scenario was set")

        try await simulator.control("scenario", "running")
        metrics = try await exporter.metrics()
        #expect(metrics["vcsa_reconciliation_job_end_time_seconds"] == nil)
        let duration = try #require(metrics["vcsa_reconciliation_job_duration_seconds"])
        #expect(duration >= 0 && duration < 30)
        #expect(metrics["vcsa_reconciliation_job_cancelable"] == 0)
    }

    @Test func progressingJobAdvancesThenSucceeds() async throws {
        let simulator = try await Simulator(scenario: "progressing", extra: ["--progress-duration", "4"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        _ = try await exporter.metrics()  // logs in
        try await simulator.control("scenario", "progressing")  // the job starts now
        let first = try await exporter.metrics()
        #expect(first["vcsa_reconciliation_job_status{status=\"RUNNING\"}"] == 1)
        try await Task.sleep(for: .seconds(1))
        let second = try await exporter.metrics()
        #expect(try #require(second["vcsa_reconciliation_job_progress_ratio"]) > (try #require(first["vcsa_reconciliation_job_progress_ratio"])))
        #expect(try #require(second["vcsa_reconciliation_job_last_progress_change_timestamp_seconds"]) > (try #require(first["vcsa_reconciliation_job_last_progress_change_timestamp_seconds"])))
        var done = second
        let deadline = ContinuousClock.now + .seconds(15)
        while done["vcsa_reconciliation_job_status{status=\"SUCCEEDED\"}"] != 1 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            done = try await exporter.metrics()
        }
        #expect(done["vcsa_reconciliation_job_status{status=\"SUCCEEDED\"}"] == 1)
        #expect(done["vcsa_reconciliation_job_progress_ratio"] == 1)
    }

    @Test func stalledJobKeepsItsLastChangeTime() async throws {
        let simulator = try await Simulator(scenario: "stalled")
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        let first = try await exporter.metrics()
        try await Task.sleep(for: .milliseconds(300))
        let second = try await exporter.metrics()
        #expect(first["vcsa_reconciliation_job_last_progress_change_timestamp_seconds"] != nil)
        #expect(second["vcsa_reconciliation_job_last_progress_change_timestamp_seconds"] == first["vcsa_reconciliation_job_last_progress_change_timestamp_seconds"])
    }
}
