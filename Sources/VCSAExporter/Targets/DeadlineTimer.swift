import NIOCore
import NIOPosix

/// The time, and a timer for a caller's deadline: the event loop's in the exporter, a hand-moved
/// one in unit tests (so that they show a deadline passing without waiting for it).
struct DeadlineTimer: Sendable {
    typealias Cancel = @Sendable () -> Void
    let now: @Sendable () -> ContinuousClock.Instant
    /// Calls `fire` at the deadline unless the returned closure is called first.
    let schedule: @Sendable (_ deadline: ContinuousClock.Instant, _ fire: @escaping @Sendable () -> Void) -> Cancel

    static let eventLoop = DeadlineTimer(now: { .now }, schedule: { deadline, fire in
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(deadline: NIODeadline(deadline)) { fire() }
        return { scheduled.cancel() }
    })
}
