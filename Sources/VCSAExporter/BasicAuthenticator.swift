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
/// bcrypt is slow on purpose, so verified pairs are remembered (as exporter-toolkit does) and a
/// cached pair is answered on the spot. Anything else is hashed on a worker thread, never on the
/// server's, and at most `maxConcurrentHashes` at once: a burst of wrong passwords gets 503s
/// instead of a queue that grows without bound, and Prometheus with cached credentials is never held up.
final class BasicAuthenticator: Sendable {
    enum Verdict: Sendable {
        case allowed, denied, busy
    }

    static let maxConcurrentHashes = 4
    /// An unknown user still costs a hash, so that timing does not reveal which users exist.
    private static let decoyHash = "$2y$10$abcdefghijklmnopqrstuuT4Pbo4.WHFKMDyQOyknJR5DqOrThfPa"

    private let users: [String: String]
    private let verified = Mutex<Set<String>>([])
    private let hashing = Mutex(0)
    private let workers = DispatchQueue(label: "BasicAuthenticator", attributes: .concurrent)

    init(users: [String: String]) {
        self.users = users
    }

    /// Calls `completion` with the verdict: at once for a cached pair or a malformed header, later otherwise.
    func check(_ authorization: String?, completion: @escaping @Sendable (Verdict) -> Void) {
        guard let (user, password) = Self.credentials(authorization) else { return completion(.denied) }
        let key = user + "\u{0}" + password
        if verified.withLock({ $0.contains(key) }) { return completion(.allowed) }
        let admitted = hashing.withLock { count in
            guard count < Self.maxConcurrentHashes else { return false }
            count += 1
            return true
        }
        guard admitted else { return completion(.busy) }
        workers.async { [self] in
            let matches = verify(user: user, password: password)
            hashing.withLock { $0 -= 1 }
            if matches { verified.withLock { _ = $0.insert(key) } }
            completion(matches ? .allowed : .denied)
        }
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
