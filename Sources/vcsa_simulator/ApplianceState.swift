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

        enum CodingKeys: String, CodingKey {
            case logins, logouts, cancels
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
    let latency: Duration
    /// Extra delay before answering a login only (a slow SSO, as during a restore).
    let loginLatency: Duration
    let state: Mutex<State>

    init(username: String, password: String, scenario: ReconciliationScenario, restore: RestoreScenario, cancelOutcome: CancelOutcome,
         progressDuration: TimeInterval, sessionExpiryRequests: Int, latency: Duration, loginLatency: Duration) {
        self.username = username
        self.loginLatency = loginLatency
        self.progressDuration = progressDuration
        self.sessionExpiryRequests = sessionExpiryRequests
        self.latency = latency
        self.state = Mutex(State(scenario: scenario, restore: restore, cancelOutcome: cancelOutcome, password: password))
    }

    /// Requests a session may make before it expires (0: never).
    func expiryBudget(_ scenario: ReconciliationScenario) -> Int {
        if sessionExpiryRequests > 0 { return sessionExpiryRequests }
        return scenario == .expiring ? 3 : 0
    }

    /// Extra delay before each API answer.
    func delay(_ scenario: ReconciliationScenario) -> Duration {
        if latency > .zero { return latency }
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
}
