import ExporterToolkit
import MicroHTTPD
import Synchronization
import Testing

/// `--web.max-requests`, with responders that record what reaches them.
@Suite struct InFlightLimitTests {
    /// The statuses a responder passed on, in order.
    final class Answers: Sendable {
        private let statuses = Mutex<[Int]>([])
        var received: [Int] { statuses.withLock { $0 } }
        var responder: HTTPResponder { HTTPResponder { response in self.statuses.withLock { $0.append(response.status) } } }
    }

    @Test func admitsUpToTheLimitAndRefusesTheNext() {
        let limit = InFlightLimit(limit: 2)
        let answers = Answers()
        #expect(limit.admit(answers.responder) != nil)
        #expect(limit.admit(answers.responder) != nil)
        #expect(limit.admit(answers.responder) == nil, "both slots are taken")
        #expect(answers.received.isEmpty)
    }

    @Test func aResponseFreesItsSlot() throws {
        let limit = InFlightLimit(limit: 1)
        let answers = Answers()
        let first = try #require(limit.admit(answers.responder))
        #expect(limit.admit(answers.responder) == nil)
        first.respond(.text(200, "ok"))
        #expect(answers.received == [200], "the answer is passed on")
        let second = try #require(limit.admit(answers.responder), "the slot is free again")
        second.respond(.text(204, ""))
        #expect(answers.received == [200, 204])
    }

    /// A responder called twice frees its slot once, not a slot another request holds.
    @Test func answeringTwiceFreesOneSlot() throws {
        let limit = InFlightLimit(limit: 2)
        let answers = Answers()
        let first = try #require(limit.admit(answers.responder))
        _ = try #require(limit.admit(answers.responder))
        first.respond(.text(200, "ok"))
        first.respond(.text(200, "ok"))
        #expect(limit.admit(answers.responder) != nil)
        #expect(limit.admit(answers.responder) == nil, "the second request still holds its slot")
    }

    @Test func zeroMeansNoLimit() throws {
        let limit = InFlightLimit(limit: 0)
        let answers = Answers()
        let admitted = (0..<1000).compactMap { _ in limit.admit(answers.responder) }
        #expect(admitted.count == 1000)
        try #require(admitted.first).respond(.text(200, "ok"))
        #expect(answers.received == [200])
    }
}
