/// Holds the one vCenter session this process uses.
///
/// vCenter allows few concurrent sessions, so the id is reused across scrapes; concurrent
/// callers share one login; a refused login backs off instead of retrying on every scrape.
actor SessionManager {
    typealias Login = @Sendable (ContinuousClock.Instant) async throws(ApplianceError) -> String

    private let login: Login
    private let backoff: Duration
    private let maxBackoff: Duration
    private var sessionID: String?
    private var pendingLogin: Task<Result<String, ApplianceError>, Never>?
    private var refusals = 0
    private var retryAt: ContinuousClock.Instant?
    private var lastRefusal: VAPIError?

    init(backoff: Duration, maxBackoff: Duration, login: @escaping Login) {
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.login = login
    }

    /// The current session id, logging in first when there is none.
    func session(deadline: ContinuousClock.Instant) async throws(ApplianceError) -> String {
        if let sessionID { return sessionID }
        if let retryAt, let lastRefusal, ContinuousClock.now < retryAt {
            let seconds = Int((retryAt - ContinuousClock.now).components.seconds) + 1
            throw .loginBackoff(secondsLeft: seconds, lastError: lastRefusal)
        }
        let task: Task<Result<String, ApplianceError>, Never>
        if let pendingLogin {
            task = pendingLogin
        } else {
            let login = self.login
            task = Task { () -> Result<String, ApplianceError> in
                do throws(ApplianceError) { return .success(try await login(deadline)) } catch { return .failure(error) }
            }
            pendingLogin = task
        }
        let result = await task.value
        if pendingLogin == task {
            pendingLogin = nil
            record(result)
        }
        return try result.get()
    }

    private func record(_ result: Result<String, ApplianceError>) {
        switch result {
        case .success(let id):
            sessionID = id
            refusals = 0
            retryAt = nil
            lastRefusal = nil
        case .failure(.api(let status, let error)) where status == 401 || status == 403:
            refusals += 1
            let delay = min(backoff * (1 << min(refusals - 1, 16)), maxBackoff)
            retryAt = ContinuousClock.now + delay
            lastRefusal = error
        case .failure:
            break
        }
    }

    /// Forgets `id` after the appliance said it is no longer valid (another caller may already have replaced it).
    func invalidate(_ id: String) {
        if sessionID == id { sessionID = nil }
    }

    /// Hands over the session for logout and forgets it.
    func take() -> String? {
        defer { sessionID = nil }
        return sessionID
    }
}
