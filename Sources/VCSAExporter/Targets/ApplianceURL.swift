#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An appliance's base URL as the client wants it: `scheme://host[:port]`, nothing else, so that
/// a configured URL cannot smuggle a path, a query or credentials into the calls built on it.
public enum ApplianceURL {
    /// `text` normalised, or nil when it is not an http(s) URL of a host and an optional port from 1 to 65535.
    public static func normalized(_ text: String) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["https", "http"].contains(scheme),
              let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil, url.user == nil,
              url.path.isEmpty || url.path == "/", let port = port(in: text), port == url.port else { return nil }
        // An IPv6 host keeps its brackets, or the URL means something else.
        return "\(scheme)://\(host.contains(":") ? "[\(host)]" : host)\(port.map { ":\($0)" } ?? "")"
    }

    /// The port as written: `.some(nil)` for none, nil when it is not a number from 1 to 65535.
    /// Read from the text, not from `URL`: that keeps 65536 (which traps in NIO's socket address
    /// at the first scrape) and drops a port past Int's range (which would quietly mean 443).
    static func port(in text: String) -> Int?? {
        let bytes = Array(text.utf8)
        guard let colonSlashSlash = bytes.indices.first(where: { bytes[$0...].starts(with: "://".utf8) }) else { return nil }
        let authority = bytes[(colonSlashSlash + 3)...].prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        // After an IPv6 literal's closing bracket, or else after the last colon.
        let hostEnd = authority.lastIndex(of: UInt8(ascii: "]")) ?? authority.startIndex
        guard let colon = authority[hostEnd...].lastIndex(of: UInt8(ascii: ":")) else { return .some(nil) }
        let digits = authority[authority.index(after: colon)...]
        if digits.isEmpty { return .some(nil) }
        guard digits.count <= 5, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        let value = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return (1...65535).contains(value) ? .some(value) : nil
    }

    /// What `normalized` accepts, for error messages.
    public static let expected = "a URL of the form https://host[:port] (no path, query or user; a port from 1 to 65535)"
}
