import ExporterToolkit
import MicroHTTPD
import Synchronization

/// One round's answer: the snapshot and its exposition text, rendered once and shared by every
/// scrape that waited for the round (most of a scrape's CPU is rendering and compressing).
final class ScrapeRound: Sendable {
    let snapshot: ScrapeSnapshot
    let body: [UInt8]
    private let gzipped = Mutex<[UInt8]?>(nil)

    init(snapshot: ScrapeSnapshot, body: [UInt8]) {
        self.snapshot = snapshot
        self.body = body
    }

    /// The body gzip-encoded, compressed by the first scrape that asks; nil if zlib failed.
    func gzipBody() -> [UInt8]? {
        gzipped.withLock { cached in
            if let cached { return cached }
            cached = Gzip.compress(body)
            return cached
        }
    }

    /// The HTTP answer for `request`, gzip-encoded when it asks for that.
    func response(for request: HTTPRequest) -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", ExpositionWriter.contentType), ("Vary", "Accept-Encoding")]
        if request.acceptsGzip, let compressed = gzipBody() {
            headers.append(("Content-Encoding", "gzip"))
            return HTTPResponse(status: 200, headers: headers, body: compressed)
        }
        return HTTPResponse(status: 200, headers: headers, body: body)
    }
}
