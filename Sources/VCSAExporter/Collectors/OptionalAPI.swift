import ApplianceAPI
import Logging

/// An appliance API that older builds do not offer (they answer 404 route-not-found or
/// OPERATION_NOT_FOUND): noted once in the log, then asked again only every 10 minutes instead of
/// counting an error on every scrape. An answer later (after an upgrade) ends the note.
struct OptionalAPI {
    let name: String
    private(set) var unsupported = false
    private var recheckAt: ContinuousClock.Instant?
    static let recheckInterval: Duration = .seconds(600)

    init(name: String) {
        self.name = name
    }

    /// True while the API is known to be missing and not due for another look at `now` (a parameter,
    /// so that tests move time instead of waiting ten minutes).
    func skipped(at now: ContinuousClock.Instant) -> Bool { recheckAt.map { now < $0 } ?? false }

    /// What a collector's outcome, received at `now`, means for the API, and the outcome to report.
    mutating func record<Value>(_ outcome: CollectorOutcome<Value>, at now: ContinuousClock.Instant, logger: Logger) -> CollectorOutcome<Value> {
        switch outcome {
        case .success:
            recheckAt = nil
            unsupported = false
            return outcome
        case .failure(let error) where error.isOperationMissing:
            if !unsupported {
                logger.notice("The appliance does not offer the \(name) API; its metrics are left out", metadata: ["error": "\(error)"])
            }
            unsupported = true
            recheckAt = now + Self.recheckInterval
            return .unsupported
        case .failure(let error):
            logger.warning("The \(name) scrape failed", metadata: ["error_type": "\(error.errorType)", "error": "\(error)"])
            return outcome
        case .unsupported:
            return outcome
        }
    }
}
