import CMicroHTTPD
import Synchronization

/// What libmicrohttpd keeps for one request between calls of the access handler.
final class RequestContext: @unchecked Sendable {
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
struct DaemonHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// A connection pointer held by its responder; libmicrohttpd allows resuming from any thread.
struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
