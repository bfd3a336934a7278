import CMicroHTTPD
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
        /// Set by `shutdown()`: new requests get 503 and a closed connection.
        var draining = false
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

    /// Stops accepting and answers every request it holds, then stops the daemon.
    ///
    /// Requests in flight get until `drainTimeout` (or until `abandonDrain()`) to be answered by
    /// their handlers; whatever is left is answered 503. New requests on open connections get 503
    /// and a closed connection. libmicrohttpd aborts the process if stopped with a connection
    /// suspended, so the daemon stops only once none is.
    public func shutdown(drainTimeout: Duration) async {
        let daemon: DaemonHandle? = state.withLock { state in
            guard let daemon = state.daemon, !state.draining else { return nil }
            state.draining = true
            // Closing the listening socket now refuses new clients at once instead of leaving them in the backlog.
            let listener = MHD_quiesce_daemon(daemon.pointer)
            if listener >= 0 { close(listener) }
            return daemon
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
        MHD_stop_daemon(daemon.pointer)
        state.withLock { $0.daemon = nil }
    }

    /// Ends a drain in progress at once: what is still unanswered gets 503 (a second signal asks for this).
    public func abandonDrain() {
        state.withLock { $0.abandoned = true }
    }

    /// Registers a request for its handler, or returns false when the server is draining.
    fileprivate func admit(_ context: RequestContext) -> Bool {
        state.withLock { state in
            guard !state.draining else { return false }
            state.unanswered[ObjectIdentifier(context)] = context
            return true
        }
    }

    fileprivate func answered(_ context: RequestContext) {
        _ = state.withLock { $0.unanswered.removeValue(forKey: ObjectIdentifier(context)) }
    }
}

public struct HTTPServerError: Error, CustomStringConvertible {
    public var address: ListenAddress
    public var reason: String
    public var description: String { "cannot serve on \(address): \(reason)" }
}

/// What libmicrohttpd keeps for one request between calls of the access handler.
private final class RequestContext: @unchecked Sendable {
    enum Phase {
        /// The handler is running on libmicrohttpd's thread; an answer now is queued without suspending.
        case dispatching
        /// The connection waits; an answer resumes it.
        case suspended
        case answered
    }

    struct Exchange {
        var phase = Phase.dispatching
        var response: HTTPResponse?
    }

    let connection: ConnectionHandle
    let exchange = Mutex(Exchange())
    // Touched on libmicrohttpd's thread only.
    var request: HTTPRequest
    var dispatched = false
    /// Answered before the handler ran (e.g. 413); later calls only discard.
    var refused = false

    init(request: HTTPRequest, connection: OpaquePointer) {
        self.request = request
        self.connection = ConnectionHandle(pointer: connection)
    }

    /// The responder's side: keep the first answer, and resume the connection if it waits.
    func respond(_ response: HTTPResponse) {
        let resume = exchange.withLock { exchange -> Bool in
            guard exchange.response == nil, exchange.phase != .answered else { return false }
            exchange.response = response
            return exchange.phase == .suspended
        }
        if resume { MHD_resume_connection(connection.pointer) }
    }

    /// The answer, if there is one, marking the exchange answered.
    func takeAnswer() -> HTTPResponse? {
        exchange.withLock { exchange in
            guard let response = exchange.response else { return nil }
            exchange.phase = .answered
            exchange.response = nil
            return response
        }
    }

    /// After the handler returned without answering: suspend, under the lock, so that a responder
    /// on another thread resumes only a suspended connection. Returns an answer that beat it.
    func suspendUnlessAnswered() -> HTTPResponse? {
        exchange.withLock { exchange in
            if let response = exchange.response {
                exchange.phase = .answered
                exchange.response = nil
                return response
            }
            MHD_suspend_connection(connection.pointer)
            exchange.phase = .suspended
            return nil
        }
    }
}

/// A daemon pointer kept under the server's lock.
private struct DaemonHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// A connection pointer held by its responder; libmicrohttpd allows resuming from any thread.
private struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

