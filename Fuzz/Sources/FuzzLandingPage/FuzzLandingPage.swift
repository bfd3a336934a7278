import ApplianceAPI
import Foundation
import FuzzSupport
import LandingPageCheck
@testable import VCSAExporter

/// The landing page from every field it shows, each string and number taken from the input:
/// `LandingPageCheck` renders it and parses it with libxml2. Invariants: no trap; the elements and
/// attributes are exactly those of the same page with every text replaced by "x".
///
/// Input layout (`FuzzInput`): 160 bytes of numbers, then strings separated by 0xFF.
///   0 reconciliation: job, no job, failure, unsupported, not asked (mod 5)   1 its status (mod 5)
///   2 its flags: start, end, cancelable, error (2 bits: none, string, object, null), messages (2 bits)
///   3 restore: job, failure, unsupported, not asked (mod 4)   4 its state (mod 5)   5 its messages (mod 4)
///   6 backup: snapshot, failure, unsupported, not asked (mod 4)   7 newest job's status (mod 6)
///   8 newest job: present, duration, size, progress, start, end, error (2 bits)
///   9 last success (2 bits: none, the newest, another), schedules (2 bits), messages (2 bits), retention, schedules enabled
///  10 collectors off (3 bits), no --vcenter.url, restore unsupported, backup unsupported, admin API, progress change
///  11 probe targets (2 bits), then 2 bits each: not probed, up, down   12 failure kind (mod 4)   13-15 unused
///  16 Int64s (little-endian): reconciliation progress, restore progress, backup duration, size, progress total,
///     progress completed, jobs listed, scrape duration seconds, attoseconds, HTTP status
///  96 Doubles (bit patterns), Unix times: reconciliation start, end, backup start, end, last success end,
///     progress change, scrape finished, now
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLandingPage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size), numberBytes: 160)
    LandingPageCheck.check(LandingPageFields(&input).inputs(&input))
    return 0
}

/// The numbers and choices, read in the layout's order before any string.
struct LandingPageFields {
    var choices: [UInt8]
    var integers: [Int64]
    var times: [Date]

    init(_ input: inout FuzzInput) {
        choices = (0..<16).map { _ in input.byte() }
        integers = (0..<10).map { _ in input.int64() }
        times = (0..<8).map { _ in Date(timeIntervalSince1970: input.double()) }
    }

    func bits(_ byte: Int, _ shift: Int, _ count: Int = 1) -> Int {
        Int(choices[byte] >> UInt8(shift)) & ((1 << count) - 1)
    }

    func flag(_ byte: Int, _ shift: Int) -> Bool { bits(byte, shift) == 1 }

    func inputs(_ input: inout FuzzInput) -> LandingPageInputs {
        var options = ExporterOptions(scrapeTimeout: ScrapeTimeout(timeout: .seconds(10), offset: .milliseconds(500)), vcenterURL: "")
        options.vcenterURL = flag(10, 3) ? "" : input.string()
        options.telemetryPath = input.string()
        options.collectors = Set(CollectorName.allCases.enumerated().filter { !flag(10, $0.offset) }.map(\.element))
        var snapshot = ScrapeSnapshot()
        snapshot.reconciliation = outcome(Int(choices[0]) % 5, &input) { input in
            Int(choices[0]) % 5 == 1 ? nil : reconciliation(&input)
        }
        snapshot.restore = outcome([0, 2, 3, 4][Int(choices[3]) % 4], &input) { input in
            RestoreJob(state: RestoreJob.State.allCases[Int(choices[4]) % 5], messages: messages(Int(choices[5]) % 4, &input), progress: integers[1])
        }
        snapshot.backup = outcome([0, 2, 3, 4][Int(choices[6]) % 4], &input) { input in backup(&input) }
        // Any Duration whose components fit (Duration.components traps past Int64 seconds; the scrape's own clock never gets there).
        snapshot.duration = Duration(secondsComponent: integers[7], attosecondsComponent: Int64(UInt64(bitPattern: integers[8]) % 1_000_000_000_000_000_000))
        snapshot.lastProgressChange = flag(10, 7) ? times[5] : nil
        snapshot.finishedAt = times[6]
        var inputs = LandingPageInputs(options: options, snapshot: snapshot, now: times[7])
        inputs.unsupported = Set([(CollectorName.restore, flag(10, 4)), (.backup, flag(10, 5))].filter(\.1).map(\.0))
        inputs.adminEnabled = flag(10, 6)
        inputs.probeTargets = (0..<bits(11, 0, 2)).map { index in
            LandingPageInputs.ProbeTarget(name: input.string(), url: input.string(), module: input.string(), up: [nil, true, false, nil][bits(11, 2 + 2 * index, 2)])
        }
        return inputs
    }

