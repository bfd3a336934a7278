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
        let inode = try #require(Self.listeningInode(port: port), "no LISTEN socket on port \(port)")
        let descriptor = try #require(Self.descriptor(ofSocket: inode))

        // One request held by its handler, so that the server has something to drain.
        let client = try #require(Self.connect(port: port))
        defer { close(client) }
        let request = Array("GET / HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        #expect(write(client, request, request.count) == request.count)
        try await Self.eventually { held.withLock { $0 != nil } }

        server.stopAccepting()
        #expect(Self.connect(port: port) == nil, "a new client is refused at once, not left in the backlog")
        #expect(Self.link(descriptor) == "socket:[\(inode)]", "the listening descriptor is still open while the daemon runs")

        let stopped = Task { await server.shutdown(drainTimeout: .seconds(10)) }
        held.withLock { $0 }?.respond(.text(200, "answered during the drain"))
        await stopped.value
        #expect(Self.link(descriptor) != "socket:[\(inode)]", "closed once the daemon has stopped")
    }

    /// The inode of the TCP socket listening on `port`, from /proc/net/tcp (state 0A is LISTEN).
    static func listeningInode(port: UInt16) -> String? {
        let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
        let local = String(format: ":%04X", port)
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[1].hasSuffix(local), fields[3] == "0A" else { continue }
            return String(fields[9])
        }
        return nil
    }

    static func descriptor(ofSocket inode: String) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.compactMap(Int32.init).first { link($0) == "socket:[\(inode)]" }
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

    static func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
