/// One fuzz input read as typed fields: its first `numberBytes` bytes are a pool of numbers and
/// choices (zeros once used up), the rest is strings separated by 0xFF (a byte UTF-8 never uses, so
/// every text can be written). Strings are handed out in turn and start over when they run out,
/// so that a single attack string reaches every field.
public struct FuzzInput {
    private var numbers: ArraySlice<UInt8>
    private let strings: [String]
    private var nextString = 0

    public init(_ bytes: [UInt8], numberBytes: Int) {
        numbers = bytes.prefix(numberBytes)
        let rest = bytes.dropFirst(numberBytes)
        strings = rest.isEmpty ? [] : rest.split(separator: 0xFF, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    public mutating func byte() -> UInt8 {
        numbers.popFirst() ?? 0
    }

    /// A choice among `count` cases.
    public mutating func choice(_ count: Int) -> Int {
        Int(byte()) % count
    }

    public mutating func bool() -> Bool {
        byte() & 1 == 1
    }

    /// Eight bytes, little-endian: every Int64 can come out, Int64.max included.
    public mutating func int64() -> Int64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
        return Int64(bitPattern: value)
    }

    /// Eight bytes as a Double's bit pattern: NaN, infinities and 1e300 are as likely as any.
    public mutating func double() -> Double {
        Double(bitPattern: UInt64(bitPattern: int64()))
    }

    public mutating func string() -> String {
        guard !strings.isEmpty else { return "" }
        defer { nextString += 1 }
        return strings[nextString % strings.count]
    }
}
