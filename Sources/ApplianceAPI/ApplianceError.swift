/// Why a call to the appliance did not produce a usable answer.
public enum ApplianceError: Error, Sendable, CustomStringConvertible {
    /// The appliance answered with a vAPI error.
    case api(httpStatus: Int, error: VAPIError)
    /// No HTTP answer: connection refused, reset, DNS.
    case transport(String)
    /// The TLS handshake failed (untrusted certificate, wrong host name).
    case tls(String)
    /// The scrape's deadline passed before the answer arrived.
    case deadlineExceeded
    /// An answer that does not match the spec (bad JSON, too large, wrong shape).
    case invalidResponse(String)
    /// Login was refused or timed out recently; no new attempt until the back-off ends.
    indirect case loginBackoff(secondsLeft: Int, lastError: ApplianceError)

    /// A single word for counting: the vAPI `error_type`, or one of the client-side classes.
    public var errorType: String {
        switch self {
        case .api(_, let error): return error.errorType.rawValue
        case .transport: return "TRANSPORT_ERROR"
        case .tls: return "TLS_ERROR"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        case .invalidResponse: return "INVALID_RESPONSE"
        case .loginBackoff(_, let error): return error.errorType
        }
    }

    /// The client-side classes, next to `ErrorType`'s 25, so that counters can be pre-initialised.
    public static let clientErrorTypes = ["TRANSPORT_ERROR", "TLS_ERROR", "DEADLINE_EXCEEDED", "INVALID_RESPONSE"]

    /// True when the appliance does not offer the operation at all (an older build, or a different appliance).
    public var isOperationMissing: Bool {
        guard case .api(let status, let error) = self else { return false }
        return error.errorType == .operationNotFound || (status == 404 && error.isRouteNotFound)
    }

    public var description: String {
        switch self {
        case .api(let status, let error): return "HTTP \(status) \(error.errorType.rawValue) (\(error.summary))"
        case .transport(let reason): return "transport error: \(reason)"
        case .tls(let reason): return "TLS error: \(reason)"
        case .deadlineExceeded: return "deadline exceeded"
        case .invalidResponse(let reason): return "invalid response: \(reason)"
        case .loginBackoff(let seconds, let error):
            return "login failed (\(error.errorType)); next attempt in \(seconds)s"
        }
    }
}
