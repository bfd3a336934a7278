import ArgumentParser

/// Which collectors run (node_exporter's `--[no-]collector.NAME`).
struct CollectorOptions: ParsableArguments {
    @Flag(name: .customLong("collector.reconciliation"), inversion: .prefixedNo, help: "Collect the reconciliation job.")
    var collectReconciliation = true

    @Flag(name: .customLong("collector.restore"), inversion: .prefixedNo, help: "Collect the restore job.")
    var collectRestore = true

    @Flag(name: .customLong("collector.backup"), inversion: .prefixedNo, help: "Collect backup jobs and schedules.")
    var collectBackup = true
}
