import Foundation
import Synchronization
import TestHarness
import Testing
@testable import VCSAExporter

/// Single-flight rounds with time moved by hand: the round's work waits on a gate the test opens,
/// and callers' deadlines pass when the test advances the timer, so nothing here depends on how
/// fast the machine is.
@Suite struct SingleFlightTests {
    @Test func joinersShareOneRound() async throws {
        let timer = ManualDeadlineTimer()
        let flight = SingleFlight<Int>(timer: timer.timer)
        let (gate, runs, values) = (Gate(), Counter(), Delivered())
        for _ in 0..<20 {
            flight.join(until: timer.now + .seconds(10), roundDuration: .seconds(10), values.append,
                        startingWith: { _ in let run = runs.next(); await gate.wait(); return run })
        }
        gate.open()
        try await eventually { values.all.count == 20 }
        #expect(Set(values.all) == [1], "every caller arrived during the first round and shares it")
        #expect(runs.value == 1)
    }

    @Test func aCallerIsAnsweredByItsOwnDeadlineWhileTheRoundGoesOn() async throws {
        let timer = ManualDeadlineTimer()
        let flight = SingleFlight<Int>(timer: timer.timer)
        let (gate, runs) = (Gate(), Counter())
        let patient = Answer(), hurried = Answer()
        flight.join(until: timer.now + .seconds(10), roundDuration: .seconds(10), patient.deliver,
                    startingWith: { _ in let run = runs.next(); await gate.wait(); return run })
        flight.join(until: timer.now + .milliseconds(200), roundDuration: .seconds(10), hurried.deliver, startingWith: { _ in runs.next() })
        timer.advance(by: .milliseconds(300))
        #expect(hurried.value == .some(nil), "its deadline came before the round's end")
        #expect(patient.value == nil, "the round goes on")
        gate.open()
        try await eventually { patient.value != nil }
        #expect(patient.value == .some(1), "the round went on for the caller that could wait")
        #expect(runs.value == 1, "it joined the running round")
    }

    @Test func aRoundStartedByAHurriedCallerServesPatientJoiners() async throws {
        let timer = ManualDeadlineTimer()
        let flight = SingleFlight<Int>(timer: timer.timer)
        let (gate, runs) = (Gate(), Counter())
        let hurried = Answer(), patient = Answer()
        flight.join(until: timer.now + .milliseconds(100), roundDuration: .seconds(10), hurried.deliver,
                    startingWith: { _ in let run = runs.next(); await gate.wait(); return run })
        flight.join(until: timer.now + .seconds(10), roundDuration: .seconds(10), patient.deliver, startingWith: { _ in runs.next() })
        timer.advance(by: .milliseconds(200))
        #expect(hurried.value == .some(nil))
        gate.open()
        try await eventually { patient.value != nil }
        #expect(patient.value == .some(1), "the round lasts roundDuration, not the budget of the caller that started it")
    }

    @Test func theRoundGetsItsOwnDeadline() async throws {
        let timer = ManualDeadlineTimer()
        let flight = SingleFlight<ContinuousClock.Instant>(timer: timer.timer)
        let before = timer.now
        let roundDeadline: ContinuousClock.Instant = await withCheckedContinuation { continuation in
            flight.join(until: timer.now + .seconds(1), roundDuration: .seconds(7), { _ in }, startingWith: { deadline in
                continuation.resume(returning: deadline)
                return deadline
            })
        }
        #expect(roundDeadline - before == .seconds(7))
    }
}

/// A deadline timer that fires only when the test advances it.
final class ManualDeadlineTimer: Sendable {
    private let state = Mutex<(now: ContinuousClock.Instant, pending: [(UInt64, ContinuousClock.Instant, @Sendable () -> Void)], next: UInt64)>((.now, [], 0))

    var now: ContinuousClock.Instant { state.withLock { $0.now } }

    var timer: DeadlineTimer {
        DeadlineTimer(now: { self.now }, schedule: { deadline, fire in
            let id = self.state.withLock { state in
                defer { state.next += 1 }
                state.pending.append((state.next, deadline, fire))
                return state.next
            }
            return { self.state.withLock { $0.pending.removeAll { $0.0 == id } } }
        })
    }

    /// Moves time on and fires, in order, every timer now due.
    func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now += duration
            let due = state.pending.filter { $0.1 <= state.now }.sorted { $0.1 < $1.1 }
            state.pending.removeAll { $0.1 <= state.now }
            return due
        }
        for (_, _, fire) in due { fire() }
    }
}

/// Holds a round's work until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resume = state.withLock { state in
                if state.open { return true }
                state.waiting.append(continuation)
                return false
            }
            if resume { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

/// What one caller was delivered: nil until then, `.some(nil)` for "its deadline came first".
final class Answer: Sendable {
    private let delivered = Mutex<Int??>(nil)
    var value: Int?? { delivered.withLock { $0 } }
    var deliver: @Sendable (Int?) -> Void { { value in self.delivered.withLock { $0 = .some(value) } } }
}

/// Everything delivered to several callers.
final class Delivered: Sendable {
    private let values = Mutex<[Int?]>([])
    var all: [Int?] { values.withLock { $0 } }
    var append: @Sendable (Int?) -> Void { { value in self.values.withLock { $0.append(value) } } }
}
