/// Runs one piece of work at a time; callers that arrive while it runs wait for its result
/// instead of starting another. The appliance sees one round of calls however many scrapers there are.
actor SingleFlight<Value: Sendable> {
    private var inFlight: Task<Value, Never>?

    func run(_ work: @escaping @Sendable () async -> Value) async -> Value {
        if let inFlight { return await inFlight.value }
        let task = Task { await work() }
        inFlight = task
        let value = await task.value
        inFlight = nil
        return value
    }
}