    /// 0 success, 2 failure, 3 unsupported, 4 not asked (1 is a success without a job, made by `make`).
    func outcome<Value>(_ kind: Int, _ input: inout FuzzInput, _ make: (inout FuzzInput) -> Value) -> CollectorOutcome<Value>? {
        switch kind {
        case 2: .failure(failure(&input))
        case 3: .unsupported
        case 4: nil
        default: .success(make(&input))
        }
    }

    func failure(_ input: inout FuzzInput) -> ApplianceError {
        switch Int(choices[12]) % 4 {
        case 0:
            .api(httpStatus: Int(truncatingIfNeeded: integers[9]),
                 error: VAPIError(errorType: ErrorType.allCases[Int(choices[12] >> 2) % ErrorType.allCases.count], messages: messages(1, &input)))
        case 1: .transport(input.string())
        case 2: .invalidResponse(input.string())
        default: .loginBackoff(secondsLeft: Int(truncatingIfNeeded: integers[9]), lastError: .tls(input.string()))
        }
    }

    func reconciliation(_ input: inout FuzzInput) -> ReconciliationJob {
        ReconciliationJob(description: message(&input), service: input.string(), operation: input.string(), parent: input.string(),
                          target: DynamicID(type: input.string(), id: input.string()),
                          status: ReconciliationJob.Status.allCases[Int(choices[1]) % 5], cancelable: flag(2, 2),
                          error: error(bits(2, 3, 2), &input), startTime: flag(2, 0) ? times[0] : nil, endTime: flag(2, 1) ? times[1] : nil,
                          messages: messages(bits(2, 5, 2), &input), progress: integers[0])
    }

    func backup(_ input: inout FuzzInput) -> BackupSnapshot {
        var backup = BackupSnapshot()
        backup.jobsListed = Int(truncatingIfNeeded: integers[6])
        if flag(8, 0) {
            let job = BackupJobDetails(
                location: input.string(), locationUser: input.string(), type: input.string(), messages: messages(bits(9, 4, 2), &input),
                description: message(&input), status: BackupJobDetails.Status.allCases[Int(choices[7]) % 6], duration: flag(8, 1) ? integers[2] : nil,
                size: flag(8, 2) ? integers[3] : nil,
                progress: flag(8, 3) ? .init(total: integers[4], completed: integers[5], message: message(&input)) : nil,
                error: error(bits(8, 6, 2), &input), startTime: flag(8, 4) ? times[2] : nil, endTime: flag(8, 5) ? times[3] : nil)
            backup.newest = (input.string(), job)
        }
        switch bits(9, 0, 2) {
        case 1: backup.lastSuccess = backup.newest
        case 2:
            let success = BackupJobDetails(location: input.string(), type: input.string(), description: message(&input), status: .succeeded, endTime: times[4])
            backup.lastSuccess = (input.string(), success)
        default: break
        }
        backup.schedules = (0..<bits(9, 2, 2)).map { _ in
            (input.string(), BackupSchedule(parts: [input.string()], location: input.string(), enable: flag(9, 7),
                                            retentionInfo: flag(9, 6) ? .init(maxCount: integers[6]) : nil))
        }
        return backup
    }

    func message(_ input: inout FuzzInput) -> LocalizableMessage {
        LocalizableMessage(id: input.string(), defaultMessage: input.string(), args: [input.string()])
    }

    func messages(_ count: Int, _ input: inout FuzzInput) -> [LocalizableMessage] {
        (0..<count).map { _ in message(&input) }
    }

    /// None, a plain string, a vAPI error object, or null.
    func error(_ kind: Int, _ input: inout FuzzInput) -> JSONValue? {
        switch kind {
        case 1: .string(input.string())
        case 2: .object(["error_type": .string(input.string()), "messages": .array([.object(["default_message": .string(input.string())])])])
        case 3: .null
        default: nil
        }
    }
}
