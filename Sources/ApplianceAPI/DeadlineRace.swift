import NIOCore
import NIOPosix
import Synchronization

/// Bounds an operation in time whatever it does: AsyncHTTPClient's own deadline stops applying
/// once response headers arrive, so a body that trickles or stalls would otherwise hold a caller forever.
enum DeadlineRace {
    /// The operation's result, or `.deadlineExceeded` at `deadline`, whichever comes first.
    /// On the deadline the operation is cancelled and left to wind down on its own; the caller does not wait for it.
    static func run<T: Sendable>(
        until deadline: ContinuousClock.Instant,
        _ operation: @escaping @Sendable () async throws(ApplianceError) -> T
    ) async throws(ApplianceError) -> T {
        guard deadline > .now else { throw .deadlineExceeded }
        let race = Race<T>()
        // A cancelled caller stops waiting too (e.g. a logout cut short by a second signal).
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, ApplianceError>, Never>) in
                guard race.start(continuation) else { return }
                let work = Task {
                    do throws(ApplianceError) {
                        race.finish(.success(try await operation()))
                    } catch {
                        race.finish(.failure(error))
                    }
                }
                race.keep(work: work)
                // An event-loop timer, not `Task.sleep`: a cancelled sleep stays queued until its deadline,
                // so every call won early would hold memory for the whole budget (MiBs under a burst of scrapes).
                race.keep(timer: MultiThreadedEventLoopGroup.singleton.any().scheduleTask(deadline: NIODeadline(deadline)) {
                    race.finish(.failure(.deadlineExceeded))
                })
            }
        } onCancel: {
            race.finish(.failure(.deadlineExceeded))
        }
        return try result.get()
    }
}

/// One race: decided once, by the operation, the timer or the caller's cancellation; the loser is cancelled.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var outcome: Result<T, ApplianceError>?
        var continuation: CheckedContinuation<Result<T, ApplianceError>, Never>?
        var timer: Scheduled<Void>?
        var work: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Returns false, having resumed `continuation`, when the race was decided before it began.
    func start(_ continuation: CheckedContinuation<Result<T, ApplianceError>, Never>) -> Bool {
        let outcome = state.withLock { state in
            if state.outcome == nil { state.continuation = continuation }
            return state.outcome
        }
        guard let outcome else { return true }
        continuation.resume(returning: outcome)
        return false
    }

    /// Keeps the operation's task, to cancel it if the deadline wins (at once if it already has).
    func keep(work: Task<Void, Never>) {
        let lost = state.withLock { state -> Bool in
            guard let outcome = state.outcome else {
                state.work = work
                return false
            }
            return Self.isDeadline(outcome)
        }
        if lost { work.cancel() }
    }

    /// Keeps the timer, to stop it if the operation wins (at once if the race is over).
    func keep(timer: Scheduled<Void>) {
        let over = state.withLock { state -> Bool in
            if state.outcome == nil { state.timer = timer }
            return state.outcome != nil
        }
        if over { timer.cancel() }
    }

    func finish(_ result: Result<T, ApplianceError>) {
        let taken = state.withLock { state -> (CheckedContinuation<Result<T, ApplianceError>, Never>?, Scheduled<Void>?, Task<Void, Never>?)? in
            guard state.outcome == nil else { return nil }
            state.outcome = result
            defer { (state.continuation, state.timer, state.work) = (nil, nil, nil) }
            return (state.continuation, state.timer, state.work)
        }
        guard let (continuation, timer, work) = taken else { return }
        continuation?.resume(returning: result)
        timer?.cancel()
        if Self.isDeadline(result) { work?.cancel() }
    }

    private static func isDeadline(_ result: Result<T, ApplianceError>) -> Bool {
        if case .failure(.deadlineExceeded) = result { return true }
        return false
    }
}

extension NIODeadline {
    /// The same instant on NIO's clock (both are monotonic); saturates rather than traps far from now.
    public init(_ instant: ContinuousClock.Instant) {
        self = .now() + .nanoseconds((instant - .now).clampedNanoseconds)
    }
}
