@testable import ApplianceAPI
import Foundation
import Logging
import Synchronization
import TestHarness
import Testing

/// The login back-off, with a clock the test moves and a login function that answers as the test says
/// (the `Login` that `ApplianceClient` gives the manager is the HTTP call; this stands in for it, not for HTTP).
@Suite struct SessionManagerTests {
    /// What the appliance answers to a login, and the passwords it was asked with.
    final class Logins: Sendable {
        private let state = Mutex<(answer: Result<String, ApplianceError>, passwords: [String])>((.failure(refusal), []))
        var passwords: [String] { state.withLock { $0.passwords } }
        func answer(_ answer: Result<String, ApplianceError>) { state.withLock { $0.answer = answer } }

        var login: SessionManager.Login {
            { password, _ throws(ApplianceError) in
                let answer = self.state.withLock { state in
                    state.passwords.append(password)
                    return state.answer
                }
                return try answer.get()
            }
        }
    }

    static let refusal = ApplianceError.api(httpStatus: 401, error: VAPIError(httpStatus: 401, body: []))

    /// What one call for a session came to.
    enum Outcome: Equatable {
        case session(String)
        /// 401 or 403.
        case refused
        /// No login was attempted.
        case backingOff
        case failed(String)
    }

    let clock = ManualClock()
    let logins = Logins()

    func manager(_ password: PasswordSource = .literal("secret")) -> SessionManager {
        SessionManager(password: password, loginTimeout: .seconds(5), backoff: .seconds(10), maxBackoff: .seconds(40),
                       logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, now: clock.now, login: logins.login)
    }

    func session(_ sessions: SessionManager) async -> Outcome {
        // The caller's own wait runs on the real clock; the login answers at once, so this is never reached.
        do throws(ApplianceError) {
            return .session(try await sessions.session(deadline: .now + .seconds(3600)).id)
        } catch .loginBackoff {
            return .backingOff
        } catch .api(401, _), .api(403, _) {
            return .refused
        } catch {
            return .failed("\(error)")
        }
    }

    /// Still backing off a millisecond before `delay` has passed, and logging in (refused again) once it has.
    func expectBackOff(_ sessions: SessionManager, _ delay: Duration, sourceLocation: SourceLocation = #_sourceLocation) async {
        let attempts = logins.passwords.count
        clock.advance(by: delay - .milliseconds(1))
        #expect(await session(sessions) == .backingOff, "before \(delay)", sourceLocation: sourceLocation)
        #expect(logins.passwords.count == attempts, "no login before \(delay)", sourceLocation: sourceLocation)
        clock.advance(by: .milliseconds(1))
        #expect(await session(sessions) == .refused, "after \(delay)", sourceLocation: sourceLocation)
        #expect(logins.passwords.count == attempts + 1, sourceLocation: sourceLocation)
    }

    @Test func aRefusedLoginIsNotRetriedUntilTheBackOffPasses() async {
        let sessions = manager()
        #expect(await session(sessions) == .refused)
        #expect(await session(sessions) == .backingOff)
        #expect(logins.passwords == ["secret"])
        await expectBackOff(sessions, .seconds(10))
    }

    @Test func theBackOffDoublesUpToTheMaximum() async {
        let sessions = manager()
        #expect(await session(sessions) == .refused)
        for delay in [10, 20, 40, 40] { await expectBackOff(sessions, .seconds(delay)) }
        #expect(logins.passwords.count == 5)
    }

    @Test func theBackOffReportsTheSecondsLeftAndTheLastError() async {
        let sessions = manager()
        _ = await session(sessions)
        clock.advance(by: .milliseconds(7500))
        await #expect {
            _ = try await sessions.session(deadline: .now + .seconds(3600))
        } throws: { error in
            guard case ApplianceError.loginBackoff(let secondsLeft, .api(401, _)) = error else { return false }
            return secondsLeft == 3
        }
    }

    /// Only refused credentials and logins that ran out of time back off; an appliance that cannot be reached is tried again at once.
    @Test func onlyRefusalsAndTimeoutsBackOff() async {
        let sessions = manager()
        logins.answer(.failure(.transport("connection refused")))
        #expect(await session(sessions) == .failed("transport error: connection refused"))
        #expect(await session(sessions) == .failed("transport error: connection refused"))
        logins.answer(.failure(.api(httpStatus: 403, error: VAPIError(httpStatus: 403, body: []))))
        #expect(await session(sessions) == .refused)
        #expect(await session(sessions) == .backingOff)
        clock.advance(by: .seconds(10))
        logins.answer(.failure(.deadlineExceeded))
        #expect(await session(sessions) == .failed("deadline exceeded"))
        #expect(await session(sessions) == .backingOff, "a login that timed out may have made a session anyway")
        #expect(logins.passwords.count == 4)
    }

    /// A login that works is not yet a success: a session the appliance then refuses (HA nodes that
    /// share no sessions) counts as one more failure.
    @Test func aSessionRefusedBeforeItsFirstAnswerBacksOffFurther() async {
        let sessions = manager()
        #expect(await session(sessions) == .refused)
        clock.advance(by: .seconds(10))
        logins.answer(.success("s1"))
        #expect(await session(sessions) == .session("s1"))
        await sessions.refused("s1", error: Self.refusal)
        logins.answer(.failure(Self.refusal))
        await expectBackOff(sessions, .seconds(20))
    }

    @Test func anAcceptedSessionResetsTheBackOff() async {
        let sessions = manager()
        #expect(await session(sessions) == .refused)
        await expectBackOff(sessions, .seconds(10))
        clock.advance(by: .seconds(20))
        logins.answer(.success("s1"))
        #expect(await session(sessions) == .session("s1"))
        await sessions.accepted("s1")
        // The session expires, and the next login is refused: the back-off starts again from its first step.
        await sessions.invalidate("s1")
        logins.answer(.failure(Self.refusal))
        #expect(await session(sessions) == .refused)
        await expectBackOff(sessions, .seconds(10))
    }

    @Test func aRotatedPasswordFileEndsTheBackOffAtOnce() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("password-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "old\n".write(toFile: path, atomically: true, encoding: .utf8)
        let sessions = manager(try PasswordSource.file(path))
        #expect(await session(sessions) == .refused)
        try "old\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(await session(sessions) == .backingOff, "the same password, written again")
        try "new\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(await session(sessions) == .refused, "tried at once")
        #expect(logins.passwords == ["old", "new"])
        #expect(await session(sessions) == .backingOff, "the new password was refused too")
        await expectBackOff(sessions, .seconds(20))
    }
}
