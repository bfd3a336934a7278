import CMicroHTTPD
import CGnuTLS
import Synchronization

/// HTTPS settings for a server: GnuTLS priorities fixed at start, and credentials that can be
/// replaced while it runs (a new certificate is served from the next handshake).
public struct ServerTLS: Sendable {
    public var credentials: TLSCredentials
    /// A GnuTLS priority string (protocol versions, ciphers, groups).
    public var priorities: String

    public init(credentials: TLSCredentials, priorities: String = ServerTLS.defaultPriorities) {
        self.credentials = credentials
        self.priorities = priorities
    }

    /// A certificate and key, no client certificates, the default priorities.
    public init(certificatePEM: String, privateKeyPEM: String) throws(TLSMaterialError) {
        self.init(credentials: TLSCredentials(certificate: try TLSCertificate(certificatePEM: certificatePEM, keyPEM: privateKeyPEM)))
    }

    /// Checks a priority string with GnuTLS; the error says where it is wrong.
    public static func validate(priorities: String) throws(TLSMaterialError) {
        var cache: gnutls_priority_t?
        var errorPosition: UnsafePointer<CChar>?
        let result = gnutls_priority_init(&cache, priorities, &errorPosition)
        if let cache { gnutls_priority_deinit(cache) }
        guard result >= 0 else {
            throw TLSMaterialError("GnuTLS refuses the priorities \"\(priorities)\" at \"\(errorPosition.map { String(cString: $0) } ?? "")\"")
        }
    }

    /// GnuTLS's own default (`NORMAL`) still offers TLS 1.0 and 1.1; this starts at TLS 1.2, as exporter-toolkit's does.
    public static let defaultPriorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"
}

/// What an HTTPS server presents and asks of clients, replaceable while it serves.
public final class TLSCredentials: Sendable {
    private let state: Mutex<(certificate: TLSCertificate, policy: ClientCertificatePolicy)>
    private let handshakeHook = Mutex<(@Sendable () -> Void)?>(nil)

    /// Called at the start of every handshake, before the certificate is chosen (e.g. to look for a new one on disk).
    public var onHandshake: (@Sendable () -> Void)? {
        get { handshakeHook.withLock { $0 } }
        set { handshakeHook.withLock { $0 = newValue } }
    }

    public init(certificate: TLSCertificate, policy: ClientCertificatePolicy = ClientCertificatePolicy()) {
        state = Mutex((certificate, policy))
    }

    /// Takes effect from the next handshake (certificate, whether a client certificate is asked for)
    /// and the next request (how a client certificate is checked).
    public func update(certificate: TLSCertificate, policy: ClientCertificatePolicy) {
        state.withLock { $0 = (certificate, policy) }
    }

    /// The certificate each TLS session was handed, by session: GnuTLS keeps pointers to it (and
    /// reads the key later in a handshake a slow client has stalled), so a replaced certificate
    /// lives until the last connection that received it has closed.
    private let handedOut = Mutex<[UInt: TLSCertificate]>([:])

    func handOut(_ certificate: TLSCertificate, to session: OpaquePointer) {
        handedOut.withLock { $0[UInt(bitPattern: Int(bitPattern: session))] = certificate }
    }

    /// The session's connection has closed: GnuTLS no longer reads what it was handed.
    func release(_ session: OpaquePointer) {
        _ = handedOut.withLock { $0.removeValue(forKey: UInt(bitPattern: Int(bitPattern: session))) }
    }

    /// Sessions holding `certificate`, for tests.
    func sessions(holding certificate: TLSCertificate) -> Int {
        handedOut.withLock { $0.values.filter { $0 === certificate }.count }
    }

    var current: (certificate: TLSCertificate, policy: ClientCertificatePolicy) {
        state.withLock { $0 }
    }

    /// libmicrohttpd's certificate callback carries no context, so the process has one set of
    /// HTTPS credentials, shared by all its HTTPS servers.
    static let active = Mutex<TLSCredentials?>(nil)
}

/// GnuTLS asks for the certificate at every handshake: the current one is served, and a client
/// certificate is asked for as the current policy says. GnuTLS does not free what it is given; the
/// credentials keep it for as long as the session's connection is open.
let certificateCallback: @convention(c) (
    gnutls_session_t?, UnsafePointer<gnutls_datum_t>?, Int32, UnsafePointer<gnutls_pk_algorithm_t>?, Int32,
    UnsafeMutablePointer<UnsafeMutablePointer<gnutls_pcert_st>?>?, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<gnutls_privkey_t?>?
) -> Int32 = { session, _, _, _, _, chain, chainLength, key in
    guard let credentials = TLSCredentials.active.withLock({ $0 }), let chain, let chainLength, let key else { return -1 }
    credentials.onHandshake?()
    let (certificate, policy) = credentials.current
    if let session, let request = policy.request {
        gnutls_certificate_server_set_request(session, request)
    }
    if let session { credentials.handOut(certificate, to: session) }
    chain.pointee = certificate.chain
    chainLength.pointee = certificate.chainLength
    key.pointee = certificate.key
    return 0
}

/// libmicrohttpd's connection notifications: a TLS connection that closes releases its certificate.
let connectionNotification: @convention(c) (
    UnsafeMutableRawPointer?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?, MHD_ConnectionNotificationCode
) -> Void = { _, connection, _, code in
    guard code.rawValue == 1 /* MHD_CONNECTION_NOTIFY_CLOSED */, let connection, let session = vcsa_mhd_tls_session(connection),
          let credentials = TLSCredentials.active.withLock({ $0 }) else { return }
    credentials.release(OpaquePointer(session))
}
