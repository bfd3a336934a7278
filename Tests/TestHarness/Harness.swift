import AsyncHTTPClient
import Foundation
import Synchronization
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// Where `swift build` put the binaries: beside the test bundle, or VCSA_BIN_DIR.
public enum Binaries {
    public static let directory: String = {
        if let explicit = ProcessInfo.processInfo.environment["VCSA_BIN_DIR"] { return explicit }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: executable)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("vcsa_exporter").path) {
            url.deleteLastPathComponent()
        }
        return url.path
    }()

    public static func path(_ name: String) throws -> String {
        let path = directory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("\(name) not found next to the tests; run `swift build` first (make test does)")
        }
        return path
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A free loopback port for a server under test.
public func freePort() -> Int {
    // Below the kernel's ephemeral range: a port handed out here is never also the source port of
    // some test's outgoing connection (that collision made "address in use" flakes), and never twice.
    let ephemeralLow = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
        .flatMap { Int($0.split(whereSeparator: \.isWhitespace).first ?? "") } ?? 32768
    for _ in 0..<1000 {
        let port = Int.random(in: 10_000..<max(10_001, ephemeralLow))
        guard handedOut.withLock({ $0.insert(port).inserted }), canBind(port) else { continue }
        return port
    }
    fatalError("no free loopback port below \(ephemeralLow)")
}

private let handedOut = Mutex<Set<Int>>([])

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
}

/// A child process whose stdout and stderr go to a file we can read back; its stdin is /dev/null.
public final class ChildProcess: @unchecked Sendable {
    public let process: Spawned
    public let logPath: String

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("vcsa-test-\(UUID().uuidString).log").path
        let log = try Libc.open(logPath, O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(log) }
        let null = try Libc.open("/dev/null", O_RDONLY)
        defer { close(null) }
        var env = ProcessInfo.processInfo.environment
        env["VCSA_PASSWORD"] = nil
        env["VCSA_USERNAME"] = nil
        for (key, value) in environment { env[key] = value }
        process = try Spawned(executable, arguments, environment: env, stdin: null, stdout: log, stderr: log)
        LiveChildren.add(process.pid)
    }

    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    public var pid: Int32 { process.pid }
    public var isRunning: Bool { process.isRunning }

    public func signal(_ number: Int32) { if process.isRunning { kill(process.pid, number) } }

    /// Waits for exit; returns the exit status (nil on timeout).
    public func waitForExit(timeout: Duration = .seconds(10)) async -> Int32? {
        await process.wait(timeout: timeout)
        return process.terminationStatus
    }

    public func stop() {
        process.kill()
        LiveChildren.remove(process.pid)
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

/// The children still running, killed when the test process exits: a test that ends while a task
/// still holds its exporter or simulator would otherwise leave the process running after the suite.
private enum LiveChildren {
    private static let pids = Mutex<Set<pid_t>?>(nil)

    static func add(_ pid: pid_t) {
        let first = pids.withLock { pids in
            defer { pids = (pids ?? []).union([pid]) }
            return pids == nil
        }
        if first { atexit { LiveChildren.killAll() } }
    }

    static func remove(_ pid: pid_t) {
        pids.withLock { _ = $0?.remove(pid) }
    }

    static func killAll() {
        for pid in pids.withLock({ $0 ?? [] }) { kill(pid, SIGKILL) }
    }
}

public struct HTTPResult: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Sees bodies as sent (no transparent decompression) and opens enough connections for concurrency tests.
public let testClient: HTTPClient = {
    var configuration = HTTPClient.Configuration(decompression: .disabled)
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
    // Below the servers' 10 s idle timeout: a pooled connection the server is closing is never reused
    // (a slow machine met "remote connection closed" when both ran out at once).
    configuration.connectionPool.idleTimeout = .seconds(5)
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

/// One HTTP exchange with the real servers.
public func http(_ method: HTTPMethod = .GET, _ url: String, headers: [(String, String)] = [], body: String? = nil, timeout: Duration = .seconds(20)) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await testClient.execute(request, timeout: .nanoseconds(timeout.components.seconds * 1_000_000_000))
    let collected = try await response.body.collect(upTo: 16 << 20)
    return HTTPResult(status: Int(response.status.code), headers: response.headers, body: Array(collected.readableBytesView))
}

/// Polls until `url` answers at all.
public func waitUntilServing(_ url: String, process: ChildProcess) async throws {
    let deadline = ContinuousClock.now + .seconds(15)
    while ContinuousClock.now < deadline {
        if (try? await http(.GET, url, timeout: .seconds(1))) != nil { return }
        if !process.process.isRunning { throw HarnessError("process exited early:\n\(process.output)") }
        try await Task.sleep(for: .milliseconds(25))
    }
    throw HarnessError("\(url) never answered:\n\(process.output)")
}

/// Samples of an exposition text, keyed by the series as written (`name{labels}`).
public func parseMetrics(_ text: String) -> [String: Double] {
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " ") else { continue }
        samples[String(line[..<space])] = Double(line[line.index(after: space)...])
    }
    return samples
}

/// Polls `condition` until it holds, for up to `timeout`: for what another process does on its own
/// time (a logout, a reload), never to assert how fast.
public func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw HarnessError("condition not met within \(timeout)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Counts under a lock, for tests.
public final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    public init() {}
    public func next() -> Int { lock.lock(); defer { lock.unlock() }; count += 1; return count }
    public var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
