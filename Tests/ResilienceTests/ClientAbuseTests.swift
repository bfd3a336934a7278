import Foundation
import TestHarness
import Testing

/// Clients that misbehave on purpose, as scanners, broken proxies and attackers do. The exporter is
/// reachable by anyone who can reach the port: none of this may kill it or lock Prometheus out.
/// Serialized: these cases load the two cores and hold thousands of sockets.
@Suite(.serialized) struct ClientAbuseTests {
    /// A healthy appliance and an exporter in front of it. Keep both: the simulator dies with its object.
    static func start(simulatorExtra: [String] = [], exporterExtra: [String] = []) async throws -> (Simulator, Exporter) {
        let simulator = try await Simulator(scenario: "running", extra: simulatorExtra)
        let exporter = try await Exporter(simulator: simulator, extra: ["--no-collector.restore", "--no-collector.backup"] + exporterExtra)
        return (simulator, exporter)
    }

    /// 100 connections that each send one header byte a second never finish a request; scrapes
    /// from elsewhere must still be answered while they hang on.
    @Test func slowlorisDoesNotStarveScrapes() async throws {
        let (simulator, exporter) = try await Self.start()
        let port = exporter.port
        let loris = await onThread {
            (0..<100).compactMap { _ -> RawConnection? in
                let connection = try? RawConnection(port: port)
                try? connection?.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Loris: ", deadline: .now + .seconds(1))
                return connection
            }
        }
        #expect(loris.count == 100)
        // Six seconds of drip, one byte per connection per second (the server may cut some: fine).
        async let drip: Void = onThread {
            for _ in 0..<6 {
                for connection in loris { try? connection.send("a", deadline: .now + .milliseconds(10)) }
                sleep(1)
            }
        }
        var outcomes: [String] = []
        for _ in 0..<10 {
            let (outcome, elapsed) = await timed { await rawScrape(exporter, timeout: .seconds(3)) }
            if outcome.status != 200 || elapsed > .seconds(2) { outcomes.append("\(outcome.summary) after \(elapsed)") }
            try await Task.sleep(for: .milliseconds(500))
        }
        await drip
        #expect(outcomes.isEmpty, "scrapes during the slowloris: \(outcomes)")
        await onThread { loris.forEach { $0.close() } }
        await expectStillServing(exporter, appliance: simulator)
    }

    /// 2000 connections from 127.0.0.1 that send nothing must not lock out a scraper on 127.0.0.2
    /// (a per-address limit, not only a global one).
    @Test func thousandsOfIdleConnectionsDoNotLockOutOtherAddresses() async throws {
        let wanted = min(2000, raiseOpenFileLimit() - 200)
        let (simulator, exporter) = try await Self.start()
        let port = exporter.port
        let idle = await onThread {
            var connections: [RawConnection] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while connections.count < wanted && ContinuousClock.now < deadline {
                if let connection = try? RawConnection(port: port, from: "127.0.0.1", timeout: .milliseconds(200)) { connections.append(connection) }
            }
            return connections
        }
        #expect(idle.count == wanted, "opened \(idle.count) of \(wanted) idle connections")
        let (outcome, elapsed) = await timed { await rawScrape(exporter, timeout: .seconds(5)) }
        #expect(outcome.status == 200, "scrape from 127.0.0.2 with \(idle.count) idle connections open from 127.0.0.1: \(outcome.summary) after \(elapsed)")
        await onThread { idle.forEach { $0.close() } }
        await expectStillServing(exporter, appliance: simulator)
    }

