import Foundation
import FuzzSupport
import VCSAExporter

/// `WebConfig(path:)` loads `--web.config.file`. It reads a path, so each input is written to
/// `web.yml` in a directory of this process that also holds `cert.pem` and `key.pem`: a config
/// naming them by a relative path gets past the file checks to `min_version` and beyond.
/// Invariants: success only with keys and values the exporter implements; errors name the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let path = Scratch.configPath
    invariant(FileManager.default.createFile(atPath: path, contents: Data(fuzzBytes(data, size))), "cannot write \(path)")
    do {
        let config = try WebConfig(path: path)
        for header in config.headers {
            invariant(allowedHeaders.contains(header.name), "header \(header.name) accepted")
        }
        for (user, hash) in config.basicAuthUsers {
            invariant(hash.hasPrefix("$2"), "user \(user) accepted with a hash that is not bcrypt: \(hash)")
        }
        if let tls = config.serverTLS {
            invariant(tls.certificatePEM.contains("BEGIN CERTIFICATE") && tls.privateKeyPEM.contains("PRIVATE KEY"), "TLS without PEM material")
        }
    } catch {
        invariant(error.path == path && error.description.contains(path), "the error does not name the file: \(error)")
    }
    return 0
}

/// exporter-toolkit's headers that the exporter lets an operator set.
private let allowedHeaders = ["Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection", "Content-Security-Policy"]

/// A directory of this process: the config file, and PEM files it may name.
private enum Scratch {
    static let configPath: String = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-webconfig-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Only the markers WebConfig looks for: GnuTLS is not involved until the server starts.
        FileManager.default.createFile(atPath: directory + "/cert.pem", contents: Data("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n".utf8))
        FileManager.default.createFile(atPath: directory + "/key.pem", contents: Data("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n".utf8))
        return directory + "/web.yml"
    }()
}
