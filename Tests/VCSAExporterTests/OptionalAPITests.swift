import ApplianceAPI
import Logging
import Synchronization
import Testing
@testable import VCSAExporter

/// The memory of an API the appliance lacks, with time moved by hand instead of waited for.
@Suite struct OptionalAPITests {
    static let missing = ApplianceError.api(httpStatus: 404, error: VAPIError(httpStatus: 404, body: Array(#"{"error_type":"OPERATION_NOT_FOUND","messages":[]}"#.utf8)))
    static let broken = ApplianceError.api(httpStatus: 500, error: VAPIError(httpStatus: 500, body: Array(#"{"error_type":"ERROR","messages":[]}"#.utf8)))

    @Test func aMissingAPIIsNotedOnceSkippedTenMinutesThenAskedAgain() {
        let log = CapturedLog()
        var api = OptionalAPI(name: "restore job")
        let start = ContinuousClock.now
        let first: CollectorOutcome<Int> = api.record(.failure(Self.missing), at: start, logger: log.logger)
        guard case .unsupported = first else { Issue.record("expected unsupported, got \(first)"); return }
        #expect(api.unsupported)
        #expect(api.skipped(at: start + .seconds(599)))
        #expect(!api.skipped(at: start + .seconds(600)), "asked again after 10 minutes")

        _ = api.record(CollectorOutcome<Int>.failure(Self.missing), at: start + .seconds(600), logger: log.logger)
        #expect(log.messages.count == 1, "noted once, not at every look: \(log.messages)")
        #expect(api.skipped(at: start + .seconds(1199)))
    }

    @Test func anAnswerAfterAnUpgradeEndsTheNote() {
        let log = CapturedLog()
        var api = OptionalAPI(name: "backup job")
        let start = ContinuousClock.now
        _ = api.record(CollectorOutcome<Int>.failure(Self.missing), at: start, logger: log.logger)
        let answered = api.record(CollectorOutcome<Int>.success(7), at: start + .seconds(600), logger: log.logger)
        guard case .success(7) = answered else { Issue.record("expected the answer, got \(answered)"); return }
        #expect(!api.unsupported)
        #expect(!api.skipped(at: start + .seconds(601)))
    }

    @Test func anotherFailureIsReportedAndNotRemembered() {
        let log = CapturedLog()
        var api = OptionalAPI(name: "restore job")
        let start = ContinuousClock.now
        let outcome = api.record(CollectorOutcome<Int>.failure(Self.broken), at: start, logger: log.logger)
        guard case .failure = outcome else { Issue.record("expected the failure, got \(outcome)"); return }
        #expect(!api.unsupported)
        #expect(!api.skipped(at: start))
        #expect(log.messages.count == 1 && log.messages[0].level == .warning)
    }
}

/// Keeps what is logged, for assertions.
final class CapturedLog: Sendable {
    struct Entry: Sendable { var level: Logger.Level; var message: String }
    private let entries = Mutex<[Entry]>([])
    var messages: [Entry] { entries.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            log.entries.withLock { $0.append(Entry(level: level, message: message.description)) }
        }
    }
}
