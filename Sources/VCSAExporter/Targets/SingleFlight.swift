import ApplianceAPI
import NIOCore
import NIOPosix
import Synchronization

/// Runs one piece of work at a time; callers that arrive while it runs get its result too,
/// instead of starting another. The appliance sees one round of calls however many scrapers there are.
///
/// Each caller still has its own deadline: one that comes before the round's end is delivered
/// `nil` at that deadline, and the round goes on for the others. Callers hand in a delivery
/// closure rather than awaiting, so that joining a round costs a lock and an append on the HTTP thread.
final class SingleFlight<Value: Sendable>: Sendable {
    /// The round's value, or nil when the caller's deadline came first.
    typealias Delivery = @Sendable (Value?) -> Void
    typealias Work = @Sendable (_ deadline: ContinuousClock.Instant) async -> Value

    private struct Round {
        var deadline: ContinuousClock.Instant
        var waiting: [UInt64: Delivery] = [:]
        /// Cancels the deadline timers of callers due before the round's end, when it ends.
        var timers: [UInt64: DeadlineTimer.Cancel] = [:]
    }

    private struct State {
        var round: Round?
        var nextCaller: UInt64 = 0
    }

    private let state = Mutex(State())
    private let timer: DeadlineTimer
    static var tolerance: Duration { .milliseconds(50) }

    /// `timer`: the time and the callers' deadline timers (the event loop's; a test's moves by hand).
    init(timer: DeadlineTimer = .eventLoop) {
        self.timer = timer
    }

    /// Delivers the running round's value, or starts a round of `work` that may last `roundDuration`;
    /// delivers nil at `deadline` if the round has not ended by then.
    func join(until deadline: ContinuousClock.Instant, roundDuration: Duration,
              _ deliver: @escaping Delivery, startingWith work: @escaping Work) {
        let (caller, roundDeadline, starts) = state.withLock { state in
            let caller = state.nextCaller
            state.nextCaller += 1
            let starts = state.round == nil
            if starts { state.round = Round(deadline: timer.now() + roundDuration) }
            state.round!.waiting[caller] = deliver
            return (caller, state.round!.deadline, starts)
        }
        if starts {
            Task {
                let value = await work(roundDeadline)
                let round = state.withLock { state in
                    defer { state.round = nil }
                    return state.round
                }
                guard let round else { return }
                for cancel in round.timers.values { cancel() }
                for deliver in round.waiting.values { deliver(value) }
            }
        }
        // The round is bounded by its own deadline; only a caller due clearly earlier needs a timer
        // (one due at about the same time gets the round's own answer, which says what failed).
        guard deadline < roundDeadline - Self.tolerance else { return }
        // A timer cancelled with the round: a `Task.sleep` would stay queued until the caller's
        // deadline even when the round answered long before.
        let cancel = timer.schedule(deadline) { [self] in
            let late = state.withLock { state -> Delivery? in
                state.round?.timers[caller] = nil
                return state.round?.waiting.removeValue(forKey: caller)
            }
            late?(nil)
        }
        let delivered = state.withLock { state -> Bool in
            guard state.round?.waiting[caller] != nil else { return true }
            state.round?.timers[caller] = cancel
            return false
        }
        if delivered { cancel() }
    }
}
