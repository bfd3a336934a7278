// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "vcsa_exporter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vcsa_exporter", targets: ["vcsa_exporter"]),
        .executable(name: "vcsa_simulator", targets: ["vcsa_simulator"]),
        // The modules as libraries, for the fuzz targets in Fuzz/ (a package of their own).
        .library(name: "MicroHTTPD", targets: ["MicroHTTPD"]),
        .library(name: "ApplianceAPI", targets: ["ApplianceAPI"]),
        .library(name: "ExporterToolkit", targets: ["ExporterToolkit"]),
        .library(name: "VCSAExporter", targets: ["VCSAExporter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.25.0"),
    ],
    targets: [
        // libmicrohttpd, nothing else: a modulemap and static inline shims.
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        // GnuTLS, under libmicrohttpd's HTTPS: per-handshake certificates and client certificate checks.
        .systemLibrary(name: "CGnuTLS", pkgConfig: "gnutls", providers: [.apt(["libgnutls28-dev"])]),
        // zlib, for gzip-encoded scrapes.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // libxcrypt's reentrant crypt_r, for the web config's bcrypt hashes.
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
        // libyaml, for the web config file.
        .systemLibrary(name: "CYAML", providers: [.apt(["libyaml-dev"])]),
        // A Swift HTTP server on libmicrohttpd; knows nothing of vCenter or Prometheus.
        .target(
            name: "MicroHTTPD",
            dependencies: ["CMicroHTTPD", "CGnuTLS", "CZlib"]
        ),
        // The vCenter appliance API client; knows nothing of Prometheus.
        .target(
            name: "ApplianceAPI",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What a Prometheus exporter needs besides its product: web config, exposition, logging, SIGHUP; knows nothing of vCenter.
        .target(
            name: "ExporterToolkit",
            dependencies: [
                "MicroHTTPD",
                "CCrypt",
                "CGnuTLS",
                "CYAML",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The product: Collectors/ (what is collected from an appliance), Targets/ (whom), HTTP/ (how it is served).
        .target(
            name: "VCSAExporter",
            dependencies: [
                "ApplianceAPI",
                "ExporterToolkit",
                "MicroHTTPD",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "vcsa_exporter",
            dependencies: [
                "VCSAExporter",
                "ExporterToolkit",
                "ApplianceAPI",
                "MicroHTTPD",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "vcsa_simulator",
            dependencies: [
                "ApplianceAPI",
                "MicroHTTPD",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Checks JSON bodies against the vSphere spec extract (spec/vsphere/recovery-api.json).
        .target(name: "SpecConformance", dependencies: ["ApplianceAPI"], path: "Tests/SpecConformance"),
        .testTarget(name: "MicroHTTPDTests", dependencies: ["MicroHTTPD", "CGnuTLS", "TestHarness"]),
        .testTarget(
            name: "ApplianceAPITests",
            dependencies: ["ApplianceAPI", "SpecConformance", "TestHarness", .product(name: "Logging", package: "swift-log")],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ExporterToolkitTests",
            dependencies: ["ExporterToolkit", "MicroHTTPD", "TestHarness", .product(name: "Logging", package: "swift-log")],
            exclude: ["WebConfigFiles"]
        ),
        .testTarget(
            name: "VCSAExporterTests",
            dependencies: ["VCSAExporter", "ExporterToolkit", "ApplianceAPI", "MicroHTTPD", "TestHarness", .product(name: "Logging", package: "swift-log")]
        ),
        // Starts the real vcsa_exporter and vcsa_simulator binaries on loopback; shared by the two suites below.
        .target(
            name: "TestHarness",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/TestHarness"
        ),
        // Drives the real vcsa_exporter and vcsa_simulator binaries (`swift build` first; `make test` does).
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ApplianceAPI", "SpecConformance", "TestHarness",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Golden"]
        ),
        // Attacks the real binaries: abusive clients, a faulty appliance, signals under load.
        .testTarget(name: "ResilienceTests", dependencies: ["TestHarness"]),
    ]
)
