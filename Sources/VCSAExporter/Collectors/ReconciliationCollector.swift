import ApplianceAPI
import ExporterToolkit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

extension CollectorName {
    public static let reconciliation = CollectorName("reconciliation")
}

/// The reconciliation job (`GET /api/appliance/recovery/reconciliation/job`), and when its progress
/// last changed: a job that stalls still says RUNNING.
actor ReconciliationCollector: Collector {
    static let name = CollectorName.reconciliation
    static let title = "Reconciliation job"

    private let client: ApplianceClient
    private let logger: Logger
    private let tracker = ProgressTracker()

    init(client: ApplianceClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func settled(at now: ContinuousClock.Instant) -> CollectorUpdate? { nil }

    func collect(deadline: ContinuousClock.Instant) async -> CollectorUpdate {
        let client = self.client
        let outcome = await CollectorOutcome.of { () async throws(ApplianceError) in try await client.reconciliationJob(deadline: deadline) }
        var changed: Date?
        switch outcome {
        case .failure(let error):
            logger.warning("Reconciliation job scrape failed", metadata: ["error_type": "\(error.errorType)", "error": "\(error)"])
        case .success(let job?):
            changed = tracker.observe(job, at: Date())
        default:
            break
        }
        return { [changed] snapshot, took in
            snapshot.reconciliation = outcome
            snapshot.reconciliationDuration = took
            if let changed { snapshot.lastProgressChange = changed }
        }
    }

    static func succeeded(in snapshot: ScrapeSnapshot) -> Bool? { snapshot.reconciliation?.succeeded }

    static func timeOut(_ snapshot: inout ScrapeSnapshot, after budget: Duration) {
        guard snapshot.reconciliation == nil else { return }
        snapshot.reconciliation = .failure(.deadlineExceeded)
        snapshot.reconciliationDuration = budget
    }

    static func write(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
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

    static func card(_ snapshot: ScrapeSnapshot, on page: LandingPage) -> JobCard {
        page.card(title, name, snapshot.reconciliation) { job in
            guard let job else {
                var card = JobCard(title, state: "None", tone: .none)
                card.fact("Job", "none: the appliance reports no reconciliation job")
                return card
            }
            let (state, tone) = LandingPage.state(job.status.rawValue)
            var card = JobCard(title, state: state, tone: tone, progress: Double(job.progress) / 100)
            card.error = LandingHTML.message(of: job.error)
            card.time("Started", job.startTime, now: page.now)
            card.time("Ended", job.endTime, now: page.now)
            if let start = job.startTime, let end = job.endTime ?? (job.status == .running ? snapshot.finishedAt : nil) {
                card.fact(job.endTime == nil ? "Running for" : "Took", LandingHTML.words(end.timeIntervalSince(start)))
            }
            if job.status == .running {
                card.time("Progress changed", snapshot.lastProgressChange, now: page.now)
            }
            if let message = job.messages.first {
                card.fact("Message", message.defaultMessage)
            }
            return card
        }
    }
}

extension ScrapeSnapshot {
    public var reconciliation: CollectorOutcome<ReconciliationJob?>? {
        get { self[slot: "reconciliation"] }
        set { self[slot: "reconciliation"] = newValue }
    }

    public var reconciliationDuration: Duration {
        get { durations[.reconciliation] ?? .zero }
        set { durations[.reconciliation] = newValue }
    }

    /// When the exporter last saw reconciliation progress change (set with a present job).
    public var lastProgressChange: Date? {
        get { self[slot: "reconciliation.lastProgressChange"] }
        set { self[slot: "reconciliation.lastProgressChange"] = newValue }
    }
}
