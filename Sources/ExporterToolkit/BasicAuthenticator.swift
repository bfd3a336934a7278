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
/// bcrypt is slow on purpose, so answers are remembered: the last `Limits.remembered` verified pairs
/// and, apart from them, the last `Limits.remembered` wrong ones (exporter-toolkit remembers 100 answers),
/// as a salted SHA-256 of user and password rather than the password. A remembered pair is answered on
/// the spot. Anything else is hashed on a worker thread, never on the server's, and what one client can
/// take is bounded so that its wrong passwords cannot keep out Prometheus with credentials not verified
/// yet (after a restart or a change of users):
/// - at most `Limits.hashes` hashes run at once; the rest wait in line, first come first served, at most `Limits.waiting`;
/// - one client address has at most `Limits.perClient` pairs running or waiting;
/// - requests for a pair that is being hashed wait for that hash (at most `Limits.sharing` of them) instead of taking room.
/// Beyond a limit the answer is `busy` at once (503): threads, the line and every table stay bounded.
///
/// bcrypt reads a password up to its first NUL and at most 72 bytes of it, so a password with a NUL or
/// over 72 bytes is refused unhashed: "secret\0anything" would pass for "secret", and any tail after 72 bytes would pass.
final class BasicAuthenticator: Sendable {
    enum Verdict: Sendable {
        case allowed, denied, busy
    }

    struct Limits: Sendable {
        /// Hashes running at once, over all clients.
        var hashes = 4
        /// Pairs one client address may have hashing or waiting.
        var perClient = 2
        /// Pairs waiting for a worker, over all clients.
        var waiting = 64
        /// Requests waiting for one pair's hash.
        var sharing = 64
        /// Verified pairs remembered, and wrong pairs apart from them; the least recently used are forgotten first.
        var remembered = 100
    }

    /// Whether `password` matches the bcrypt `hash`; crypt_r, or a stand-in in tests.
    typealias Matcher = @Sendable (_ password: String, _ hash: String) -> Bool

    /// The most bcrypt reads of a password.
    static let maxPasswordBytes = 72
    /// An unknown user still costs a hash, so that timing does not reveal which users exist.
    private static let decoyHash = "$2y$10$abcdefghijklmnopqrstuuT4Pbo4.WHFKMDyQOyknJR5DqOrThfPa"

    /// A pair to hash, and the client address (without port) it counts against.
    private struct Job: Sendable {
        var key: SHA256Digest
        var user: String
        var password: String
        var client: String
    }

    private struct State {
        var verified: LRUSet<SHA256Digest>
        var wrong: LRUSet<SHA256Digest>
        /// The pairs hashing or waiting, each with the requests waiting for its answer.
        var waiters: [SHA256Digest: [@Sendable (Verdict) -> Void]] = [:]
        /// Pairs waiting for a worker, oldest first.
        var line: [Job] = []
        var running = 0
        /// Pairs hashing or waiting, per client address.
        var perClient: [String: Int] = [:]
    }

    private enum Admission {
        case answer(Verdict)
        case wait
        case start(Job)
    }

    let limits: Limits
    private let users: [String: String]
    private let matches: Matcher
    private let state: Mutex<State>
    /// Salts the cache keys, so that they are of no use outside this process.
    private let keySalt = (0..<16).map { _ in UInt8.random(in: 0...255) }
    private let workers = DispatchQueue(label: "BasicAuthenticator", attributes: .concurrent)

    init(users: [String: String], limits: Limits = Limits(), matcher: @escaping Matcher = BasicAuthenticator.bcryptMatches) {
        self.users = users
        self.limits = limits
        matches = matcher
        state = Mutex(State(verified: LRUSet(capacity: limits.remembered), wrong: LRUSet(capacity: limits.remembered)))
    }

