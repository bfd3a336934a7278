/// How long a scrape may spend on the appliance: the configured timeout, shortened to fit
/// Prometheus' own scrape timeout minus an offset, as blackbox_exporter does.
public struct ScrapeDeadline: Sendable {
    public var timeout: Duration
    public var offset: Duration

    public init(timeout: Duration, offset: Duration) {
        self.timeout = timeout
        self.offset = offset
    }

    /// The budget for a request carrying `X-Prometheus-Scrape-Timeout-Seconds` (nil or unreadable: the timeout).
    public func budget(scrapeTimeoutHeader: String?) -> Duration {
        guard let header = scrapeTimeoutHeader, let seconds = Double(header), seconds > 0 else { return timeout }
        let fromHeader = Duration.nanoseconds(Int64(seconds * 1e9)) - offset
        // An offset larger than the timeout would leave nothing: keep a small positive budget.
        return min(timeout, max(fromHeader, .milliseconds(100)))
    }
}
