import Foundation
import TestHarness
import Testing

/// How long a call takes, to hold answers to their deadlines.
func timed<T: Sendable>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let started = clock.now
    let value = try await body()
    return (value, clock.now - started)
}

/// What every attack must leave behind: a live exporter that still answers a normal scrape
/// (from 127.0.0.2, so that limits on the attacker's address do not count) with 200 in time,
/// and with `vcsa_up 1` when a healthy `appliance` is behind it.
func expectStillServing(_ exporter: Exporter, appliance: Simulator? = nil, within limit: Duration = .seconds(5),
                        sourceLocation: SourceLocation = #_sourceLocation) async {
    #expect(exporter.child.process.isRunning, "the exporter died; its log ends with:\n\(exporter.child.output.suffix(1500))",
            sourceLocation: sourceLocation)
    let (outcome, elapsed) = await timed { await rawScrape(exporter, timeout: limit) }
    #expect(outcome.status == 200, "a normal scrape from 127.0.0.2 got \(outcome.summary) after \(elapsed)", sourceLocation: sourceLocation)
    if let appliance, outcome.status == 200 {
        #expect(outcome.success?.metrics["vcsa_up"] == 1, "vcsa_up with the appliance at \(appliance.url) up", sourceLocation: sourceLocation)
    }
}

/// The descriptor limit raised to its hard maximum, for cases that hold thousands of sockets
/// (the exporter, started afterwards, inherits it). Returns the limit in force.
func raiseOpenFileLimit() -> Int {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(clamping: limit.rlim_cur)
}

/// How a child ended, for messages: the status is a signal's number when a signal ended it.
func exitSummary(_ child: ChildProcess, _ status: Int32?) -> String {
    guard let status else { return "still running" }
    return child.process.endedBySignal ? "killed by signal \(status)" : "exit status \(status)"
}
