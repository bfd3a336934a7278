/// Answers one request: the handler calls it once, from any thread, right away or later.
///
/// Handlers run on libmicrohttpd's thread and must not block it: answer at once when the answer
/// is at hand (the connection is then never suspended), or keep the responder and answer later.
public typealias HTTPHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

public struct HTTPResponder: Sendable {
    private let send: @Sendable (HTTPResponse) -> Void

    public init(_ send: @escaping @Sendable (HTTPResponse) -> Void) {
        self.send = send
    }

    /// Sends the answer; only the first call counts.
    public func respond(_ response: HTTPResponse) {
        send(response)
    }

    /// A responder that changes the answer before passing it on (e.g. to add headers).
    public func mapping(_ transform: @escaping @Sendable (HTTPResponse) -> HTTPResponse) -> HTTPResponder {
        HTTPResponder { response in self.respond(transform(response)) }
    }
}

extension HTTPServer {
    /// Adapts an async function: it runs as a Swift task while the connection waits.
    public static func asyncHandler(_ body: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) -> HTTPHandler {
        { request, responder in
            Task { responder.respond(await body(request)) }
        }
    }
}
