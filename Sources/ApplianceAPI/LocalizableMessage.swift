/// vAPI's `LocalizableMessage`; also fits the restore API's smaller message (id, default_message, args).
public struct LocalizableMessage: Codable, Sendable, Equatable {
    public var id: String
    public var defaultMessage: String
    public var args: [String]
    /// An object under /api, an array of key/value pairs under /rest: kept as raw JSON.
    public var params: JSONValue?
    public var localized: String?

    public init(id: String, defaultMessage: String, args: [String] = [], params: JSONValue? = nil, localized: String? = nil) {
        self.id = id
        self.defaultMessage = defaultMessage
        self.args = args
        self.params = params
        self.localized = localized
    }

    enum CodingKeys: String, CodingKey {
        case id, args, params, localized
        case defaultMessage = "default_message"
    }
}

/// vAPI's `DynamicID`: a reference to a resource of any type.
public struct DynamicID: Codable, Sendable, Equatable {
    public var type: String
    public var id: String

    public init(type: String, id: String) {
        self.type = type
        self.id = id
    }
}
