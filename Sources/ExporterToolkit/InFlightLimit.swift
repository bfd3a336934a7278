import MicroHTTPD
import Synchronization

/// `--web.max-requests`: how many requests may wait on what the exporter watches at once (0: no limit).
/// As node_exporter does, only the requests the caller admits count (the metrics path, say, and an
/// admin API); health checks and the landing page never compete with scrapes, so a slow target
/// cannot fail a liveness probe.
public final class InFlightLimit: Sendable {
    private let limit: Int
    private let inFlight = Mutex(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// A responder that frees the slot when it answers, or nil when every slot is taken.
    public func admit(_ responder: HTTPResponder) -> HTTPResponder? {
        guard limit > 0 else { return responder }
        let admitted = inFlight.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else { return nil }
        let slot = Slot(limit: self)
        return HTTPResponder { response in
            slot.release()
            responder.respond(response)
        }
    }

    fileprivate func release() {
        inFlight.withLock { $0 -= 1 }
    }

    /// The answer when every slot is taken.
    public static let refusal = HTTPResponse.text(503, "Service Unavailable: too many concurrent requests (--web.max-requests)")
}

/// One admitted request's slot, freed once whatever calls the responder.
private final class Slot: Sendable {
    private let limit: InFlightLimit
    private let held = Atomic(true)

    init(limit: InFlightLimit) {
        self.limit = limit
    }

    func release() {
        if held.exchange(false, ordering: .acquiringAndReleasing) { limit.release() }
    }
}
