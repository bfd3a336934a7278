import Foundation
import Synchronization
import TestHarness
import Testing

/// SIGTERM under load, as Kubernetes and systemd send it during a rollout: answer what is in flight,
/// log out of vCenter (sessions are few), exit 0 in bounded time; a second SIGTERM means "now".
@Suite(.serialized) struct SignalTests {
    /// 20 scrapes wait on a slow appliance when SIGTERM comes: each gets an HTTP answer, the process
    /// exits 0 within `--vcenter.timeout` + 3 s, and the vCenter session is gone.
    @Test func sigtermAnswersEveryInFlightScrapeAndLogsOut() async throws {
        let simulator = try await Simulator(scenario: "running", extra: ["--latency", "1"])
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "3s"])
        #expect(await rawScrape(exporter, timeout: .seconds(4)).status == 200)  // logged in
        let pending = (0..<20).map { _ in Task { await rawScrape(exporter, timeout: .seconds(8)) } }
        try await Task.sleep(for: .milliseconds(300))
        let clock = ContinuousClock()
        let signalled = clock.now
        exporter.child.signal(SIGTERM)
        var unanswered: [String] = []
        for scrape in pending {
            let outcome = await scrape.value
            if outcome.status == nil { unanswered.append(outcome.summary) }
        }
        #expect(unanswered.isEmpty, "in-flight scrapes without an HTTP answer: \(unanswered)")
        let status = await exporter.child.waitForExit(timeout: .seconds(6) - (clock.now - signalled))
        #expect(status == 0, "\(exitSummary(exporter.child, status)) \(clock.now - signalled) after SIGTERM")
        #expect(try await simulator.stats().active_sessions == 0, "the session was not logged out")
    }

    /// With two listen addresses, SIGTERM stops both from accepting before either drains: the
    /// second used to go on accepting while the first waited for its in-flight scrape.
    @Test func everyListenerStopsAcceptingBeforeAnyDrains() async throws {
        let simulator = try await Simulator(scenario: "running")
        let second = freePort()
        let exporter = try await Exporter(simulator: simulator, extra: ["--web.listen-address", "127.0.0.1:\(second)",
                                                                        "--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "8s"])
        #expect(await rawScrape(exporter, timeout: .seconds(4)).status == 200)
        try await simulator.control("scenario", "slow")
        let scrapeDone = Flag()
        let pending = Task {
            defer { scrapeDone.set() }
            return await rawScrape(exporter, timeout: .seconds(12))
        }
        try await Task.sleep(for: .milliseconds(500))
        exporter.child.signal(SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        var refusedWhileTheFirstDrained: Bool?
        while refusedWhileTheFirstDrained == nil && ContinuousClock.now < deadline {
            if (try? RawConnection(port: second, from: "127.0.0.1", timeout: .milliseconds(500))) == nil {
                refusedWhileTheFirstDrained = !scrapeDone.isSet
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(refusedWhileTheFirstDrained == true, "the second listener still accepted while the first drained")
        #expect(await pending.value.status == 200, "the in-flight scrape is answered")
        #expect(await exporter.child.waitForExit(timeout: .seconds(10)) == 0)
    }

    /// A second SIGTERM during the drain exits at once (well before the 5 s appliance call ends), with 0.
    @Test func secondSigtermExitsPromptly() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "10s"])
        #expect(await rawScrape(exporter, timeout: .seconds(4)).status == 200)
        try await simulator.control("scenario", "slow")
        let pending = Task { await rawScrape(exporter, timeout: .seconds(12)) }
        defer { pending.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        exporter.child.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(200))
        let clock = ContinuousClock()
        let second = clock.now
        exporter.child.signal(SIGTERM)
        let status = await exporter.child.waitForExit(timeout: .milliseconds(1500))
        #expect(status == 0, "\(exitSummary(exporter.child, status)) \(clock.now - second) after the second SIGTERM")
    }

    /// Keep-alive clients that go on sending during the drain get answers (503 with
    /// `Connection: close` is fine) and are never cut off mid-request; the process still exits 0
    /// within `--vcenter.timeout` + 3 s.
    @Test func keepAliveClientsDuringTheDrainAreAnsweredAndTheProcessExits() async throws {
        let simulator = try await Simulator(scenario: "running")
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "3s"])
        #expect(await rawScrape(exporter, timeout: .seconds(4)).status == 200)
        try await simulator.control("scenario", "slow")
        let clock = ContinuousClock()
        let signalAt = clock.now + .milliseconds(500)
        // One client scrapes back to back, one checks health every 100 ms, both on one connection each.
        let clients = [("/metrics", Duration.zero), ("/-/healthy", .milliseconds(100))].map { path, pause in
            Task { await Self.keepAliveClient(port: exporter.port, path: path, pause: pause, signalAt: signalAt, until: signalAt + .seconds(8)) }
        }
        try await Task.sleep(until: signalAt)
        exporter.child.signal(SIGTERM)
        let status = await exporter.child.waitForExit(timeout: .seconds(6))
        #expect(status == 0, "\(exitSummary(exporter.child, status)) \(clock.now - signalAt) after SIGTERM")
        for client in clients {
            let report = await client.value
            #expect(report.answeredAfterSignal > 0 && report.problems.isEmpty, "\(report)")
        }
    }

    struct ClientReport: CustomStringConvertible {
        var path: String
        var answeredAfterSignal = 0
        var problems: [String] = []
        var description: String { "\(path): \(answeredAfterSignal) answers after SIGTERM; problems: \(problems)" }
    }

    /// Requests `path` again and again on one keep-alive connection until told `Connection: close`
    /// or `until`; a request left without an answer is a problem, and so is a status other than 200 or 503.
    static func keepAliveClient(port: Int, path: String, pause: Duration, signalAt: ContinuousClock.Instant,
                                until end: ContinuousClock.Instant) async -> ClientReport {
        await onThread {
            var report = ClientReport(path: path)
            guard let connection = try? RawConnection(port: port, from: "127.0.0.2") else {
                report.problems.append("could not connect")
                return report
            }
            while ContinuousClock.now < end {
                let sentAt = ContinuousClock.now
                do throws(RawError) {
                    try connection.send(httpRequest("GET", path, keepAlive: true), deadline: end)
                    let response = try connection.readResponse(deadline: end)
                    if sentAt >= signalAt { report.answeredAfterSignal += 1 }
                    if response.status != 200 && response.status != 503 { report.problems.append("HTTP \(response.status)") }
                    if response.closesConnection { break }
                } catch {
                    report.problems.append("request sent \(sentAt >= signalAt ? "after" : "before") SIGTERM: \(error)")
                    break
                }
                if pause > .zero { Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18) }
            }
            return report
        }
    }
}

final class Flag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
