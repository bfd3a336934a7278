import ApplianceAPI
import ExporterToolkit
import Foundation
import Testing
@testable import VCSAExporter

@Suite struct JobMetricsTests {
    static let start = Date(timeIntervalSince1970: 1_795_341_600)

    static func job(_ status: ReconciliationJob.Status, progress: Int64, end: Date? = nil) -> ReconciliationJob {
        ReconciliationJob(description: LocalizableMessage(id: "d", defaultMessage: "d"), status: status, cancelable: true,
                          startTime: start, endTime: end, progress: progress)
    }

    @Test func runningJobGolden() {
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = .success(Self.job(.running, progress: 42))
        snapshot.finishedAt = Self.start.addingTimeInterval(600)
        snapshot.lastProgressChange = Self.start.addingTimeInterval(590)
        var writer = ExpositionWriter()
        ReconciliationCollector.write(snapshot, to: &writer)
        let samples = writer.text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(samples == [
            "vcsa_reconciliation_job_present 1",
            "vcsa_reconciliation_job_status{status=\"NONE\"} 0",
            "vcsa_reconciliation_job_status{status=\"RUNNING\"} 1",
            "vcsa_reconciliation_job_status{status=\"SUCCEEDED\"} 0",
            "vcsa_reconciliation_job_status{status=\"FAILED\"} 0",
            "vcsa_reconciliation_job_status{status=\"UNKNOWN\"} 0",
            "vcsa_reconciliation_job_progress_ratio 0.42",
            "vcsa_reconciliation_job_start_time_seconds 1795341600",
            "vcsa_reconciliation_job_duration_seconds 600",
            "vcsa_reconciliation_job_cancelable 1",
            "vcsa_reconciliation_job_last_progress_change_timestamp_seconds 1795342190",
        ])
    }

    @Test func finishedJobUsesEndMinusStart() {
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = .success(Self.job(.succeeded, progress: 100, end: Self.start.addingTimeInterval(1800)))
        snapshot.finishedAt = Self.start.addingTimeInterval(99_999)
        var writer = ExpositionWriter()
        ReconciliationCollector.write(snapshot, to: &writer)
        #expect(writer.text.contains("vcsa_reconciliation_job_end_time_seconds 1795343400\n"))
        #expect(writer.text.contains("vcsa_reconciliation_job_duration_seconds 1800\n"))
    }

    @Test func noJobIsNoneAndNothingElse() {
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = .success(nil)
        var writer = ExpositionWriter()
        ReconciliationCollector.write(snapshot, to: &writer)
        let samples = writer.text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(samples.first == "vcsa_reconciliation_job_present 0")
        #expect(samples.contains("vcsa_reconciliation_job_status{status=\"NONE\"} 1"))
        #expect(samples.count == 6)
    }

    @Test func failedCollectorWritesNoJobSeriesAndUpIsZero() {
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = .failure(.deadlineExceeded)
        snapshot.restore = .success(RestoreJob(state: .inProgress, progress: 55))
        var writer = ExpositionWriter()
        JobMetrics.writeScrapeHealth(snapshot, to: &writer)
        ReconciliationCollector.write(snapshot, to: &writer)
        RestoreCollector.write(snapshot, to: &writer)
        #expect(writer.text.contains("vcsa_up 0\n"))
        #expect(!writer.text.contains("vcsa_reconciliation_job"))
        #expect(writer.text.contains("vcsa_restore_job_state{state=\"INPROGRESS\"} 1\n"))
        #expect(writer.text.contains("vcsa_scrape_collector_success{collector=\"reconciliation\"} 0\n"))
        #expect(writer.text.contains("vcsa_scrape_collector_success{collector=\"restore\"} 1\n"))
    }

    @Test func progressTrackerKeepsTheTimeOfTheLastChange() {
        let tracker = ProgressTracker()
        let t0 = Self.start
        #expect(tracker.observe(Self.job(.running, progress: 10), at: t0) == t0)
        #expect(tracker.observe(Self.job(.running, progress: 10), at: t0.addingTimeInterval(60)) == t0)
        #expect(tracker.observe(Self.job(.running, progress: 11), at: t0.addingTimeInterval(120)) == t0.addingTimeInterval(120))
    }
}
