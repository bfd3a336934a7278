import Foundation
import TestHarness
#if canImport(Glibc)
import Glibc
#endif

/// Why a raw exchange ended without an answer.
enum RawError: Error, Equatable, CustomStringConvertible {
    /// Nobody listens (the process is gone, or the port was never opened).
    case refused
    /// The server closed the connection (FIN or RST) before a whole answer arrived.
    case closed(String)
    /// Nothing within the deadline: the server keeps the connection open and says nothing.
    case timedOut
    /// The client itself could not go on (out of sockets, an answer that is not HTTP).
    case failed(String)

    var description: String {
        switch self {
        case .refused: "connection refused"
        case .closed(let how): "closed without an answer (\(how))"
        case .timedOut: "no answer before the deadline"
        case .failed(let why): "client failure: \(why)"
        }
    }
}

/// One HTTP answer as read off the wire.
struct RawResponse: Sendable {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var closesConnection: Bool { headers["connection"]?.lowercased().contains("close") == true }
    var metrics: [String: Double] { parseMetrics(text) }
}

typealias RawOutcome = Result<RawResponse, RawError>

extension Result where Success == RawResponse, Failure == RawError {
    var status: Int? { try? get().status }
    var summary: String {
        switch self {
        case .success(let response): "HTTP \(response.status)"
        case .failure(let error): error.description
        }
    }
}

/// A request as bytes; `Connection: close` unless `keepAlive`.
func httpRequest(_ method: String = "GET", _ path: String, headers: [(String, String)] = [], body: [UInt8] = [], keepAlive: Bool = false) -> [UInt8] {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if !keepAlive { head += "Connection: close\r\n" }
    if !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
    return Array((head + "\r\n").utf8) + body
}

