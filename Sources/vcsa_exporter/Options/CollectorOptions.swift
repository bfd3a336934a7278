import ArgumentParser
import VCSAExporter

/// Which collectors run (node_exporter's `--[no-]collector.NAME`).
struct CollectorOptions: ParsableArguments {
    @Flag(name: .customLong("collector.reconciliation"), inversion: .prefixedNo, help: "Collect the reconciliation job.")
    var collectReconciliation = true

    @Flag(name: .customLong("collector.restore"), inversion: .prefixedNo, help: "Collect the restore job.")
    var collectRestore = true

    @Flag(name: .customLong("collector.backup"), inversion: .prefixedNo, help: "Collect backup jobs and schedules.")
    var collectBackup = true

    func validate() throws {
        _ = try enabled()
    }

    /// The collectors to run; at least one.
    func enabled() throws(StartupError) -> Set<CollectorName> {
        let flags: [(CollectorName, Bool)] = [(.reconciliation, collectReconciliation), (.restore, collectRestore), (.backup, collectBackup)]
        let collectors = Set(flags.filter(\.1).map(\.0))
        guard !collectors.isEmpty else {
            throw StartupError("--no-collector.reconciliation, --no-collector.restore and --no-collector.backup leave nothing to collect; enable at least one collector")
        }
        return collectors
    }
}
