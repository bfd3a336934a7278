import ApplianceAPI
import ExporterToolkit
import Synchronization

/// Process-lifetime counters of appliance calls: requests by operation, errors by `error_type`.
/// Every known label value starts at 0 so that `rate()` and alerts see the series before the first error.
public final class APICallStats: Sendable {
    private let counts = Mutex(Counts())

    private struct Counts {
        var requests: [String: Double] = Dictionary(uniqueKeysWithValues: APIOperation.allCases.map { ($0.rawValue, 0) })
        var errors: [String: Double] = Dictionary(uniqueKeysWithValues: APICallStats.errorTypes.map { ($0, 0) })
    }

    /// The 25 vAPI error types, then the failures that never produced a vAPI error.
    public static let errorTypes: [String] = ErrorType.allCases.map(\.rawValue) + ApplianceError.clientErrorTypes

    public init() {}

    /// Feeds an `ApplianceClient`'s events.
    public func record(_ event: APIEvent) {
        counts.withLock { counts in
            switch event {
            case .request(let operation): counts.requests[operation.rawValue, default: 0] += 1
            case .failure(_, let error): counts.errors[error.errorType, default: 0] += 1
            }
        }
    }

    func write(to writer: inout ExpositionWriter) {
        let snapshot = counts.withLock { $0 }
        writer.family("vcsa_api_requests_total", .counter, help: "Requests sent to the appliance API, by operation.")
        for operation in APIOperation.allCases {
            writer.sample("vcsa_api_requests_total", [("operation", operation.rawValue)], snapshot.requests[operation.rawValue] ?? 0)
        }
        writer.family("vcsa_api_request_errors_total", .counter, help: "Failed appliance API calls, by vAPI error_type or client-side failure class.")
        for errorType in Self.errorTypes {
            writer.sample("vcsa_api_request_errors_total", [("error_type", errorType)], snapshot.errors[errorType] ?? 0)
        }
    }
}
