import Foundation

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
    /// How long a refused login keeps the client from trying again (doubles each time, up to `maxLoginBackoff`).
    public var loginBackoff: Duration
    public var maxLoginBackoff: Duration

    public init(baseURL: String, credentials: Credentials, caFile: String? = nil, insecureSkipVerify: Bool = false,
                maxBodyBytes: Int = 1 << 20, loginBackoff: Duration = .seconds(30), maxLoginBackoff: Duration = .seconds(600)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credentials = credentials
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
        self.maxBodyBytes = maxBodyBytes
        self.loginBackoff = loginBackoff
        self.maxLoginBackoff = maxLoginBackoff
    }
}

/// A user name and password; the password never appears in descriptions or logs.
public struct Credentials: Sendable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "\(username) (password redacted)" }

    /// The HTTP Basic `Authorization` value for `POST /api/session`.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}
