import ApplianceAPI
import ExporterToolkit
import Logging

extension CollectorName {
    public static let restore = CollectorName("restore")
}

/// The file-based restore job (`GET /api/appliance/recovery/restore/job`). Appliances that do not
/// offer it are noted once and asked again every 10 minutes (see `OptionalAPI`).
actor RestoreCollector: Collector {
    static let name = CollectorName.restore
    static let title = "Restore job"

    private let client: ApplianceClient
    private let logger: Logger
    private var api = OptionalAPI(name: "restore job")

    init(client: ApplianceClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func settled(at now: ContinuousClock.Instant) -> CollectorUpdate? {
        guard api.skipped(at: now) else { return nil }
        return { snapshot, _ in
            snapshot.restore = .unsupported
            snapshot.mark(Self.name, unsupported: true)
        }
    }

    func collect(deadline: ContinuousClock.Instant) async -> CollectorUpdate {
        let client = self.client
        let answer = await CollectorOutcome.of { () async throws(ApplianceError) in try await client.restoreJob(deadline: deadline) }
        let outcome = api.record(answer, at: .now, logger: logger)
        let unsupported = api.unsupported
        return { snapshot, took in
            snapshot.restore = outcome
            snapshot.restoreDuration = took
            snapshot.mark(Self.name, unsupported: unsupported)
        }
    }

    static func succeeded(in snapshot: ScrapeSnapshot) -> Bool? { snapshot.restore?.succeeded }

    static func timeOut(_ snapshot: inout ScrapeSnapshot, after budget: Duration) {
        guard snapshot.restore == nil else { return }
        snapshot.restore = .failure(.deadlineExceeded)
        snapshot.restoreDuration = budget
    }

    static func write(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
        guard case .success(let job) = snapshot.restore else { return }
        writer.family("vcsa_restore_job_state", .gauge, help: "State of the file-based restore job; exactly one state is 1.")
        for candidate in RestoreJob.State.allCases {
            writer.sample("vcsa_restore_job_state", [("state", candidate.rawValue)], candidate == job.state ? 1 : 0)
        }
        writer.single("vcsa_restore_job_progress_ratio", .gauge, help: "Progress of the restore job, from 0 to 1.", Double(job.progress) / 100)
    }

    static func card(_ snapshot: ScrapeSnapshot, on page: LandingPage) -> JobCard {
        page.card(title, name, snapshot.restore) { job in
            let (state, tone) = LandingPage.state(job.state.rawValue)
            var card = JobCard(title, state: state, tone: tone, progress: job.state == .none ? nil : Double(job.progress) / 100)
            let messages = job.messages.map(\.defaultMessage).joined(separator: " ")
            if job.state == .failed {
                card.error = messages.isEmpty ? "the appliance gives no reason" : messages
            } else if !messages.isEmpty {
                card.fact("Message", messages)
            }
            if job.state == .none {
                card.fact("Job", "none: no restore is in progress")
            }
            return card
        }
    }
}

extension ScrapeSnapshot {
    public var restore: CollectorOutcome<RestoreJob>? {
        get { self[slot: "restore"] }
        set { self[slot: "restore"] = newValue }
    }

    public var restoreDuration: Duration {
        get { durations[.restore] ?? .zero }
        set { durations[.restore] = newValue }
    }
}
