import Synchronization

/// exporter-toolkit's `rate_limit`: a token bucket (Go's rate.Limiter) refilled one token every
/// `interval`, holding at most `burst`. Requests beyond it get 429.
///
/// The time is an argument, as in Go's `AllowN(t, n)`, so that tests move it instead of waiting.
final class RateLimiter: Sendable {
    let interval: Duration
    let burst: Int
    private let bucket: Mutex<(tokens: Double, at: ContinuousClock.Instant)>

    /// A full bucket at `now`.
    init(interval: Duration, burst: Int, at now: ContinuousClock.Instant = .now) {
        self.interval = interval
        self.burst = burst
        bucket = Mutex((Double(burst), now))
    }

    /// Takes a token if there is one at `now`. Callers read the clock before the lock, so one may bring
    /// an instant earlier than the last: no time has passed for it (it neither refills nor takes back).
    func allow(at now: ContinuousClock.Instant = .now) -> Bool {
        bucket.withLock { bucket in
            let now = max(now, bucket.at)
            let refill = (now - bucket.at).seconds / interval.seconds
            bucket = (min(Double(burst), bucket.tokens + refill), now)
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            return true
        }
    }
}
