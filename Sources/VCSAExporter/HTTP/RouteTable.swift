/// One path the exporter serves.
struct Route: Sendable, Equatable {
    enum Endpoint: Sendable { case metrics, probe, landingPage, healthy, ready, reload, cancel }

    let endpoint: Endpoint
    let path: String
    /// The methods it answers. A read-only route refuses any other with 405 before anything else.
    let methods: [String]
    /// Whether it waits on an appliance or a file, and so counts against `--web.max-requests`.
    let limited: Bool
    /// Its name in the landing page's navigation; nil when the page does not link it.
    let link: String?

    var readOnly: Bool { methods == ["GET", "HEAD"] }
    var allow: String { methods.joined(separator: ", ") }
}

/// Every path the exporter serves, listed once: the handler routes by it, the settings keep
/// `--web.telemetry-path` off the others, and the landing page links from it.
public struct RouteTable: Sendable {
    let routes: [Route]

    init(telemetryPath: String) {
        let read = ["GET", "HEAD"]
        routes = [
            Route(endpoint: .metrics, path: telemetryPath, methods: read, limited: true, link: "Metrics"),
            Route(endpoint: .healthy, path: "/-/healthy", methods: read, limited: false, link: "Health"),
            Route(endpoint: .ready, path: "/-/ready", methods: read, limited: false, link: "Readiness"),
            Route(endpoint: .probe, path: "/probe", methods: read, limited: true, link: nil),
            Route(endpoint: .landingPage, path: "/", methods: read, limited: false, link: nil),
            Route(endpoint: .reload, path: "/-/reload", methods: ["POST", "PUT"], limited: true, link: nil),
            Route(endpoint: .cancel, path: AdminAPI.cancelPath, methods: ["POST"], limited: true, link: nil),
        ]
    }

    func route(for path: String) -> Route? {
        routes.first { $0.path == path }
    }

    /// The paths `--web.telemetry-path` may not take: every other route's.
    public static let fixedPaths: [String] = RouteTable(telemetryPath: "").routes.filter { $0.endpoint != .metrics }.map(\.path)
}
