import CGnuTLS

/// A SHA-256 digest, from GnuTLS (which the HTTPS server links already): a fixed-length stand-in for
/// a secret, for cache keys that do not keep the secret and for comparisons whose time does not depend on it.
public struct SHA256Digest: Hashable, Sendable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// nil only if GnuTLS fails, which for SHA-256 means it could not allocate.
    public init?(_ bytes: some Sequence<UInt8>) {
        let input = Array(bytes)
        var output = [UInt8](repeating: 0, count: 32)
        let status = input.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { output in
                gnutls_hash_fast(GNUTLS_DIG_SHA256, input.baseAddress, input.count, output.baseAddress)
            }
        }
        guard status == 0 else { return nil }
        func word(_ index: Int) -> UInt64 {
            output[(index * 8)..<(index * 8 + 8)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        words = (word(0), word(1), word(2), word(3))
    }

    /// Compares all 32 bytes whatever they hold (`==` may stop at the first difference).
    public static func constantTimeEqual(_ a: SHA256Digest, _ b: SHA256Digest) -> Bool {
        ((a.words.0 ^ b.words.0) | (a.words.1 ^ b.words.1) | (a.words.2 ^ b.words.2) | (a.words.3 ^ b.words.3)) == 0
    }

    public static func == (a: SHA256Digest, b: SHA256Digest) -> Bool {
        constantTimeEqual(a, b)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// The digest as hex, for tests against known vectors.
    var hex: String {
        [words.0, words.1, words.2, words.3].map { word in
            let text = String(word, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }
}
