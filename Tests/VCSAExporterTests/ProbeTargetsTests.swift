import ExporterToolkit
import Foundation
import Logging
import Synchronization
import Testing
@testable import VCSAExporter

/// The probe registry, with time as an input: a target handed out is never taken by the idle sweep.
@Suite struct ProbeTargetsTests {
    /// A registry of one target, `vc1`, whose idle time is measured on `time`.
    static func registry(time: TestClock) throws -> ProbeTargets {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("probe-targets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "secret\n".write(toFile: directory + "/password", atomically: true, encoding: .utf8)
        try """
        modules:
          default:
            username: u
            password_file: password
            session_idle_timeout: 1m
        targets:
          vc1:
            url: http://127.0.0.1:1
        """.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        return try ProbeTargets(path: directory + "/config.yml", offset: .zero, logger: Logger(label: "test"), clock: time.now, sweepInterval: nil)
    }

    static func target(_ probes: ProbeTargets, _ name: String) async throws -> ApplianceTarget {
        try await withCheckedThrowingContinuation { continuation in
            probes.target(named: name, module: nil) { continuation.resume(with: $0) }
        }
    }

    static func active(_ probes: ProbeTargets) -> String {
        var writer = ExpositionWriter()
        probes.writeMetrics(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("vcsa_exporter_probe_targets_active ") }.map(String.init) ?? ""
    }

    /// A target idle for an hour and then handed to a probe is in use: the sweep right after must
    /// not log it out under the probe (it used to be marked used only once the scrape began).
    @Test func aTargetHandedOutIsNotSweptAsIdle() async throws {
        let time = TestClock()
        let probes = try Self.registry(time: time)
        let first = try await Self.target(probes, "vc1")
        time.advance(by: .seconds(3600))
        let handedOut = try await Self.target(probes, "vc1")
        #expect(handedOut === first)
        #expect(probes.sweep())
        #expect(Self.active(probes) == "vcsa_exporter_probe_targets_active 1")
        #expect(handedOut.lastScrape == time.now())

        time.advance(by: .seconds(61))
        #expect(probes.sweep())
        #expect(Self.active(probes) == "vcsa_exporter_probe_targets_active 0", "idle past session_idle_timeout")
        await probes.close(deadline: .now + .seconds(1))
    }

    /// Reloads run one at a time, and every request made while one runs is answered.
    @Test func everyReloadRequestIsAnswered() async throws {
        let time = TestClock()
        let probes = try Self.registry(time: time)
        let results = Results()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        probes.reload { error in
                            results.record(index, error == nil)
                            continuation.resume()
                        }
                    }
                }
            }
        }
        #expect(results.all.count == 20)
        #expect(results.all.values.allSatisfy { $0 })
        await probes.close(deadline: .now + .seconds(1))
    }
}

/// A clock that moves only when told.
final class TestClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    var now: @Sendable () -> ContinuousClock.Instant { { [self] in instant.withLock { $0 } } }

    func advance(by duration: Duration) {
        instant.withLock { $0 += duration }
    }
}

final class Results: Sendable {
    private let values = Mutex<[Int: Bool]>([:])
    func record(_ index: Int, _ value: Bool) { values.withLock { $0[index] = value } }
    var all: [Int: Bool] { values.withLock { $0 } }
}
