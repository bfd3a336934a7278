// swift-tools-version: 6.0
import PackageDescription

/// libFuzzer targets for the exporter's parsers: one executable per parser, each exporting
/// `LLVMFuzzerTestOneInput`. A package of its own so that the root package never builds them;
/// `make fuzz` (Fuzz/run.sh) builds them with `--sanitize=fuzzer --sanitize=address`.
/// The product of the root package is named by the root's manifest name, `vcsa_exporter`.
let targets: [(name: String, product: String)] = [
    ("FuzzVAPIBody", "ApplianceAPI"),
    ("FuzzJobJSON", "ApplianceAPI"),
    ("FuzzAPITimestamp", "ApplianceAPI"),
    ("FuzzWebConfig", "VCSAExporter"),
    ("FuzzExporterConfig", "VCSAExporter"),
    ("FuzzGoDuration", "VCSAExporter"),
    ("FuzzListenAddress", "MicroHTTPD"),
    ("FuzzScrapeTimeoutHeader", "VCSAExporter"),
]

let package = Package(
    name: "vcsa_exporter_fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "vcsa_exporter", path: "..")],
    targets: [
        // What every fuzz target shares: the invariant check and turning the input into text.
        .target(name: "FuzzSupport"),
    ] + targets.map { target in
        .executableTarget(
            name: target.name,
            dependencies: ["FuzzSupport", .product(name: target.product, package: "vcsa_exporter")]
        )
    }
)
