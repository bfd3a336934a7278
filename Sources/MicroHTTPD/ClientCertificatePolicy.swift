import CGnuTLS

/// What the server asks of a client's certificate: exporter-toolkit's `client_auth_type`,
/// `client_ca_file` and `client_allowed_sans`, with Go's crypto/tls meanings.
public struct ClientCertificatePolicy: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case noClientCert = "NoClientCert"
        /// Ask for a certificate; accept any, or none.
        case requestClientCert = "RequestClientCert"
        /// Require a certificate; do not verify it.
        case requireAnyClientCert = "RequireAnyClientCert"
        /// Verify a certificate if one is sent.
        case verifyClientCertIfGiven = "VerifyClientCertIfGiven"
        /// Require a certificate that verifies against the client CAs.
        case requireAndVerifyClientCert = "RequireAndVerifyClientCert"
    }

    public var mode: Mode
    public var trust: TLSTrustList?
    /// When set, the certificate must carry one of these SANs (DNS, IP, e-mail or URI), exactly.
    public var allowedSANs: [String]?

    public init(mode: Mode = .noClientCert, trust: TLSTrustList? = nil, allowedSANs: [String]? = nil) {
        self.mode = mode
        self.trust = trust
        self.allowedSANs = allowedSANs
    }

    /// How the handshake asks for a certificate: a required one missing fails the handshake itself.
    var request: gnutls_certificate_request_t? {
        switch mode {
        case .noClientCert: return allowedSANs == nil ? nil : GNUTLS_CERT_REQUIRE
        case .requestClientCert, .verifyClientCertIfGiven: return allowedSANs == nil ? GNUTLS_CERT_REQUEST : GNUTLS_CERT_REQUIRE
        case .requireAnyClientCert, .requireAndVerifyClientCert: return GNUTLS_CERT_REQUIRE
        }
    }

    /// Whether the client of this TLS session may reach a handler; the reason when it may not.
    func refusal(of session: gnutls_session_t) -> String? {
        var count: UInt32 = 0
        let certificates = gnutls_certificate_get_peers(session, &count)
        guard let certificates, count > 0 else {
            switch mode {
            case .requireAnyClientCert, .requireAndVerifyClientCert: return "no client certificate"
            default: return allowedSANs == nil ? nil : "no client certificate (client_allowed_sans is set)"
            }
        }
        let chain = UnsafeBufferPointer(start: certificates, count: Int(count))
        if mode == .verifyClientCertIfGiven || mode == .requireAndVerifyClientCert {
            guard let trust else { return "no client CA to verify the certificate with" }
            if let problem = trust.verify(chain) { return problem }
        }
        if let allowedSANs {
            let names = Self.subjectAlternativeNames(chain[0])
            guard names.contains(where: allowedSANs.contains) else {
                return "no allowed SAN in the client certificate (it has \(names))"
            }
        }
        return nil
    }

    /// DNS names, IP addresses (as text), e-mail addresses and URIs of a DER certificate.
    static func subjectAlternativeNames(_ der: gnutls_datum_t) -> [String] {
        var certificate: gnutls_x509_crt_t?
        guard gnutls_x509_crt_init(&certificate) >= 0, let certificate else { return [] }
        defer { gnutls_x509_crt_deinit(certificate) }
        var datum = der
        guard gnutls_x509_crt_import(certificate, &datum, GNUTLS_X509_FMT_DER) >= 0 else { return [] }
        var names: [String] = []
        for index in 0..<64 {
            var buffer = [UInt8](repeating: 0, count: 1024)
            var size = buffer.count
            let type = gnutls_x509_crt_get_subject_alt_name(certificate, UInt32(index), &buffer, &size, nil)
            if type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE { break }
            guard type >= 0 else { continue }
            let bytes = Array(buffer[..<min(size, buffer.count)])
            switch gnutls_x509_subject_alt_name_t(UInt32(type)) {
            case GNUTLS_SAN_DNSNAME, GNUTLS_SAN_RFC822NAME, GNUTLS_SAN_URI:
                names.append(String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self))
            case GNUTLS_SAN_IPADDRESS:
                names.append(ipText(bytes))
            default:
                continue
            }
        }
        return names
    }

    /// Go's net.IP.String(): dotted IPv4, or IPv6 with the longest run of zero groups as "::".
    static func ipText(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        guard bytes.count == 16 else { return "" }
        let groups = stride(from: 0, to: 16, by: 2).map { Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]) }
        var best = (start: -1, length: 0)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > best.length && end - index > 1 { best = (index, end - index) }
            index = end
        }
        func hex(_ range: Range<Int>) -> String { groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
        guard best.start >= 0 else { return hex(0..<8) }
        return hex(0..<best.start) + "::" + hex((best.start + best.length)..<8)
    }
}

