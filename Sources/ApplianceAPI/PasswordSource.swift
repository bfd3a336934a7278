import Synchronization

/// Where the vCenter password comes from. A file is read again at every login, so that a rotated
/// password (SSO passwords expire; Kubernetes rewrites a mounted Secret in place) needs no restart.
public final class PasswordSource: Sendable {
    private enum Origin {
        case literal(String)
        case file(String)
    }

    private let origin: Origin
    /// The last password read successfully: a file caught mid-rewrite must not break logins.
    private let lastGood: Mutex<String>

    /// A password given once (from the environment).
    public static func literal(_ password: String) -> PasswordSource {
        PasswordSource(origin: .literal(password), first: password)
    }

    /// A password file; reading it now makes a missing or empty file a start-up error.
    public static func file(_ path: String) throws(SecretFileError) -> PasswordSource {
        PasswordSource(origin: .file(path), first: try SecretFile.read(path))
    }

    private init(origin: Origin, first: String) {
        self.origin = origin
        self.lastGood = Mutex(first)
    }

    /// The password as it is now, and why the file could not be read if it could not (then the last good one).
    func current() -> (password: String, problem: SecretFileError?) {
        guard case .file(let path) = origin else { return (lastGood.withLock { $0 }, nil) }
        do throws(SecretFileError) {
            let password = try SecretFile.read(path)
            lastGood.withLock { $0 = password }
            return (password, nil)
        } catch {
            return (lastGood.withLock { $0 }, error)
        }
    }
}
