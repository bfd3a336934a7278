/// vAPI's standard error discriminator (`error_type`): the 25 values of `Std_Errors_Error_Type`.
public enum ErrorType: String, Codable, Sendable, CaseIterable {
    case error = "ERROR"
    case alreadyExists = "ALREADY_EXISTS"
    case alreadyInDesiredState = "ALREADY_IN_DESIRED_STATE"
    case canceled = "CANCELED"
    case concurrentChange = "CONCURRENT_CHANGE"
    case featureInUse = "FEATURE_IN_USE"
    case internalServerError = "INTERNAL_SERVER_ERROR"
    case invalidArgument = "INVALID_ARGUMENT"
    case invalidElementConfiguration = "INVALID_ELEMENT_CONFIGURATION"
    case invalidElementType = "INVALID_ELEMENT_TYPE"
    case invalidRequest = "INVALID_REQUEST"
    case notAllowedInCurrentState = "NOT_ALLOWED_IN_CURRENT_STATE"
    case notFound = "NOT_FOUND"
    case operationNotFound = "OPERATION_NOT_FOUND"
    case resourceBusy = "RESOURCE_BUSY"
    case resourceInUse = "RESOURCE_IN_USE"
    case resourceInaccessible = "RESOURCE_INACCESSIBLE"
    case serviceUnavailable = "SERVICE_UNAVAILABLE"
    case timedOut = "TIMED_OUT"
    case unableToAllocateResource = "UNABLE_TO_ALLOCATE_RESOURCE"
    case unauthenticated = "UNAUTHENTICATED"
    case unauthorized = "UNAUTHORIZED"
    case unexpectedInput = "UNEXPECTED_INPUT"
    case unsupported = "UNSUPPORTED"
    case unverifiedPeer = "UNVERIFIED_PEER"

    /// The type to assume when an error body names none.
    public init(httpStatus: Int) {
        switch httpStatus {
        case 401: self = .unauthenticated
        case 403: self = .unauthorized
        case 404: self = .notFound
        case 409: self = .concurrentChange
        case 503: self = .serviceUnavailable
        case 504: self = .timedOut
        case 400..<500: self = .invalidRequest
        default: self = .error
        }
    }

    /// The legacy /rest discriminator, e.g. `com.vmware.vapi.std.errors.not_found` -> NOT_FOUND.
    public init?(legacyType: String) {
        guard let last = legacyType.split(separator: ".").last else { return nil }
        self.init(rawValue: last.uppercased())
    }
}