    /// Calls `completion` with the verdict: at once for a remembered pair, a malformed header or a
    /// limit reached, later otherwise. `client` is the peer's "host:port" (the port is ignored).
    func check(_ authorization: String?, client: String, completion: @escaping @Sendable (Verdict) -> Void) {
        guard let (user, password) = Self.credentials(authorization), Self.isHashable(password) else { return completion(.denied) }
        // A password holds no NUL, so the last NUL separates it from the user: no two pairs share a key.
        guard let key = SHA256Digest(keySalt + Array(user.utf8) + [0] + Array(password.utf8)) else { return completion(.busy) }
        let client = Self.host(of: client)
        let admission = state.withLock { state -> Admission in
            if state.verified.use(key) { return .answer(.allowed) }
            if state.wrong.use(key) { return .answer(.denied) }
            if let waiting = state.waiters[key] {
                guard waiting.count < limits.sharing else { return .answer(.busy) }
                state.waiters[key]!.append(completion)
                return .wait
            }
            guard state.perClient[client, default: 0] < limits.perClient else { return .answer(.busy) }
            let job = Job(key: key, user: user, password: password, client: client)
            let admission: Admission
            if state.running < limits.hashes {
                state.running += 1
                admission = .start(job)
            } else if state.line.count < limits.waiting {
                state.line.append(job)
                admission = .wait
            } else {
                return .answer(.busy)
            }
            state.perClient[client, default: 0] += 1
            state.waiters[key] = [completion]
            return admission
        }
        switch admission {
        case .answer(let verdict): completion(verdict)
        case .wait: break
        case .start(let job): start(job)
        }
    }

    /// Hashes `job` on a worker; then the worker's slot goes to the first pair in line.
    private func start(_ job: Job) {
        workers.async { [self] in
            let allowed = verify(user: job.user, password: job.password)
            let (waiting, next) = state.withLock { state -> ([@Sendable (Verdict) -> Void], Job?) in
                if allowed { state.verified.insert(job.key) } else { state.wrong.insert(job.key) }
                let remaining = state.perClient[job.client, default: 1] - 1
                state.perClient[job.client] = remaining > 0 ? remaining : nil
                let waiting = state.waiters.removeValue(forKey: job.key) ?? []
                guard !state.line.isEmpty else {
                    state.running -= 1
                    return (waiting, nil)
                }
                return (waiting, state.line.removeFirst())
            }
            if let next { start(next) }
            for completion in waiting { completion(allowed ? .allowed : .denied) }
        }
    }

    /// What the tables hold now, for tests.
    var occupancy: (verified: Int, wrong: Int, running: Int, waiting: Int, clients: Int, pairs: Int) {
        state.withLock { ($0.verified.count, $0.wrong.count, $0.running, $0.line.count, $0.perClient.count, $0.waiters.count) }
    }

    /// The host of a peer address ("192.0.2.1:40000", "[2001:db8::1]:40000"): a client's port changes with each connection.
    static func host(of address: String) -> String {
        if address.hasPrefix("["), let end = address.firstIndex(of: "]") { return String(address[...end]) }
        guard let colon = address.lastIndex(of: ":") else { return address }
        return String(address[..<colon])
    }

    /// Whether bcrypt would read all of `password`: crypt_r takes a C string (it ends at the first NUL)
    /// and reads at most 72 bytes. Stricter than exporter-toolkit, whose CompareHashAndPassword ignores
    /// what follows byte 72; Go's GenerateFromPassword refuses such passwords, so no Go-made hash comes from one.
    static func isHashable(_ password: String) -> Bool {
        password.utf8.count <= maxPasswordBytes && !password.utf8.contains(0)
    }

    private func verify(user: String, password: String) -> Bool {
        let matched = matches(password, users[user] ?? Self.decoyHash)
        return users[user] != nil && matched
    }

    @Sendable static func bcryptMatches(_ password: String, _ hash: String) -> Bool {
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer { data.deallocate() }
        // crypt_r wants its work area zeroed before the first call.
        memset(data, 0, MemoryLayout<crypt_data>.size)
        guard let result = crypt_r(password, hash, data) else { return false }
        return String(cString: result) == hash
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
              String(data: decoded, encoding: .utf8) != nil else { return nil }
        // The first colon byte, as Go's strings.Cut: as a Character, a colon after a prepend scalar is not ":".
        let bytes = Array(decoded)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return (String(decoding: bytes[..<colon], as: UTF8.self), String(decoding: bytes[(colon + 1)...], as: UTF8.self))
    }
}
