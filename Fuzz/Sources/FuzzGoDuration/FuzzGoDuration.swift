import FuzzSupport
import VCSAExporter

/// `GoDuration.parse`, for `--vcenter.timeout`. Invariants: no input traps; an input without a
/// minus sign never gives a negative duration; surrounding spaces do not change the answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGoDuration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    guard let duration = try? GoDuration.parse(text) else { return 0 }
    if !text.contains("-") {
        invariant(duration >= .zero, "\(text.debugDescription) parsed to a negative duration \(duration)")
    }
    let padded = try? GoDuration.parse(" \(text) ")
    invariant(padded == duration, "\(text.debugDescription) parsed to \(duration) but with spaces around to \(String(describing: padded))")
    return 0
}
