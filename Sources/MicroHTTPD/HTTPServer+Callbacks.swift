import CMicroHTTPD
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// libmicrohttpd's C callbacks: they turn its calls into HTTPRequests for the handler and queue the answers.

func accessHandler(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?,
    method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, uploadData: UnsafePointer<CChar>?,
    uploadDataSize: UnsafeMutablePointer<Int>?, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let connection, let requestContext, let uploadDataSize else { return .NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    let maxBody = server.configuration.maxBodyBytes

    // First call: headers only. Answering now would force "Connection: close", so only refusals answer here.
    guard let existing = requestContext.pointee else {
        let arguments = values(connection, kind: .GET_ARGUMENT_KIND)
        let request = HTTPRequest(
            method: method.map { String(cString: $0) } ?? "GET",
            path: url.map { String(cString: $0) } ?? "/",
            query: arguments.map { $0.1.isEmpty ? $0.0 : "\($0.0)=\($0.1)" }.joined(separator: "&"),
            queryItems: arguments.map { (name: $0.0, value: $0.1) },
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

func requestCompleted(
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

/// Collects header or query values through libmicrohttpd's iterator (query values arrive decoded;
/// libmicrohttpd strips the query from the URL, so the request's `query` is rebuilt from them).
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

private func clientAddress(_ connection: OpaquePointer) -> String {
    guard let address = vcsa_mhd_client_address(connection) else { return "" }
    var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
    let length = socklen_t(address.pointee.sa_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    guard getnameinfo(address, length, &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV) == 0 else { return "" }
    let hostText = String(cString: host)
    return hostText.contains(":") ? "[\(hostText)]:\(String(cString: service))" : "\(hostText):\(String(cString: service))"
}
