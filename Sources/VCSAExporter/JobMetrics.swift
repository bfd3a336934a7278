import ApplianceAPI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns one scrape's job results into metric families.
enum JobMetrics {
    static func writeReconciliation(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
        guard case .success(let job) = snapshot.reconciliation else { return }
        writer.single("vcsa_reconciliation_job_present", .gauge, help: "Whether the appliance reports a reconciliation job (0 when it answers that none is running).", job == nil ? 0 : 1)
        writer.family("vcsa_reconciliation_job_status", .gauge, help: "Status of the reconciliation job; exactly one status is 1 (NONE when there is no job).")
        let status = job?.status ?? .none
        for candidate in ReconciliationJob.Status.allCases {
            writer.sample("vcsa_reconciliation_job_status", [("status", candidate.rawValue)], candidate == status ? 1 : 0)
        }
        guard let job else { return }
        writer.single("vcsa_reconciliation_job_progress_ratio", .gauge, help: "Progress of the reconciliation job, from 0 to 1.", Double(job.progress) / 100)
        if let start = job.startTime {
            writer.single("vcsa_reconciliation_job_start_time_seconds", .gauge, help: "When the reconciliation job started, as a Unix timestamp.", start.timeIntervalSince1970)
        }
        if let end = job.endTime {
            writer.single("vcsa_reconciliation_job_end_time_seconds", .gauge, help: "When the reconciliation job ended, as a Unix timestamp.", end.timeIntervalSince1970)
        }
        if let start = job.startTime, let end = job.endTime ?? (job.status == .running ? snapshot.finishedAt : nil) {
            writer.single("vcsa_reconciliation_job_duration_seconds", .gauge, help: "How long the reconciliation job ran: end minus start, or now minus start while it runs.", max(0, end.timeIntervalSince(start)))
        }
        writer.single("vcsa_reconciliation_job_cancelable", .gauge, help: "Whether the reconciliation job can be cancelled.", job.cancelable == true ? 1 : 0)
        if let changed = snapshot.lastProgressChange {
            writer.single("vcsa_reconciliation_job_last_progress_change_timestamp_seconds", .gauge, help: "When this exporter last saw the reconciliation progress change, as a Unix timestamp.", changed.timeIntervalSince1970)
        }
    }

    static func writeRestore(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
        guard case .success(let job) = snapshot.restore else { return }
        writer.family("vcsa_restore_job_state", .gauge, help: "State of the file-based restore job; exactly one state is 1.")
        for candidate in RestoreJob.State.allCases {
            writer.sample("vcsa_restore_job_state", [("state", candidate.rawValue)], candidate == job.state ? 1 : 0)
        }
        writer.single("vcsa_restore_job_progress_ratio", .gauge, help: "Progress of the restore job, from 0 to 1.", Double(job.progress) / 100)
    }

    /// Per-scrape health: vcsa_up, durations, and which collectors succeeded.
    static func writeScrapeHealth(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
        writer.single("vcsa_up", .gauge, help: "Whether the appliance API answered usefully on this scrape (every enabled collector succeeded).", snapshot.up ? 1 : 0)
        writer.single("vcsa_scrape_duration_seconds", .gauge, help: "How long the appliance API calls of this scrape took.", snapshot.duration.seconds)
        let collectors: [(CollectorName, Bool, Duration)] = [
            snapshot.reconciliation.map { (.reconciliation, $0.succeeded, snapshot.reconciliationDuration) },
            snapshot.restore.map { (.restore, $0.succeeded, snapshot.restoreDuration) },
        ].compactMap { $0 }
        guard !collectors.isEmpty else { return }
        writer.family("vcsa_scrape_collector_success", .gauge, help: "Whether a collector succeeded on this scrape.")
        for (name, succeeded, _) in collectors {
            writer.sample("vcsa_scrape_collector_success", [("collector", name.rawValue)], succeeded ? 1 : 0)
        }
        writer.family("vcsa_scrape_collector_duration_seconds", .gauge, help: "How long a collector's appliance call took on this scrape.")
        for (name, _, duration) in collectors {
            writer.sample("vcsa_scrape_collector_duration_seconds", [("collector", name.rawValue)], duration.seconds)
        }
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
