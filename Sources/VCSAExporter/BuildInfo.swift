/// What this binary is, for `vcsa_exporter_build_info`, `--version` and the landing page.
public enum BuildInfo {
    public static let version = "0.1.0"
    /// SwiftPM embeds no VCS revision; the label stays present so that queries need not special-case it.
    public static let revision = "unknown"

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

    static func write(to writer: inout ExpositionWriter) {
        writer.family("vcsa_exporter_build_info", .gauge, help: "A metric with a constant '1' value labeled by version, revision and Swift version of vcsa_exporter.")
        writer.sample("vcsa_exporter_build_info", [("version", version), ("revision", revision), ("swift_version", swiftVersion)], 1)
    }
}
