import Foundation
import MicroHTTPD
import Yams

/// exporter-toolkit's web configuration file (`--web.config.file`): TLS, basic auth and response headers.
///
/// Every key is checked: a key this exporter does not implement is an error, not silently ignored,
/// because an operator who asks for client certificates must not get a server without them.
public struct WebConfig: Sendable {
    public var serverTLS: ServerTLS?
    /// user -> bcrypt hash.
    public var basicAuthUsers: [String: String] = [:]
    public var headers: [(name: String, value: String)] = []

    /// No file: plain HTTP, no auth.
    public init() {}

    static let allowedHeaders = ["Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection", "Content-Security-Policy"]

    /// Loads and validates the file; errors name the file and the key.
    public init(path: String) throws(WebConfigError) {
        func fail(_ key: String, _ reason: String) -> WebConfigError { WebConfigError(path: path, key: key, reason: reason) }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw fail("", "cannot be read") }
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) else { self.init(); return }
            guard let map = loaded as? [String: Any] else { throw fail("", "expected a YAML mapping at the top level") }
            root = map
        } catch let error as WebConfigError {
            throw error
        } catch {
            throw fail("", "is not valid YAML: \(error)")
        }
        self.init()
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        for key in root.keys where !["tls_server_config", "http_server_config", "basic_auth_users"].contains(key) {
            throw fail(key, "unknown key (expected tls_server_config, http_server_config or basic_auth_users)")
        }
        if let tls = root["tls_server_config"] {
            guard let tls = tls as? [String: Any] else { throw fail("tls_server_config", "expected a mapping") }
            let supported = ["cert_file", "key_file", "client_auth_type", "min_version"]
            for key in tls.keys where !supported.contains(key) {
                throw fail("tls_server_config.\(key)", "not supported by vcsa_exporter (supported: \(supported.joined(separator: ", ")))")
            }
            guard let certFile = tls["cert_file"] as? String, let keyFile = tls["key_file"] as? String else {
                throw fail("tls_server_config", "cert_file and key_file are both required")
            }
            if let auth = tls["client_auth_type"] as? String, auth != "NoClientCert" {
                throw fail("tls_server_config.client_auth_type", "only NoClientCert is supported; put a TLS-terminating proxy in front for client certificates")
            }
            let resolve = { (file: String) in file.hasPrefix("/") ? file : directory + "/" + file }
            guard let certificate = try? String(contentsOfFile: resolve(certFile), encoding: .utf8), certificate.contains("BEGIN CERTIFICATE") else {
                throw fail("tls_server_config.cert_file", "\(resolve(certFile)) is not a readable PEM certificate")
            }
            guard let key = try? String(contentsOfFile: resolve(keyFile), encoding: .utf8), key.contains("PRIVATE KEY") else {
                throw fail("tls_server_config.key_file", "\(resolve(keyFile)) is not a readable PEM private key")
            }
            var priorities = ServerTLS.priorities(minimumVersion: "TLS12")!
            if let minimum = tls["min_version"] {
                guard let minimum = minimum as? String, let value = ServerTLS.priorities(minimumVersion: minimum) else {
                    throw fail("tls_server_config.min_version", "expected TLS10, TLS11, TLS12 or TLS13")
                }
                priorities = value
            }
            serverTLS = ServerTLS(certificatePEM: certificate, privateKeyPEM: key, priorities: priorities)
        }
        if let http = root["http_server_config"] {
            guard let http = http as? [String: Any] else { throw fail("http_server_config", "expected a mapping") }
            for key in http.keys where !["headers", "http2"].contains(key) {
                throw fail("http_server_config.\(key)", "unknown key (expected headers or http2)")
            }
            if let headers = http["headers"] {
                guard let headers = headers as? [String: Any] else { throw fail("http_server_config.headers", "expected a mapping") }
                for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
                    guard let canonical = Self.allowedHeaders.first(where: { $0.lowercased() == name.lowercased() }) else {
                        throw fail("http_server_config.headers.\(name)", "not an allowed header (\(Self.allowedHeaders.joined(separator: ", ")))")
                    }
                    self.headers.append((canonical, "\(value)"))
                }
            }
        }
        if let users = root["basic_auth_users"] {
            guard let users = users as? [String: Any] else { throw fail("basic_auth_users", "expected a mapping of user to bcrypt hash") }
            for (user, hash) in users {
                guard let hash = hash as? String, hash.hasPrefix("$2") else {
                    throw fail("basic_auth_users.\(user)", "expected a bcrypt hash ($2y$...)")
                }
                basicAuthUsers[user] = hash
            }
        }
    }

    /// The handler behind basic auth (when configured), with the configured headers added.
    /// Hashing never runs on libmicrohttpd's thread (see `BasicAuthenticator`).
    public func wrap(_ handler: @escaping HTTPHandler) -> HTTPHandler {
        let authenticator = basicAuthUsers.isEmpty ? nil : BasicAuthenticator(users: basicAuthUsers)
        let headers = self.headers
        return { request, responder in
            let responder = headers.isEmpty ? responder : responder.mapping { response in
                var response = response
                response.headers += headers
                return response
            }
            guard let authenticator else { return handler(request, responder) }
            authenticator.check(request.header("authorization")) { verdict in
                switch verdict {
                case .allowed:
                    handler(request, responder)
                case .denied:
                    responder.respond(.text(401, "Unauthorized", headers: [("WWW-Authenticate", "Basic realm=\"vcsa_exporter\"")]))
                case .busy:
                    responder.respond(.text(503, "Service Unavailable: too many password checks at once", headers: [("Retry-After", "1")]))
                }
            }
        }
    }
}

public struct WebConfigError: Error, CustomStringConvertible {
    public var path: String
    public var key: String
    public var reason: String
    public var description: String { key.isEmpty ? "--web.config.file: \(path) \(reason)" : "--web.config.file: \(path): \(key): \(reason)" }
}
