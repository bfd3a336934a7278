import ApplianceAPI
import ExporterToolkit
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

    static func writeBackup(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
        guard case .success(let backup) = snapshot.backup else { return }
        writer.single("vcsa_backup_jobs_listed", .gauge, help: "How many backup jobs the appliance keeps.", Double(backup.jobsListed))
        if let (_, job) = backup.lastSuccess {
            if let end = job.endTime {
                writer.single("vcsa_backup_last_success_timestamp_seconds", .gauge, help: "When the newest successful backup the appliance lists ended, as a Unix timestamp.", end.timeIntervalSince1970)
            }
            if let duration = duration(of: job, now: snapshot.finishedAt) {
                writer.single("vcsa_backup_last_success_duration_seconds", .gauge, help: "How long the newest successful backup took.", duration)
            }
        }
        if let (id, job) = backup.newest {
            writer.family("vcsa_backup_job_status", .gauge, help: "Status of the newest backup job; exactly one status is 1.")
            for candidate in BackupJobDetails.Status.allCases {
                writer.sample("vcsa_backup_job_status", [("status", candidate.rawValue)], candidate == job.status ? 1 : 0)
            }
            writer.single("vcsa_backup_job_info", .gauge, help: "The newest backup job: its id, type and the scheme of its location (never the path or user).", labels: [("id", id), ("type", job.type), ("location_scheme", job.locationScheme)], 1)
            if let progress = progress(of: job) {
                writer.single("vcsa_backup_job_progress_ratio", .gauge, help: "Progress of the newest backup job, from 0 to 1.", progress)
            }
            if let start = job.startTime {
                writer.single("vcsa_backup_job_start_time_seconds", .gauge, help: "When the newest backup job started, as a Unix timestamp.", start.timeIntervalSince1970)
            }
            if let end = job.endTime {
                writer.single("vcsa_backup_job_end_time_seconds", .gauge, help: "When the newest backup job ended, as a Unix timestamp.", end.timeIntervalSince1970)
            }
            if let duration = duration(of: job, now: snapshot.finishedAt) {
                writer.single("vcsa_backup_job_duration_seconds", .gauge, help: "How long the newest backup job ran: its whole run once finished, so far while it runs.", duration)
            }
            if let size = job.size {
                writer.single("vcsa_backup_job_size_bytes", .gauge, help: "Backup data the newest backup job transferred to its location.", Double(size))
            }
        }
        guard !backup.schedules.isEmpty else { return }
        writer.family("vcsa_backup_schedule_enabled", .gauge, help: "Whether a backup schedule is enabled.")
        for (id, schedule) in backup.schedules {
            writer.sample("vcsa_backup_schedule_enabled", [("schedule", id)], schedule.enable ? 1 : 0)
        }
        let retained = backup.schedules.compactMap { item in item.schedule.retentionInfo.map { (item.id, $0.maxCount) } }
        guard !retained.isEmpty else { return }
        writer.family("vcsa_backup_schedule_retention_max_jobs", .gauge, help: "How many backups a schedule keeps (absent: all).")
        for (id, count) in retained {
            writer.sample("vcsa_backup_schedule_retention_max_jobs", [("schedule", id)], Double(count))
        }
    }

    /// The appliance's own duration when it gives one; else end − start, or now − start while running.
    static func duration(of job: BackupJobDetails, now: Date) -> Double? {
        if let duration = job.duration { return Double(duration) }
        guard let start = job.startTime, let end = job.endTime ?? (job.status.isFinished ? nil : now) else { return nil }
        return max(0, end.timeIntervalSince(start))
    }

    /// completed / total when the appliance reports progress; a success is complete.
    static func progress(of job: BackupJobDetails) -> Double? {
        if let progress = job.progress, progress.total > 0 {
            return min(1, max(0, Double(progress.completed) / Double(progress.total)))
        }
        return job.status == .succeeded ? 1 : nil
    }

    /// Per-scrape health: vcsa_up, durations, and which collectors succeeded.
    static func writeScrapeHealth(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
        writer.single("vcsa_up", .gauge, help: "Whether the appliance API answered usefully on this scrape (every enabled collector succeeded).", snapshot.up ? 1 : 0)
        writer.single("vcsa_scrape_duration_seconds", .gauge, help: "How long the appliance API calls of this scrape took.", snapshot.duration.seconds)
        let collectors: [(CollectorName, Bool, Duration)] = [
            snapshot.reconciliation.map { (.reconciliation, $0.succeeded, snapshot.reconciliationDuration) },
            snapshot.restore.map { (.restore, $0.succeeded, snapshot.restoreDuration) },
            snapshot.backup.map { (.backup, $0.succeeded, snapshot.backupDuration) },
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
