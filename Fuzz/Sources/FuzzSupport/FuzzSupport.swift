#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fuzz input as bytes: libFuzzer passes a pointer that may be null when the input is empty.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// The fuzz input as text; invalid UTF-8 is repaired, as `String(decoding:)` does for HTTP headers and files.
public func fuzzText(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
    String(decoding: fuzzBytes(data, size), as: UTF8.self)
}

/// An invariant of the code under test: when it does not hold, print why and abort, so that
/// libFuzzer records the input as a crash (a plain "does not crash" would miss wrong answers).
public func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    guard !condition() else { return }
    let text = "INVARIANT FAILED (\(file):\(line)): \(message())\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    abort()
}
