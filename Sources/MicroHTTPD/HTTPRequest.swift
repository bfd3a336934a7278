
/// One HTTP request as libmicrohttpd delivered it, copied into Swift values.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query string.
    public var path: String
    /// The query string as sent, decoded ("" when absent).
    public var query: String
    /// The query's name=value pairs, decoded, in order (a name may repeat).
    public var queryItems: [(name: String, value: String)]
    /// Header names lower-cased; repeated headers keep their first value.
    public var headers: [String: String]
    /// At most the server's `maxBodyBytes`: a longer body is answered 413 before any handler runs.
    public var body: [UInt8]
    /// The peer address as "ip:port", for audit logs.
    public var clientAddress: String

    public init(method: String, path: String, query: String = "", queryItems: [(name: String, value: String)] = [],
                headers: [String: String] = [:], body: [UInt8] = [], clientAddress: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.queryItems = queryItems
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }

    /// Every value of the query parameter `name`.
    public func queryValues(_ name: String) -> [String] {
        queryItems.filter { $0.name == name }.map(\.value)
    }

    /// A header by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }

    /// True when `Accept-Encoding` lists gzip with a non-zero quality.
    public var acceptsGzip: Bool {
        guard let value = header("accept-encoding") else { return false }
        for item in value.split(separator: ",") {
            // Tokens and parameters hold no white space: dropping all of it trims them.
            let parts = item.split(separator: ";").map { String($0.filter { !$0.isWhitespace }) }
            guard let coding = parts.first?.lowercased(), coding == "gzip" || coding == "x-gzip" else { continue }
            // "gzip;q=0" means "not gzip".
            let quality = parts.dropFirst().first { $0.lowercased().hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return quality > 0
        }
        return false
    }
}
