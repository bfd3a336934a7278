import Foundation
import Logging
import MicroHTTPD
import Synchronization
import Testing
@testable import VCSAExporter

/// Basic auth through the web config's handler, as libmicrohttpd calls it (review issue 16, items 5 and 6).
@Suite struct BasicAuthenticatorTests {
    /// bcrypt of "secret" at cost 4 (libxcrypt's crypt_r, as `htpasswd -nbBC 4` would make).
    static let secretCost4 = "$2y$04$p6OZ6/lNKv1xKxg6EtubYegKgjjigVVEgmEm/KTnk0qFF/mtCuXs."
    /// A password of exactly 72 bytes, the most bcrypt reads, and its hash at cost 4.
    static let password72 = String(repeating: "0123456789abcdef", count: 4) + "ABCDEFGH"
    static let password72Cost4 = "$2y$04$/73W1Sg4v4lvDNhY5A.oROj3iye54AdQRHQ1t.EVRp.ANzQMved5S"

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    static func handler(users: [String: String]) throws -> HTTPHandler {
        let yaml = "basic_auth_users:\n" + users.map { "  \($0.key): \($0.value)\n" }.joined()
        let store = try WebConfigStore(path: try WebConfigTests().write(yaml), logger: Logger(label: "test"))
        return store.wrap { _, responder in responder.respond(.text(200, "ok")) }
    }

    static func request(_ user: String, _ password: String, from client: String = "192.0.2.1:40000") -> HTTPRequest {
        HTTPRequest(method: "GET", path: "/metrics", headers: ["authorization": basic(user, password)], clientAddress: client)
    }

    // MARK: item 5, padded passwords

    /// crypt_r takes a C string: it stopped at the NUL, so "secret\0anything" matched "secret".
    @Test func aPasswordWithANulInsideIsRefused() async throws {
        let handler = try Self.handler(users: ["prom": Self.secretCost4])
        #expect(await answer(handler, Self.request("prom", "secret\0anything")).status == 401)
        #expect(await answer(handler, Self.request("prom", "secret\0")).status == 401)
        #expect(await answer(handler, Self.request("prom", "secret")).status == 200)
    }

    /// bcrypt reads 72 bytes; whatever followed them was ignored, so any tail was accepted.
    @Test func aPasswordOver72BytesIsRefused() async throws {
        let handler = try Self.handler(users: ["prom": Self.password72Cost4])
        #expect(await answer(handler, Self.request("prom", Self.password72 + "anything")).status == 401)
        #expect(await answer(handler, Self.request("prom", Self.password72 + "x")).status == 401)
        #expect(await answer(handler, Self.request("prom", Self.password72)).status == 200, "72 bytes is still a password")
    }

    // MARK: item 5, the cache of verified pairs

    /// Every verified pair used to be kept for good: 150 users (or one user and 150 padded passwords) made 150 entries.
    @Test func atMost100VerifiedPairsAreRemembered() async {
        let users = Dictionary(uniqueKeysWithValues: (0..<150).map { ("user\($0)", Self.secretCost4) })
        let authenticator = BasicAuthenticator(users: users)
        for index in 0..<150 {
            let header = Self.basic("user\(index)", "secret")
            let allowed = await withCheckedContinuation { done in authenticator.check(header) { done.resume(returning: $0 == .allowed) } }
            #expect(allowed, "user\(index)")
        }
        #expect(authenticator.rememberedCount == BasicAuthenticator.rememberedPairs)
    }

    @Test func theLeastRecentlyUsedIsForgottenFirst() {
        var set = LRUSet<Int>(capacity: 3)
        for member in 1...3 { set.insert(member) }
        let usedOne = set.use(1)
        set.insert(4)
        #expect(usedOne && set.count == 3)
        let usedTwo = set.use(2), usedTheOthers = set.use(1) && set.use(3) && set.use(4)
        #expect(!usedTwo, "2 was the least recently used")
        #expect(usedTheOthers)
        set.insert(4)
        #expect(set.count == 3, "inserting a member again takes no room")
        var none = LRUSet<Int>(capacity: 0)
        none.insert(1)
        #expect(none.count == 0)
    }

    @Test func sha256MatchesTheStandardVectors() throws {
        #expect(try #require(SHA256Digest([UInt8]())).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try #require(SHA256Digest("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Digest("abc".utf8) != SHA256Digest("abd".utf8))
    }

    @Test func passwordsBcryptReadsWhole() {
        #expect(BasicAuthenticator.isHashable("secret"))
        #expect(BasicAuthenticator.isHashable(""))
        #expect(BasicAuthenticator.isHashable(Self.password72))
        #expect(!BasicAuthenticator.isHashable(Self.password72 + "x"))
        #expect(!BasicAuthenticator.isHashable("secret\0"))
        #expect(!BasicAuthenticator.isHashable(String(repeating: "é", count: 37)), "74 bytes in 37 characters")
    }
}
