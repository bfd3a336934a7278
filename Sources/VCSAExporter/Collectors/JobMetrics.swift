import ExporterToolkit

/// The families of one round: its health, then each collector's, in `Collectors.all`'s order.
enum JobMetrics {
    static func write(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
        writeScrapeHealth(snapshot, to: &writer)
        for collector in Collectors.all {
            collector.write(snapshot, to: &writer)
        }
    }

    /// Per-scrape health: vcsa_up, durations, and which collectors succeeded.
    static func writeScrapeHealth(_ snapshot: ScrapeSnapshot, to writer: inout ExpositionWriter) {
        writer.single("vcsa_up", .gauge, help: "Whether the appliance API answered usefully on this scrape (every enabled collector succeeded).", snapshot.up ? 1 : 0)
        writer.single("vcsa_scrape_duration_seconds", .gauge, help: "How long the appliance API calls of this scrape took.", snapshot.duration.seconds)
        let collectors: [(CollectorName, Bool, Duration)] = Collectors.all.compactMap { collector in
            collector.succeeded(in: snapshot).map { (collector.name, $0, snapshot.durations[collector.name] ?? .zero) }
        }
        guard !collectors.isEmpty else { return }
        writer.family("vcsa_scrape_collector_success", .gauge, help: "Whether a collector succeeded on this scrape.")
        for (name, succeeded, _) in collectors {
            writer.sample("vcsa_scrape_collector_success", [("collector", name.rawValue)], succeeded ? 1 : 0)
        }
        writer.family("vcsa_scrape_collector_duration_seconds", .gauge, help: "How long a collector's appliance call took on this scrape.")
        for (name, _, duration) in collectors {
            writer.sample("vcsa_scrape_collector_duration_seconds", [("collector", name.rawValue)], duration.seconds)
        }
    }
}
