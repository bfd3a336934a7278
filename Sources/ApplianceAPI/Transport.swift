import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// One HTTP exchange at a time: deadline, body cap, error classification, and reporting to the observer.
struct Transport: Sendable {
    typealias Accept = @Sendable (Int, [UInt8]) -> Bool
    static let success: Accept = { status, _ in status >= 200 && status < 300 }

    let http: HTTPClient
    let baseURL: String
    let maxBodyBytes: Int
    let observer: ApplianceClient.Observer

    /// Sends a request and reads its answer by `deadline`, whatever the appliance does (stalls after
    /// the headers included); an answer `accept` refuses is thrown as the vAPI error it carries.
    func send(
        _ operation: APIOperation, method: HTTPMethod, path: String, headers: [(String, String)],
        deadline: ContinuousClock.Instant, accept: Accept = Transport.success
    ) async throws(ApplianceError) -> (Int, [UInt8]) {
        guard deadline > .now else { throw report(operation, .deadlineExceeded) }
        observer(.request(operation))
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let status: Int
        let body: [UInt8]
        do throws(ApplianceError) {
            (status, body) = try await DeadlineRace.run(until: deadline) { [http, maxBodyBytes, request] () async throws(ApplianceError) in
                do {
                    // AsyncHTTPClient's deadline covers connect, TLS and headers; the race covers the body.
                    let response = try await http.execute(request, deadline: NIODeadline(deadline))
                    let collected = try await response.body.collect(upTo: maxBodyBytes)
                    return (Int(response.status.code), Array(collected.readableBytesView))
                } catch {
                    throw Transport.classify(error, maxBody: maxBodyBytes)
                }
            }
        } catch {
            throw report(operation, error)
        }
        guard accept(status, body) else {
            throw report(operation, .api(httpStatus: status, error: VAPIError(httpStatus: status, body: body)))
        }
        return (status, body)
    }

    func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], operation: APIOperation) throws(ApplianceError) -> T {
        do {
            return try ApplianceJSON.decoder().decode(T.self, from: Data(body))
        } catch {
            throw invalid(operation, Transport.describe(error))
        }
    }

    /// An answer that does not match the spec; reported as INVALID_RESPONSE.
    func invalid(_ operation: APIOperation, _ reason: String) -> ApplianceError {
        report(operation, .invalidResponse("\(operation.rawValue): \(reason)"))
    }

    private func report(_ operation: APIOperation, _ error: ApplianceError) -> ApplianceError {
        observer(.failure(operation, error))
        return error
    }

    /// What went wrong on the wire, as the error types the metrics count by.
    static func classify(_ error: Error, maxBody: Int) -> ApplianceError {
        if error is NIOTooManyBytesError { return .invalidResponse("answer larger than \(maxBody) bytes") }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .cancelled: return .deadlineExceeded
            default: break
            }
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError { return .tls(String(describing: error)) }
        if error is CancellationError { return .deadlineExceeded }
        return .transport(String(describing: error))
    }

    /// A decoding failure in words an operator can act on: which field, what was expected.
    static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ context: DecodingError.Context) -> String {
            let joined = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? "(root)" : joined
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing required field \(path(context)).\(key.stringValue)"
        case .typeMismatch(let type, let context): return "field \(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "field \(path(context)): expected \(type), got null"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return String(describing: error)
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating instead of trapping on durations beyond Int64's 292 years.
    var clampedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        guard seconds < Int64.max / 1_000_000_000 else { return .max }
        guard seconds > Int64.min / 1_000_000_000 else { return .min }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
