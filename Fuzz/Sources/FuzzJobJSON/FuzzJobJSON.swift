import ApplianceAPI
import Foundation
import FuzzSupport

/// The job bodies (`ReconciliationJob`, `RestoreJob`, `CancelResult`) through `ApplianceJSON.decoder()`.
/// Invariants: what decodes re-encodes (the simulator writes bodies with `ApplianceJSON.encoder()`), reads
/// back with its timestamps within the millisecond the wire keeps, and a second round changes nothing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJobJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = Data(fuzzBytes(data, size))
    roundTrip(ReconciliationJob.self, body) { a, b in
        var b = b
        invariant(closeEnough(a.startTime, b.startTime) && closeEnough(a.endTime, b.endTime), "timestamps moved: \(a) vs \(b)")
        (b.startTime, b.endTime) = (a.startTime, a.endTime)
        return a == b
    }
    roundTrip(RestoreJob.self, body) { $0 == $1 }
    roundTrip(CancelResult.self, body) { $0 == $1 }
    return 0
}

/// Decode, encode, decode: `same` compares the first decoding with the second; the second and third must be equal.
private func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ body: Data, same: (T, T) -> Bool) {
    guard let first = try? ApplianceJSON.decoder().decode(type, from: body) else { return }
    let second = reread(first)
    invariant(same(first, second), "\(type) changed in a round trip: \(first) -> \(second)")
    let third = reread(second)
    invariant(second == third, "\(type) changed in a second round trip: \(second) -> \(third)")
}

private func reread<T: Codable>(_ value: T) -> T {
    do {
        let encoded = try ApplianceJSON.encoder().encode(value)
        do { return try ApplianceJSON.decoder().decode(T.self, from: encoded) } catch {
            invariant(false, "\(T.self) does not read back its own encoding \(String(decoding: encoded, as: UTF8.self)): \(error)")
        }
    } catch {
        invariant(false, "decoded \(T.self) does not encode: \(value): \(error)")
    }
    fatalError("unreachable")
}

/// The wire keeps milliseconds.
private func closeEnough(_ a: Date?, _ b: Date?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return abs(a.timeIntervalSince(b)) < 0.001
}
