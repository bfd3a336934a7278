import AsyncHTTPClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// A client for the appliance's recovery API (`/api`, vSphere 7.0U2 and later).
///
/// It knows vCenter's wire format, sessions and errors, and nothing of what is done with the answers.
public final class ApplianceClient: Sendable {
    /// Told about every request sent and every failure, so that callers can count them.
    public typealias Observer = @Sendable (APIEvent) -> Void

    public let configuration: ApplianceConfiguration
    private let http: HTTPClient
    private let transport: Transport
    private let sessions: SessionManager
    private let logger: Logger

    static let sessionHeader = "vmware-api-session-id"

    /// Fails when the CA file cannot be read or holds no certificate.
    public init(configuration: ApplianceConfiguration, logger: Logger, observer: @escaping Observer = { _ in }) throws(ApplianceConfigurationError) {
        var tls = TLSConfiguration.makeClientConfiguration()
        // swift-nio-ssl's default minimum is TLS 1.0: the password and session id must not travel over 1.0 or 1.1.
        tls.minimumTLSVersion = .tlsv12
        if let caFile = configuration.caFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw ApplianceConfigurationError(field: .caFile, reason: "cannot read PEM certificates from \(caFile): \(error)")
            }
            guard !certificates.isEmpty else {
                throw ApplianceConfigurationError(field: .caFile, reason: "\(caFile) holds no PEM certificate")
            }
            tls.trustRoots = .certificates(certificates)
        }
        if configuration.insecureSkipVerify {
            tls.certificateVerification = .none
        }
        var httpConfiguration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        // A refused or untrusted connection should fail the scrape now, not be retried until the deadline.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        httpConfiguration.connectionPool.idleTimeout = .seconds(300)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let transport = Transport(http: http, baseURL: configuration.baseURL, maxBodyBytes: configuration.maxBodyBytes, observer: observer)
        let credentials = configuration.credentials
        self.http = http
        self.transport = transport
        self.configuration = configuration
        self.logger = logger
        self.sessions = SessionManager(
            password: credentials.password, loginTimeout: configuration.loginTimeout,
            backoff: configuration.loginBackoff, maxBackoff: configuration.maxLoginBackoff, logger: logger
        ) { password, deadline throws(ApplianceError) in
            let (status, body) = try await transport.send(
                .sessionCreate, method: .POST, path: "/api/session",
                headers: [("Authorization", credentials.basicAuthorization(password: password))], deadline: deadline)
            guard status == 200 || status == 201 else { throw ApplianceError.api(httpStatus: status, error: VAPIError(httpStatus: status, body: body)) }
            // `/api` answers a bare JSON string; accept the legacy `{"value": "..."}` too.
            let decoder = ApplianceJSON.decoder()
            if let id = try? decoder.decode(String.self, from: Data(body)), !id.isEmpty { return id }
            if let wrapped = try? decoder.decode(LegacyValue<String>.self, from: Data(body)), !wrapped.value.isEmpty { return wrapped.value }
            throw transport.invalid(.sessionCreate, "expected a JSON string session id")
        }
    }

    /// The reconciliation job, or nil when the appliance says no reconciliation job is running.
    public func reconciliationJob(deadline: ContinuousClock.Instant) async throws(ApplianceError) -> ReconciliationJob? {
        let (status, body) = try await authenticated(.reconciliationJobGet, method: .GET, path: "/api/appliance/recovery/reconciliation/job",
                                                     deadline: deadline) { status, body in status == 200 || Self.isNoJob(status: status, body: body) }
        if status != 200 { return nil }
        return try transport.decode(ReconciliationJob.self, from: body, operation: .reconciliationJobGet)
    }

    public func restoreJob(deadline: ContinuousClock.Instant) async throws(ApplianceError) -> RestoreJob {
        let (_, body) = try await authenticated(.restoreJobGet, method: .GET, path: "/api/appliance/recovery/restore/job", deadline: deadline)
        return try transport.decode(RestoreJob.self, from: body, operation: .restoreJobGet)
    }

    /// The ids of the backup jobs the appliance keeps; they sort by time ("YYYYMMDD-hhmmss-build").
    public func backupJobIDs(deadline: ContinuousClock.Instant) async throws(ApplianceError) -> [String] {
        let (_, body) = try await authenticated(.backupJobList, method: .GET, path: "/api/appliance/recovery/backup/job", deadline: deadline)
        return try transport.decode([String].self, from: body, operation: .backupJobList)
    }

    /// Details of the given backup jobs, by id (one call for all of them).
    public func backupJobDetails(ids: [String], deadline: ContinuousClock.Instant) async throws(ApplianceError) -> [String: BackupJobDetails] {
        let query = ids.map { "jobs=" + Self.percentEncoded($0) }.joined(separator: "&")
        let (_, body) = try await authenticated(.backupJobDetailsGet, method: .GET, path: "/api/appliance/recovery/backup/job/details?\(query)", deadline: deadline)
        return try transport.decode([String: BackupJobDetails].self, from: body, operation: .backupJobDetailsGet)
    }

    /// The backup schedules, by schedule id.
    public func backupSchedules(deadline: ContinuousClock.Instant) async throws(ApplianceError) -> [String: BackupSchedule] {
        let (_, body) = try await authenticated(.backupSchedulesGet, method: .GET, path: "/api/appliance/recovery/backup/schedules", deadline: deadline)
        return try transport.decode([String: BackupSchedule].self, from: body, operation: .backupSchedulesGet)
    }

    /// An id from the appliance, made safe for a query string.
    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            let unreserved = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || [0x2D, 0x2E, 0x5F, 0x7E].contains(byte)
            encoded += unreserved ? String(UnicodeScalar(byte)) : "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }
        return encoded
    }

    /// Cancels the restore job; the appliance answers a `ReturnResult`, returned decoded and as sent.
    public func cancelRestore(deadline: ContinuousClock.Instant) async throws(ApplianceError) -> (result: CancelResult, body: [UInt8]) {
        let (_, body) = try await authenticated(.restoreJobCancel, method: .POST, path: "/api/appliance/recovery/restore/job?action=cancel", deadline: deadline)
        return (try transport.decode(CancelResult.self, from: body, operation: .restoreJobCancel), body)
    }

    /// Stops new logins and deletes the session, if one is held (or a login in flight brings one), so that it does not linger on the appliance.
    public func logout(deadline: ContinuousClock.Instant) async {
        guard let id = await sessions.close(deadline: deadline) else { return }
        do {
            _ = try await transport.send(.sessionDelete, method: .DELETE, path: "/api/session", headers: [(Self.sessionHeader, id)], deadline: deadline)
            logger.info("Logged out of the appliance session")
        } catch {
            logger.warning("Session logout failed", metadata: ["error": "\(error)"])
        }
    }

    /// Closes pooled connections; call once, after the last request.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// Sends with the shared session; on 401 logs in again once and retries. A 401 on a session no
    /// call has been answered with yet is a refused login: it backs off, and that session is logged out.
    private func authenticated(
        _ operation: APIOperation, method: HTTPMethod, path: String, deadline: ContinuousClock.Instant,
        accept: Transport.Accept = Transport.success
    ) async throws(ApplianceError) -> (Int, [UInt8]) {
        func send(_ session: SessionManager.Session) async throws(ApplianceError) -> (Int, [UInt8]) {
            do {
                let answer = try await transport.send(operation, method: method, path: path, headers: [(Self.sessionHeader, session.id)],
                                                      deadline: deadline, accept: accept)
                if !session.used { await sessions.accepted(session.id) }
                return answer
            } catch .api(401, let error) where !session.used {
                await sessions.refused(session.id, error: .api(httpStatus: 401, error: error))
                logOutInBackground(session.id)
                throw .api(httpStatus: 401, error: error)
            } catch .api(let status, let error) where !session.used {
                // Any other HTTP answer (a 500, a 404) means the appliance knows the session.
                await sessions.accepted(session.id)
                throw .api(httpStatus: status, error: error)
            }
        }
        let session = try await sessions.session(deadline: deadline)
        do {
            return try await send(session)
        } catch .api(401, _) where session.used {
            logger.info("Session expired; logging in again", metadata: ["operation": "\(operation.rawValue)"])
            await sessions.invalidate(session.id)
        }
        return try await send(try await sessions.session(deadline: deadline))
    }

    /// Deletes a session the appliance refused right after creating it, so that it does not count
    /// against vCenter's session limit; on its own time, not the scrape's.
    private func logOutInBackground(_ id: String) {
        let transport = self.transport
        let logger = self.logger
        Task {
            do throws(ApplianceError) {
                _ = try await transport.send(.sessionDelete, method: .DELETE, path: "/api/session", headers: [(Self.sessionHeader, id)],
                                             deadline: .now + .seconds(5))
                logger.info("Logged out of the refused session")
            } catch {
                logger.warning("Logout of the refused session failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// A 404 NOT_FOUND in a vAPI error body: "no job", as opposed to a missing route or a bare 404.
    static func isNoJob(status: Int, body: [UInt8]) -> Bool {
        guard status == 404, let object = try? ApplianceJSON.decoder().decode([String: JSONValue].self, from: Data(body)),
              object["error_type"] != nil || object["type"] != nil else { return false }
        let error = VAPIError(httpStatus: status, body: body)
        return error.errorType == .notFound && !error.isRouteNotFound
    }
}

/// The legacy `/rest` envelope.
struct LegacyValue<T: Decodable>: Decodable {
    var value: T
}

/// Which part of an `ApplianceConfiguration` is unusable, and why; the caller names it as its user
/// knows it (a flag, a config file field).
public struct ApplianceConfigurationError: Error, CustomStringConvertible {
    public enum Field: String, Sendable { case caFile = "CA file" }
    public var field: Field
    public var reason: String
    public var description: String { "\(field.rawValue): \(reason)" }
}