/// A TCP connection to a loopback port, driven by hand, for what no HTTP client would send.
/// Every call is bounded by a deadline; the socket is non-blocking and waited on with poll().
final class RawConnection: @unchecked Sendable {
    private var fd: Int32
    /// Bytes received and not yet handed out (pipelined answers arrive together).
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`, from the loopback address `source` when given (per-IP limits see it).
    init(port: Int, from source: String? = nil, timeout: Duration = .seconds(2)) throws(RawError) {
        fd = try Self.connect(port: port, source: source, deadline: .now + timeout)
    }

    deinit { close() }

    /// Writes all of `bytes`, or throws when the server stops reading or closes.
    func send(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(RawError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                offset += sent
            } else if errno == EAGAIN || errno == EINTR {
                guard Self.wait(fd, for: Int16(POLLOUT), until: deadline) else { throw .timedOut }
            } else {
                throw .closed(Self.errnoText())
            }
        }
    }

    func send(_ text: String, deadline: ContinuousClock.Instant) throws(RawError) {
        try send(Array(text.utf8), deadline: deadline)
    }

    /// Reads the next answer (the next of several, when requests were pipelined).
    func readResponse(deadline: ContinuousClock.Instant) throws(RawError) -> RawResponse {
        while true {
            var headEnd = Self.find([13, 10, 13, 10], in: buffer)
            while headEnd == nil {
                try fill(deadline: deadline)
                headEnd = Self.find([13, 10, 13, 10], in: buffer)
            }
            let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
            buffer.removeFirst(headEnd! + 4)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else {
                throw .failed("not an HTTP answer: \(head.prefix(80))")
            }
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            if (100..<200).contains(status) { continue }  // 100 Continue: the real answer follows
            let body: [UInt8]
            if let length = headers["content-length"].flatMap({ Int($0) }) {
                body = try take(length, deadline: deadline)
            } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
                body = try readChunked(deadline: deadline)
            } else if status == 204 || status == 304 {
                body = []
            } else {
                body = try readToEnd(deadline: deadline)
            }
            return RawResponse(status: status, headers: headers, body: body)
        }
    }

    /// Closes; with `reset`, SO_LINGER 0 makes the kernel send RST instead of FIN.
    func close(reset: Bool = false) {
        guard fd >= 0 else { return }
        if reset {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        Glibc.close(fd)
        fd = -1
    }

    // MARK: Reading

    private func fill(deadline: ContinuousClock.Instant) throws(RawError) {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[..<count])
                return
            }
            if count == 0 { throw .closed("EOF") }
            guard errno == EAGAIN || errno == EINTR else { throw .closed(Self.errnoText()) }
            guard Self.wait(fd, for: Int16(POLLIN), until: deadline) else { throw .timedOut }
        }
    }

    private func take(_ count: Int, deadline: ContinuousClock.Instant) throws(RawError) -> [UInt8] {
        while buffer.count < count { try fill(deadline: deadline) }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    private func readChunked(deadline: ContinuousClock.Instant) throws(RawError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            var lineEnd = Self.find([13, 10], in: buffer)
            while lineEnd == nil {
                try fill(deadline: deadline)
                lineEnd = Self.find([13, 10], in: buffer)
            }
            let sizeText = String(decoding: buffer[..<lineEnd!], as: UTF8.self).split(separator: ";").first ?? ""
            buffer.removeFirst(lineEnd! + 2)
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw .failed("bad chunk size \(sizeText)") }
            if size == 0 {
                _ = try take(2, deadline: deadline)  // no trailers are sent to us
                return body
            }
            body += try take(size + 2, deadline: deadline).dropLast(2)
        }
    }

    private func readToEnd(deadline: ContinuousClock.Instant) throws(RawError) -> [UInt8] {
        do {
            while true { try fill(deadline: deadline) }
        } catch .closed {
            defer { buffer = [] }
            return buffer
        }
    }

    // MARK: Sockets

    private static func connect(port: Int, source: String?, deadline: ContinuousClock.Instant) throws(RawError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .failed("socket: \(errnoText())") }
        do throws(RawError) {
            if let source {
                guard withAddress(source, port: 0, { bind(fd, $0, $1) }) == 0 else { throw .failed("bind \(source): \(errnoText())") }
            }
            if withAddress("127.0.0.1", port: port, { Glibc.connect(fd, $0, $1) }) != 0 {
                guard errno == EINPROGRESS else { throw errno == ECONNREFUSED ? .refused : .failed("connect: \(errnoText())") }
                guard wait(fd, for: Int16(POLLOUT), until: deadline) else { throw .timedOut }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                guard error == 0 else { throw error == ECONNREFUSED ? .refused : .closed(String(cString: strerror(error))) }
            }
            return fd
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    private static func withAddress(_ host: String, port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// Waits until `fd` is ready for `events` (or in error, which the next call reports); false at the deadline.
    static func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - .now
            guard left > .zero else { return false }
            let milliseconds = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { start in
            haystack[start] == needle[0] && Array(haystack[start..<start + needle.count]) == needle
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Runs blocking socket work on a thread of its own: Swift's cooperative pool has as many threads
/// as cores (two here), and a raw client waiting on poll() must not starve the rest of the suite.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// One request on a fresh connection, read back within `timeout`.
func rawExchange(port: Int, _ request: [UInt8], from source: String? = nil, timeout: Duration = .seconds(5)) async -> RawOutcome {
    await onThread {
        let deadline = ContinuousClock.now + timeout
        return Result { () throws(RawError) -> RawResponse in
            let connection = try RawConnection(port: port, from: source, timeout: timeout)
            try connection.send(request, deadline: deadline)
            return try connection.readResponse(deadline: deadline)
        }
    }
}

/// A scrape as Prometheus would send it, on its own connection, from 127.0.0.2 unless told.
func rawScrape(_ exporter: Exporter, path: String = "/metrics", from source: String = "127.0.0.2",
               headers: [(String, String)] = [], timeout: Duration = .seconds(5)) async -> RawOutcome {
    await rawExchange(port: exporter.port, httpRequest("GET", path, headers: headers), from: source, timeout: timeout)
}
