/// Everything the HTTP side of the exporter needs to know, validated at start-up.
public struct ExporterOptions: Sendable {
    public var telemetryPath: String
    public var disableExporterMetrics: Bool
    public var scrapeTimeout: ScrapeTimeout
    /// The `--vcenter.url` appliance, shown on the landing page ("" when only `--config.file` targets are collected).
    public var vcenterURL: String
    public var collectors: Set<CollectorName>
    /// Scrapes and admin calls handled at once (`--web.max-requests`); 0: no limit.
    public var maxRequests: Int
    /// `--web.enable-lifecycle`: serve `POST /-/reload`.
    public var enableLifecycle: Bool

    public init(telemetryPath: String = "/metrics", disableExporterMetrics: Bool = false,
                scrapeTimeout: ScrapeTimeout, vcenterURL: String, collectors: Set<CollectorName> = Set(CollectorName.allCases),
                maxRequests: Int = 40, enableLifecycle: Bool = false) {
        self.telemetryPath = telemetryPath
        self.disableExporterMetrics = disableExporterMetrics
        self.scrapeTimeout = scrapeTimeout
        self.vcenterURL = vcenterURL
        self.collectors = collectors
        self.maxRequests = maxRequests
        self.enableLifecycle = enableLifecycle
    }
}
