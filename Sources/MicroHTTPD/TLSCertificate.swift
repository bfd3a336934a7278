import CGnuTLS

/// A server certificate chain and its private key, loaded into GnuTLS and checked to belong together.
/// GnuTLS reads it during handshakes that may still run after it was replaced: `TLSCredentials`
/// keeps replaced certificates alive for a while (see `retiredKept`).
public final class TLSCertificate: @unchecked Sendable {
    let chain: UnsafeMutablePointer<gnutls_pcert_st>
    let chainLength: UInt32
    let key: gnutls_privkey_t
    /// The leaf's subject DN, serial (hex) and expiry, for logs and `--web.config.check`.
    public private(set) var subject = ""
    public private(set) var serial = ""
    public private(set) var notAfter = 0

    /// The most certificates a chain may hold.
    static let maxChain = 16

    public init(certificatePEM: String, keyPEM: String) throws(TLSMaterialError) {
        let chain = UnsafeMutablePointer<gnutls_pcert_st>.allocate(capacity: Self.maxChain)
        var length = UInt32(Self.maxChain)
        let imported = withDatum(certificatePEM) { gnutls_pcert_list_import_x509_raw(chain, &length, $0, GNUTLS_X509_FMT_PEM, 0) }
        guard imported >= 0, length > 0 else {
            chain.deallocate()
            throw TLSMaterialError("the certificate is not PEM-encoded X.509 (\(TLSMaterialError.gnutls(imported)))")
        }
        var key: gnutls_privkey_t?
        var loaded = gnutls_privkey_init(&key)
        if loaded >= 0, let key {
            loaded = withDatum(keyPEM) { gnutls_privkey_import_x509_raw(key, $0, GNUTLS_X509_FMT_PEM, nil, 0) }
        }
        guard loaded >= 0, let key else {
            if let key { gnutls_privkey_deinit(key) }
            for index in 0..<Int(length) { gnutls_pcert_deinit(&chain[index]) }
            chain.deallocate()
            throw TLSMaterialError("the private key is not a PEM-encoded key (\(TLSMaterialError.gnutls(loaded)))")
        }
        self.chain = chain
        self.chainLength = length
        self.key = key
        guard Self.keyID(of: chain[0].pubkey) == Self.keyID(ofPrivateKey: key), Self.keyID(of: chain[0].pubkey) != nil else {
            throw TLSMaterialError("the private key does not match the certificate")
        }
        describeLeaf()
    }

    deinit {
        for index in 0..<Int(chainLength) { gnutls_pcert_deinit(&chain[index]) }
        chain.deallocate()
        gnutls_privkey_deinit(key)
    }

    private func describeLeaf() {
        var certificate: gnutls_x509_crt_t?
        guard gnutls_x509_crt_init(&certificate) >= 0, let certificate else { return }
        defer { gnutls_x509_crt_deinit(certificate) }
        var der = chain[0].cert
        guard gnutls_x509_crt_import(certificate, &der, GNUTLS_X509_FMT_DER) >= 0 else { return }
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        if gnutls_x509_crt_get_dn(certificate, &buffer, &size) >= 0 { subject = String(cString: buffer) }
        var bytes = [UInt8](repeating: 0, count: 64)
        size = bytes.count
        if gnutls_x509_crt_get_serial(certificate, &bytes, &size) >= 0 {
            serial = bytes[..<size].map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined()
        }
        notAfter = gnutls_x509_crt_get_expiration_time(certificate)
    }

    private static func keyID(of publicKey: gnutls_pubkey_t?) -> [UInt8]? {
        guard let publicKey else { return nil }
        var id = [UInt8](repeating: 0, count: 64)
        var size = id.count
        guard gnutls_pubkey_get_key_id(publicKey, UInt32(GNUTLS_KEYID_USE_SHA256.rawValue), &id, &size) >= 0 else { return nil }
        return Array(id[..<size])
    }

    private static func keyID(ofPrivateKey key: gnutls_privkey_t) -> [UInt8]? {
        var publicKey: gnutls_pubkey_t?
        guard gnutls_pubkey_init(&publicKey) >= 0, let publicKey else { return nil }
        defer { gnutls_pubkey_deinit(publicKey) }
        guard gnutls_pubkey_import_privkey(publicKey, key, 0, 0) >= 0 else { return nil }
        return keyID(of: publicKey)
    }
}

/// Calls `body` with a GnuTLS datum over the UTF-8 bytes of `text`.
func withDatum<T>(_ text: String, _ body: (UnsafePointer<gnutls_datum_t>) -> T) -> T {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBufferPointer { buffer in
        var datum = gnutls_datum_t(data: buffer.baseAddress, size: UInt32(buffer.count))
        return body(&datum)
    }
}

/// Certificates, keys or CAs that GnuTLS cannot use; the description says why.
public struct TLSMaterialError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func gnutls(_ code: Int32) -> String {
        String(cString: gnutls_strerror(code))
    }
}
