import ExporterToolkit
import FuzzSupport

/// `GoDuration.parse`, for `--vcenter.timeout`. Invariants: no input traps; no duration is negative;
/// surrounding spaces are refused, as Go's time.ParseDuration refuses them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGoDuration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    guard let duration = try? GoDuration.parse(text) else { return 0 }
    invariant(duration >= .zero, "\(text.debugDescription) parsed to a negative duration \(duration)")
    let padded = try? GoDuration.parse(" \(text) ")
    invariant(padded == nil, "\(text.debugDescription) with spaces around parsed to \(String(describing: padded))")
    return 0
}
