import ExporterToolkit
import Testing
@testable import VCSAExporter

/// The admin token compare (review issue 16): its results; its time no longer depends on the configured
/// token, since both sides are 32-byte digests (the old byte loop ran max(presented, configured) times).
@Suite struct AdminTokenTests {
    static let token = "0123456789abcdef-admin-token"

    static func matches(_ presented: String, _ configured: String = token) -> Bool {
        AdminAPI.tokenMatches(presented.utf8, SHA256Digest(configured.utf8))
    }

    @Test func onlyTheSameTokenMatches() {
        #expect(Self.matches(Self.token))
        #expect(!Self.matches(""), "nothing presented")
        #expect(!Self.matches(String(Self.token.dropLast())), "a prefix")
        #expect(!Self.matches(Self.token + "x"), "the token and more")
        #expect(!Self.matches(Self.token + "\0"), "the token and a NUL")
        #expect(!Self.matches(String(Self.token.dropLast()) + "g"), "the last byte differs")
        #expect(!Self.matches("x" + Self.token.dropFirst()), "the first byte differs")
        #expect(!Self.matches(String(repeating: "a", count: 4096)), "much longer")
        #expect(Self.matches("", ""), "an empty token matches only an empty one (start-up refuses tokens under 16 characters)")
    }

    @Test func withoutADigestNothingMatches() {
        #expect(!AdminAPI.tokenMatches(Self.token.utf8, nil))
    }
}
