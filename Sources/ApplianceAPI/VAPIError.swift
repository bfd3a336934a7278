#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A vAPI error body, in either shape the appliance uses:
/// `/api`: `{"error_type": "NOT_FOUND", "messages": [...], "data": {...}}`;
/// legacy `/rest`: `{"type": "com.vmware.vapi.std.errors.not_found", "value": {"messages": [...]}}`.
public struct VAPIError: Codable, Sendable, Equatable {
    public var errorType: ErrorType
    public var messages: [LocalizableMessage]
    public var data: JSONValue?

    /// The route itself is missing, as opposed to the resource ("no such job").
    public static let routeNotFoundMessageID = "com.vmware.vapi.rest.httpNotFound"
    public static let authenticationRequiredMessageID = "com.vmware.vapi.endpoint.method.authentication.required"

    public init(errorType: ErrorType, messages: [LocalizableMessage] = [], data: JSONValue? = nil) {
        self.errorType = errorType
        self.messages = messages
        self.data = data
    }

    /// Reads an error body; anything unreadable still yields a type derived from the HTTP status.
    public init(httpStatus: Int, body: [UInt8]) {
        let decoded = try? ApplianceJSON.decoder().decode(WireError.self, from: Data(body))
        let inner = decoded?.value
        let named = decoded?.errorType ?? inner?.errorType
        let type = named.flatMap(ErrorType.init(rawValue:))
            ?? decoded?.type.flatMap(ErrorType.init(legacyType:))
            ?? ErrorType(httpStatus: httpStatus)
        let messages = (decoded?.messages ?? inner?.messages ?? []).compactMap(Self.message)
        self.init(errorType: type, messages: messages, data: decoded?.data ?? inner?.data)
    }

    /// A message read leniently: an error body that leaves out `args` (or has odd ones) still
    /// tells a missing route from a missing job.
    private static func message(_ value: JSONValue) -> LocalizableMessage? {
        guard case .object(let fields) = value else { return nil }
        func text(_ key: String) -> String? {
            if case .string(let text)? = fields[key] { return text }
            return nil
        }
        var args: [String] = []
        if case .array(let values)? = fields["args"] {
            args = values.compactMap { if case .string(let text) = $0 { text } else { nil } }
        }
        guard let id = text("id") else { return nil }
        return LocalizableMessage(id: id, defaultMessage: text("default_message") ?? "", args: args, params: fields["params"], localized: text("localized"))
    }

    /// True when the body came from the vAPI endpoint saying the route does not exist.
    public var isRouteNotFound: Bool {
        messages.contains { $0.id == Self.routeNotFoundMessageID }
    }

    /// The first message, for logs.
    public var summary: String {
        messages.first.map { "\($0.id): \($0.defaultMessage)" } ?? errorType.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case messages, data
        case errorType = "error_type"
    }
}

/// Both shapes at once; every field optional so that partial bodies still decode.
private struct WireError: Decodable {
    struct Inner: Decodable {
        var errorType: String?
        var messages: [JSONValue]?
        var data: JSONValue?
        enum CodingKeys: String, CodingKey {
            case messages, data
            case errorType = "error_type"
        }
    }

    var errorType: String?
    var messages: [JSONValue]?
    var data: JSONValue?
    var type: String?
    var value: Inner?

    enum CodingKeys: String, CodingKey {
        case messages, data, type, value
        case errorType = "error_type"
    }
}

