import FuzzSupport
import VCSAExporter

/// `ScrapeTimeout.budget(scrapeTimeoutHeader:)`: the input is the value of
/// `X-Prometheus-Scrape-Timeout-Seconds`, which any client of `/metrics` can send.
/// Invariants, for each deadline the flags allow (timeout > 0, offset >= 0):
/// 0 < budget <= timeout, and no header means the timeout.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScrapeTimeoutHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let header = fuzzText(data, size)
    for deadline in deadlines {
        let budget = deadline.budget(scrapeTimeoutHeader: header)
        invariant(budget > .zero && budget <= deadline.timeout,
                  "header \(header.debugDescription), timeout \(deadline.timeout), offset \(deadline.offset): budget \(budget)")
        invariant(deadline.budget(scrapeTimeoutHeader: nil) == deadline.timeout, "no header must give the timeout")
    }
    return 0
}

/// The defaults (10s, 0.5s), no offset, an offset above the timeout, and a timeout below the 100 ms floor.
private let deadlines = [
    ScrapeTimeout(timeout: .seconds(10), offset: .milliseconds(500)),
    ScrapeTimeout(timeout: .seconds(10), offset: .zero),
    ScrapeTimeout(timeout: .seconds(1), offset: .seconds(5)),
    ScrapeTimeout(timeout: .milliseconds(50), offset: .milliseconds(500)),
]
