import Foundation
import TestHarness
import Testing

/// An appliance that fails in every way a network path can: each scrape is still answered within
/// `--vcenter.timeout` plus a margin, with `vcsa_up 0`, so that Prometheus sees "appliance down"
/// and never a scrape timeout ("exporter down"). Cases run in parallel: they mostly wait.
@Suite struct ApplianceFaultTests {
    static let timeout: Duration = .seconds(2)
    /// A scrape's answer may take the appliance deadline plus this.
    static let bound: Duration = timeout + .milliseconds(1500)

    @Test(arguments: [FaultyUpstream.Fault.blackHole, .headersThenStall, .bodyTrickle, .resetMidBody])
    func faultOnTheJobCallKeepsScrapesBounded(_ fault: FaultyUpstream.Fault) async throws {
        let upstream = try FaultyUpstream(fault: fault, on: .job)
        try await Self.expectBoundedScrapes(vcenterURL: upstream.url)
        #expect(upstream.requests.contains("GET \(FaultyUpstream.jobPath)"), "the fault was never reached: \(upstream.requests)")
    }

    @Test(arguments: [FaultyUpstream.Fault.blackHole, .headersThenStall, .bodyTrickle, .resetMidBody])
    func faultOnTheLoginKeepsScrapesBounded(_ fault: FaultyUpstream.Fault) async throws {
        let upstream = try FaultyUpstream(fault: fault, on: .login)
        try await Self.expectBoundedScrapes(vcenterURL: upstream.url)
        #expect(upstream.requests.first == "POST /api/session")
    }

    /// Nothing listens on the port.
    @Test func refusedConnectionKeepsScrapesBounded() async throws {
        try await Self.expectBoundedScrapes(vcenterURL: "http://127.0.0.1:\(freePort())")
    }

    /// `https://` configured, plain HTTP spoken: the TLS handshake fails, the scrape does not hang.
    @Test func httpsURLAgainstPlainHTTPUpstreamKeepsScrapesBounded() async throws {
        let upstream = try FaultyUpstream(fault: .none)
        try await Self.expectBoundedScrapes(vcenterURL: "https://127.0.0.1:\(upstream.port)")
        #expect(upstream.requests.isEmpty, "a TLS ClientHello is not an HTTP request: \(upstream.requests)")
    }

    /// `http://` configured, TLS spoken (the real simulator with `--tls`).
    @Test func httpURLAgainstTLSUpstreamKeepsScrapesBounded() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--tls"], tls: true)
        try await Self.expectBoundedScrapes(vcenterURL: "http://127.0.0.1:\(simulator.port)")
        #expect(simulator.child.process.isRunning)
    }

    /// The appliance is SIGKILLed while ten scrapes wait on it: all ten are answered (`vcsa_up 0`)
    /// at once; an appliance back on the same port is used again (`vcsa_up 1`).
    @Test func applianceKilledDuringScrapesThenRestarted() async throws {
        // The job call takes 10 s and the deadline is 30 s: answers within a few seconds of the kill can
        // only come from the closed connection, however loaded the machine.
        let simulator = try await Simulator(scenario: "running", extra: ["--latency", "10", "--latency-path", "/api/appliance/recovery/reconciliation/job"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "30s"])
        // Logged in first, so that the kill hits job calls.
        #expect(await rawScrape(exporter, timeout: .seconds(20)).success?.metrics["vcsa_up"] == 1)
        let clock = ContinuousClock()
        let started = clock.now
        let pending = (0..<10).map { _ in Task { await rawScrape(exporter, timeout: .seconds(25)) } }
        try await Task.sleep(for: .milliseconds(500))
        simulator.child.signal(SIGKILL)
        for scrape in pending {
            let outcome = await scrape.value
            #expect(outcome.success?.metrics["vcsa_up"] == 0, "in-flight scrape: \(outcome.summary)")
        }
        #expect(clock.now - started < .seconds(6), "answers came \(clock.now - started) after the scrapes began; the kill was at 0.5 s, the call would take 10 s")

        let restarted = try await Simulator(scenario: "running", port: simulator.port)
        var up: Double?
        let deadline = clock.now + .seconds(15)
        while up != 1 && clock.now < deadline {
            up = await rawScrape(exporter, timeout: .seconds(6)).success?.metrics["vcsa_up"]
            if up != 1 { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(up == 1, "never back up after the appliance returned; its log:\n\(restarted.child.output)")
        await expectStillServing(exporter, appliance: restarted)
    }

    /// The exporter against `vcenterURL`: the first scrape, three more in a row, and health checks
    /// during and after, all answered within `bound` with `vcsa_up 0`.
    static func expectBoundedScrapes(vcenterURL: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let exporter = try await Exporter(vcenterURL: vcenterURL, extra: ["--vcenter.timeout", "2s", "--no-collector.restore", "--no-collector.backup"])
        async let healthDuringScrape: RawOutcome = {
            try? await Task.sleep(for: .milliseconds(500))
            return await rawScrape(exporter, path: "/-/healthy", timeout: .seconds(1))
        }()
        var slow: [String] = []
        for attempt in 1...4 {
            let (outcome, elapsed) = await timed { await rawScrape(exporter, timeout: bound + .seconds(1)) }
            let up = outcome.success?.metrics["vcsa_up"]
            if outcome.status != 200 || up != 0 || elapsed > bound {
                slow.append("scrape \(attempt): \(outcome.summary), vcsa_up \(up.map { "\($0)" } ?? "missing"), after \(elapsed)")
            }
        }
        #expect(slow.isEmpty, "every scrape must be answered within \(bound) with vcsa_up 0: \(slow)", sourceLocation: sourceLocation)
        #expect(await healthDuringScrape.status == 200, "/-/healthy while a scrape waited", sourceLocation: sourceLocation)
        #expect(await rawScrape(exporter, path: "/-/healthy", timeout: .seconds(1)).status == 200, sourceLocation: sourceLocation)
        await expectStillServing(exporter, within: bound, sourceLocation: sourceLocation)
    }
}

extension Result {
    var success: Success? { try? get() }
}
