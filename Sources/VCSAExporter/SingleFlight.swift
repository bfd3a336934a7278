import Synchronization

/// Runs one piece of work at a time; callers that arrive while it runs get its result too,
/// instead of starting another. The appliance sees one round of calls however many scrapers there are.
///
/// Callers hand in a delivery closure rather than awaiting, so that a scrape joining a round
/// costs a lock and an append on the HTTP thread, not a task of its own.
final class SingleFlight<Value: Sendable>: Sendable {
    typealias Delivery = @Sendable (Value) -> Void

    /// nil while idle; the waiting deliveries while a round runs.
    private let waiting = Mutex<[Delivery]?>(nil)

    /// Delivers the running round's value, or starts a round with `work` and delivers its value.
    func join(_ deliver: @escaping Delivery, startingWith work: @escaping @Sendable () async -> Value) {
        let starts = waiting.withLock { waiting -> Bool in
            if waiting != nil {
                waiting!.append(deliver)
                return false
            }
            waiting = [deliver]
            return true
        }
        guard starts else { return }
        Task {
            let value = await work()
            let deliveries = waiting.withLock { waiting -> [Delivery] in
                defer { waiting = nil }
                return waiting ?? []
            }
            for deliver in deliveries { deliver(value) }
        }
    }
}
