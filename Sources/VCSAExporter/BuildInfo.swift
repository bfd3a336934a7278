import ExporterToolkit

/// What this binary is, for `vcsa_exporter_build_info`, `--version` and the landing page.
public enum BuildInfo {
    public static let version = "0.1.0"
    /// The git revision `make` wrote to Generated/BuildRevision.swift (git-ignored); "unknown" when
    /// built without it (a plain `swift build`). The label stays present either way.
    public static let revision = GeneratedRevision.value

    public static var swiftVersion: String {
        #if compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    /// `vcsa_exporter_build_info`, as a source the HTTP layer adds to the metrics path.
    struct Metrics: MetricsSource {
        func writeMetrics(to writer: inout ExpositionWriter) { BuildInfo.write(to: &writer) }
    }

    static func write(to writer: inout ExpositionWriter) {
        writer.family("vcsa_exporter_build_info", .gauge, help: "A metric with a constant '1' value labeled by version, revision and Swift version of vcsa_exporter.")
        writer.sample("vcsa_exporter_build_info", [("version", version), ("revision", revision), ("swift_version", swiftVersion)], 1)
    }
}

/// The fallback for `BuildInfo.revision`. When `make` has written Generated/BuildRevision.swift,
/// its `extension GeneratedRevision { static var value }` is a member of the type itself and wins
/// over this protocol extension's default. (A `#if` on a define that Package.swift sets when the
/// file exists would not do: SwiftPM caches the evaluated manifest by its contents, so the define
/// would not follow the file appearing or disappearing.)
protocol GeneratedRevisionDefault {}

extension GeneratedRevisionDefault {
    static var value: String { "unknown" }
}

enum GeneratedRevision: GeneratedRevisionDefault {}
