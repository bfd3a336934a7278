#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the appliance is and how to trust and log in to it.
public struct ApplianceConfiguration: Sendable {
    /// `https://host[:port]`, without a trailing slash.
    public var baseURL: String
    public var credentials: Credentials
    /// PEM bundle of CAs to trust instead of the system's.
    public var caFile: String?
    /// Skip certificate verification: only when the user asked for it.
    public var insecureSkipVerify: Bool
    /// Answers larger than this are refused as invalid.
    public var maxBodyBytes: Int
    /// How long a refused or timed-out login keeps the client from trying again (doubles each time, up to `maxLoginBackoff`).
    public var loginBackoff: Duration
    public var maxLoginBackoff: Duration
    /// How long a login may take, whatever the budget of the scrape that started it: a login cut short
    /// still creates a session on the appliance, and vCenter is slowest exactly during a restore.
    public var loginTimeout: Duration

    public init(baseURL: String, credentials: Credentials, caFile: String? = nil, insecureSkipVerify: Bool = false,
                maxBodyBytes: Int = 1 << 20, loginBackoff: Duration = .seconds(30), maxLoginBackoff: Duration = .seconds(600),
                loginTimeout: Duration = .seconds(30)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credentials = credentials
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
        self.maxBodyBytes = maxBodyBytes
        self.loginBackoff = loginBackoff
        self.maxLoginBackoff = maxLoginBackoff
        self.loginTimeout = loginTimeout
    }
}

/// A user name and where the password comes from; the password never appears in descriptions or logs.
public struct Credentials: Sendable, CustomStringConvertible {
    public var username: String
    public var password: PasswordSource

    public init(username: String, password: PasswordSource) {
        self.username = username
        self.password = password
    }

    public var description: String { "\(username) (password redacted)" }

    /// The HTTP Basic `Authorization` value for `POST /api/session`.
    func basicAuthorization(password: String) -> String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}
