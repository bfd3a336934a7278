import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A fake appliance on 127.0.0.1 that answers like a vCenter with no reconciliation job, except for
/// one call, where it misbehaves as an overloaded appliance, a proxy or a half-dead TCP path does.
/// It proves that every wait of the exporter on the appliance is bounded.
///
/// Plain HTTP over raw sockets: an accept thread and a thread per connection (the exporter opens few).
/// A request that does not start like HTTP (a TLS ClientHello) gets `400` and a close, as from a real
/// plain-HTTP server.
final class FaultyUpstream: Sendable {
    enum Fault: String, Sendable {
        /// No fault: the well-behaved upstream (for protocol mismatches).
        case none
        /// Reads the request and never answers.
        case blackHole
        /// `200 OK` with `Content-Length: 1000`, a few body bytes, then silence.
        case headersThenStall
        /// `200 OK` with `Content-Length: 1000`, then one byte every 500 ms.
        case bodyTrickle
        /// `200 OK` with `Content-Length: 1000`, part of the body, then a TCP reset.
        case resetMidBody
    }

    /// The call that gets the fault.
    enum Target: String, Sendable {
        /// `POST /api/session`.
        case login
        /// `GET /api/appliance/recovery/reconciliation/job` (the login succeeds first).
        case job
    }

    static let jobPath = "/api/appliance/recovery/reconciliation/job"

    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }
    private let shared: Shared

    init(fault: Fault, on target: Target = .job) throws {
        let (listener, port) = try Self.listen()
        self.port = port
        shared = Shared(fault: fault, target: target, listener: listener)
        Thread { [shared] in shared.acceptLoop() }.start()
    }

    /// "METHOD path" of every request read so far.
    var requests: [String] { shared.state.withLock { $0.requests } }

    /// Stops accepting and lets every connection thread end (within about 100 ms).
    deinit { shared.state.withLock { $0.stopped = true } }

    private static func listen() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound, Glibc.listen(fd, 64) == 0 else {
            close(fd)
            throw FaultyUpstreamError(description: "cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}

struct FaultyUpstreamError: Error, CustomStringConvertible {
    let description: String
}

/// What the upstream's threads share; they check `stopped` at least every 100 ms.
private final class Shared: Sendable {
    struct State {
        var stopped = false
        var requests: [String] = []
    }

    let fault: FaultyUpstream.Fault
    let target: FaultyUpstream.Target
    let listener: Int32
    let state = Mutex(State())
    var stopped: Bool { state.withLock { $0.stopped } }

    init(fault: FaultyUpstream.Fault, target: FaultyUpstream.Target, listener: Int32) {
        self.fault = fault
        self.target = target
        self.listener = listener
    }

    func acceptLoop() {
        defer { close(listener) }
        while !stopped {
            guard readable(listener, milliseconds: 100) else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            Thread { [self] in serve(fd) }.start()
        }
    }

    /// Answers requests on one keep-alive connection until the fault strikes, the client leaves, or the upstream stops.
    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        while let (method, path) = readRequest(fd, &buffer) {
            state.withLock { $0.requests.append("\(method) \(path)") }
            let isLogin = method == "POST" && path == "/api/session"
            let isJob = method == "GET" && path == FaultyUpstream.jobPath
            if fault != .none && (target == .login ? isLogin : isJob) {
                return misbehave(fd)
            }
            let answer: String
            switch (method, path) {
            case ("POST", "/api/session"):
                answer = Self.response("201 Created", #""session-id""#)
            case ("DELETE", "/api/session"):
                answer = "HTTP/1.1 204 No Content\r\n\r\n"
            case ("GET", FaultyUpstream.jobPath):
                answer = Self.response("404 Not Found", #"{"error_type":"NOT_FOUND","messages":[{"args":[],"default_message":"There is no running reconciliation job.","id":"com.vmware.appliance.recovery.reconciliation.job.not_found"}]}"#)
            default:
                answer = Self.response("404 Not Found", #"{"error_type":"NOT_FOUND","messages":[{"args":[],"default_message":"Not found.","id":"com.vmware.vapi.rest.httpNotFound"}]}"#)
            }
            guard write(fd, answer) else { return }
        }
    }

    private func misbehave(_ fd: Int32) {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        switch fault {
        case .none:
            return
        case .blackHole:
            waitForClose(fd)
        case .headersThenStall:
            guard write(fd, head + #"{"status": "#) else { return }
            waitForClose(fd)
        case .bodyTrickle:
            guard write(fd, head) else { return }
            for _ in 0..<1000 {
                // Half a second between bytes, leaving early when the client hangs up.
                if readable(fd, milliseconds: 500) && !discard(fd) { return }
                guard !stopped, write(fd, " ") else { return }
            }
        case .resetMidBody:
            guard write(fd, head + #"{"status": "RUNNING", "progress": 4"# + String(repeating: " ", count: 300)) else { return }
            usleep(100_000)
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
    }

    /// The next request's method and path (its body read and dropped); nil when the client left or sent no HTTP.
    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> (String, String)? {
        var headEnd: Int?
        while true {
            if let first = buffer.first, !(65...90).contains(first) {
                _ = write(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return nil
            }
            headEnd = RawConnection.find([13, 10, 13, 10], in: buffer)
            if headEnd != nil { break }
            guard receive(fd, into: &buffer) else { return nil }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        let lines = head.components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        let length = lines.dropFirst().compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        while buffer.count < length {
            guard receive(fd, into: &buffer) else { return nil }
        }
        buffer.removeFirst(length)
        return (String(requestLine[0]), String(requestLine[1]))
    }

    /// Appends what arrives; false when the client closed or the upstream stopped.
    private func receive(_ fd: Int32, into buffer: inout [UInt8]) -> Bool {
        while !stopped {
            guard readable(fd, milliseconds: 100) else { continue }
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[..<count])
            return true
        }
        return false
    }

    /// Reads and drops what the client sends until it closes or the upstream stops.
    private func waitForClose(_ fd: Int32) {
        while !stopped {
            if readable(fd, milliseconds: 100) && !discard(fd) { return }
        }
    }

    /// Reads once; false when the client has closed.
    private func discard(_ fd: Int32) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        return chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } > 0
    }

    private func readable(_ fd: Int32, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    private func write(_ fd: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    private static func response(_ status: String, _ json: String) -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
    }
}
