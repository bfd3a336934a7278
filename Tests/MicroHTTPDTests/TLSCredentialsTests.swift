import CGnuTLS
import Foundation
@testable import MicroHTTPD
import Synchronization
import TestHarness
import Testing

/// A replaced server certificate stays alive while a connection that received it is open
/// (GnuTLS keeps pointers to it and to its key), and is freed once that connection closes.
@Suite struct TLSCredentialsTests {
    @Test func aReplacedCertificateLivesUntilTheLastConnectionThatGotItCloses() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-credentials-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (certificatePEM, keyPEM) = try Self.selfSigned(in: directory)

        var first: TLSCertificate? = try TLSCertificate(certificatePEM: certificatePEM, keyPEM: keyPEM)
        weak let firstAlive = first
        let credentials = TLSCredentials(certificate: first!)
        let server = HTTPServer(configuration: .init(address: try ListenAddress(parsing: "127.0.0.1:0"), tls: ServerTLS(credentials: credentials))) { _, responder in
            responder.respond(.text(200, "ok"))
        }
        try server.start()

        // A client that completes its handshake and keeps the connection open.
        let client = try #require(TLSClient(port: server.boundPort), "no TLS handshake with the server")
        try await eventually("the handshake hands out the first certificate") { credentials.sessions(holding: first!) == 1 }

        // Far more replacements than the 16 that used to be kept.
        for _ in 0..<40 {
            credentials.update(certificate: try TLSCertificate(certificatePEM: certificatePEM, keyPEM: keyPEM), policy: ClientCertificatePolicy())
        }
        first = nil
        #expect(firstAlive != nil, "the open connection's certificate was freed")

        client.close()
        try await eventually("the closed connection frees the first certificate") { firstAlive == nil }
        await server.shutdown(drainTimeout: .seconds(1))
    }

    static func selfSigned(in directory: String) throws -> (String, String) {
        let (status, output) = try run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                                                   "-subj", "/CN=127.0.0.1", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"])
        guard status == 0 else { throw HarnessError("openssl req: \(output)") }
        return (try String(contentsOfFile: directory + "/cert.pem", encoding: .utf8), try String(contentsOfFile: directory + "/key.pem", encoding: .utf8))
    }
}

/// A GnuTLS client connection on loopback that has completed its handshake (certificates not verified).
final class TLSClient {
    private var socket: Int32
    private var session: gnutls_session_t?
    private var credentials: gnutls_certificate_credentials_t?

    init?(port: UInt16) {
        guard let socket = HTTPServerShutdownTests.connect(port: port) else { return nil }
        self.socket = socket
        guard gnutls_certificate_allocate_credentials(&credentials) >= 0, gnutls_init(&session, UInt32(GNUTLS_CLIENT)) >= 0,
              gnutls_set_default_priority(session) >= 0,
              gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, UnsafeMutableRawPointer(credentials)) >= 0 else { return nil }
        gnutls_transport_set_int2(session, socket, socket)
        var result: Int32
        repeat { result = gnutls_handshake(session) } while result < 0 && gnutls_error_is_fatal(result) == 0
        guard result >= 0 else { return nil }
    }

    /// Closes once: deinit calls it again, and a second close(2) would close whatever descriptor
    /// took the number since (CI saw a NIO socket of another test closed that way, and NIO trap on EBADF).
    func close() {
        if let session { gnutls_deinit(session) }
        session = nil
        if socket >= 0 { Glibc.close(socket) }
        socket = -1
    }

    deinit {
        close()
        if let credentials { gnutls_certificate_free_credentials(credentials) }
    }
}
