import ExporterToolkit
import Foundation
import FuzzSupport

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
            // Go's bcrypt.Cost, which exporter-toolkit checks with: "$", a version up to 2, 59 bytes or more.
            let bytes = Array(hash.utf8)
            invariant(bytes.count >= 59 && bytes[0] == UInt8(ascii: "$") && bytes[1] <= UInt8(ascii: "2"), "user \(user) accepted with a hash bcrypt.Cost refuses: \(hash)")
        }
        if let tls = config.tls {
            // Only the one certificate there is, and priorities GnuTLS accepted at load.
            invariant(tls.certificate.subject == "CN=fuzz", "TLS with a certificate that is not cert.pem: \(tls.certificate.subject)")
            invariant(tls.priorities.hasPrefix("NORMAL:-VERS-ALL:+VERS-"), "unexpected priorities \(tls.priorities)")
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
        // A real pair: WebConfig loads it into GnuTLS and checks that the key belongs to the certificate.
        FileManager.default.createFile(atPath: directory + "/cert.pem", contents: Data(certificatePEM.utf8))
        FileManager.default.createFile(atPath: directory + "/key.pem", contents: Data(keyPEM.utf8))
        return directory + "/web.yml"
    }()
}

/// A throwaway self-signed P-256 certificate (CN=fuzz) and its key, made with openssl for this target only.
private let certificatePEM = """
-----BEGIN CERTIFICATE-----
MIIBdTCCARugAwIBAgIUOf6+3RlzSFDt0WxbTeCsdloMAscwCgYIKoZIzj0EAwIw
DzENMAsGA1UEAwwEZnV6ejAgFw0yNjExMjQwMzMxMDZaGA8yMTI2MTAzMTAzMzEw
NlowDzENMAsGA1UEAwwEZnV6ejBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAsQ
jlDoNYRCl/KOH8NQsZJR5XDaV6AD307vkOtPdGKA6zKHchfoMYh14AVlOguUMkq+
XVZEsG/9aXPx3gA13KajUzBRMB0GA1UdDgQWBBRS5kYfu1lgCyeJw+SR1EH1xubZ
zDAfBgNVHSMEGDAWgBRS5kYfu1lgCyeJw+SR1EH1xubZzDAPBgNVHRMBAf8EBTAD
AQH/MAoGCCqGSM49BAMCA0gAMEUCIQCqIj7jGDH8q33bVpwOT1uH0dpsWdLHdjHV
XM9VmkrzDAIgSokeCTngSfiwyz0BgPkCA+4c/9qR1WGFQv2TaoTbOGo=
-----END CERTIFICATE-----
"""

private let keyPEM = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4dAU2TwI3OErw+o7
xE7klsdVzsGysO2xJ7gOfBYIlh+hRANCAAQLEI5Q6DWEQpfyjh/DULGSUeVw2leg
A99O75DrT3RigOsyh3IX6DGIdeAFZToLlDJKvl1WRLBv/Wlz8d4ANdym
-----END PRIVATE KEY-----
"""
