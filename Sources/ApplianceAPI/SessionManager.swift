import Logging

/// Holds the one vCenter session this process uses.
///
/// vCenter allows few concurrent sessions, so the id is reused across scrapes and concurrent
/// callers share one login. A login runs on its own time (`loginTimeout`), not the budget of the
/// scrape that started it: cut short, it would still create a session on the appliance. Callers
/// wait for it only until their own deadline. A refused or timed-out login backs off instead of
/// being retried on every scrape (SSO locks accounts after a few failures), unless the password changed.
actor SessionManager {
    typealias Login = @Sendable (_ password: String, _ deadline: ContinuousClock.Instant) async throws(ApplianceError) -> String

    private let login: Login
    private let password: PasswordSource
    private let loginTimeout: Duration
    private let backoff: Duration
    private let maxBackoff: Duration
    private let logger: Logger
    /// The clock the back-off runs on (a test's moves when the test says so). A login's own deadline
    /// bounds real I/O, so it stays on the real clock.
    private let now: @Sendable () -> ContinuousClock.Instant

    private var sessionID: String?
    /// The current session's password, and whether a call has been answered with it yet.
    private var sessionPassword: String?
    private var sessionUsed = false
    private var pendingLogin: Task<Result<Session, ApplianceError>, Never>?
    private var failures = 0
    private var retryAt: ContinuousClock.Instant?
    private var lastFailure: ApplianceError?
    /// The password of the last failed login: a different one ends the back-off at once.
    private var failedPassword: String?
    /// Set by `close()`: no new logins once the process is logging out.
    private var closed = false

    init(password: PasswordSource, loginTimeout: Duration, backoff: Duration, maxBackoff: Duration, logger: Logger,
         now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }, login: @escaping Login) {
        self.password = password
        self.loginTimeout = loginTimeout
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.logger = logger
        self.now = now
        self.login = login
    }

    /// A session id, and whether the appliance has answered a call made with it: a 401 on a session
    /// never used is a refused login, not an expiry.
    struct Session: Sendable {
        var id: String
        var used: Bool
    }

    /// The current session, logging in first when there is none; waits no later than `deadline`.
    func session(deadline: ContinuousClock.Instant) async throws(ApplianceError) -> Session {
        if let sessionID { return Session(id: sessionID, used: sessionUsed) }
        if closed { throw .transport("the exporter is shutting down") }
        let task: Task<Result<Session, ApplianceError>, Never>
        if let pendingLogin { task = pendingLogin } else { task = try startLogin() }
        let result = try await DeadlineRace.run(until: deadline) { await task.value }
        return try result.get()
    }

    private func startLogin() throws(ApplianceError) -> Task<Result<Session, ApplianceError>, Never> {
        let (password, problem) = self.password.current()
        if let problem {
            logger.error("Cannot read the password file; using the password read last", metadata: ["error": "\(problem)"])
        }
        let now = self.now()
        if let retryAt, let lastFailure, now < retryAt {
            guard password != failedPassword else {
                let seconds = Int((retryAt - now).components.seconds) + 1
                throw .loginBackoff(secondsLeft: seconds, lastError: lastFailure)
            }
            logger.info("The password changed; logging in again without waiting for the back-off")
        }
        let login = self.login
        let deadline = ContinuousClock.now + loginTimeout
        let task = Task { () -> Result<Session, ApplianceError> in
            let result: Result<String, ApplianceError>
            do throws(ApplianceError) { result = .success(try await login(password, deadline)) } catch { result = .failure(error) }
            return self.record(result, password: password)
        }
        pendingLogin = task
        return task
    }

    /// Called by the login itself, so that its outcome counts even when every caller stopped waiting.
    private func record(_ result: Result<String, ApplianceError>, password: String) -> Result<Session, ApplianceError> {
        pendingLogin = nil
        switch result {
        case .success(let id):
            sessionID = id
            sessionPassword = password
            sessionUsed = false
            // Failures end only once the session has been used: see `accepted` and `refused`.
            return .success(Session(id: id, used: false))
        case .failure(let error):
            if Self.backsOff(error) { backOff(after: error, password: password, message: "Login failed; backing off") }
            return .failure(error)
        }
    }

    private func backOff(after error: ApplianceError, password: String, message: Logger.Message) {
        failures += 1
        let delay = min(backoff * (1 << min(failures - 1, 16)), maxBackoff)
        retryAt = now() + delay
        lastFailure = error
        failedPassword = password
        logger.warning(message, metadata: ["error": "\(error)", "retry_in_seconds": "\(delay.components.seconds)"])
    }

    /// The appliance answered a call made with `id`: the login worked, and the back-off ends.
    func accepted(_ id: String) {
        guard sessionID == id else { return }
        sessionUsed = true
        failures = 0
        retryAt = nil
        lastFailure = nil
        failedPassword = nil
    }

    /// The appliance refused a session it has never answered a call with (HA nodes behind a load
    /// balancer that share no sessions do this): a failed login, which backs off, not an expiry;
    /// logging in again at once would leave one more session on the appliance every scrape. The caller logs it out.
    func refused(_ id: String, error: ApplianceError) {
        guard sessionID == id else { return }
        sessionID = nil
        backOff(after: error, password: sessionPassword ?? "", message: "The appliance refused a session it had just created; backing off")
    }

    /// Refused credentials and logins that ran out of time (they may have created a session anyway).
    private static func backsOff(_ error: ApplianceError) -> Bool {
        switch error {
        case .api(let status, _): return status == 401 || status == 403
        case .deadlineExceeded: return true
        default: return false
        }
    }

    /// Forgets `id` after the appliance said it is no longer valid (another caller may already have replaced it).
    func invalidate(_ id: String) {
        if sessionID == id { sessionID = nil }
    }

    /// Stops new logins and hands over the session for logout, after a login in flight (bounded by `deadline`).
    func close(deadline: ContinuousClock.Instant) async -> String? {
        closed = true
        if let pendingLogin {
            _ = try? await DeadlineRace.run(until: deadline) { await pendingLogin.value }
        }
        defer { sessionID = nil }
        return sessionID
    }
}
