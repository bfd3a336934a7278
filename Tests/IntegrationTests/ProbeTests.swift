import Foundation
import TestHarness
import Testing

/// The multi-target pattern on the real binaries: `--config.file`'s allow-list, modules, one session per
/// target, isolation between targets, reload (HTTP and SIGHUP), idle logout, and shutdown.
@Suite struct ProbeTests {
    /// Three appliances, each its own simulator process.
    static func fleet(_ scenarios: [String] = ["running", "running", "running"], extra: [String] = []) async throws -> [Simulator] {
        var simulators: [Simulator] = []
        for scenario in scenarios { simulators.append(try await Simulator(scenario: scenario, extra: extra)) }
        return simulators
    }

    static func config(_ simulators: [Simulator], idle: String = "10m", timeout: String = "3s", targets extra: String = "") -> String {
        """
        modules:
          default:
            username: administrator@vsphere.local
            password_file: PASSWORD_FILE
            timeout: \(timeout)
            session_idle_timeout: \(idle)
          reconciliation_only:
            username: administrator@vsphere.local
            password_file: PASSWORD_FILE
            timeout: \(timeout)
            collectors: [reconciliation]
        targets:
        \(simulators.enumerated().map { "  vc\($0.offset + 1):\n    url: \($0.element.url)\n" }.joined())\(extra)
        """
    }

