import FuzzSupport
import MicroHTTPD

/// `ListenAddress(parsing:)`, for `--web.listen-address`. Invariant: a parsed address' description
/// (what the exporter logs and shows on its landing page) parses back to the same address.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzListenAddress(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    guard let address = try? ListenAddress(parsing: text) else { return 0 }
    let description = address.description
    do {
        let reparsed = try ListenAddress(parsing: description)
        invariant(reparsed == address, "\(text.debugDescription) -> \(address) (host \(String(describing: address.host))) -> \(description.debugDescription) -> host \(String(describing: reparsed.host))")
    } catch {
        invariant(false, "\(text.debugDescription) parsed, but its description \(description.debugDescription) does not: \(error)")
    }
    return 0
}
