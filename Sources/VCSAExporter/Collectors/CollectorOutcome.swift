import ApplianceAPI

/// What one collector got from the appliance during a scrape.
public enum CollectorOutcome<Value: Sendable>: Sendable {
    case success(Value)
    case failure(ApplianceError)
    /// The appliance does not offer this API; not an error.
    case unsupported

    /// Whether the collector did its job (an unsupported API is not a failure).
    var succeeded: Bool {
        if case .failure = self { return false }
        return true
    }

    /// What one appliance call brought back (run on the caller's actor, as a collector's own call).
    static func of(isolation: isolated (any Actor)? = #isolation, _ call: () async throws(ApplianceError) -> Value) async -> CollectorOutcome<Value> {
        do throws(ApplianceError) {
            return .success(try await call())
        } catch {
            return .failure(error)
        }
    }
}

/// A collector's name, as flags, config files, labels and the landing page spell it. Each
/// collector's file declares its own (`extension CollectorName { static let ... }`).
public struct CollectorName: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Only the names of collectors that exist: parsing a name checks it against `Collectors.all`.
    public init?(rawValue: String) {
        guard Collectors.all.contains(where: { $0.name.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    init(_ name: String) {
        rawValue = name
    }

    public var description: String { rawValue }

    /// Every collector, in `Collectors.all`'s order.
    public static var allCases: [CollectorName] { Collectors.names }
}
