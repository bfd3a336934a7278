/// Something that writes families of its own into a scrape: a part of the exporter (its web config,
/// its build, its process) rather than what it collects. The HTTP layer hands a list of them to
/// whatever renders a scrape, as client_golang's registry gathers collectors.
public protocol MetricsSource: Sendable {
    func writeMetrics(to writer: inout ExpositionWriter)
}

extension WebConfigStore: MetricsSource {}

/// `process_*`, as client_golang's process collector.
public struct ProcessMetricsSource: MetricsSource {
    public init() {}
    public func writeMetrics(to writer: inout ExpositionWriter) { ProcessMetrics.write(to: &writer) }
}
