#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Reads a secret (password, token) from a file: secrets never come from argv.
public enum SecretFile {
    /// The file's content without its trailing newline; the error names the file and what is wrong, never the content.
    public static func read(_ path: String) throws(SecretFileError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretFileError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "does not exist")
        }
        guard var text = String(data: data, encoding: .utf8) else { throw SecretFileError(path: path, reason: "is not UTF-8 text") }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw SecretFileError(path: path, reason: "is empty") }
        return text
    }

    /// True when anyone on the machine may read the file.
    public static func isWorldReadable(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return info.st_mode & S_IROTH != 0
    }
}

public struct SecretFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path) \(reason)" }
}
