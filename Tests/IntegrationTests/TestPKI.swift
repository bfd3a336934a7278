import Foundation
import TestHarness

/// A throwaway PKI made with the openssl command: a CA and another CA, a server certificate for
/// 127.0.0.1 signed by the CA, and client certificates on demand. Files live in `directory`.
struct TestPKI {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for ca in ["ca", "other-ca"] {
            try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                         "-subj", "/CN=\(ca)", "-keyout", path("\(ca).key"), "-out", path("\(ca).pem")])
        }
        try issue("server", san: "IP:127.0.0.1,DNS:localhost")
    }

    func path(_ file: String) -> String { "\(directory)/\(file)" }

    /// `name.pem` and `name.key`, signed by `ca`, with the given subjectAltName (and extendedKeyUsage,
    /// e.g. "serverAuth"); returns the serial (hex, upper case).
    @discardableResult
    func issue(_ name: String, san: String, by ca: String = "ca", extendedKeyUsage: String? = nil) throws -> String {
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(name)",
                     "-keyout", path("\(name).key"), "-out", path("\(name).csr")])
        let usage = extendedKeyUsage.map { "extendedKeyUsage=\($0)\n" } ?? ""
        try "subjectAltName=\(san)\n\(usage)".write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca).key"),
                     "-set_serial", "0x\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16))", "-days", "1",
                     "-extfile", path("\(name).ext"), "-out", path("\(name).pem")])
        return try serial(of: path("\(name).pem"))
    }

    func serial(of certificate: String) throws -> String {
        try openssl(["x509", "-in", certificate, "-noout", "-serial"]).replacingOccurrences(of: "serial=", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
    }

    /// The serial of the certificate a TLS server on 127.0.0.1:`port` presents now.
    func servedSerial(port: Int, client: String = "client") throws -> String {
        let (_, output) = try run("sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) -cert \(path("\(client).pem")) -key \(path("\(client).key")) </dev/null 2>/dev/null | openssl x509 -noout -serial"])
        return output.replacingOccurrences(of: "serial=", with: "").trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
    }

    /// curl with the CA trusted, optionally a client certificate and extra arguments; returns the HTTP status ("000" when refused).
    func curlStatus(_ url: String, client: String? = nil, _ extra: [String] = []) throws -> String {
        var arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "--cacert", path("ca.pem")]
        if let client { arguments += ["--cert", path("\(client).pem"), "--key", path("\(client).key")] }
        return try run("curl", arguments + extra + [url]).1
    }

    @discardableResult
    private func openssl(_ arguments: [String]) throws -> String {
        let (status, output) = try run("openssl", arguments)
        guard status == 0 else { throw HarnessError("openssl \(arguments.first ?? ""): \(output)") }
        return output
    }
}