    /// A 1 MiB header value, a 1 MiB request line and 20,000 headers: the server refuses (431, 414,
    /// 400...) or closes, within seconds, and lives on.
    @Test func oversizedHeadersAndRequestLinesAreRefused() async throws {
        let (simulator, exporter) = try await Self.start()
        let huge = String(repeating: "a", count: 1 << 20)
        let requests: [(String, [UInt8])] = [
            ("1 MiB header value", httpRequest("GET", "/metrics", headers: [("X-Huge", huge)])),
            ("1 MiB request line", httpRequest("GET", "/metrics?" + huge)),
            ("20,000 headers", httpRequest("GET", "/metrics", headers: (0..<20_000).map { ("X-H\($0)", "v") })),
        ]
        for (name, bytes) in requests {
            let port = exporter.port
            let (outcome, elapsed) = await timed {
                await onThread { () -> RawOutcome in
                    Result { () throws(RawError) -> RawResponse in
                        let connection = try RawConnection(port: port)
                        // The server may stop reading and close before all is sent: then read what it said.
                        try? connection.send(bytes, deadline: .now + .seconds(3))
                        return try connection.readResponse(deadline: .now + .seconds(3))
                    }
                }
            }
            switch outcome {
            case .success(let response):
                #expect((400..<500).contains(response.status), "\(name): answered \(response.status)")
            case .failure(let error):
                #expect(error != .timedOut && error != .refused, "\(name): \(error) after \(elapsed)")
            }
        }
        await expectStillServing(exporter, appliance: simulator)
    }

    /// A few hundred connections of seeded random bytes, then hand-picked malformed requests:
    /// each one is answered or closed within a few seconds, and the process lives.
    @Test func randomBytesAndMalformedRequestsAreSurvived() async throws {
        let (simulator, exporter) = try await Self.start()
        let port = exporter.port
        await onThread {
            var random = SeededRandom(seed: 0x5EED_CAFE)
            for _ in 0..<6 {
                let batch = (0..<50).compactMap { _ in try? RawConnection(port: port) }
                for connection in batch {
                    let garbage = random.bytes(Int.random(in: 1...4096, using: &random))
                    try? connection.send(garbage, deadline: .now + .milliseconds(200))
                }
                // Some wait for whatever comes back, some reset right away.
                for (index, connection) in batch.enumerated() {
                    if index % 2 == 0 { _ = try? connection.readResponse(deadline: .now + .milliseconds(20)) }
                    connection.close(reset: index % 3 == 0)
                }
            }
        }
        #expect(exporter.child.process.isRunning, "died under random bytes:\n\(exporter.child.output.suffix(1500))")

        let malformed: [(String, String)] = [
            ("no path or version", "GET\r\n\r\n"),
            ("unknown HTTP version", "GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n"),
            ("NUL in the path", "GET /met\0rics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            ("NUL before the method", "\0GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX: \0\r\n\r\n"),
            ("header without colon", "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonHere\r\n\r\n"),
            ("header with empty name", "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n: value\r\n\r\n"),
            ("empty method", " /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            ("bare LF line ends", "GET /metrics HTTP/1.1\nHost: 127.0.0.1\n\n"),
            ("negative Content-Length", "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n"),
            ("bad chunk size", "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n"),
            ("HTTP/1.1 without Host", "GET /metrics HTTP/1.1\r\n\r\n"),
        ]
        for (name, text) in malformed {
            let (outcome, elapsed) = await timed { await rawExchange(port: port, Array(text.utf8), from: "127.0.0.1", timeout: .seconds(3)) }
            #expect(outcome.status != nil || outcome.summary.hasPrefix("closed"), "\(name): \(outcome.summary) after \(elapsed)")
        }
        // Lines of NUL bytes read as empty lines, which a server skips before a request (RFC 9112 §2.2):
        // waiting for the request is fair; only the process must live.
        _ = await rawExchange(port: port, Array("\0\0\0\0\0\0\0\0\r\n\r\n".utf8), from: "127.0.0.1", timeout: .milliseconds(500))
        await expectStillServing(exporter, appliance: simulator)
    }

    /// Several requests written in one send on one connection: all answered, in order.
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let (simulator, exporter) = try await Self.start()
        let paths = ["/metrics", "/-/healthy", "/nope", "/metrics", "/-/ready"]
        let port = exporter.port
        let outcomes = await onThread { () -> [RawOutcome] in
            let deadline = ContinuousClock.now + .seconds(5)
            guard let connection = try? RawConnection(port: port) else { return [.failure(.refused)] }
            let all = paths.enumerated().flatMap { httpRequest("GET", $1, keepAlive: $0 < paths.count - 1) }
            if let error = Result(catching: { () throws(RawError) in try connection.send(all, deadline: deadline) }).failure {
                return [.failure(error)]
            }
            return paths.map { _ in Result { () throws(RawError) in try connection.readResponse(deadline: deadline) } }
        }
        let seen = outcomes.map { outcome -> String in
            guard case .success(let response) = outcome else { return outcome.summary }
            if response.text.contains("vcsa_up 1") { return "metrics" }
            return "\(response.status) \(response.text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(7))"
        }
        #expect(seen == ["metrics", "200 Healthy", "404 Not Fou", "metrics", "200 Ready"])
        await expectStillServing(exporter, appliance: simulator)
    }

    /// A body nobody asked for: the 10 MiB one is refused (413 after the fix; 4xx in any case), and
    /// a huge Content-Length is refused quickly, without waiting for bytes that will never come.
    @Test func requestBodiesAreRefusedWithoutBeingRead() async throws {
        let (simulator, exporter) = try await Self.start()
        let port = exporter.port
        let tenMiB = [UInt8](repeating: UInt8(ascii: "x"), count: 10 << 20)
        let (whole, wholeElapsed) = await timed {
            await onThread { () -> RawOutcome in
                Result { () throws(RawError) -> RawResponse in
                    let connection = try RawConnection(port: port)
                    try? connection.send(httpRequest("POST", "/metrics", body: tenMiB), deadline: .now + .seconds(3))
                    return try connection.readResponse(deadline: .now + .seconds(2))
                }
            }
        }
        #expect(whole.status.map { (400..<500).contains($0) } == true, "POST /metrics with 10 MiB: \(whole.summary) after \(wholeElapsed)")

        let (announced, announcedElapsed) = await timed {
            await onThread { () -> RawOutcome in
                Result { () throws(RawError) -> RawResponse in
                    let connection = try RawConnection(port: port)
                    let head = "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1099511627776\r\nConnection: close\r\n\r\n"
                    try connection.send(Array(head.utf8) + [UInt8](repeating: 0x78, count: 1024), deadline: .now + .seconds(1))
                    return try connection.readResponse(deadline: .now + .seconds(2))
                }
            }
        }
        #expect(announced.status.map { (400..<500).contains($0) } == true,
                "POST /metrics announcing 1 TiB, 1 KiB sent: \(announced.summary) after \(announcedElapsed)")
        await expectStillServing(exporter, appliance: simulator)
    }

