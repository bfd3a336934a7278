#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An appliance's base URL as the client wants it: `scheme://host[:port]`, nothing else, so that
/// a configured URL cannot smuggle a path, a query or credentials into the calls built on it.
public enum ApplianceURL {
    /// `text` normalised, or nil when it is not an http(s) URL of a host and an optional port.
    public static func normalized(_ text: String) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["https", "http"].contains(scheme),
              let host = url.host, !host.isEmpty, url.query == nil, url.user == nil, url.path.isEmpty || url.path == "/" else { return nil }
        // An IPv6 host keeps its brackets, or the URL means something else.
        return "\(scheme)://\(host.contains(":") ? "[\(host)]" : host)\(url.port.map { ":\($0)" } ?? "")"
    }

    /// What `normalized` accepts, for error messages.
    public static let expected = "a URL of the form https://host[:port] (no path, query or user)"
}
