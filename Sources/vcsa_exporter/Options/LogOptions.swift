import ArgumentParser
import ExporterToolkit
import Logging

/// Logging, as the Prometheus ecosystem spells it.
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log.level"), help: "Only log messages with this severity or above: debug, info, warn, error.")
    var logLevel = "info"

    @Option(name: .customLong("log.format"), help: "Log format: logfmt or json.")
    var logFormat = "logfmt"

    func validate() throws {
        _ = try logger()
    }

    /// The logger the flags ask for.
    func logger() throws(StartupError) -> Logger {
        guard let format = StderrLogHandler.Format(rawValue: logFormat) else {
            throw StartupError("--log.format: \"\(logFormat)\" is not one of logfmt, json")
        }
        let levels: [String: Logger.Level] = ["debug": .debug, "info": .info, "warn": .warning, "error": .error]
        guard let level = levels[logLevel] else {
            throw StartupError("--log.level: \"\(logLevel)\" is not one of debug, info, warn, error")
        }
        return Logger(label: "vcsa_exporter") { _ in StderrLogHandler(format: format, level: level) }
    }
}
