import CCrypt
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Checks HTTP Basic credentials against bcrypt hashes with libxcrypt's `crypt_r()`.
///
/// bcrypt is slow on purpose, so the last `rememberedPairs` verified pairs are remembered (exporter-toolkit
/// remembers 100 answers), as a salted SHA-256 of user and password rather than the password, and a
/// remembered pair is answered on the spot. Anything else is hashed on a worker thread, never on the
/// server's, and at most `maxConcurrentHashes` at once: a burst of wrong passwords gets 503s
/// instead of a queue that grows without bound, and Prometheus with cached credentials is never held up.
///
/// bcrypt reads a password up to its first NUL and at most 72 bytes of it, so a password with a NUL or
/// over 72 bytes is refused unhashed: "secret\0anything" would pass for "secret", and any tail after 72 bytes would pass.
final class BasicAuthenticator: Sendable {
    enum Verdict: Sendable {
        case allowed, denied, busy
    }

    static let maxConcurrentHashes = 4
    /// Verified pairs remembered; the least recently used is forgotten first.
    static let rememberedPairs = 100
    /// The most bcrypt reads of a password.
    static let maxPasswordBytes = 72
    /// An unknown user still costs a hash, so that timing does not reveal which users exist.
    private static let decoyHash = "$2y$10$abcdefghijklmnopqrstuuT4Pbo4.WHFKMDyQOyknJR5DqOrThfPa"

    private let users: [String: String]
    private let verified = Mutex(LRUSet<SHA256Digest>(capacity: rememberedPairs))
    /// Salts the cache keys, so that they are of no use outside this process.
    private let keySalt = (0..<16).map { _ in UInt8.random(in: 0...255) }
    private let hashing = Mutex(0)
    private let workers = DispatchQueue(label: "BasicAuthenticator", attributes: .concurrent)

    init(users: [String: String]) {
        self.users = users
    }

    /// Calls `completion` with the verdict: at once for a cached pair or a malformed header, later otherwise.
    func check(_ authorization: String?, completion: @escaping @Sendable (Verdict) -> Void) {
        guard let (user, password) = Self.credentials(authorization), Self.isHashable(password) else { return completion(.denied) }
        // A password holds no NUL, so the last NUL separates it from the user: no two pairs share a key.
        guard let key = SHA256Digest(keySalt + Array(user.utf8) + [0] + Array(password.utf8)) else { return completion(.busy) }
        if verified.withLock({ $0.use(key) }) { return completion(.allowed) }
        let admitted = hashing.withLock { count in
            guard count < Self.maxConcurrentHashes else { return false }
            count += 1
            return true
        }
        guard admitted else { return completion(.busy) }
        workers.async { [self] in
            let matches = verify(user: user, password: password)
            hashing.withLock { $0 -= 1 }
            if matches { verified.withLock { $0.insert(key) } }
            completion(matches ? .allowed : .denied)
        }
    }

    /// How many verified pairs are remembered now, for tests.
    var rememberedCount: Int { verified.withLock { $0.count } }

    /// Whether bcrypt would read all of `password`: crypt_r takes a C string (it ends at the first NUL)
    /// and reads at most 72 bytes. Stricter than exporter-toolkit, whose CompareHashAndPassword ignores
    /// what follows byte 72; Go's GenerateFromPassword refuses such passwords, so no Go-made hash comes from one.
    static func isHashable(_ password: String) -> Bool {
        password.utf8.count <= maxPasswordBytes && !password.utf8.contains(0)
    }

    private func verify(user: String, password: String) -> Bool {
        let hash = users[user] ?? Self.decoyHash
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer { data.deallocate() }
        // crypt_r wants its work area zeroed before the first call.
        memset(data, 0, MemoryLayout<crypt_data>.size)
        guard let result = crypt_r(password, hash, data) else { return false }
        return users[user] != nil && String(cString: result) == hash
    }

    /// Why `hash` is not a bcrypt hash, checked as Go's bcrypt.Cost does when exporter-toolkit loads users; nil when it is one.
    static func problem(withHash hash: String) -> String? {
        let bytes = Array(hash.utf8)
        guard bytes.count >= 59 else { return "too short to be a bcrypted password" }
        guard bytes[0] == UInt8(ascii: "$") else { return "bcrypt hashes must start with '$'" }
        guard bytes[1] <= UInt8(ascii: "2") else { return "bcrypt algorithm version '\(Character(Unicode.Scalar(bytes[1])))' is newer than '2'" }
        let costStart = bytes[2] == UInt8(ascii: "$") ? 3 : 4
        guard let cost = Int(String(decoding: bytes[costStart..<(costStart + 2)], as: UTF8.self)), (4...31).contains(cost) else {
            return "the cost is not a number from 4 to 31"
        }
        return nil
    }

    /// User and password from an `Authorization: Basic` value.
    private static func credentials(_ authorization: String?) -> (String, String)? {
        guard let authorization, authorization.utf8.count <= 4096, authorization.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(authorization.dropFirst(6).filter { $0 != " " && $0 != "\t" })),
              let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":") else { return nil }
        return (String(pair[..<colon]), String(pair[pair.index(after: colon)...]))
    }
}
