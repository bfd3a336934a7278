import Foundation
import TestHarness
import Testing
@testable import VCSAExporter

@Suite struct SingleFlightTests {
    /// Joins `flight` with a deadline `budget` from now; the round, if this call starts one, sleeps `work` and returns its run number.
    func join(_ flight: SingleFlight<Int>, budget: Duration, roundDuration: Duration = .seconds(10), work: Duration, runs: Counter) async -> Int? {
        await withCheckedContinuation { continuation in
            flight.join(until: .now + budget, roundDuration: roundDuration, { continuation.resume(returning: $0) }, startingWith: { _ in
                let run = runs.next()
                try? await Task.sleep(for: work)
                return run
            })
        }
    }

    @Test func joinersShareOneRound() async throws {
        let flight = SingleFlight<Int>()
        let runs = Counter()
        let values = await withTaskGroup(of: Int?.self) { group in
            for _ in 0..<20 {
                group.addTask { await join(flight, budget: .seconds(10), work: .milliseconds(300), runs: runs) }
            }
            return await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        #expect(values.count == 20)
        #expect(Set(values) == [1], "every caller arrives within the first round's 300 ms and shares it")
        #expect(runs.value == 1)
    }

    @Test func aCallerIsAnsweredByItsOwnDeadlineWhileTheRoundGoesOn() async throws {
        let flight = SingleFlight<Int>()
        let runs = Counter()
        let patient = Task { await join(flight, budget: .seconds(10), work: .seconds(2), runs: runs) }
        try await eventually { runs.value == 1 }  // its round has started
        let hurried = await join(flight, budget: .milliseconds(200), work: .seconds(2), runs: runs)
        #expect(hurried == nil, "its deadline came before the round's end")
        #expect(runs.value == 1, "it joined the running round")
        #expect(!patient.isCancelled)
        #expect(await patient.value == 1, "the round went on for the caller that could wait")
    }

    @Test func aRoundStartedByAHurriedCallerServesPatientJoiners() async throws {
        let flight = SingleFlight<Int>()
        let runs = Counter()
        async let hurried = join(flight, budget: .milliseconds(100), work: .milliseconds(500), runs: runs)
        try await eventually { runs.value == 1 }  // its round has started
        let patient = await join(flight, budget: .seconds(10), work: .milliseconds(500), runs: runs)
        #expect(await hurried == nil)
        #expect(patient == 1, "the round lasts roundDuration, not the budget of the caller that started it")
    }

    @Test func theRoundGetsItsOwnDeadline() async throws {
        let flight = SingleFlight<ContinuousClock.Instant>()
        let before = ContinuousClock.now
        // The deadline the work is handed, read from the work itself: the caller, due well before the
        // round's end, may be answered nil first on a loaded machine, and that is not what is tested here.
        let roundDeadline: ContinuousClock.Instant = await withCheckedContinuation { continuation in
            flight.join(until: .now + .seconds(1), roundDuration: .seconds(7), { _ in }, startingWith: { deadline in
                continuation.resume(returning: deadline)
                return deadline
            })
        }
        #expect(roundDeadline - before >= .seconds(7) && roundDeadline - before < .seconds(8))
    }
}
