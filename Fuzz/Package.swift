// swift-tools-version: 6.0
import PackageDescription

/// libFuzzer targets for the exporter's parsers: one executable per parser, each exporting
/// `LLVMFuzzerTestOneInput`. A package of its own so that the root package never builds them;
/// `make fuzz` (Fuzz/run.sh) builds them with `--sanitize=fuzzer --sanitize=address`.
/// The product of the root package is named by the root's manifest name, `vcsa_exporter`.
func root(_ product: String) -> Target.Dependency {
    .product(name: product, package: "vcsa_exporter")
}

let targets: [(name: String, dependencies: [Target.Dependency])] = [
    ("FuzzVAPIBody", [root("ApplianceAPI")]),
    ("FuzzJobJSON", [root("ApplianceAPI")]),
    ("FuzzAPITimestamp", [root("ApplianceAPI")]),
    ("FuzzWebConfig", [root("ExporterToolkit")]),
    ("FuzzExporterConfig", [root("VCSAExporter")]),
    ("FuzzGoDuration", [root("ExporterToolkit")]),
    ("FuzzListenAddress", [root("MicroHTTPD")]),
    ("FuzzScrapeTimeoutHeader", [root("VCSAExporter")]),
    ("FuzzLandingPage", ["LandingPageCheck", root("VCSAExporter"), root("ApplianceAPI")]),
    ("FuzzApplianceBody", ["LandingPageCheck", root("VCSAExporter"), root("ExporterToolkit"), root("ApplianceAPI")]),
    ("FuzzLogLine", [root("ExporterToolkit"), .product(name: "Logging", package: "swift-log")]),
]

let package = Package(
    name: "vcsa_exporter_fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "vcsa_exporter", path: ".."),
        // The root's own swift-log (same pin), for FuzzLogLine's Logger types.
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // What every fuzz target shares: the invariant check, reading the input, the Prometheus text check.
        .target(name: "FuzzSupport"),
        // libxml2's HTML parser, for the landing page check only (the exporter itself never links it).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // Renders the landing page and checks with libxml2 that no text became markup.
        .target(name: "LandingPageCheck", dependencies: ["FuzzSupport", "CLibXML2", root("VCSAExporter"), root("ApplianceAPI")]),
    ] + targets.map { target in
        .executableTarget(name: target.name, dependencies: ["FuzzSupport"] + target.dependencies)
    }
)