/// Client CA certificates, as GnuTLS verifies chains against them.
public final class TLSTrustList: @unchecked Sendable {
    private let list: gnutls_x509_trust_list_t

    public init(caPEM: String) throws(TLSMaterialError) {
        var list: gnutls_x509_trust_list_t?
        guard gnutls_x509_trust_list_init(&list, 0) >= 0, let list else { throw TLSMaterialError("GnuTLS could not make a trust list") }
        let added = withDatum(caPEM) { gnutls_x509_trust_list_add_trust_mem(list, $0, nil, GNUTLS_X509_FMT_PEM, 0, 0) }
        guard added > 0 else {
            gnutls_x509_trust_list_deinit(list, 1)
            throw TLSMaterialError(added < 0 ? "the client CA is not PEM-encoded X.509 (\(TLSMaterialError.gnutls(added)))" : "the client CA holds no certificate")
        }
        self.list = list
    }

    /// The system's CAs, which Go verifies client certificates against when no client CA is configured.
    public static func system() throws(TLSMaterialError) -> TLSTrustList {
        var list: gnutls_x509_trust_list_t?
        guard gnutls_x509_trust_list_init(&list, 0) >= 0, let list else { throw TLSMaterialError("GnuTLS could not make a trust list") }
        guard gnutls_x509_trust_list_add_system_trust(list, 0, 0) >= 0 else {
            gnutls_x509_trust_list_deinit(list, 1)
            throw TLSMaterialError("the system CAs cannot be read")
        }
        return TLSTrustList(list: list)
    }

    private init(list: gnutls_x509_trust_list_t) {
        self.list = list
    }

    deinit {
        gnutls_x509_trust_list_deinit(list, 1)
    }

    /// TLS WWW client authentication, `GNUTLS_KP_TLS_WWW_CLIENT` (a macro Swift cannot import).
    static let clientAuthPurpose = "1.3.6.1.5.5.7.3.2"

    /// Why the DER chain (leaf first) does not verify, or nil when it does.
    func verify(_ chain: UnsafeBufferPointer<gnutls_datum_t>) -> String? {
        var certificates: [gnutls_x509_crt_t?] = []
        defer { certificates.forEach { if let certificate = $0 { gnutls_x509_crt_deinit(certificate) } } }
        for der in chain {
            var certificate: gnutls_x509_crt_t?
            guard gnutls_x509_crt_init(&certificate) >= 0, let certificate else { return "GnuTLS could not parse the client certificate" }
            certificates.append(certificate)
            var datum = der
            guard gnutls_x509_crt_import(certificate, &datum, GNUTLS_X509_FMT_DER) >= 0 else { return "the client certificate is not X.509" }
        }
        var status: UInt32 = 0
        // For the TLS client purpose, as Go's crypto/tls verifies client certificates: one whose
        // extended key usage leaves out clientAuth (a server certificate, say) is refused.
        var purpose = Array(Self.clientAuthPurpose.utf8CString).map { UInt8(bitPattern: $0) }
        let result = certificates.withUnsafeMutableBufferPointer { buffer in
            purpose.withUnsafeMutableBufferPointer { oid in
                var data = gnutls_typed_vdata_st(type: GNUTLS_DT_KEY_PURPOSE_OID, data: oid.baseAddress, size: 0)
                return gnutls_x509_trust_list_verify_crt2(list, buffer.baseAddress, UInt32(buffer.count), &data, 1, 0, &status, nil)
            }
        }
        guard result >= 0 else { return "verification failed: \(TLSMaterialError.gnutls(result))" }
        guard status == 0 else {
            var text = gnutls_datum_t()
            defer { vcsa_gnutls_free(text.data) }
            guard gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) >= 0, let data = text.data else {
                return "the client certificate does not verify against client_ca_file"
            }
            return String(cString: data)
        }
        return nil
    }
}
