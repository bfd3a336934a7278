import ApplianceAPI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
/// With nothing new, a scrape costs two calls (the list and the schedules).
final class BackupCollector: @unchecked Sendable {
    /// Jobs asked for in one details call, and calls at most in one scrape (later scrapes go on from the cache).
    static let batchSize = 10
    static let maxBatches = 3

    private let client: ApplianceClient
    /// Finished jobs by id; only touched inside one scrape round at a time (rounds are serialised).
    private var finished: [String: BackupJobDetails] = [:]

    init(client: ApplianceClient) {
        self.client = client
    }

    func collect(deadline: ContinuousClock.Instant) async throws(ApplianceError) -> BackupSnapshot {
        let client = self.client
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
        return snapshot
    }

    private static func result<T>(_ body: () async throws(ApplianceError) -> T) async -> Result<T, ApplianceError> {
        do throws(ApplianceError) { return .success(try await body()) } catch { return .failure(error) }
    }
}
