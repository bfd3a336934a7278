import Synchronization

/// A clock that stands still until the test moves it: given as a type's `now`, it lets a unit test
/// show what happens after a delay without waiting for it.
public final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    public init() {}

    public var now: @Sendable () -> ContinuousClock.Instant { { self.instant.withLock { $0 } } }

    public func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}