    @Test func aTargetOutsideTheAllowListIsRefusedWithoutAnyApplianceCall() async throws {
        let simulators = try await Self.fleet()
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators)
        for query in ["target=evil", "target=http://127.0.0.1:\(simulators[0].port)", "target=vc1&module=nope", "", "target=vc1&target=vc2"] {
            let answer = try await http(.GET, "\(exporter.url)/probe?\(query)")
            #expect(answer.status == 400, "\(query): \(answer.status) \(answer.text)")
        }
        let unknown = try await exporter.probe("evil")
        #expect(unknown.text.contains("unknown target \"evil\""), "\(unknown.text)")
        for simulator in simulators {
            let stats = try await simulator.stats()
            #expect(stats.logins + stats.failed_logins + stats.reconciliation_gets == 0, "no appliance was called: \(stats)")
        }
    }

    @Test func aProbeAnswersItsTargetsFamiliesAndTheExportersOwnStayOnMetrics() async throws {
        let simulators = try await Self.fleet(["running", "failed", "succeeded"])
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators)
        let probe = try await exporter.probe("vc2")
        #expect(probe.status == 200)
        let metrics = parseMetrics(probe.text)
        #expect(metrics["vcsa_up"] == 1)
        #expect(metrics["vcsa_reconciliation_job_status{status=\"FAILED\"}"] == 1, "vc2 is the failed appliance")
        #expect(metrics["vcsa_api_requests_total{operation=\"reconciliation_job_get\"}"] == 1)
        #expect(!probe.text.contains("vcsa_exporter_build_info"), "the exporter's own metrics are not in a probe")
        #expect(!probe.text.contains("process_"), "the exporter's own metrics are not in a probe")
        let own = try await exporter.metrics()
        #expect(own["vcsa_exporter_probe_targets"] == 3)
        #expect(own["vcsa_exporter_probe_targets_active"] == 1)
        #expect(own["vcsa_exporter_config_last_reload_successful"] == 1)
        #expect(own["vcsa_up"] == nil, "no --vcenter.url: /metrics collects no appliance")
        #expect(try await simulators[0].stats().logins == 0, "vc1 was not probed")
    }

    @Test func aModuleChoosesTheCollectorsAndATargetOnlyEverGetsItsOwn() async throws {
        let simulators = try await Self.fleet(["running"])
        let recon = "  vc1-reconciliation:\n    url: \(simulators[0].url)\n    module: reconciliation_only\n"
        let exporter = try await Exporter(config: Self.config(simulators, targets: recon), upstreams: simulators)
        let everything = try await exporter.probe("vc1", module: "default")
        #expect(everything.status == 200 && everything.text.contains("vcsa_backup_"))
        let reconciliationOnly = try await exporter.probe("vc1-reconciliation")
        #expect(reconciliationOnly.status == 200)
        #expect(!reconciliationOnly.text.contains("vcsa_backup_"), "\(reconciliationOnly.text)")
        #expect(!reconciliationOnly.text.contains("vcsa_restore_"))
        #expect(parseMetrics(reconciliationOnly.text)["vcsa_up"] == 1)
        // Another module's credentials are never sent to a target.
        let other = try await exporter.probe("vc1", module: "reconciliation_only")
        #expect(other.status == 400 && other.text.contains("target \"vc1\" uses module \"default\""), "\(other.text)")
        #expect(try await simulators[0].stats().logins == 2, "one session per target, two targets on this appliance")
    }

    @Test func eachTargetKeepsOneSessionAcrossProbes() async throws {
        let simulators = try await Self.fleet()
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators)
        for _ in 0..<5 {
            for target in ["vc1", "vc2", "vc3"] { #expect(try await exporter.probe(target).status == 200) }
        }
        // Concurrent probes of one target share a round.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await exporter.probe("vc1").status } }
            for try await status in group { #expect(status == 200) }
        }
        for simulator in simulators {
            let stats = try await simulator.stats()
            #expect(stats.logins == 1, "one login per target: \(stats)")
            #expect(stats.active_sessions == 1)
        }
        #expect(try await simulators[0].stats().reconciliation_gets < 5 + 8)
    }

    @Test func aSlowOrRefusingTargetNeverDelaysAnother() async throws {
        let simulators = try await Self.fleet(["running", "slow", "bad-credentials"])
        // vc2 answers after 5 s and its module waits for it; vc1's probes get 3 s. Were vc1 held
        // behind vc2's rounds, its probes would end at their deadline with vcsa_up 0.
        let config = """
            modules:
              default:
                username: administrator@vsphere.local
                password_file: PASSWORD_FILE
                timeout: 3s
              patient:
                username: administrator@vsphere.local
                password_file: PASSWORD_FILE
                timeout: 8s
                collectors: [reconciliation]
            targets:
              vc1:
                url: \(simulators[0].url)
              vc2:
                url: \(simulators[1].url)
                module: patient
              vc3:
                url: \(simulators[2].url)

            """
        let exporter = try await Exporter(config: config, upstreams: simulators)
        // The slow and refusing appliances are probed again and again while vc1 is probed. The task
        // holds the URL, not the exporter, so that the exporter still stops when the test ends.
        let url = exporter.url
        let noise = Task {
            while !Task.isCancelled {
                async let slow = http(.GET, "\(url)/probe?target=vc2")
                async let refusing = http(.GET, "\(url)/probe?target=vc3")
                _ = try? await (slow, refusing)
            }
        }
        defer { noise.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        // Through vc2's 5 s login and its first 5 s round.
        for _ in 0..<8 {
            let probe = try await exporter.probe("vc1", headers: [("X-Prometheus-Scrape-Timeout-Seconds", "3.5")])
            #expect(parseMetrics(probe.text)["vcsa_up"] == 1, "vc1 waited on another target: \(probe.text.prefix(300))")
            try await Task.sleep(for: .seconds(1))
        }
        #expect(parseMetrics(try await exporter.probe("vc3").text)["vcsa_up"] == 0)
        #expect(try await simulators[0].stats().logins == 1)
        // vc2 was slow all along, as the exporter itself measured it.
        let slow = parseMetrics(try await exporter.probe("vc2").text)
        #expect(slow["vcsa_up"] == 1 && slow["vcsa_scrape_duration_seconds"] ?? 0 >= 4.9, "\(slow)")
    }

    @Test func aReloadAddsRemovesAndLogsOutTargets() async throws {
        let simulators = try await Self.fleet()
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators, extra: ["--web.enable-lifecycle"])
        for target in ["vc1", "vc2"] { #expect(try await exporter.probe(target).status == 200) }
        // vc2 is removed, vc4 added (the same appliance as vc3, under another name).
        try exporter.rewriteConfig(Self.config([simulators[0]], targets: "  vc3:\n    url: \(simulators[2].url)\n  vc4:\n    url: \(simulators[2].url)\n"))
        let reload = try await http(.POST, "\(exporter.url)/-/reload")
        #expect(reload.status == 200, "\(reload.text)")
        #expect(try await exporter.probe("vc2").status == 400, "a removed target is refused")
        #expect(try await exporter.probe("vc4").status == 200, "an added target is probed")
        try await eventually { try await simulators[1].stats().logouts == 1 }
        #expect(try await simulators[1].stats().active_sessions == 0, "the removed target was logged out")
        #expect(try await simulators[0].stats().logouts == 0, "an unchanged target keeps its session")
        #expect(try await exporter.metrics()["vcsa_exporter_probe_targets"] == 3)
    }

    @Test func aBadReloadKeepsTheLastGoodConfig() async throws {
        let simulators = try await Self.fleet(["running"])
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators, extra: ["--web.enable-lifecycle"])
        let before = try await exporter.metrics()["vcsa_exporter_config_last_reload_success_timestamp_seconds"]
        try exporter.rewriteConfig(Self.config(simulators) + "  vc9:\n    url: ftp://nowhere\n")
        let reload = try await http(.POST, "\(exporter.url)/-/reload")
        #expect(reload.status == 500)
        #expect(reload.text.contains("targets.vc9.url: \"ftp://nowhere\" is not a URL"), "\(reload.text)")
        let metrics = try await exporter.metrics()
        #expect(metrics["vcsa_exporter_config_last_reload_successful"] == 0)
        #expect(metrics["vcsa_exporter_config_last_reload_success_timestamp_seconds"] == before)
        #expect(try await exporter.probe("vc1").status == 200, "the last good config still serves")
        #expect(exporter.child.output.contains("Config reload failed; keeping the last good configuration"))
    }

    /// Each reload reads a file of up to 10,000 targets: the HTTP ones count in --web.max-requests.
    @Test func aReloadCountsAgainstMaxRequests() async throws {
        let simulators = try await Self.fleet(["running"], extra: ["--latency", "2"])
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators, extra: ["--web.enable-lifecycle", "--web.max-requests", "1"])
        async let probe = exporter.probe("vc1")
        try await Task.sleep(for: .milliseconds(500))
        let reload = try await http(.POST, "\(exporter.url)/-/reload")
        #expect(reload.status == 503, "\(reload.status) \(reload.text)")
        #expect(try await probe.status == 200)
        #expect(try await http(.POST, "\(exporter.url)/-/reload").status == 200, "with the slot free again")
    }

    /// A module whose password file is gone after the load: the probe fails with 500, and the
    /// answer (to a client that needs no credentials) names no file; the log does.
    @Test func anUnusableTargetGets500WithoutFilePaths() async throws {
        let simulators = try await Self.fleet(["running"])
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators)
        try FileManager.default.removeItem(atPath: exporter.passwordFile)
        let answer = try await exporter.probe("vc1")
        #expect(answer.status == 500)
        #expect(answer.text.contains("module \"default\" cannot be used"), "\(answer.text)")
        #expect(!answer.text.contains(exporter.passwordFile) && !answer.text.contains("/"), "\(answer.text)")
        #expect(exporter.child.output.contains(exporter.passwordFile), "the log says which file")
    }

    @Test func sighupReloadsAndTheLifecycleAPIIsOffByDefault() async throws {
        let simulators = try await Self.fleet(["running"])
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators)
        #expect(try await http(.POST, "\(exporter.url)/-/reload").status == 403)
        #expect(try await exporter.probe("vc1").status == 200)
        try exporter.rewriteConfig(Self.config([]) + "  renamed:\n    url: \(simulators[0].url)\n")
        exporter.child.signal(SIGHUP)
        try await eventually { try await exporter.probe("renamed").status == 200 }
        #expect(try await exporter.probe("vc1").status == 400)
        #expect(exporter.child.process.isRunning)
        #expect(exporter.child.output.contains("Config reloaded"))
        try await eventually { try await simulators[0].stats().logouts == 1 }
    }

    @Test func anIdleTargetIsLoggedOutAndComesBackOnTheNextProbe() async throws {
        let simulators = try await Self.fleet(["running"])
        let exporter = try await Exporter(config: Self.config(simulators, idle: "1s", timeout: "1s"), upstreams: simulators)
        #expect(try await exporter.probe("vc1").status == 200)
        try await eventually { try await simulators[0].stats().logouts == 1 }
        #expect(try await exporter.metrics()["vcsa_exporter_probe_targets_active"] == 0)
        #expect(parseMetrics(try await exporter.probe("vc1").text)["vcsa_up"] == 1)
        #expect(try await simulators[0].stats().logins == 2)
    }

    @Test func shutdownLogsOutEveryTarget() async throws {
        let simulators = try await Self.fleet()
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators)
        for target in ["vc1", "vc2", "vc3"] { #expect(try await exporter.probe(target).status == 200) }
        exporter.child.signal(SIGTERM)
        #expect(await exporter.child.waitForExit() == 0)
        for simulator in simulators {
            let stats = try await simulator.stats()
            #expect(stats.active_sessions == 0 && stats.logouts == 1, "\(stats)")
        }
    }

    @Test func configCheckValidatesAndExitsZeroOrTwo() async throws {
        let simulators = try await Self.fleet(["running"])
        let exporter = try await Exporter(config: Self.config(simulators), upstreams: simulators)
        let good = try ChildProcess(try Binaries.path("vcsa_exporter"), ["--config.file", exporter.configFile!, "--config.check"])
        defer { good.stop() }
        #expect(await good.waitForExit() == 0)
        #expect(good.output.contains("valid") && good.output.contains("targets: 1"), "\(good.output)")
        try exporter.rewriteConfig(Self.config(simulators) + "  vc2:\n    url: \(simulators[0].url)\n    module: missing\n")
        let bad = try ChildProcess(try Binaries.path("vcsa_exporter"), ["--config.file", exporter.configFile!, "--config.check"])
        defer { bad.stop() }
        #expect(await bad.waitForExit() == 2)
        #expect(bad.output.contains("targets.vc2.module: no module named \"missing\""), "\(bad.output)")
    }
}
