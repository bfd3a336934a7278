import Foundation
import VCSAExporter

/// What the landing page shows: the public pieces its (internal) `LandingPage` is made from.
public struct LandingPageInputs {
    public struct ProbeTarget {
        public var name: String
        public var url: String
        public var module: String
        public var up: Bool?

        public init(name: String, url: String, module: String, up: Bool?) {
            self.name = name
            self.url = url
            self.module = module
            self.up = up
        }
    }

    public var options: ExporterOptions
    public var snapshot: ScrapeSnapshot?
    public var unsupported: Set<CollectorName> = []
    public var adminEnabled = false
    public var probeTargets: [ProbeTarget] = []
    public var now: Date

    public init(options: ExporterOptions, snapshot: ScrapeSnapshot?, now: Date) {
        self.options = options
        self.snapshot = snapshot
        self.now = now
    }
}