private func accessHandler(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?,
    method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, uploadData: UnsafePointer<CChar>?,
    uploadDataSize: UnsafeMutablePointer<Int>?, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let connection, let requestContext, let uploadDataSize else { return .NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    let maxBody = server.configuration.maxBodyBytes

    // First call: headers only. Answering now would force "Connection: close", so only refusals answer here.
    guard let existing = requestContext.pointee else {
        let request = HTTPRequest(
            method: method.map { String(cString: $0) } ?? "GET",
            path: url.map { String(cString: $0) } ?? "/",
            query: queryString(connection),
            headers: headerValues(connection),
            clientAddress: clientAddress(connection)
        )
        // A client without an acceptable certificate never reaches a handler: its connection is closed.
        if let tls = server.configuration.tls, let session = vcsa_mhd_tls_session(connection),
           let refusal = tls.credentials.current.policy.refusal(of: OpaquePointer(session)) {
            server.refusedClient?(request.clientAddress, refusal)
            return .NO
        }
        let context = RequestContext(request: request, connection: connection)
        requestContext.pointee = Unmanaged.passRetained(context).toOpaque()
        if let length = request.header("content-length"), (Int(length) ?? .max) > maxBody {
            context.refused = true
            return queue(.tooLarge(maxBody), on: connection)
        }
        return .YES
    }
    let context = Unmanaged<RequestContext>.fromOpaque(existing).takeUnretainedValue()
    if context.refused {
        uploadDataSize.pointee = 0
        return .YES
    }

    if uploadDataSize.pointee > 0 {
        let count = uploadDataSize.pointee
        uploadDataSize.pointee = 0
        // A chunked body gives no length up front. libmicrohttpd accepts no answer while a body is
        // arriving, so one that passes the limit ends its connection without reading the rest.
        guard count <= maxBody - context.request.body.count, let uploadData else { return .NO }
        uploadData.withMemoryRebound(to: UInt8.self, capacity: count) { bytes in
            context.request.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
        }
        return .YES
    }

    if let response = context.takeAnswer() {
        server.answered(context)
        return queue(response, on: connection)
    }
    guard !context.dispatched else { return .YES }
    context.dispatched = true
    guard server.admit(context) else {
        return queue(.text(503, "Service Unavailable: the server is shutting down", headers: [("Connection", "close")]), on: connection)
    }
    server.handler(context.request, HTTPResponder { [context] response in context.respond(response) })
    if let response = context.suspendUnlessAnswered() {
        server.answered(context)
        return queue(response, on: connection)
    }
    return .YES
}

private func requestCompleted(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?,
    requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, termination: MHD_RequestTerminationCode
) {
    guard let requestContext, let pointer = requestContext.pointee else { return }
    let context = Unmanaged<RequestContext>.fromOpaque(pointer)
    if let cls {
        Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().answered(context.takeUnretainedValue())
    }
    context.release()
    requestContext.pointee = nil
}

extension HTTPResponse {
    static func tooLarge(_ limit: Int) -> HTTPResponse {
        .text(413, "Content Too Large: request bodies are limited to \(limit) bytes", headers: [("Connection", "close")])
    }
}

private func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
    let mhdResponse = response.body.withUnsafeBytes { bytes in
        MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress), .RESPMEM_MUST_COPY)
    }
    guard let mhdResponse else { return .NO }
    defer { MHD_destroy_response(mhdResponse) }
    for header in response.headers {
        _ = MHD_add_response_header(mhdResponse, header.name, header.value)
    }
    return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
}

/// Collects header or query values through libmicrohttpd's iterator.
private final class ValueCollector {
    var pairs: [(String, String)] = []
}

private func collectValue(
    cls: UnsafeMutableRawPointer?, kind: MHD_ValueKind, key: UnsafePointer<CChar>?, value: UnsafePointer<CChar>?
) -> MHD_Result {
    guard let cls, let key else { return .YES }
    let collector = Unmanaged<ValueCollector>.fromOpaque(cls).takeUnretainedValue()
    collector.pairs.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
    return .YES
}

private func values(_ connection: OpaquePointer, kind: MHD_ValueKind) -> [(String, String)] {
    let collector = ValueCollector()
    withExtendedLifetime(collector) {
        _ = MHD_get_connection_values(connection, kind, collectValue, Unmanaged.passUnretained(collector).toOpaque())
    }
    return collector.pairs
}

private func headerValues(_ connection: OpaquePointer) -> [String: String] {
    var headers: [String: String] = [:]
    for (name, value) in values(connection, kind: .HEADER_KIND) where headers[name.lowercased()] == nil {
        headers[name.lowercased()] = value
    }
    return headers
}

/// libmicrohttpd strips the query from the URL; rebuild it (decoded) so handlers can see one was sent.
private func queryString(_ connection: OpaquePointer) -> String {
    values(connection, kind: .GET_ARGUMENT_KIND).map { $0.1.isEmpty ? $0.0 : "\($0.0)=\($0.1)" }.joined(separator: "&")
}

private func clientAddress(_ connection: OpaquePointer) -> String {
    guard let address = vcsa_mhd_client_address(connection) else { return "" }
    var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
    let length = socklen_t(address.pointee.sa_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    guard getnameinfo(address, length, &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV) == 0 else { return "" }
    let hostText = String(cString: host)
    return hostText.contains(":") ? "[\(hostText)]:\(String(cString: service))" : "\(hostText):\(String(cString: service))"
}
