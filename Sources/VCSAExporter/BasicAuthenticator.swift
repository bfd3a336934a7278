import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Checks HTTP Basic credentials against bcrypt hashes with libcrypt's `crypt()`.
/// bcrypt is slow on purpose, so verified pairs are remembered (as exporter-toolkit does).
final class BasicAuthenticator: Sendable {
    private let users: [String: String]
    /// `crypt()` is not reentrant; the lock also guards the cache.
    private let verified = Mutex<Set<String>>([])

    init(users: [String: String]) {
        self.users = users
    }

    /// True when these credentials were verified before: no hashing needed.
    func verifiedBefore(_ authorization: String?) -> Bool {
        guard let (user, password) = Self.credentials(authorization) else { return false }
        return verified.withLock { $0.contains(user + "\u{0}" + password) }
    }

    func authenticate(_ authorization: String?) -> Bool {
        guard let (user, password) = Self.credentials(authorization) else { return false }
        // An unknown user still costs a hash, so that timing does not reveal which users exist.
        let hash = users[user] ?? "$2y$10$abcdefghijklmnopqrstuuT4Pbo4.WHFKMDyQOyknJR5DqOrThfPa"
        let key = user + "\u{0}" + password
        return verified.withLock { cache in
            if cache.contains(key) { return true }
            guard let result = crypt(password, hash) else { return false }
            let matches = users[user] != nil && String(cString: result) == hash
            if matches { cache.insert(key) }
            return matches
        }
    }

    /// User and password from an `Authorization: Basic` value.
    private static func credentials(_ authorization: String?) -> (String, String)? {
        guard let authorization, authorization.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":") else { return nil }
        return (String(pair[..<colon]), String(pair[pair.index(after: colon)...]))
    }
}