    /// 50 clients ask for /metrics from a slow appliance and reset at once: when their round ends,
    /// no request slot may stay taken (`--web.max-requests 5`: five scrapes at once all get 200).
    @Test func clientsResettingMidRequestLeakNoSlots() async throws {
        let (simulator, exporter) = try await Self.start(simulatorExtra: ["--latency", "2"], exporterExtra: ["--web.max-requests", "5", "--vcenter.timeout", "5s"])
        let port = exporter.port
        let sent = await onThread {
            (0..<50).filter { _ in
                guard let connection = try? RawConnection(port: port) else { return false }
                defer { connection.close(reset: true) }
                return (try? connection.send(httpRequest("GET", "/metrics"), deadline: .now + .seconds(1))) != nil
            }.count
        }
        #expect(sent == 50)
        // The round they started: a 2 s login and a 2 s job call; let it end.
        try await Task.sleep(for: .seconds(5))
        let outcomes = await withTaskGroup(of: RawOutcome.self) { group in
            for _ in 0..<5 { group.addTask { await rawScrape(exporter, timeout: .seconds(5)) } }
            return await group.reduce(into: [RawOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.map(\.status) == Array(repeating: 200, count: 5), "\(outcomes.map(\.summary))")
        await expectStillServing(exporter, appliance: simulator)
    }

    /// Hostile `X-Prometheus-Scrape-Timeout-Seconds` values: each scrape is answered (200, with the
    /// configured timeout as budget) and the process lives. An exporter that dies is restarted, so
    /// that every value is tried and the report names each killer.
    @Test func hostileScrapeTimeoutHeadersAreSurvived() async throws {
        let simulator = try await Simulator(scenario: "running")
        let arguments = ["--no-collector.restore", "--no-collector.backup", "--vcenter.timeout", "2s"]
        var exporter = try await Exporter(simulator: simulator, extra: arguments)
        let values = ["1e10", "inf", "-inf", "nan", "-1", "0", "1e308", "", "abc", String(repeating: "9", count: 400),
                      "1e-400", "0x1p1023", "9223372036854775807", "  5", "5,5"]
        var failures: [String] = []
        for value in values {
            let (outcome, elapsed) = await timed {
                await rawScrape(exporter, from: "127.0.0.1", headers: [("X-Prometheus-Scrape-Timeout-Seconds", value)], timeout: .seconds(3.5))
            }
            try await Task.sleep(for: .milliseconds(50))
            let alive = exporter.child.process.isRunning
            if outcome.status != 200 || !alive {
                failures.append("\"\(value.prefix(12))\(value.count > 12 ? "…" : "")\": \(outcome.summary) after \(elapsed)\(alive ? "" : ", process died")")
            }
            if !alive { exporter = try await Exporter(simulator: simulator, extra: arguments) }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "; "))")
        await expectStillServing(exporter, appliance: simulator)
    }

    /// Liveness must not queue behind scrapes: with `--web.max-requests 1` taken by a slow scrape,
    /// `/-/healthy` and `/-/ready` still answer 200 (or a kubelet restarts a healthy exporter).
    @Test func healthChecksAnswerWhileTheMetricsPathIsSaturated() async throws {
        let (simulator, exporter) = try await Self.start(simulatorExtra: ["--latency", "2"], exporterExtra: ["--web.max-requests", "1", "--vcenter.timeout", "5s"])
        async let scrape = rawScrape(exporter, from: "127.0.0.1", timeout: .seconds(6))
        try await Task.sleep(for: .milliseconds(500))
        let healthy = await rawScrape(exporter, path: "/-/healthy", timeout: .seconds(1))
        let ready = await rawScrape(exporter, path: "/-/ready", timeout: .seconds(1))
        #expect(healthy.status == 200, "/-/healthy during a scrape: \(healthy.summary)")
        #expect(ready.status == 200, "/-/ready during a scrape: \(ready.summary)")
        #expect(await scrape.status == 200)
        await expectStillServing(exporter, appliance: simulator, within: .seconds(6))
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// `/probe` under abuse: whatever a client names, the exporter reaches only its allow-list, and
/// what it holds follows the targets in use, not the requests.
@Suite(.serialized) struct ProbeAbuseTests {
    @Test func thousandsOfProbesOfUnknownTargetsReachNothingAndHoldNothing() async throws {
        let simulator = try await Simulator(scenario: "running")
        let config = "modules:\n  default:\n    username: administrator@vsphere.local\n    password_file: PASSWORD_FILE\n"
            + "targets:\n  vc1:\n    url: \(simulator.url)\n"
        let exporter = try await Exporter(config: config, upstreams: [simulator], extra: ["--web.max-requests", "0"])
        var random = SeededRandom(seed: 12)
        let hostile = ["http://127.0.0.1:\(simulator.port)", "vc1/../vc1", "VC1", "vc1%00", "vc1 ", String(repeating: "a", count: 4000),
                       "../../etc/passwd", "vc1&target=vc1", "%", "vc1\u{301}"]
        var statuses: [Int: Int] = [:]
        for index in 0..<2000 {
            let name = index < hostile.count ? hostile[index] : String((0...Int.random(in: 0..<40, using: &random)).map { _ in "abcdefgh01.:-_/%&=?".randomElement(using: &random)! })
            let query = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let answer = try await http(.GET, "\(exporter.url)/probe?target=\(query)")
            statuses[answer.status, default: 0] += 1
        }
        #expect(statuses.keys.allSatisfy { $0 == 400 || $0 == 431 || $0 == 414 }, "\(statuses)")
        let stats = try await simulator.stats()
        #expect(stats.logins + stats.failed_logins + stats.reconciliation_gets == 0, "no name reached the appliance: \(stats)")
        let own = try await exporter.metrics()
        #expect(own["vcsa_exporter_probe_targets_active"] == 0)
        #expect(parseMetrics(try await exporter.probe("vc1").text)["vcsa_up"] == 1, "the listed target still works")
    }
}
