#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MicroHTTPD

extension WebConfig {
    /// `tls_server_config`, turned into what GnuTLS needs. Names and errors follow exporter-toolkit;
    /// cipher suites and curves map to GnuTLS priorities (GnuTLS picks key exchange, cipher and MAC
    /// separately, so the listed suites' parts are allowed; Go, like this, never restricts TLS 1.3 suites).
    public struct TLS: Sendable {
        public var certificate: TLSCertificate
        public var policy: ClientCertificatePolicy
        public var priorities: String
        /// The certificate, key and client CA files read (inline PEM has none).
        var files: [String]
        var summary: [String]

        static let keys = ["cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type", "client_ca_file",
                           "client_allowed_sans", "min_version", "max_version", "cipher_suites", "prefer_server_cipher_suites", "curve_preferences"]
        static let versions = ["TLS10": "VERS-TLS1.0", "TLS11": "VERS-TLS1.1", "TLS12": "VERS-TLS1.2", "TLS13": "VERS-TLS1.3"]
        static let versionOrder = ["TLS10", "TLS11", "TLS12", "TLS13"]
        static let curves = ["CurveP256": "GROUP-SECP256R1", "CurveP384": "GROUP-SECP384R1", "CurveP521": "GROUP-SECP521R1", "X25519": "GROUP-X25519"]
        /// Go's `tls.CipherSuites()` by name: (key exchange, cipher, MAC) in GnuTLS terms; nil for TLS 1.3 suites.
        static let cipherSuites: [String: (kx: String, cipher: String, mac: String)?] = [
            "TLS_AES_128_GCM_SHA256": nil, "TLS_AES_256_GCM_SHA384": nil, "TLS_CHACHA20_POLY1305_SHA256": nil,
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": ("ECDHE-ECDSA", "AES-128-CBC", "SHA1"),
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": ("ECDHE-ECDSA", "AES-256-CBC", "SHA1"),
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": ("ECDHE-RSA", "AES-128-CBC", "SHA1"),
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": ("ECDHE-RSA", "AES-256-CBC", "SHA1"),
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": ("ECDHE-ECDSA", "AES-128-GCM", "AEAD"),
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": ("ECDHE-ECDSA", "AES-256-GCM", "AEAD"),
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": ("ECDHE-RSA", "AES-128-GCM", "AEAD"),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": ("ECDHE-RSA", "AES-256-GCM", "AEAD"),
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": ("ECDHE-RSA", "CHACHA20-POLY1305", "AEAD"),
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": ("ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD"),
        ]

        /// nil when the section enables no TLS (as exporter-toolkit: no certificate, key, CA or client auth named).
        init?(_ node: YAMLNode?, reader: ConfigReader) throws(ConfigFileError) {
            let path = "tls_server_config"
            guard let fields = try reader.mapping(node, at: path, known: Self.keys) else { return nil }
            var values: [String: String] = [:]
            for key in ["cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version"] {
                if let value = try reader.string(fields.first(where: { $0.key == key })?.value, at: "\(path).\(key)"), !value.isEmpty {
                    values[key] = value
                }
            }
            let list = { (key: String) throws(ConfigFileError) in try reader.strings(fields.first(where: { $0.key == key })?.value, at: "\(path).\(key)") }
            let enabling = ["cert_file", "cert", "key_file", "key", "client_ca_file", "client_ca", "client_auth_type"]
            guard enabling.contains(where: { values[$0] != nil }) else { return nil }
            guard values["cert_file"] != nil || values["cert"] != nil else { throw reader.fail(path, "missing one of cert or cert_file") }
            guard values["key_file"] != nil || values["key"] != nil else { throw reader.fail(path, "missing one of key or key_file") }

            // A file named beside an inline value wins, as in exporter-toolkit; relative names are relative to the config file.
            var files: [String] = []
            func material(_ fileKey: String, _ inlineKey: String) throws(ConfigFileError) -> String? {
                guard let name = values[fileKey] else { return values[inlineKey] }
                let file = reader.resolve(name)
                files.append(file)
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw reader.fail("\(path).\(fileKey)", "failed to read \(fileKey) (\(file)): \(FileManager.default.fileExists(atPath: file) ? "permission denied" : "no such file")")
                }
                return String(decoding: data, as: UTF8.self)
            }
            let certificatePEM = try material("cert_file", "cert")!
            let keyPEM = try material("key_file", "key")!
            do { certificate = try TLSCertificate(certificatePEM: certificatePEM, keyPEM: keyPEM) } catch {
                throw reader.fail(path, "failed to load X509KeyPair: \(error)")
            }

