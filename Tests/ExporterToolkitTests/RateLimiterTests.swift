@testable import ExporterToolkit
import Testing

/// The web config's `rate_limit` bucket, with the time given to each call instead of waited for.
@Suite struct RateLimiterTests {
    let start = ContinuousClock.now

    /// Answers of `count` requests at `instant`.
    func answers(_ limiter: RateLimiter, _ count: Int, at instant: ContinuousClock.Instant) -> [Bool] {
        (0..<count).map { _ in limiter.allow(at: instant) }
    }

    @Test func aBurstIsAllowedThenRefused() {
        let limiter = RateLimiter(interval: .seconds(3600), burst: 3, at: start)
        #expect(answers(limiter, 5, at: start) == [true, true, true, false, false])
    }

    @Test func oneTokenComesBackAfterTheInterval() {
        let limiter = RateLimiter(interval: .seconds(10), burst: 2, at: start)
        #expect(answers(limiter, 3, at: start) == [true, true, false])
        #expect(!limiter.allow(at: start + .seconds(5)), "half a token")
        #expect(answers(limiter, 2, at: start + .seconds(10)) == [true, false], "one interval, one token")
    }

    @Test func aLongPauseRefillsNoMoreThanTheBurst() {
        let limiter = RateLimiter(interval: .seconds(1), burst: 3, at: start)
        #expect(answers(limiter, 3, at: start) == [true, true, true])
        #expect(answers(limiter, 4, at: start + .seconds(86_400)) == [true, true, true, false])
    }

    /// Two requests racing may hand in their instants out of order.
    @Test func anEarlierInstantIsNoTimePassed() {
        let limiter = RateLimiter(interval: .seconds(10), burst: 2, at: start)
        #expect(limiter.allow(at: start + .seconds(5)))
        #expect(limiter.allow(at: start), "the second token is still there")
        #expect(!limiter.allow(at: start + .seconds(5)))
        #expect(limiter.allow(at: start + .seconds(15)), "refilled from the latest instant seen")
    }

    /// A refused request still counts its part of a token: quarters spread over four calls make one.
    @Test func fractionalRefillsAddUp() {
        let limiter = RateLimiter(interval: .seconds(4), burst: 1, at: start)
        #expect(limiter.allow(at: start))
        #expect((1...3).map { limiter.allow(at: start + .seconds($0)) } == [false, false, false])
        #expect(answers(limiter, 2, at: start + .seconds(4)) == [true, false])
    }
}
