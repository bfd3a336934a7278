import CMicroHTTPD
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An HTTP(S) server on one libmicrohttpd daemon.
///
/// libmicrohttpd's threads never wait for a handler: an answer given at once is sent at once;
/// otherwise the connection is suspended until the handler's responder is called, from any thread.
/// What a client can take is bounded: connections in all and per address, idle time, header and body size.
/// The daemon's callbacks refer to the server, so keep it alive until `shutdown()` returns.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var address: ListenAddress
        public var tls: ServerTLS?
        /// Open connections from one client address; more are closed on accept.
        public var maxConnectionsPerIP: Int
        /// Open connections in all.
        public var maxConnections: Int = 1024
        /// A body declared larger is answered 413 before it is read; a chunked one that grows past it closes its connection.
        public var maxBodyBytes: Int = 64 * 1024
        /// Seconds a connection may sit idle (or trickle a request slower than this between bytes).
        public var connectionTimeoutSeconds: Int = 10
        /// The request line and headers must fit in this (libmicrohttpd answers 431 otherwise).
        public var headerMemoryBytes: Int = 32 * 1024

        public init(address: ListenAddress, tls: ServerTLS? = nil, maxConnectionsPerIP: Int = 64) {
            self.address = address
            self.tls = tls
            self.maxConnectionsPerIP = maxConnectionsPerIP
        }
    }

    let configuration: Configuration
    let handler: HTTPHandler
    /// Told of every client refused for its certificate (address, reason), e.g. to log it.
    let refusedClient: (@Sendable (String, String) -> Void)?
    private let state = Mutex(State())

    private struct State {
        var daemon: DaemonHandle?
        var boundPort: UInt16 = 0
        /// Set by `stopAccepting()`: new requests get 503 and a closed connection.
        var draining = false
        /// The listening socket `MHD_quiesce_daemon` handed back: libmicrohttpd's thread may still
        /// remove it from its epoll set, so it is closed only after `MHD_stop_daemon` (microhttpd.h).
        var quiescedListener: Int32 = -1
        /// Requests handed to the handler and not yet answered: a suspended one must be resumed before the daemon stops.
        var unanswered: [ObjectIdentifier: RequestContext] = [:]
        /// Set by `abandonDrain()`.
        var abandoned = false
    }

    public init(configuration: Configuration, refusedClient: (@Sendable (String, String) -> Void)? = nil, handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.refusedClient = refusedClient
        self.handler = handler
    }

    /// The port actually bound (differs from the configured one when that was 0).
    public var boundPort: UInt16 { state.withLock { $0.boundPort } }

    /// Binds and starts serving; throws with the reason when the address cannot be used.
    public func start() throws(HTTPServerError) {
        let address = configuration.address
        // libmicrohttpd reads these as unsigned int and size_t: a larger value would wrap to another limit.
        let limits = [("connection timeout", configuration.connectionTimeoutSeconds), ("connection limit", configuration.maxConnections),
                      ("per-address connection limit", configuration.maxConnectionsPerIP)]
        for (name, value) in limits where !(0...Int(UInt32.max)).contains(value) {
            throw HTTPServerError(address: address, reason: "the \(name) \(value) is not from 0 to \(UInt32.max)")
        }
        guard configuration.headerMemoryBytes >= 0 else {
            throw HTTPServerError(address: address, reason: "the header memory \(configuration.headerMemoryBytes) is negative")
        }
        if let tls = configuration.tls {
            let shared = TLSCredentials.active.withLock { active in
                if active == nil { active = tls.credentials }
                return active === tls.credentials
            }
            guard shared else { throw HTTPServerError(address: address, reason: "the HTTPS servers of a process share one set of TLS credentials") }
        }
        var socketAddress: SocketAddressStorage?
        if address.host != nil {
            do { socketAddress = try address.socketAddress() } catch { throw HTTPServerError(address: address, reason: error.reason) }
        }
        var daemon = startDaemon(socketAddress: socketAddress, dualStack: address.host == nil)
        if daemon == nil && address.host == nil {
            // No IPv6 on this host: every IPv4 interface instead.
            daemon = startDaemon(socketAddress: nil, dualStack: false)
        }
        guard let daemon else {
            throw HTTPServerError(address: address, reason: "cannot listen (address in use, not local, or bad TLS material): \(String(cString: strerror(errno)))")
        }
        let port = vcsa_mhd_bound_port(daemon)
        state.withLock {
            $0.daemon = DaemonHandle(pointer: daemon)
            $0.boundPort = port
        }
    }

    private func startDaemon(socketAddress: SocketAddressStorage?, dualStack: Bool) -> OpaquePointer? {
        var flags = UInt32(MHD_USE_AUTO_INTERNAL_THREAD.rawValue) | UInt32(MHD_ALLOW_SUSPEND_RESUME.rawValue)
        if dualStack { flags |= UInt32(MHD_USE_DUAL_STACK.rawValue) }
        if socketAddress?.isIPv6 == true { flags |= UInt32(MHD_USE_IPv6.rawValue) }
        if configuration.tls != nil { flags |= UInt32(MHD_USE_TLS.rawValue) }

        // C strings handed to GnuTLS must outlive MHD_start_daemon.
        var cStrings: [UnsafeMutablePointer<CChar>] = []
        defer { cStrings.forEach { free($0) } }
        func cString(_ text: String) -> UnsafeMutableRawPointer {
            let pointer = strdup(text)!
            cStrings.append(pointer)
            return UnsafeMutableRawPointer(pointer)
        }

        var options: [MHD_OptionItem] = [
            MHD_OptionItem(option: .CONNECTION_TIMEOUT, value: configuration.connectionTimeoutSeconds, ptr_value: nil),
            MHD_OptionItem(option: .CONNECTION_LIMIT, value: configuration.maxConnections, ptr_value: nil),
            MHD_OptionItem(option: .PER_IP_CONNECTION_LIMIT, value: configuration.maxConnectionsPerIP, ptr_value: nil),
            MHD_OptionItem(option: .CONNECTION_MEMORY_LIMIT, value: configuration.headerMemoryBytes, ptr_value: nil),
            // Refuse malformed requests instead of guessing what they meant.
            MHD_OptionItem(option: .STRICT_FOR_CLIENT, value: 1, ptr_value: nil),
        ]
        if let tls = configuration.tls {
            // The certificate is asked for at every handshake, so that a replaced one is served without a restart.
            options.append(MHD_OptionItem(option: .HTTPS_CERT_CALLBACK, value: 0, ptr_value: unsafeBitCast(certificateCallback, to: UnsafeMutableRawPointer.self)))
            options.append(MHD_OptionItem(option: .HTTPS_PRIORITIES, value: 0, ptr_value: cString(tls.priorities)))
            // Two-argument options take the function in `value` (MHD_OPTION_ARRAY's rule).
            options.append(MHD_OptionItem(option: .NOTIFY_CONNECTION, value: unsafeBitCast(connectionNotification, to: Int.self), ptr_value: nil))
        }
        let port = configuration.address.port
        return withExtendedLifetime(socketAddress) {
            if let socketAddress {
                options.append(MHD_OptionItem(option: .SOCK_ADDR, value: 0, ptr_value: UnsafeMutableRawPointer(socketAddress.pointer)))
            }
            options.append(MHD_OptionItem(option: .END, value: 0, ptr_value: nil))
            let context = Unmanaged.passUnretained(self).toOpaque()
            return options.withUnsafeMutableBufferPointer { buffer in
                vcsa_mhd_start_daemon(flags, port, accessHandler, context, requestCompleted, context, buffer.baseAddress)
            }
        }
    }

    /// Stops accepting: new clients are refused at once instead of waiting in the backlog, and new
    /// requests on open connections get 503 and a closed connection. Call it on every server of a
    /// process before draining any, so that none keeps accepting while another drains.
    public func stopAccepting() {
        state.withLock { state in
            guard let daemon = state.daemon, !state.draining else { return }
            state.draining = true
            state.quiescedListener = MHD_quiesce_daemon(daemon.pointer)
            // Refuses new clients now (Linux resets a listening socket that is shut down) while the
            // descriptor stays open, so that its number cannot be reused before the daemon stops.
            if state.quiescedListener >= 0 { _ = Glibc.shutdown(state.quiescedListener, Int32(SHUT_RDWR)) }
        }
    }

    /// Stops accepting (if not yet) and answers every request it holds, then stops the daemon.
    ///
    /// Requests in flight get until `drainTimeout` (or until `abandonDrain()`) to be answered by
    /// their handlers; whatever is left is answered 503. libmicrohttpd aborts the process if
    /// stopped with a connection suspended, so the daemon stops only once none is.
    public func shutdown(drainTimeout: Duration) async {
        stopAccepting()
        let daemon: DaemonHandle? = state.withLock { state in
            defer { state.daemon = nil }
            return state.daemon
        }
        guard let daemon else { return }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: drainTimeout)
        while state.withLock({ !$0.unanswered.isEmpty && !$0.abandoned }) && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let left = state.withLock { Array($0.unanswered.values) }
        for context in left {
            context.respond(.text(503, "Service Unavailable: the server is shutting down", headers: [("Connection", "close")]))
        }
        // libmicrohttpd's thread queues those answers (and frees the entries) on its next turn.
        let settled = clock.now.advanced(by: .seconds(2))
        while state.withLock({ !$0.unanswered.isEmpty }) && clock.now < settled {
            try? await Task.sleep(for: .milliseconds(5))
        }
        // Let the last answers reach their clients.
        try? await Task.sleep(for: .milliseconds(20))
        guard await Self.stop(daemon, within: Self.stopTimeout) else { return }
        let listener = state.withLock { state in
            defer { state.quiescedListener = -1 }
            return state.quiescedListener
        }
        if listener >= 0 { close(listener) }
    }

    /// How long `MHD_stop_daemon` may take before shutdown goes on without it.
    static let stopTimeout: Duration = .seconds(5)

    /// Calls `MHD_stop_daemon` on a Dispatch thread and waits for it at most `timeout`: it joins
    /// the daemon's thread, which was once seen (under ThreadSanitizer) asleep in epoll_wait after
    /// the wake-up, and a stuck join must not keep the process from logging out and exiting.
    /// Returns false when it did not return in time (the daemon, its thread and its socket are then left as they are).
    private static func stop(_ daemon: DaemonHandle, within timeout: Duration) async -> Bool {
        let outcome = Mutex<(done: Bool?, waiter: CheckedContinuation<Bool, Never>?)>((nil, nil))
        let finish = { @Sendable (stopped: Bool) in
            let waiter = outcome.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard state.done == nil else { return nil }
                state.done = stopped
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: stopped)
        }
        DispatchQueue.global().async {
            MHD_stop_daemon(daemon.pointer)
            finish(true)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(timeout.components.seconds))) { finish(false) }
        return await withCheckedContinuation { continuation in
            let done = outcome.withLock { state -> Bool? in
                if state.done == nil { state.waiter = continuation }
                return state.done
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Ends a drain in progress at once: what is still unanswered gets 503 (a second signal asks for this).
    public func abandonDrain() {
        state.withLock { $0.abandoned = true }
    }

    /// Registers a request for its handler, or returns false when the server is draining.
    func admit(_ context: RequestContext) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.unanswered[ObjectIdentifier(context)] = context
            return true
        }
    }

    func answered(_ context: RequestContext) {
        _ = state.withLock { $0.unanswered.removeValue(forKey: ObjectIdentifier(context)) }
    }
}

public struct HTTPServerError: Error, CustomStringConvertible {
    public var address: ListenAddress
    public var reason: String
    public var description: String { "cannot serve on \(address): \(reason)" }
}
