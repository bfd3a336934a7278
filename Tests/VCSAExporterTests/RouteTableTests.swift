import Testing
@testable import VCSAExporter

@Suite struct RouteTableTests {
    @Test func everyPathIsServedOnce() {
        let table = RouteTable(telemetryPath: "/metrics")
        #expect(Set(table.routes.map(\.path)).count == table.routes.count)
        #expect(table.route(for: "/metrics")?.endpoint == .metrics)
        #expect(table.route(for: "/nothing") == nil)
    }

    @Test func theTelemetryPathCannotTakeAnotherRoutesPath() {
        #expect(!RouteTable.fixedPaths.contains("/metrics"))
        for route in RouteTable(telemetryPath: "/metrics").routes where route.endpoint != .metrics {
            #expect(RouteTable.fixedPaths.contains(route.path))
        }
    }

    @Test func theLandingPageLinksTheLinkedRoutesInOrder() {
        let page = LandingPage(options: ExporterOptions(telemetryPath: "/custom", scrapeTimeout: ScrapeTimeout(timeout: .seconds(10), offset: .zero), vcenterURL: ""), snapshot: nil, adminEnabled: false)
        #expect(page.navigation == "<a href=\"/custom\">Metrics</a><a href=\"/-/healthy\">Health</a><a href=\"/-/ready\">Readiness</a>")
    }
}
