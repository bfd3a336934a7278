import Foundation
import TestHarness
import Testing

/// The exporter holds one vCenter session, renews it once when it expires, backs off when refused, and deletes it on exit.
@Suite struct SessionTests {
    @Test func oneLoginAcrossManyScrapes() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator)
        for _ in 0..<20 { #expect(try await exporter.metrics()["vcsa_up"] == 1) }
        let stats = try await simulator.stats()
        #expect(stats.logins == 1)
        #expect(stats.active_sessions == 1)
        #expect(stats.reconciliation_gets == 20 && stats.restore_gets == 20)
        let metrics = try await exporter.metrics()
        #expect(metrics["vcsa_api_requests_total{operation=\"session_create\"}"] == 1)
        #expect(metrics["vcsa_api_requests_total{operation=\"reconciliation_job_get\"}"] == 21)
    }

    @Test func expiredSessionIsRenewedOnceAndTheScrapeSucceeds() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--session-expiry-requests", "2"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        for _ in 0..<6 { #expect(try await exporter.metrics()["vcsa_up"] == 1) }
        let stats = try await simulator.stats()
        // Requests 1-2 on session 1, the 3rd is refused and retried on session 2, and so on.
        #expect(stats.logins == 3)
        #expect(stats.active_sessions == 1)
        #expect(try await exporter.metrics()["vcsa_api_request_errors_total{error_type=\"UNAUTHENTICATED\"}"] == 3)
    }

    /// Two HA nodes behind a load balancer that share no sessions: the login works, the next call
    /// is refused. That is a failed login (it backs off), not an expiry (a login every scrape), and
    /// the refused session is logged out instead of being left to count against vCenter's limit.
    @Test func aSessionRefusedRightAfterItsLoginBacksOffAndIsLoggedOut() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--unshared-sessions"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        let started = ContinuousClock.now
        for _ in 0..<5 { #expect(try await exporter.metrics()["vcsa_up"] == 0) }
        try await Self.expectBackedOffAndLoggedOut(simulator, exporter, since: started)
    }

    /// The same appliance, with a login slower than the scrape: the first scrape gives up, the login
    /// finishes in the background, and the next scrape's 401 is on a session never used. Still a
    /// refused login, not an expiry.
    @Test func aSessionRefusedOnItsFirstUseInALaterScrapeIsStillARefusedLogin() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--unshared-sessions", "--login-latency", "2"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "1s"])
        let started = ContinuousClock.now
        #expect(try await exporter.metrics()["vcsa_up"] == 0, "the scrape's deadline comes before the login's answer")
        try await eventually { try await simulator.stats().logins >= 1 }
        for _ in 0..<3 { #expect(try await exporter.metrics()["vcsa_up"] == 0) }
        try await Self.expectBackedOffAndLoggedOut(simulator, exporter, since: started)
    }

    /// One login per back-off window (30 s, doubling) at most, however many scrapes, and every
    /// refused session logged out. On a slow machine a window may end between scrapes: a second
    /// login then is the back-off working, so the count allowed follows the time taken.
    static func expectBackedOffAndLoggedOut(_ simulator: Simulator, _ exporter: Exporter, since started: ContinuousClock.Instant) async throws {
        let windows = Int((ContinuousClock.now - started).components.seconds / 30) + 1
        // The logout runs beside the scrape that was refused.
        try await eventually { let stats = try await simulator.stats(); return stats.logouts >= stats.logins }
        let stats = try await simulator.stats()
        #expect(stats.logins >= 1 && stats.logins <= windows, "at most one login per 30 s back-off window: \(stats), \(windows) window(s)")
        #expect(stats.logouts == stats.logins && stats.active_sessions == 0, "every refused session is logged out: \(stats)")
        #expect(exporter.child.output.contains("The appliance refused a session it had just created; backing off"))
    }

    @Test func sessionIsDeletedOnSIGTERM() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator)
        _ = try await exporter.metrics()
        #expect(try await simulator.stats().active_sessions == 1)
        exporter.child.signal(SIGTERM)
        #expect(await exporter.child.waitForExit() == 0)
        let stats = try await simulator.stats()
        #expect(stats.logouts == 1 && stats.active_sessions == 0)
        #expect(exporter.child.output.contains("Logged out of the appliance session"))
    }

    @Test func inFlightScrapeIsAnsweredBeforeExit() async throws {
        // The job call takes 5 s: the scrape has long reached the exporter when SIGTERM comes 1.5 s in,
        // even on a loaded machine, and is still waiting on the appliance.
        let simulator = try await Simulator(scenario: "running", extra: ["--latency", "5", "--latency-path", "/api/appliance/recovery/reconciliation/job"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "10s"])
        _ = try await exporter.metrics()
        async let pending = exporter.scrape()
        try await Task.sleep(for: .milliseconds(1500))
        exporter.child.signal(SIGTERM)
        let response = try await pending
        #expect(response.status == 200 && parseMetrics(response.text)["vcsa_up"] == 1)
        #expect(await exporter.child.waitForExit() == 0)
        #expect(try await simulator.stats().logouts == 1)
    }

    @Test func sessionIsDeletedOnSIGINTToo() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator)
        _ = try await exporter.metrics()
        exporter.child.signal(SIGINT)
        #expect(await exporter.child.waitForExit() == 0)
        #expect(try await simulator.stats().logouts == 1)
    }

    @Test func refusedCredentialsBackOff() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, password: "wrong-password")
        for _ in 0..<10 { #expect(try await exporter.metrics()["vcsa_up"] == 0) }
        // One login, then a 30 s back-off: a second attempt only if a loaded machine stretched the ten scrapes past it.
        #expect(try await simulator.stats().failed_logins <= 2)
        #expect(exporter.child.output.contains("next attempt in"))
    }
}

/// Logins run on their own time, and a rotated password file is picked up without a restart.
@Suite struct LoginTests {
    /// A login cut off by a scrape's budget still creates a session on the appliance; logging in
    /// again on every scrape would pile sessions up until vCenter's per-user limit refuses them all.
    @Test func aSlowLoginFinishesInTheBackgroundAndIsReused() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--login-latency", "2"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "1s"])
        let first = try await exporter.metrics()
        #expect(first["vcsa_up"] == 0, "the scrape's budget ends before the login does")
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await exporter.metrics()["vcsa_up"] == 1, "the login went on and its session is used")
        #expect(try await exporter.metrics()["vcsa_up"] == 1)
        let stats = try await simulator.stats()
        #expect(stats.logins == 1 && stats.active_sessions == 1)
    }

    @Test func aRotatedPasswordFileEndsTheBackOffAtOnce() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--session-expiry-requests", "2"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"])
        #expect(try await exporter.metrics()["vcsa_up"] == 1)
        // SSO rotates the password; the session runs out and the old password is refused.
        let rotated = "rotated-\(UUID().uuidString)"
        try await simulator.control("password", rotated)
        for _ in 0..<4 { _ = try await exporter.metrics() }
        #expect(try await exporter.metrics()["vcsa_up"] == 0)
        #expect(try await simulator.stats().failed_logins == 1, "no more failed logins than the back-off allows")
        // Kubernetes rewrites the mounted Secret: the next scrape logs in with it, without waiting 30 s.
        try (rotated + "\n").write(toFile: exporter.passwordFile, atomically: true, encoding: .utf8)
        #expect(try await exporter.metrics()["vcsa_up"] == 1)
        let stats = try await simulator.stats()
        #expect(stats.failed_logins == 1 && stats.active_sessions == 1)
        #expect(exporter.child.output.contains("The password changed"))
        #expect(!exporter.child.output.contains(rotated), "the password is never logged")
    }
}
