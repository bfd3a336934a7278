import ApplianceAPI
import ExporterToolkit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

extension CollectorName {
    public static let backup = CollectorName("backup")
}

/// What the backup collector learnt on one scrape.
public struct BackupSnapshot: Sendable {
    public var jobsListed = 0
    /// The newest job the appliance lists.
    public var newest: (id: String, details: BackupJobDetails)?
    /// The newest SUCCEEDED job among those looked at (absent when none is known yet).
    public var lastSuccess: (id: String, details: BackupJobDetails)?
    public var schedules: [(id: String, schedule: BackupSchedule)] = []
}

/// Collects backup jobs cheaply: the appliance lists every job it keeps (often hundreds), but only the
/// newest ones change. Ids sort by time; finished jobs are remembered, so a scrape asks for details
/// only of jobs it has not seen finish, newest first, until it knows the newest success.
/// With nothing new, a scrape costs two calls (the list and the schedules). Appliances without the
/// backup API are noted once and asked again every 10 minutes (see `OptionalAPI`).
actor BackupCollector: Collector {
    static let name = CollectorName.backup
    static let title = "Newest backup job"

    /// Jobs asked for in one details call, and calls at most in one scrape (later scrapes go on from the cache).
    static let batchSize = 10
    static let maxBatches = 3

    private let client: ApplianceClient
    private let logger: Logger
    /// Finished jobs by id.
    private var finished: [String: BackupJobDetails] = [:]
    private var api = OptionalAPI(name: "backup job")

    init(client: ApplianceClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func settled(at now: ContinuousClock.Instant) -> CollectorUpdate? {
        guard api.skipped(at: now) else { return nil }
        return { snapshot, _ in
            snapshot.backup = .unsupported
            snapshot.mark(Self.name, unsupported: true)
        }
    }

    func collect(deadline: ContinuousClock.Instant) async -> CollectorUpdate {
        let answer = await CollectorOutcome.of { () async throws(ApplianceError) in try await jobs(deadline: deadline) }
        let outcome = api.record(answer, at: .now, logger: logger)
        let unsupported = api.unsupported
        return { snapshot, took in
            snapshot.backup = outcome
            snapshot.backupDuration = took
            snapshot.mark(Self.name, unsupported: unsupported)
        }
    }

    private func jobs(deadline: ContinuousClock.Instant) async throws(ApplianceError) -> BackupSnapshot {
        let (snapshot, finished) = try await Self.jobs(client: client, finished: finished, deadline: deadline)
        self.finished = finished
        return snapshot
    }

    /// The list and the schedules, then details of the jobs not seen finish, newest first; returns
    /// what it learnt and the finished jobs to remember.
    private static func jobs(client: ApplianceClient, finished: [String: BackupJobDetails],
                             deadline: ContinuousClock.Instant) async throws(ApplianceError) -> (BackupSnapshot, [String: BackupJobDetails]) {
        var finished = finished
        async let listing = Self.result { () async throws(ApplianceError) in try await client.backupJobIDs(deadline: deadline) }
        async let scheduling = Self.result { () async throws(ApplianceError) in try await client.backupSchedules(deadline: deadline) }
        let ids = try await listing.get().sorted(by: >)
        let schedules = try await scheduling.get()

        // Forget jobs the appliance no longer keeps: the cache never outgrows its retention.
        let listed = Set(ids)
        finished = finished.filter { listed.contains($0.key) }
        var known = finished
        var pending: [String] = []
        var batches = 0
        /// Returns whether the batch held a success: everything older than it is then of no interest.
        func fetch() async throws(ApplianceError) -> Bool {
            guard !pending.isEmpty else { return false }
            let details = try await client.backupJobDetails(ids: pending, deadline: deadline)
            for (id, job) in details where listed.contains(id) { known[id] = job }
            pending = []
            batches += 1
            return details.values.contains { $0.status == .succeeded }
        }
        for id in ids {
            if let job = known[id] {
                if job.status == .succeeded { break }
                continue
            }
            pending.append(id)
            if pending.count == Self.batchSize, try await fetch() || batches == Self.maxBatches { break }
        }
        _ = try await fetch()
        for (id, job) in known where job.status.isFinished { finished[id] = job }

        var snapshot = BackupSnapshot()
        snapshot.jobsListed = ids.count
        snapshot.newest = ids.first.flatMap { id in known[id].map { (id, $0) } }
        snapshot.lastSuccess = ids.lazy.compactMap { id in known[id].flatMap { $0.status == .succeeded ? (id, $0) : nil } }.first
        snapshot.schedules = schedules.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return (snapshot, finished)
    }

    private static func result<T>(_ body: () async throws(ApplianceError) -> T) async -> Result<T, ApplianceError> {
        do throws(ApplianceError) { return .success(try await body()) } catch { return .failure(error) }
    }

    static func succeeded(in snapshot: ScrapeSnapshot) -> Bool? { snapshot.backup?.succeeded }

    static func timeOut(_ snapshot: inout ScrapeSnapshot, after budget: Duration) {
        guard snapshot.backup == nil else { return }
        snapshot.backup = .failure(.deadlineExceeded)
        snapshot.backupDuration = budget
    }

    static func write(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
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

    static func card(_ snapshot: ScrapeSnapshot, on page: LandingPage) -> JobCard {
        page.card(title, name, snapshot.backup) { backup in
            var card = JobCard(title, state: "None", tone: .none)
            if let (id, job) = backup.newest {
                (card.state, card.tone) = LandingPage.state(job.status.rawValue)
                card.progress = progress(of: job)
                card.error = LandingHTML.message(of: job.error) ?? (job.status == .failed ? job.messages.first?.defaultMessage : nil)
                let scheme = job.locationScheme  // never the path or user of the location
                card.fact("Job", id, detail: job.type.lowercased() + (scheme.isEmpty ? "" : ", to \(scheme)"))
                card.time("Started", job.startTime, now: page.now)
                card.time("Ended", job.endTime, now: page.now)
                if let seconds = duration(of: job, now: snapshot.finishedAt) {
                    card.fact(job.status.isFinished ? "Took" : "Running for", LandingHTML.words(seconds))
                }
                if let size = job.size { card.fact("Size", LandingHTML.bytes(size)) }
                if !job.status.isFinished, let step = job.progress?.message.defaultMessage, !step.isEmpty {
                    card.fact("Step", step)
                }
            } else {
                card.fact("Job", backup.jobsListed == 0 ? "none: the appliance lists no backup job" : "\(backup.jobsListed) listed; the newest could not be read")
            }
            if let (_, success) = backup.lastSuccess, let ended = success.endTime ?? success.startTime {
                card.time("Last success", ended, now: page.now)
            } else {
                card.notes.append("No successful backup is known.")
            }
            if !backup.schedules.isEmpty {
                card.fact("Schedules", backup.schedules.map { "\($0.id) \($0.schedule.enable ? "enabled" : "disabled")" }.joined(separator: ", "))
            }
            return card
        }
    }
}

extension ScrapeSnapshot {
    public var backup: CollectorOutcome<BackupSnapshot>? {
        get { self[slot: "backup"] }
        set { self[slot: "backup"] = newValue }
    }

    public var backupDuration: Duration {
        get { durations[.backup] ?? .zero }
        set { durations[.backup] = newValue }
    }
}
