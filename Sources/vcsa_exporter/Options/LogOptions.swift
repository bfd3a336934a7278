import ArgumentParser

/// Logging, as the Prometheus ecosystem spells it.
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log.level"), help: "Only log messages with this severity or above: debug, info, warn, error.")
    var logLevel = "info"

    @Option(name: .customLong("log.format"), help: "Log format: logfmt or json.")
    var logFormat = "logfmt"
}
