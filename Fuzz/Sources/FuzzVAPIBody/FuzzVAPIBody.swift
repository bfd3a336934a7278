import ApplianceAPI
import FuzzSupport

/// `VAPIError(httpStatus:body:)` reads any error body the appliance (or a proxy in front of it) sends.
/// Invariants: the status only decides the type when the body names none; an error re-encoded in the
/// `/api` shape reads back as the same error whatever the status.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVAPIBody(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = fuzzBytes(data, size)
    let notFound = VAPIError(httpStatus: 404, body: body)
    let serverError = VAPIError(httpStatus: 500, body: body)
    _ = (notFound.summary, notFound.isRouteNotFound)

    invariant(notFound.messages == serverError.messages && notFound.data == serverError.data,
              "the status changed the messages or data: \(notFound) vs \(serverError)")
    if notFound.errorType != serverError.errorType {
        invariant(notFound.errorType == ErrorType(httpStatus: 404) && serverError.errorType == ErrorType(httpStatus: 500),
                  "types differ by status but are not the status' types: \(notFound.errorType) vs \(serverError.errorType)")
    }

    guard let encoded = try? ApplianceJSON.encoder().encode(notFound) else {
        invariant(false, "a decoded error does not encode: \(notFound)")
        return 0
    }
    let reread = VAPIError(httpStatus: 500, body: Array(encoded))
    invariant(reread == notFound, "re-encoded error reads back differently: \(notFound) -> \(String(decoding: encoded, as: UTF8.self)) -> \(reread)")
    return 0
}
