#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `host:port` listen address in the exporter-toolkit form: ":9100" means every interface.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// nil for every interface.
    public var host: String?
    public var port: UInt16

    public init(host: String?, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses "host:port", ":port" or "[v6]:port"; the error says what was expected.
    public init(parsing text: String) throws(ListenAddressError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw ListenAddressError(text: text, reason: "expected host:port, e.g. :28272 or 127.0.0.1:28272")
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = UInt16(portText) else {
            throw ListenAddressError(text: text, reason: "port must be a number from 0 to 65535")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard !host.contains("[") && !host.contains("]") else {
                throw ListenAddressError(text: text, reason: "brackets go around an IPv6 host once, e.g. [::1]:28272")
            }
        } else if host.contains(":") {
            throw ListenAddressError(text: text, reason: "IPv6 hosts need brackets, e.g. [::1]:28272")
        }
        self.init(host: host.isEmpty ? nil : host, port: port)
    }

    public var description: String {
        guard let host else { return ":\(port)" }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Resolves the host to a socket address (numeric or by name).
    func socketAddress() throws(ListenAddressError) -> SocketAddressStorage {
        guard let host else { throw ListenAddressError(text: description, reason: "no host to resolve") }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw ListenAddressError(text: description, reason: "cannot resolve host: \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        let storage = SocketAddressStorage(isIPv6: first.pointee.ai_family == AF_INET6)
        UnsafeMutableRawPointer(storage.pointer).copyMemory(from: first.pointee.ai_addr, byteCount: Int(first.pointee.ai_addrlen))
        return storage
    }
}

/// A resolved socket address at a stable address, for libmicrohttpd's MHD_OPTION_SOCK_ADDR.
final class SocketAddressStorage: @unchecked Sendable {
    let pointer = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
    let isIPv6: Bool

    init(isIPv6: Bool) {
        pointer.initialize(to: sockaddr_storage())
        self.isIPv6 = isIPv6
    }

    deinit {
        pointer.deallocate()
    }
}

public struct ListenAddressError: Error, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "invalid listen address \"\(text)\": \(reason)" }
}
