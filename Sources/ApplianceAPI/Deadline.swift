import Synchronization

/// Bounds an operation in time whatever it does: AsyncHTTPClient's own deadline stops applying
/// once response headers arrive, so a body that trickles or stalls would otherwise hold a caller forever.
enum Deadline {
    /// The operation's result, or `.deadlineExceeded` at `deadline`, whichever comes first.
    /// On the deadline the operation is cancelled and left to wind down on its own; the caller does not wait for it.
    static func race<T: Sendable>(
        until deadline: ContinuousClock.Instant,
        _ operation: @escaping @Sendable () async throws(ApplianceError) -> T
    ) async throws(ApplianceError) -> T {
        guard deadline > .now else { throw .deadlineExceeded }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, ApplianceError>, Never>) in
            let race = Race(continuation)
            let work = Task {
                do throws(ApplianceError) {
                    race.finish(.success(try await operation()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            race.onTimeout { work.cancel() }
            race.arm(Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                if !Task.isCancelled { race.finish(.failure(.deadlineExceeded)) }
            })
        }
        return try result.get()
    }
}

/// The continuation of one race, resumed exactly once; whoever loses is cancelled.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<T, ApplianceError>, Never>?
        var timer: Task<Void, Never>?
        var cancelWork: (@Sendable () -> Void)?
    }

    private let state: Mutex<State>

    init(_ continuation: CheckedContinuation<Result<T, ApplianceError>, Never>) {
        state = Mutex(State(continuation: continuation))
    }

    func onTimeout(_ cancelWork: @escaping @Sendable () -> Void) {
        state.withLock { $0.cancelWork = cancelWork }
    }

    /// Keeps the timer so that a finished operation can stop it; stops it at once if the operation already finished.
    func arm(_ timer: Task<Void, Never>) {
        let finished = state.withLock { state -> Bool in
            state.timer = timer
            return state.continuation == nil
        }
        if finished { timer.cancel() }
    }

    func finish(_ result: Result<T, ApplianceError>) {
        let (continuation, timer, cancelWork) = state.withLock { state in
            defer { state = State() }
            return (state.continuation, state.timer, state.cancelWork)
        }
        guard let continuation else { return }
        continuation.resume(returning: result)
        if case .failure(.deadlineExceeded) = result { cancelWork?() }
        timer?.cancel()
    }
}
