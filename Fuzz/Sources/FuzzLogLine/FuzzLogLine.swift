@testable import ExporterToolkit
import Foundation
import FuzzSupport
import Logging

/// `StderrLogHandler`'s line, as appliance text reaches it (job messages, error descriptions, target
/// names): a message and metadata from the input, in both formats. Invariants: one line (no CR, LF
/// or NUL byte), and reading it back gives exactly the fields written: logfmt as go-logfmt reads
/// it (bare values, or JSON-quoted ones), JSON as an object of strings.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLogLine(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size), numberBytes: 8)
    let level = Logger.Level.allCases[input.choice(Logger.Level.allCases.count)]
    let message = input.string()
    var metadata: Logger.Metadata = [:]
    for _ in 0..<input.choice(5) {
        let key = input.string()
        // The handler's own fields come first; a metadata key never repeats them in this exporter.
        guard !["time", "level", "msg"].contains(StderrLogHandler.logfmtKey(key)) else { continue }
        metadata[key] = .string(input.string())
    }
    let time = Date(timeIntervalSince1970: 1_795_341_600)
    var expected: [(String, String)] = [("level", StderrLogHandler.levelName(level)), ("msg", message)]
    expected += metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value.description) }

    for format in StderrLogHandler.Format.allCases {
        let line = StderrLogHandler(format: format, level: .trace).line(time: time, level: level, message: message, metadata: metadata)
        invariant(!line.utf8.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0 }, "\(format): not one line: \(line.debugDescription)")
        switch format {
        case .logfmt:
            let fields = logfmtFields(line)
            let wanted = expected.map { (StderrLogHandler.logfmtKey($0.0), $0.1) }
            invariant(fields.map(\.0) == ["time"] + wanted.map(\.0) && zip(fields.dropFirst(), wanted).allSatisfy { $0.1 == $1.1 },
                      "logfmt read back \(fields) from \(line.debugDescription), wanted \(wanted)")
        case .json:
            let object = try? JSONDecoder().decode([String: String].self, from: Data(line.utf8))
            invariant(object != nil, "json: not an object of strings: \(line.debugDescription)")
            let keys = Set(expected.map(\.0))
            invariant(object.map { read in expected.allSatisfy { read[$0.0] == $0.1 } && Set(read.keys) == keys.union(["time"]) } ?? false,
                      "json read back \(object ?? [:]) from \(line.debugDescription)")
        }
    }
    return 0
}

/// A logfmt line read as go-logfmt reads it: `key=value` pairs separated by one space, a value
/// either bare (no space, `=`, `"` or control byte) or a JSON string. Nil pairs where it cannot be read.
func logfmtFields(_ line: String) -> [(String, String)] {
    var bytes = Array(line.utf8)[...]
    var fields: [(String, String)] = []
    while !bytes.isEmpty {
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { return fields + [("?", String(decoding: bytes, as: UTF8.self))] }
        let key = String(decoding: bytes[..<equals], as: UTF8.self)
        bytes = bytes[(equals + 1)...]
        var value: String
        if bytes.first == UInt8(ascii: "\"") {
            // The closing quote: the first one not escaped by a backslash.
            var index = bytes.index(after: bytes.startIndex)
            while index < bytes.endIndex && bytes[index] != UInt8(ascii: "\"") {
                index = bytes[index] == UInt8(ascii: "\\") ? index + 2 : index + 1
            }
            guard index < bytes.endIndex, let decoded = try? JSONDecoder().decode(String.self, from: Data(bytes[...index])) else {
                return fields + [(key, "?unreadable")]
            }
            value = decoded
            bytes = bytes[(index + 1)...]
        } else {
            let end = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.endIndex
            value = String(decoding: bytes[..<end], as: UTF8.self)
            bytes = bytes[end...]
        }
        fields.append((key, value))
        if bytes.first == UInt8(ascii: " ") { bytes = bytes.dropFirst() }
    }
    return fields
}
