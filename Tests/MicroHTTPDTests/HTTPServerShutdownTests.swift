import Foundation
import MicroHTTPD
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Shutdown as libmicrohttpd requires it: the listening socket stops taking clients at once, but
/// its descriptor stays open until the daemon has stopped (microhttpd.h; closing it earlier races
/// the daemon's thread, which panics on EBADF, and frees the number for another socket).
@Suite struct HTTPServerShutdownTests {
    @Test func theListeningSocketRefusesAtOnceAndClosesOnlyAfterTheDaemonStops() async throws {
        let held = Mutex<HTTPResponder?>(nil)
        let server = HTTPServer(configuration: .init(address: try ListenAddress(parsing: "127.0.0.1:0"))) { _, responder in
            held.withLock { $0 = responder }
        }
        try server.start()
        let port = server.boundPort
        let descriptor = try #require(Self.listeningDescriptor(port: port), "no socket listening on port \(port)")
        let socket = try #require(Self.link(descriptor))

        // One request held by its handler, so that the server has something to drain.
        let client = try #require(Self.connect(port: port))
        defer { close(client) }
        let request = Array("GET / HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        #expect(write(client, request, request.count) == request.count)
        try await eventually("the request reaches its handler") { held.withLock { $0 != nil } }

        server.stopAccepting()
        #expect(Self.connect(port: port) == nil, "a new client is refused at once, not left in the backlog")
        #expect(Self.link(descriptor) == socket, "the listening descriptor is still open while the daemon runs")

        let stopped = Task { await server.shutdown(drainTimeout: .seconds(10)) }
        held.withLock { $0 }?.respond(.text(200, "answered during the drain"))
        await stopped.value
        #expect(Self.link(descriptor) != socket, "closed once the daemon has stopped")
    }

    /// The descriptor of this process' socket listening on `port` (SO_ACCEPTCONN and its bound port).
    static func listeningDescriptor(port: UInt16) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.compactMap(Int32.init).first { descriptor in
            var listening: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0, listening == 1 else { return false }
            var address = sockaddr_in()
            var addressLength = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &addressLength) }
            }
            return named == 0 && address.sin_family == sa_family_t(AF_INET) && UInt16(bigEndian: address.sin_port) == port
        }
    }

    static func link(_ descriptor: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")
    }

    /// A connected socket, or nil when the connection is refused.
    static func connect(port: UInt16) -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            return nil
        }
        return socket
    }
}
