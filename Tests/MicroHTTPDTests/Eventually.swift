/// Waits for `condition`, bounded generously: sanitizers slow everything five to ten times.
func eventually(_ what: String, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw WaitError(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

struct WaitError: Error, CustomStringConvertible {
    var what: String
    var description: String { "waited 60 s in vain for: \(what)" }
}
