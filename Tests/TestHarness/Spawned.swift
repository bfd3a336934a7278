import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child started with `posix_spawn` and watched with `waitpid(WNOHANG)`.
///
/// Not Foundation's `Process`: on Linux it learns that a child ended when a socket the child inherited
/// reaches end-of-file, so a second child that inherits the same socket (spawned on another thread at
/// that moment, or given it as fd 0) keeps the first one "running" until the second ends. CI met it:
/// curl "did not exit" for 30 s at a time, and the waits held both cooperative threads until the whole
/// suite ran late. Here every descriptor the harness opens is close-on-exec, the child keeps only 0, 1
/// and 2, and the exit is read from the kernel.
public final class Spawned: Sendable {
    public let pid: pid_t
    /// The wait status once reaped.
    private let reaped = Mutex<Int32?>(nil)

    /// `stdin`, `stdout`, `stderr`: descriptors the child gets as 0, 1 and 2.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                stdin: Int32, stdout: Int32, stderr: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (descriptor, target) in [(stdin, STDIN_FILENO), (stdout, STDOUT_FILENO), (stderr, STDERR_FILENO)] {
            posix_spawn_file_actions_adddup2(&actions, descriptor, target)
        }
        guard Libc.closeFrom(&actions, 3) == 0 else { throw HarnessError("posix_spawn_file_actions_addclosefrom_np failed") }

        // Default signal handling and an empty mask, whatever the test process (or whoever started
        // it) ignores or blocks: ignored dispositions survive exec.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + env).forEach { free($0) } }
        var pid: pid_t = 0
        let error = posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        guard error == 0 else { throw HarnessError("cannot start \(executable): \(String(cString: strerror(error)))") }
        self.pid = pid
    }

    /// Reaps the child if it has ended; never blocks.
    private func poll() -> Int32? {
        reaped.withLock { reaped in
            if reaped == nil {
                var status: Int32 = 0
                var result: pid_t
                repeat { result = waitpid(pid, &status, WNOHANG) } while result == -1 && errno == EINTR
                if result == pid { reaped = status }
            }
            return reaped
        }
    }

    public var isRunning: Bool { poll() == nil }

    /// The exit status, or the number of the signal that ended it; nil while it runs.
    public var terminationStatus: Int32? {
        guard let status = poll() else { return nil }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    }

    public var endedBySignal: Bool {
        guard let status = poll() else { return false }
        return status & 0x7f != 0
    }

    /// Polls until the child ends or `timeout` passes; true if it ended.
    @discardableResult
    public func wait(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        return !isRunning
    }

    /// For synchronous callers (atexit, deinit): kills and reaps.
    public func kill() {
        guard isRunning else { return }
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, 0) } while result == -1 && errno == EINTR
        reaped.withLock { if $0 == nil && result == pid { $0 = status } }
    }
}

/// glibc functions Swift's Glibc module does not import (they need _GNU_SOURCE), and close-on-exec opens.
public enum Libc {
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    nonisolated(unsafe) private static let library = dlopen(nil, RTLD_NOW)
    private static let closeFromFunction = unsafeBitCast(dlsym(library, "posix_spawn_file_actions_addclosefrom_np"), to: CloseFrom?.self)
    private static let pipe2Function = unsafeBitCast(dlsym(library, "pipe2"), to: Pipe2?.self)

    static func closeFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) -> Int32 {
        closeFromFunction?(actions, lowest) ?? -1
    }

    /// A pipe whose ends are close-on-exec from the start (no other spawn can inherit them).
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard let pipe2Function, pipe2Function(&ends, O_CLOEXEC) == 0 else { throw HarnessError("pipe2: \(String(cString: strerror(errno)))") }
        return (ends[0], ends[1])
    }

    /// Opens `path` close-on-exec.
    public static func open(_ path: String, _ flags: Int32) throws -> Int32 {
        let descriptor = Glibc.open(path, flags | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw HarnessError("open \(path): \(String(cString: strerror(errno)))") }
        return descriptor
    }
}

/// Runs a command (looked up on PATH by /usr/bin/env) with optional stdin, bounded by `timeout`;
/// returns its exit status and combined output. A command still running at `timeout` is killed.
public func run(_ command: String, _ arguments: [String], input: String? = nil, timeout: Duration = .seconds(60)) throws -> (Int32, String) {
    let output = try Libc.pipe()
    let stdin = try Libc.pipe()
    let child: Spawned
    do {
        defer { close(output.write); close(stdin.read) }
        child = try Spawned("/usr/bin/env", [command] + arguments, stdin: stdin.read, stdout: output.write, stderr: output.write)
    } catch {
        close(output.read); close(stdin.write)
        throw error
    }
    defer { close(output.read) }
    if let input {
        var bytes = Array(input.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(stdin.write, $0.baseAddress, $0.count) }
            if written < 0 { if errno == EINTR { continue } else { break } }
            bytes = bytes.dropFirst(written)
        }
    }
    close(stdin.write)

    let deadline = ContinuousClock.now + timeout
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while ContinuousClock.now < deadline {
        var descriptor = pollfd(fd: output.read, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&descriptor, 1, 100) > 0 else { continue }
        let count = buffer.withUnsafeMutableBytes { read(output.read, $0.baseAddress, $0.count) }
        if count == 0 { break }
        if count < 0 { if errno == EINTR || errno == EAGAIN { continue } else { break } }
        data += buffer[..<count]
    }
    while child.isRunning && ContinuousClock.now < deadline { usleep(2_000) }
    guard let status = child.terminationStatus else {
        child.kill()
        throw HarnessError("\(command) did not exit within \(timeout)")
    }
    return (status, String(decoding: data, as: UTF8.self))
}
