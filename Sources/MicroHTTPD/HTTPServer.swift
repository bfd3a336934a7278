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
/// The daemon's callbacks refer to the server, so keep it alive until `shutdown()` returns.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var address: ListenAddress
        public var tls: ServerTLS?
        /// Requests handled at once; more get 503 straight away.
        public var maxConcurrentRequests: Int
        /// Bodies above this are cut short and flagged on the request.
        public var maxBodyBytes: Int = 64 * 1024
        public var connectionTimeoutSeconds: Int = 60

        public init(address: ListenAddress, tls: ServerTLS? = nil, maxConcurrentRequests: Int = 40) {
            self.address = address
            self.tls = tls
            self.maxConcurrentRequests = maxConcurrentRequests
        }
    }

    let configuration: Configuration
    let handler: HTTPHandler
    private let state = Mutex(State())

    private struct State {
        var daemon: DaemonHandle?
        var inFlight = 0
        var quiescedSocket: Int32 = -1
        var boundPort: UInt16 = 0
    }

    public init(configuration: Configuration, handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// The port actually bound (differs from the configured one when that was 0).
    public var boundPort: UInt16 { state.withLock { $0.boundPort } }

    /// Binds and starts serving; throws with the reason when the address cannot be used.
    public func start() throws(HTTPServerError) {
        let address = configuration.address
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
            MHD_OptionItem(option: .CONNECTION_LIMIT, value: max(configuration.maxConcurrentRequests * 4, 64), ptr_value: nil),
        ]
        if let tls = configuration.tls {
            options.append(MHD_OptionItem(option: .HTTPS_MEM_CERT, value: 0, ptr_value: cString(tls.certificatePEM)))
            options.append(MHD_OptionItem(option: .HTTPS_MEM_KEY, value: 0, ptr_value: cString(tls.privateKeyPEM)))
            if let priorities = tls.priorities {
                options.append(MHD_OptionItem(option: .HTTPS_PRIORITIES, value: 0, ptr_value: cString(priorities)))
            }
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

    /// Stops accepting, lets suspended requests finish (libmicrohttpd aborts if stopped with one suspended), then stops.
    public func shutdown(drainTimeout: Duration = .seconds(10)) async {
        let daemon: DaemonHandle? = state.withLock { state in
            guard let daemon = state.daemon else { return nil }
            state.quiescedSocket = MHD_quiesce_daemon(daemon.pointer)
            return daemon
        }
        guard let daemon else { return }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: drainTimeout)
        while state.withLock({ $0.inFlight }) > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        // Slots are released when an answer is queued; let the last answers reach their clients.
        try? await Task.sleep(for: .milliseconds(20))
        MHD_stop_daemon(daemon.pointer)
        state.withLock { state in
            if state.quiescedSocket >= 0 { close(state.quiescedSocket) }
            state.daemon = nil
            state.quiescedSocket = -1
        }
    }

    /// Takes a slot for a handler, or returns false when `maxConcurrentRequests` are running.
    fileprivate func acquireSlot() -> Bool {
        state.withLock { state in
            guard state.inFlight < configuration.maxConcurrentRequests else { return false }
            state.inFlight += 1
            return true
        }
    }

    fileprivate func releaseSlot() {
        state.withLock { $0.inFlight -= 1 }
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
    var holdsSlot = false

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

    // First call: headers only. Answering now would force "Connection: close".
    guard let existing = requestContext.pointee else {
        let request = HTTPRequest(
            method: method.map { String(cString: $0) } ?? "GET",
            path: url.map { String(cString: $0) } ?? "/",
            query: queryString(connection),
            headers: headerValues(connection),
            clientAddress: clientAddress(connection)
        )
        requestContext.pointee = Unmanaged.passRetained(RequestContext(request: request, connection: connection)).toOpaque()
        return .YES
    }
    let context = Unmanaged<RequestContext>.fromOpaque(existing).takeUnretainedValue()

    if uploadDataSize.pointee > 0 {
        let room = server.configuration.maxBodyBytes - context.request.body.count
        let count = uploadDataSize.pointee
        if let uploadData, room > 0 {
            uploadData.withMemoryRebound(to: UInt8.self, capacity: count) { bytes in
                context.request.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: min(count, room)))
            }
        }
        if count > room { context.request.bodyTooLarge = true }
        uploadDataSize.pointee = 0
        return .YES
    }

    if let response = context.takeAnswer() {
        return finish(context, with: response, server: server, on: connection)
    }
    guard !context.dispatched else { return .YES }
    context.dispatched = true
    guard server.acquireSlot() else {
        return queue(.text(503, "Too many concurrent requests (--web.max-requests)"), on: connection)
    }
    context.holdsSlot = true
    server.handler(context.request, HTTPResponder { [context] response in context.respond(response) })
    if let response = context.suspendUnlessAnswered() {
        return finish(context, with: response, server: server, on: connection)
    }
    return .YES
}

/// Queues the answer and frees the request's slot.
private func finish(_ context: RequestContext, with response: HTTPResponse, server: HTTPServer, on connection: OpaquePointer) -> MHD_Result {
    if context.holdsSlot {
        context.holdsSlot = false
        server.releaseSlot()
    }
    return queue(response, on: connection)
}

private func requestCompleted(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?,
    requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, termination: MHD_RequestTerminationCode
) {
    guard let requestContext, let pointer = requestContext.pointee else { return }
    let context = Unmanaged<RequestContext>.fromOpaque(pointer)
    if context.takeUnretainedValue().holdsSlot, let cls {
        Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().releaseSlot()
    }
    context.release()
    requestContext.pointee = nil
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
