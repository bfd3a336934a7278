import Synchronization

/// exporter-toolkit's `rate_limit`: a token bucket (Go's rate.Limiter) refilled one token every
/// `interval`, holding at most `burst`. Requests beyond it get 429.
final class RateLimiter: Sendable {
    let interval: Duration
    let burst: Int
    private let bucket: Mutex<(tokens: Double, at: ContinuousClock.Instant)>

    init(interval: Duration, burst: Int) {
        self.interval = interval
        self.burst = burst
        bucket = Mutex((Double(burst), .now))
    }

    /// Takes a token if there is one.
    func allow() -> Bool {
        bucket.withLock { bucket in
            let now = ContinuousClock.now
            let refill = (now - bucket.at).seconds / interval.seconds
            bucket = (min(Double(burst), bucket.tokens + refill), now)
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            return true
        }
    }
}
