import ApplianceAPI
import ExporterToolkit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import MicroHTTPD
import Synchronization

/// The optional admin endpoint that cancels the appliance's restore job.
///
/// Cancelling is destructive, so a request must be a bare POST (no body, no query, no form
/// content type: no cross-site form can send it) carrying the bearer token. Every call is audited and counted.
public final class AdminAPI: MetricsSource {
    public static let cancelPath = "/api/v1/admin/restore-job/cancel"
    static let results = CancelResult.Status.allCases.map(\.rawValue) + ["ERROR", "REJECTED"]

    /// The token's SHA-256: comparing digests takes the same time whatever the token's length and content.
    private let tokenDigest: SHA256Digest?
    private let client: ApplianceClient
    private let timeout: Duration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var cancelInFlight = false
        var counts: [String: Double] = Dictionary(uniqueKeysWithValues: AdminAPI.results.map { ($0, 0) })
    }

    public init(token: String, client: ApplianceClient, timeout: Duration, logger: Logger) {
        tokenDigest = SHA256Digest(token.utf8)
        self.client = client
        self.timeout = timeout
        self.logger = logger
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == "POST" else {
            return reject(request, .text(405, "Method Not Allowed", headers: [("Allow", "POST")]), reason: "method \(request.method)")
        }
        guard authorized(request) else {
            return reject(request, .text(401, "Unauthorized", headers: [("WWW-Authenticate", "Bearer realm=\"vcsa_exporter admin\"")]), reason: "missing or wrong bearer token")
        }
        if let refusal = refusalOfRequestShape(request) {
            return reject(request, refusal.response, reason: refusal.reason)
        }
        let acquired = state.withLock { state in
            if state.cancelInFlight { return false }
            state.cancelInFlight = true
            return true
        }
        guard acquired else {
            return reject(request, .text(409, "Conflict: a restore cancel is already in flight"), reason: "another cancel in flight")
        }
        defer { state.withLock { $0.cancelInFlight = false } }

        do throws(ApplianceError) {
            // The appliance's own answer goes back as it was sent: a status this exporter does not know is passed on, not lost.
            let (result, body) = try await client.cancelRestore(deadline: .now + timeout)
            audit(request, result: result.status.rawValue, status: 200, upstream: "200 \(result.status.rawValue)")
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)
        } catch {
            let status = error.errorType == "DEADLINE_EXCEEDED" ? 504 : 502
            audit(request, result: "ERROR", status: status, upstream: "\(error)")
            let body = #"{"error":\#(JSONText.quoted(error.description)),"error_type":"\#(error.errorType)"}"#
            return HTTPResponse(status: status, contentType: "application/json", body: body)
        }
    }

    /// The token comes as `Authorization: Bearer <token>`, or as `X-Admin-Token: <token>` when
    /// the web config's basic auth already occupies the Authorization header.
    private func authorized(_ request: HTTPRequest) -> Bool {
        if let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") {
            return Self.tokenMatches(header.utf8.dropFirst(7), tokenDigest)
        } else if let header = request.header("x-admin-token") {
            return Self.tokenMatches(header.utf8, tokenDigest)
        }
        return false
    }

    /// Whether `presented` is the token whose digest is `expected`. A byte-by-byte compare loops as long as
    /// the longer of the two, so its time told the configured token's length; this hashes what was presented
    /// (its time depends on that length only, which the client knows) and compares two 32-byte digests in full.
    static func tokenMatches(_ presented: some Sequence<UInt8>, _ expected: SHA256Digest?) -> Bool {
        guard let expected, let digest = SHA256Digest(presented) else { return false }
        return SHA256Digest.constantTimeEqual(digest, expected)
    }

    /// Browsers can send form posts across sites; those carry a body or a form content type.
    private func refusalOfRequestShape(_ request: HTTPRequest) -> (response: HTTPResponse, reason: String)? {
        if !request.query.isEmpty {
            return (.text(400, "Bad Request: this endpoint takes no query string"), "query string")
        }
        if let type = request.header("content-type")?.lowercased(),
           ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"].contains(where: { type.hasPrefix($0) }) {
            return (.text(415, "Unsupported Media Type: form content types are refused"), "form content type \(type)")
        }
        if !request.body.isEmpty {
            return (.text(400, "Bad Request: this endpoint takes no body"), "request body")
        }
        return nil
    }

    private func reject(_ request: HTTPRequest, _ response: HTTPResponse, reason: String) -> HTTPResponse {
        audit(request, result: "REJECTED", status: response.status, upstream: "not called", reason: reason)
        return response
    }

    /// One line per call; never the token.
    private func audit(_ request: HTTPRequest, result: String, status: Int, upstream: String, reason: String? = nil) {
        state.withLock { $0.counts[result, default: 0] += 1 }
        var metadata: Logger.Metadata = [
            "audit": "restore_job_cancel", "client": "\(request.clientAddress)", "result": "\(result)",
            "status": "\(status)", "upstream": "\(upstream)",
        ]
        if let reason { metadata["reason"] = "\(reason)" }
        logger.notice("Admin API call", metadata: metadata)
    }

    public func writeMetrics(to writer: inout ExpositionWriter) {
        let counts = state.withLock { $0.counts }
        writer.family("vcsa_admin_restore_cancel_requests_total", .counter, help: "Calls of the admin restore-cancel endpoint, by result (REJECTED: refused before the appliance was called).")
        for result in Self.results {
            writer.sample("vcsa_admin_restore_cancel_requests_total", [("result", result)], counts[result] ?? 0)
        }
    }
}
