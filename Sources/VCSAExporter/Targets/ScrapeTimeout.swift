import ExporterToolkit

/// How long a scrape may spend on the appliance: the configured timeout, shortened to fit
/// Prometheus' own scrape timeout minus an offset, as blackbox_exporter does.
public struct ScrapeTimeout: Sendable {
    public var timeout: Duration
    public var offset: Duration

    /// The least budget a scrape gets, when the offset would leave nothing.
    static let minimumBudget: Duration = .milliseconds(100)

    public init(timeout: Duration, offset: Duration) {
        self.timeout = timeout
        self.offset = offset
    }

    /// The budget for a request carrying `X-Prometheus-Scrape-Timeout-Seconds`; a missing or
    /// unreadable header (not a finite positive number) gets the configured timeout.
    public func budget(scrapeTimeoutHeader: String?) -> Duration {
        // The header is client input: compare in seconds before making a Duration, which traps on overflow.
        guard let header = scrapeTimeoutHeader, header.utf8.count <= 64,
              let seconds = Double(header), seconds.isFinite, seconds > 0 else { return timeout }
        let available = seconds - offset.seconds
        guard available < timeout.seconds else { return timeout }
        return max(.seconds(available), min(Self.minimumBudget, timeout))
    }
}
