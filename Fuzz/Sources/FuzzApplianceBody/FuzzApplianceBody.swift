@testable import ApplianceAPI
import ExporterToolkit
import Foundation
import FuzzSupport
import LandingPageCheck
@testable import VCSAExporter

/// An appliance answer end to end: the first byte chooses the call (reconciliation job, restore job,
/// backup job details, backup schedules, or a vAPI error body for all three collectors), the rest is
/// its body, decoded as the client decodes it (a body that does not decode becomes the client's
/// INVALID_RESPONSE error), put into a scrape snapshot and rendered as metrics and as the landing page.
/// Invariants: no trap; the metrics are well-formed Prometheus text; the page passes `LandingPageCheck`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzApplianceBody(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let kind = bytes.first else { return 0 }
    let body = Array(bytes.dropFirst())
    var snapshot = ScrapeSnapshot()
    snapshot.finishedAt = Date(timeIntervalSince1970: 1_795_342_200)  // 2026-11-22 10:10:00 UTC
    switch kind % 5 {
    case 0: snapshot.reconciliation = decoded(ReconciliationJob.self, body, .reconciliationJobGet).map { job -> ReconciliationJob? in job }
    case 1: snapshot.restore = decoded(RestoreJob.self, body, .restoreJobGet)
    case 2: snapshot.backup = decoded([String: BackupJobDetails].self, body, .backupJobDetailsGet).map(backupSnapshot)
    case 3:
        snapshot.backup = decoded([String: BackupSchedule].self, body, .backupSchedulesGet).map { schedules in
            var backup = BackupSnapshot()
            backup.schedules = schedules.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            return backup
        }
    default:
        let error = ApplianceError.api(httpStatus: 500, error: VAPIError(httpStatus: 500, body: body))
        (snapshot.reconciliation, snapshot.restore, snapshot.backup) = (.failure(error), .failure(error), .failure(error))
    }

    var writer = ExpositionWriter()
    JobMetrics.writeScrapeHealth(snapshot, to: &writer)
    ReconciliationCollector.write(snapshot, to: &writer)
    RestoreCollector.write(snapshot, to: &writer)
    BackupCollector.write(snapshot, to: &writer)
    let problem = PrometheusText.problem(in: writer.bytes)
    invariant(problem == nil, "\(problem ?? ""), in:\n\(writer.text)")

    let options = ExporterOptions(scrapeTimeout: ScrapeTimeout(timeout: .seconds(10), offset: .milliseconds(500)), vcenterURL: "https://vcsa.example.com")
    LandingPageCheck.check(LandingPageInputs(options: options, snapshot: snapshot, now: snapshot.finishedAt.addingTimeInterval(5)))
    return 0
}

/// As `Transport.decode`: the value, or INVALID_RESPONSE naming the call and what did not match.
private func decoded<T: Decodable>(_ type: T.Type, _ body: [UInt8], _ operation: APIOperation) -> CollectorOutcome<T> {
    do {
        return .success(try ApplianceJSON.decoder().decode(T.self, from: Data(body)))
    } catch {
        return .failure(.invalidResponse("\(operation.rawValue): \(Transport.describe(error))"))
    }
}

/// As `BackupCollector` builds it when every listed job's details came in this one answer.
private func backupSnapshot(_ details: [String: BackupJobDetails]) -> BackupSnapshot {
    let ids = details.keys.sorted(by: >)
    var backup = BackupSnapshot()
    backup.jobsListed = ids.count
    backup.newest = ids.first.map { ($0, details[$0]!) }
    backup.lastSuccess = ids.lazy.compactMap { id in details[id].flatMap { $0.status == .succeeded ? (id, $0) : nil } }.first
    return backup
}

extension CollectorOutcome {
    /// The same outcome with its value changed.
    func map<Other>(_ transform: (Value) -> Other) -> CollectorOutcome<Other> {
        switch self {
        case .success(let value): .success(transform(value))
        case .failure(let error): .failure(error)
        case .unsupported: .unsupported
        }
    }
}
