/// HTTPS settings for one daemon: PEM material is handed to GnuTLS through libmicrohttpd.
public struct ServerTLS: Sendable {
    public var certificatePEM: String
    public var privateKeyPEM: String
    /// A GnuTLS priority string. GnuTLS's own default (`NORMAL`) still offers TLS 1.0 and 1.1;
    /// the default here starts at TLS 1.2, as exporter-toolkit's does.
    public var priorities: String

    public init(certificatePEM: String, privateKeyPEM: String, priorities: String = ServerTLS.priorities(minimumVersion: "TLS12")!) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.priorities = priorities
    }

    /// The GnuTLS priority string that refuses protocol versions below `minimum` ("TLS12", "TLS13").
    public static func priorities(minimumVersion minimum: String) -> String? {
        switch minimum {
        case "TLS10": return "NORMAL"
        case "TLS11": return "NORMAL:-VERS-TLS1.0"
        case "TLS12": return "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1"
        case "TLS13": return "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.2"
        default: return nil
        }
    }
}
