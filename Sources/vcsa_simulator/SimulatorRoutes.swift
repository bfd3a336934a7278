import ApplianceAPI
import Foundation
import MicroHTTPD

/// The appliance API as the spec describes it, plus a small control API for tests and demos.
struct SimulatorRoutes: Sendable {
    let appliance: ApplianceState

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        if request.path.hasPrefix("/simulator/") { return control(request) }
        let scenario = appliance.state.withLock { $0.scenario }
        let delay = appliance.delay(scenario, path: request.path)
        if delay > .zero { try? await Task.sleep(for: delay) }
        switch (request.method, request.path) {
        case ("POST", "/api/session"):
            if appliance.loginLatency > .zero { try? await Task.sleep(for: appliance.loginLatency) }
            return login(request, scenario: scenario)
        case ("DELETE", "/api/session"): return logout(request)
        case ("GET", "/api/appliance/recovery/reconciliation/job"):
            return authenticated(request) { reconciliation(scenario) }
        case ("GET", "/api/appliance/recovery/restore/job"):
            return authenticated(request) { restore() }
        case ("POST", "/api/appliance/recovery/restore/job"):
            return authenticated(request) { cancel(request) }
        case ("GET", "/api/appliance/recovery/backup/job"), ("GET", "/api/appliance/recovery/backup/job/details"),
             ("GET", "/api/appliance/recovery/backup/schedules"):
            return authenticated(request) { backup(request) }
        default:
            return Self.vapi(404, Bodies.error(.notFound, VAPIError.routeNotFoundMessageID, "Not found."))
        }
    }

    // MARK: Sessions

    private func login(_ request: HTTPRequest, scenario: ReconciliationScenario) -> HTTPResponse {
        let password = appliance.state.withLock { $0.password }
        let expected = "Basic " + Data("\(appliance.username):\(password)".utf8).base64EncodedString()
        guard scenario != .badCredentials, request.header("authorization") == expected else {
            appliance.state.withLock { $0.stats.failedLogins += 1 }
            return Self.vapi(401, Bodies.error(.unauthenticated, "com.vmware.vapi.endpoint.failedToLoginMaxSessionCountReached", "Authentication failed: invalid user name or password."))
        }
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        appliance.state.withLock { state in
            let budget = appliance.expiryBudget(state.scenario)
            state.sessions[id] = budget > 0 ? budget : nil
            state.stats.logins += 1
        }
        return Self.json(201, id)
    }

    private func logout(_ request: HTTPRequest) -> HTTPResponse {
        let removed = appliance.state.withLock { state -> Bool in
            guard let id = request.header("vmware-api-session-id"), state.sessions.removeValue(forKey: id) != nil else { return false }
            state.stats.logouts += 1
            return true
        }
        return removed ? HTTPResponse(status: 204) : Self.unauthenticated
    }

    /// Runs `body` for a valid session; counts the request against an expiring session's budget.
    private func authenticated(_ request: HTTPRequest, _ body: () -> HTTPResponse) -> HTTPResponse {
        if appliance.unsharedSessions { return Self.unauthenticated }
        let valid = appliance.state.withLock { state -> Bool in
            guard let id = request.header("vmware-api-session-id"), let entry = state.sessions[id] else { return false }
            if let left = entry {
                if left <= 0 {
                    state.sessions.removeValue(forKey: id)
                    return false
                }
                state.sessions[id] = left - 1
            }
            return true
        }
        return valid ? body() : Self.unauthenticated
    }

    static let unauthenticated = vapi(401, Bodies.error(.unauthenticated, VAPIError.authenticationRequiredMessageID, "This method requires authentication."))

    // MARK: Jobs

    private func reconciliation(_ scenario: ReconciliationScenario) -> HTTPResponse {
        let (start, now) = appliance.state.withLock { state in
            state.stats.reconciliationGets += 1
            return (state.scenarioStart, Date())
        }
        switch scenario {
        case .none, .badCredentials:
            return Self.vapi(404, Bodies.error(.notFound, "com.vmware.appliance.recovery.reconciliation.job.not_found", "There is no running reconciliation job."))
        case .idle: return Self.json(200, Bodies.job(.none, progress: 0, start: nil, end: nil))
        case .running, .slow: return Self.json(200, Bodies.job(.running, progress: 42, start: start, end: nil))
        case .progressing, .expiring: return Self.json(200, appliance.progressingJob(start: start, now: now))
        case .stalled: return Self.json(200, Bodies.job(.running, progress: 37, start: start, end: nil))
        // A finished job ended when the scenario was set, never in the future.
        case .succeeded: return Self.json(200, Bodies.job(.succeeded, progress: 100, start: start.addingTimeInterval(-1800), end: start))
        case .failed:
            return Self.json(200, Bodies.job(.failed, progress: 63, start: start.addingTimeInterval(-900), end: start, error: Bodies.jobFailure))
        case .unknownStatus:
            var body = Self.json(200, Bodies.job(.running, progress: 50, start: start, end: nil))
            body.body = Array(String(decoding: body.body, as: UTF8.self).replacingOccurrences(of: "\"RUNNING\"", with: "\"PAUSED\"").utf8)
            return body
        case .error500: return Self.vapi(500, Bodies.error(.error, "com.vmware.appliance.recovery.internal", "Internal error while reading the reconciliation job."))
        case .unavailable503: return Self.vapi(503, Bodies.error(.serviceUnavailable, "com.vmware.vapi.std.errors.service_unavailable", "The service is starting."))
        case .malformedJSON: return HTTPResponse(status: 200, contentType: "application/json", body: #"{"status": "RUNNING", "progress": "#)
        case .routeNotFound: return Self.vapi(404, Bodies.error(.notFound, VAPIError.routeNotFoundMessageID, "Not found."))
        case .legacyBusy:
            return HTTPResponse(status: 500, contentType: "application/json",
                                body: #"{"type":"com.vmware.vapi.std.errors.resource_busy","value":{"messages":[{"id":"com.vmware.appliance.busy","default_message":"Busy.","args":[]}]}}"#)
        case .oversized:
            return HTTPResponse(status: 200, contentType: "application/json", body: "[" + String(repeating: "0,", count: 700_000) + "0]")
        }
    }

    private func restore() -> HTTPResponse {
        let scenario = appliance.state.withLock { state in
            state.stats.restoreGets += 1
            return state.restore
        }
        let messages = [Bodies.message("com.vmware.appliance.recovery.restore.progress", "Restoring the appliance from backup")]
        switch scenario {
        case .none: return Self.json(200, RestoreJob(state: .none, messages: [], progress: 0))
        case .inProgress: return Self.json(200, RestoreJob(state: .inProgress, messages: messages, progress: 55))
        case .succeeded: return Self.json(200, RestoreJob(state: .succeeded, messages: messages, progress: 100))
        case .failed:
            return Self.json(200, RestoreJob(state: .failed, messages: [Bodies.message("com.vmware.appliance.recovery.restore.failed", "Restore failed.")], progress: 40))
        case .unsupported: return Self.vapi(404, Bodies.error(.notFound, VAPIError.routeNotFoundMessageID, "Not found."))
        }
    }

    // MARK: Backups

    private func backup(_ request: HTTPRequest) -> HTTPResponse {
        let (scenario, anchor) = appliance.state.withLock { state in
            switch request.path {
            case "/api/appliance/recovery/backup/job": state.stats.backupListGets += 1
            case "/api/appliance/recovery/backup/schedules": state.stats.backupScheduleGets += 1
            default: state.stats.backupDetailsGets += 1
            }
            return (state.backup, state.backupAnchor)
        }
        guard scenario != .unsupported else { return Self.vapi(404, Bodies.error(.notFound, VAPIError.routeNotFoundMessageID, "Not found.")) }
        let jobs = ApplianceState.backupJobs(scenario, anchor: anchor, now: Date())
        switch request.path {
        case "/api/appliance/recovery/backup/job":
            return Self.json(200, jobs.map(\.id))
        case "/api/appliance/recovery/backup/schedules":
            return Self.json(200, ApplianceState.backupSchedules(scenario))
        default:
            // `jobs=ID&jobs=ID` (collectionFormat multi); none means every job.
            let wanted = request.query.split(separator: "&").compactMap { $0.hasPrefix("jobs=") ? String($0.dropFirst(5)) : nil }
            appliance.state.withLock { $0.stats.backupDetailsJobs += wanted.isEmpty ? jobs.count : wanted.count }
            let selected = wanted.isEmpty ? jobs : jobs.filter { wanted.contains($0.id) }
            return Self.json(200, Dictionary(uniqueKeysWithValues: selected.map { ($0.id, $0.details) }))
        }
    }

    /// `POST ...?action=cancel`: an accepted cancel moves an in-progress restore to FAILED, as the appliance does.
    private func cancel(_ request: HTTPRequest) -> HTTPResponse {
        guard request.query == "action=cancel" else {
            return Self.vapi(400, Bodies.error(.invalidArgument, "com.vmware.vapi.rest.badRequest", "Expected ?action=cancel."))
        }
        let outcome = appliance.state.withLock { state -> CancelOutcome in
            state.stats.cancels += 1
            if [.ok, .warning, .unknownStatus].contains(state.cancelOutcome) && state.restore == .inProgress {
                state.restore = .failed
            }
            return state.cancelOutcome
        }
        let message = Bodies.message("com.vmware.appliance.recovery.restore.cancel", "Restore cancel: \(outcome.rawValue)")
        switch outcome {
        case .ok: return Self.json(200, CancelResult(status: .ok, messages: [message]))
        case .warning: return Self.json(200, CancelResult(status: .warning, messages: [message]))
        case .fail: return Self.json(200, CancelResult(status: .fail, messages: [message]))
        case .error: return Self.vapi(500, Bodies.error(.error, "com.vmware.appliance.recovery.restore.cancel.error", "Cancel failed inside the appliance."))
        case .unknownStatus:
            // A later appliance may add statuses: the cancel happened, with a status this exporter does not know.
            var body = Self.json(200, CancelResult(status: .ok, messages: [message]))
            body.body = Array(String(decoding: body.body, as: UTF8.self).replacingOccurrences(of: "\"OK\"", with: "\"PARTIAL\"").utf8)
            return body
        }
    }

    // MARK: Control API

    private func control(_ request: HTTPRequest) -> HTTPResponse {
        let value = String(decoding: request.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        switch (request.method, request.path) {
        case ("GET", "/simulator/stats"):
            return Self.json(200, appliance.state.withLock { state in
                var stats = state.stats
                stats.activeSessions = state.sessions.count
                return stats
            })
        case ("POST", "/simulator/reset"):
            appliance.state.withLock { $0.stats = ApplianceState.Stats() }
            return HTTPResponse(status: 204)
        case ("PUT", "/simulator/scenario"):
            return choose(value) { (state, scenario: ReconciliationScenario) in
                state.scenario = scenario
                state.scenarioStart = Date()
            }
        case ("PUT", "/simulator/restore-scenario"):
            return choose(value) { (state, scenario: RestoreScenario) in state.restore = scenario }
        case ("PUT", "/simulator/password"):
            guard !value.isEmpty else { return .text(400, "expected the new password as the body") }
            appliance.state.withLock { $0.password = value }
            return HTTPResponse(status: 204)
        case ("PUT", "/simulator/backup-scenario"):
            return choose(value) { (state, scenario: BackupScenario) in
                state.backup = scenario
                state.backupAnchor = Date()
            }
        case ("PUT", "/simulator/cancel-result"):
            return choose(value) { (state, outcome: CancelOutcome) in state.cancelOutcome = outcome }
        default:
            return .text(404, "Not Found")
        }
    }

    /// Sets a scenario (or cancel answer) named in a control request's body; 400 with the known names otherwise.
    private func choose<Choice: RawRepresentable & CaseIterable>(_ value: String, _ apply: (inout ApplianceState.State, Choice) -> Void) -> HTTPResponse
    where Choice.RawValue == String {
        guard let choice = Choice(rawValue: value) else { return Self.unknown(value, Choice.allCases.map(\.rawValue)) }
        appliance.state.withLock { apply(&$0, choice) }
        return HTTPResponse(status: 204)
    }

    static func unknown(_ value: String, _ known: [String]) -> HTTPResponse {
        .text(400, "unknown value \"\(value)\"; expected one of: \(known.joined(separator: ", "))")
    }

    // MARK: Encoding

    static func json<T: Encodable>(_ status: Int, _ value: T) -> HTTPResponse {
        let data = (try? ApplianceJSON.encoder().encode(value)) ?? Data()
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    static func vapi(_ status: Int, _ error: VAPIError) -> HTTPResponse {
        json(status, error)
    }
}