            let modeName = values["client_auth_type"] ?? "NoClientCert"
            // "RequireClientCert" is exporter-toolkit's older name for RequireAnyClientCert.
            guard let mode = ClientCertificatePolicy.Mode(rawValue: modeName == "RequireClientCert" ? "RequireAnyClientCert" : modeName) else {
                throw reader.fail("\(path).client_auth_type", "invalid ClientAuth: \(modeName) (expected one of \(ClientCertificatePolicy.Mode.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var trust: TLSTrustList?
            if let caPEM = try material("client_ca_file", "client_ca") {
                guard mode != .noClientCert else { throw reader.fail(path, "client CA's have been configured without a Client Auth Policy") }
                do { trust = try TLSTrustList(caPEM: caPEM) } catch { throw reader.fail("\(path).client_ca_file", "\(error)") }
            } else if mode == .verifyClientCertIfGiven || mode == .requireAndVerifyClientCert {
                // Go verifies against the system's CAs when no client CA is given.
                do { trust = try TLSTrustList.system() } catch { throw reader.fail("\(path).client_ca_file", "\(error)") }
            }
            let sans = try list("client_allowed_sans")
            policy = ClientCertificatePolicy(mode: mode, trust: trust, allowedSANs: sans)
            self.files = files

            let minimum = values["min_version"] ?? "TLS12"
            let maximum = values["max_version"] ?? "TLS13"
            for (key, version) in [("min_version", minimum), ("max_version", maximum)] where Self.versions[version] == nil {
                throw reader.fail("\(path).\(key)", "unknown TLS version: \(version) (expected TLS10, TLS11, TLS12 or TLS13)")
            }
            let low = Self.versionOrder.firstIndex(of: minimum)!, high = Self.versionOrder.firstIndex(of: maximum)!
            guard low <= high else { throw reader.fail("\(path).max_version", "\(maximum) is below min_version \(minimum): no version is left") }
            var priorities = "NORMAL:-VERS-ALL" + Self.versionOrder[low...high].map { ":+" + Self.versions[$0]! }.joined()

            if let suites = try list("cipher_suites"), !suites.isEmpty {
                var kx: [String] = [], ciphers: [String] = [], macs: [String] = []
                for name in suites {
                    guard let entry = Self.cipherSuites[name] else { throw reader.fail("\(path).cipher_suites", "unknown cipher: \(name)") }
                    guard let (k, c, m) = entry else { continue }
                    if !kx.contains(k) { kx.append(k) }
                    if !ciphers.contains(c) { ciphers.append(c) }
                    if !macs.contains(m) { macs.append(m) }
                }
                if high == Self.versionOrder.count - 1 {
                    for cipher in ["AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305"] where !ciphers.contains(cipher) { ciphers.append(cipher) }
                    if !macs.contains("AEAD") { macs.append("AEAD") }
                }
                if !kx.isEmpty { priorities += ":-KX-ALL" + kx.map { ":+" + $0 }.joined() }
                priorities += ":-CIPHER-ALL" + ciphers.map { ":+" + $0 }.joined() + ":-MAC-ALL" + macs.map { ":+" + $0 }.joined()
            }
            if let curves = try list("curve_preferences"), !curves.isEmpty {
                var groups: [String] = []
                for name in curves {
                    guard let group = Self.curves[name] else { throw reader.fail("\(path).curve_preferences", "unknown curve: \(name)") }
                    groups.append(group)
                }
                priorities += ":-GROUP-ALL" + groups.map { ":+" + $0 }.joined()
            }
            let preferServer = try reader.bool(fields.first(where: { $0.key == "prefer_server_cipher_suites" })?.value, at: "\(path).prefer_server_cipher_suites") ?? true
            if preferServer { priorities += ":%SERVER_PRECEDENCE" }
            do { try ServerTLS.validate(priorities: priorities) } catch { throw reader.fail(path, "\(error)") }
            self.priorities = priorities

            summary = [
                "tls: \(minimum) to \(maximum), certificate \(certificate.subject) (serial \(certificate.serial), expires \(Date(timeIntervalSince1970: TimeInterval(certificate.notAfter))))",
                "client certificates: \(mode.rawValue)" + (values["client_ca_file"].map { ", CA file \($0)" } ?? (values["client_ca"] != nil ? ", inline CA" : ""))
                    + (sans.map { ", allowed SANs: \($0.joined(separator: ", "))" } ?? ""),
                "GnuTLS priorities: \(priorities)",
            ]
        }
    }
}
