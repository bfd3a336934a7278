import ApplianceAPI
import Foundation
import Synchronization

/// Everything the simulated appliance remembers: scenarios, sessions and request counts.
final class ApplianceState: Sendable {
    struct Stats: Codable, Sendable {
        var logins = 0
        var failedLogins = 0
        var logouts = 0
        var activeSessions = 0
        var reconciliationGets = 0
        var restoreGets = 0
        var cancels = 0
        var backupListGets = 0
        var backupDetailsGets = 0
        /// Job ids asked for in all details calls together.
        var backupDetailsJobs = 0
        var backupScheduleGets = 0

        enum CodingKeys: String, CodingKey {
            case logins, logouts, cancels
            case backupListGets = "backup_list_gets"
            case backupDetailsGets = "backup_details_gets"
            case backupDetailsJobs = "backup_details_jobs"
            case backupScheduleGets = "backup_schedule_gets"
            case failedLogins = "failed_logins"
            case activeSessions = "active_sessions"
            case reconciliationGets = "reconciliation_gets"
            case restoreGets = "restore_gets"
        }
    }

    struct State {
        var scenario: ReconciliationScenario
        var scenarioStart = Date()
        var restore: RestoreScenario
        var backup: BackupScenario
        /// When the backup scenario was set: job times (and so ids) are fixed from it, as real finished jobs are.
        var backupAnchor = Date()
        var cancelOutcome: CancelOutcome
        /// The accepted password; the control API changes it, as an SSO password rotation would.
        var password: String
        /// session id -> authenticated requests left (nil: never expires).
        var sessions: [String: Int?] = [:]
        var stats = Stats()
    }

    let username: String
    let progressDuration: TimeInterval
    let sessionExpiryRequests: Int
    /// Every authenticated call is refused: the session lives on a node the next call does not reach.
    let unsharedSessions: Bool
    let latency: Duration
    /// The paths `latency` applies to; empty: all.
    let latencyPaths: Set<String>
    /// Extra delay before answering a login only (a slow SSO, as during a restore).
    let loginLatency: Duration
    let state: Mutex<State>

    init(username: String, password: String, scenario: ReconciliationScenario, restore: RestoreScenario, backup: BackupScenario, cancelOutcome: CancelOutcome,
         progressDuration: TimeInterval, sessionExpiryRequests: Int, unsharedSessions: Bool = false, latency: Duration, latencyPaths: Set<String> = [], loginLatency: Duration) {
        self.username = username
        self.loginLatency = loginLatency
        self.progressDuration = progressDuration
        self.sessionExpiryRequests = sessionExpiryRequests
        self.unsharedSessions = unsharedSessions
        self.latency = latency
        self.latencyPaths = latencyPaths
        self.state = Mutex(State(scenario: scenario, restore: restore, backup: backup, cancelOutcome: cancelOutcome, password: password))
    }

    /// Requests a session may make before it expires (0: never).
    func expiryBudget(_ scenario: ReconciliationScenario) -> Int {
        if sessionExpiryRequests > 0 { return sessionExpiryRequests }
        return scenario == .expiring ? 3 : 0
    }

    /// Extra delay before each API answer.
    func delay(_ scenario: ReconciliationScenario, path: String) -> Duration {
        if latency > .zero { return latencyPaths.isEmpty || latencyPaths.contains(path) ? latency : .zero }
        return scenario == .slow ? .seconds(5) : .zero
    }

    /// The reconciliation job as the progressing scenario has it at `now`.
    func progressingJob(start: Date, now: Date) -> ReconciliationJob {
        let fraction = progressDuration > 0 ? now.timeIntervalSince(start) / progressDuration : 1
        guard fraction < 1 else {
            return Bodies.job(.succeeded, progress: 100, start: start, end: start.addingTimeInterval(progressDuration))
        }
        return Bodies.job(.running, progress: Int64(max(0, fraction) * 100), start: start, end: nil)
    }

    /// The backup jobs a scenario lists, newest first: nightly runs at anchor − 6 h − k days, 20 minutes each.
    static func backupJobs(_ scenario: BackupScenario, anchor: Date, now: Date) -> [(id: String, details: BackupJobDetails)] {
        let day: TimeInterval = 86_400
        func nightly(_ count: Int, from first: Int = 0, shift: TimeInterval = 0) -> [(String, BackupJobDetails)] {
            (first..<(first + count)).map { k in
                let start = anchor.addingTimeInterval(-6 * 3600 - Double(k) * day - shift)
                let size = Int64(1_500_000_000 + k % 7 * 10_000_000)
                return (Bodies.backupID(start), Bodies.backup(.succeeded, start: start, end: start.addingTimeInterval(1200), now: now, size: size))
            }
        }
        switch scenario {
        case .never, .unsupported: return []
        case .first: return nightly(1)
        case .nightly, .disabled: return nightly(7)
        case .many: return nightly(500)
        case .stale: return nightly(7, shift: 3 * day)
        case .lastFailed:
            let start = anchor.addingTimeInterval(-6 * 3600)
            let failed = Bodies.backup(.failed, start: start, end: start.addingTimeInterval(300), now: now, size: 200_000_000, error: Bodies.backupFailure)
            return [(Bodies.backupID(start), failed)] + nightly(6, from: 1)
        case .running:
            let start = anchor.addingTimeInterval(-600)
            return [(Bodies.backupID(start), Bodies.backup(.running, start: start, end: nil, now: now, size: 600_000_000))] + nightly(7)
        }
    }

    /// The one schedule every scenario but `never`'s missing runs keeps: nightly at 02:00, the last 7 (500 for `many`) kept.
    static func backupSchedules(_ scenario: BackupScenario) -> [String: BackupSchedule] {
        [
            "default": BackupSchedule(parts: ["seat"], location: "sftp://backup.example.com/vcsa", enable: scenario != .disabled,
                                      recurrenceInfo: .init(minute: 0, hour: 2), retentionInfo: .init(maxCount: scenario == .many ? 500 : 7)),
        ]
    }
}
