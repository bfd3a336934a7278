@testable import ExporterToolkit
import Foundation
import Logging
import MicroHTTPD
import Synchronization
import Testing

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
        let store = try WebConfigStore(path: try WebConfigTests().write(yaml), realm: "vcsa_exporter", metricNamespace: "vcsa_exporter", logger: Logger(label: "test"))
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

    /// The user ends at the first colon byte, as Go's strings.Cut has it: read as Characters, a
    /// prepend scalar (U+0600) joined the colon into one, and the pair was refused.
    @Test func theUserEndsAtTheFirstColonByte() async {
        let authenticator = BasicAuthenticator(users: ["prom\u{0600}": Self.secretCost4])
        let allowed = await withCheckedContinuation { done in
            authenticator.check(Self.basic("prom\u{0600}", "secret"), client: "192.0.2.1:40000") { done.resume(returning: $0) }
        }
        #expect(allowed == .allowed)
    }

    // MARK: item 5, the cache of verified pairs

    /// Every verified pair used to be kept for good: 150 users (or one user and 150 padded passwords) made 150 entries.
    @Test func atMost100VerifiedPairsAreRemembered() async {
        let users = Dictionary(uniqueKeysWithValues: (0..<150).map { ("user\($0)", Self.secretCost4) })
        let authenticator = BasicAuthenticator(users: users)
        for index in 0..<150 {
            let header = Self.basic("user\(index)", "secret")
            let allowed = await withCheckedContinuation { done in
                authenticator.check(header, client: "192.0.2.1:40000") { done.resume(returning: $0 == .allowed) }
            }
            #expect(allowed, "user\(index)")
        }
        #expect(authenticator.occupancy.verified == BasicAuthenticator.Limits().remembered)
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

/// Item 6: wrong passwords from one client must not keep out a client with new, right credentials.
@Suite struct BasicAuthFairnessTests {
    /// bcrypt of "secret" at cost 12 (about 0.4 s a hash here): a flood is still hashing when the next request comes.
    static let secretCost12 = "$2b$12$rnJb0uNeEfOw6ioAV5FKueyWIii.w/w7AbVGRHWn6QIxF8brnDaG2"

    /// Requests sent one after the other on the calling thread, as libmicrohttpd's thread would; their statuses arrive later.
    struct Burst {
        let statuses: AsyncStream<Int>
        let count: Int

        init(_ handler: HTTPHandler, _ requests: [HTTPRequest]) {
            let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
            for request in requests { handler(request, HTTPResponder { continuation.yield($0.status) }) }
            statuses = stream
            count = requests.count
        }

        /// `count` distinct wrong passwords from one host, each on its own connection (port).
        init(_ handler: HTTPHandler, wrong count: Int, from host: String) {
            self.init(handler, (0..<count).map { BasicAuthenticatorTests.request("prometheus", "wrong-\(host)-\($0)", from: "\(host):\(50000 + $0)") })
        }

        func all() async -> [Int] {
            var all: [Int] = []
            for await status in statuses {
                all.append(status)
                if all.count == count { break }
            }
            return all.sorted()
        }
    }

    /// After a restart (or a change of users) Prometheus's credentials are not cached yet.
    @Test func wrongPasswordsFromOneClientDoNotKeepOutANewClient() async throws {
        let handler = try BasicAuthenticatorTests.handler(users: ["prometheus": Self.secretCost12])
        let flood = Burst(handler, wrong: 20, from: "198.51.100.7")
        #expect(await answer(handler, BasicAuthenticatorTests.request("prometheus", "secret", from: "192.0.2.1:40000")).status == 200)
        let statuses = await flood.all()
        #expect(statuses.allSatisfy { $0 == 401 || $0 == 503 })
        #expect(statuses.filter { $0 == 401 }.count <= BasicAuthenticator.Limits().perClient, "the rest were refused at once")
    }

    /// Several flooding clients fill the workers; a new client waits its turn instead of getting 503.
    @Test func floodsFromSeveralClientsStillLetANewClientIn() async throws {
        let handler = try BasicAuthenticatorTests.handler(users: ["prometheus": Self.secretCost12])
        let floods = (1...3).map { Burst(handler, wrong: 3, from: "198.51.100.\($0)") }
        #expect(await answer(handler, BasicAuthenticatorTests.request("prometheus", "secret", from: "192.0.2.1:40000")).status == 200)
        for flood in floods { _ = await flood.all() }
    }

    /// Prometheus scraping /probe for many targets at once, right after a restart: one hash answers them all.
    @Test func concurrentRequestsWithTheSameNewCredentialsShareOneHash() async throws {
        let handler = try BasicAuthenticatorTests.handler(users: ["prometheus": Self.secretCost12])
        let scrapes = Burst(handler, (0..<10).map { BasicAuthenticatorTests.request("prometheus", "secret", from: "192.0.2.1:\(40000 + $0)") })
        #expect(await scrapes.all() == Array(repeating: 200, count: 10))
    }

    /// A wrong pair is remembered: sending it again costs no hash.
    @Test func aWrongPairIsAnsweredFromTheCacheTheSecondTime() async throws {
        let handler = try BasicAuthenticatorTests.handler(users: ["prometheus": Self.secretCost12])
        #expect(await answer(handler, BasicAuthenticatorTests.request("prometheus", "wrong")).status == 401)
        let answeredOnTheSpot = Flag()
        handler(BasicAuthenticatorTests.request("prometheus", "wrong"), HTTPResponder { if $0.status == 401 { answeredOnTheSpot.set() } })
        #expect(answeredOnTheSpot.isSet, "answered within the handler call, from the cache")
    }

    // MARK: the limits, with a stand-in for bcrypt that hashes when the test says so

    /// A matcher that blocks each hash until `open()`, and accepts the password "right".
    final class Gate: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        private let started = Mutex<[String]>([])
        var hashesStarted: [String] { started.withLock { $0 } }

        var matcher: BasicAuthenticator.Matcher {
            { [self] password, _ in
                started.withLock { $0.append(password) }
                semaphore.wait()
                return password == "right"
            }
        }

        func open(_ count: Int) { for _ in 0..<count { semaphore.signal() } }
    }

    /// Verdicts of requests made one after the other; those given at once are known when the calls return.
    final class Verdicts: Sendable {
        private let given = Mutex<[String: BasicAuthenticator.Verdict]>([:])
        private let stream: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation

        init() { (stream, continuation) = AsyncStream.makeStream(of: Void.self) }

        func check(_ authenticator: BasicAuthenticator, _ name: String, user: String = "prometheus", password: String, client: String) {
            authenticator.check(BasicAuthenticatorTests.basic(user, password), client: client) { [self] verdict in
                given.withLock { $0[name] = verdict }
                continuation.yield()
            }
        }

        subscript(name: String) -> BasicAuthenticator.Verdict? { given.withLock { $0[name] } }

        /// Waits until `count` verdicts in all have been given.
        func wait(for count: Int) async {
            if given.withLock({ $0.count }) >= count { return }
            for await _ in stream where given.withLock({ $0.count }) >= count { return }
        }
    }

    @Test func everyLimitAnswersBusyAtOnceAndEveryTableEmptiesAfterwards() async {
        let gate = Gate()
        let limits = BasicAuthenticator.Limits(hashes: 2, perClient: 2, waiting: 3, sharing: 2, remembered: 100)
        let authenticator = BasicAuthenticator(users: ["prometheus": BasicAuthenticatorTests.secretCost4], limits: limits, matcher: gate.matcher)
        let verdicts = Verdicts()
        verdicts.check(authenticator, "a1", password: "a1", client: "198.51.100.1:1")
        verdicts.check(authenticator, "a2", password: "a2", client: "198.51.100.1:2")
        verdicts.check(authenticator, "a3", password: "a3", client: "198.51.100.1:3")
        verdicts.check(authenticator, "b1", password: "b1", client: "198.51.100.2:1")
        verdicts.check(authenticator, "b2", password: "b2", client: "198.51.100.2:2")
        verdicts.check(authenticator, "b3", password: "b3", client: "198.51.100.2:3")
        verdicts.check(authenticator, "c1", password: "right", client: "[2001:db8::3]:1")
        verdicts.check(authenticator, "d1", password: "d1", client: "198.51.100.4:1")
        // The same pair as a1, from elsewhere: it waits for a1's hash, taking no room of its own.
        verdicts.check(authenticator, "e1", password: "a1", client: "198.51.100.5:1")
        verdicts.check(authenticator, "f1", password: "a1", client: "198.51.100.6:1")

        #expect(verdicts["a3"] == .busy, "a third pair from one client")
        #expect(verdicts["b3"] == .busy, "a third pair from one client, in line")
        #expect(verdicts["d1"] == .busy, "the line is full")
        #expect(verdicts["f1"] == .busy, "two requests wait for a1 already")
        for name in ["a1", "a2", "b1", "b2", "c1", "e1"] { #expect(verdicts[name] == nil, "\(name) waits") }
        let during = authenticator.occupancy
        #expect(during.running == 2 && during.waiting == 3 && during.clients == 3 && during.pairs == 5)

        gate.open(5)
        await verdicts.wait(for: 10)
        #expect(["a1", "a2", "b1", "b2", "e1"].allSatisfy { verdicts[$0] == .denied })
        #expect(verdicts["c1"] == .allowed)
        #expect(gate.hashesStarted.count == 5, "a1 was hashed once for two requests")
        #expect(Array(gate.hashesStarted.dropFirst(2)) == ["b1", "b2", "right"], "the line is served first come, first served")
        let after = authenticator.occupancy
        #expect(after.running == 0 && after.waiting == 0 && after.clients == 0 && after.pairs == 0)
        #expect(after.verified == 1 && after.wrong == 4)
    }

    @Test func wrongPairsAreRememberedApartFromVerifiedOnes() async {
        let gate = Gate()
        let limits = BasicAuthenticator.Limits(hashes: 1, perClient: 1, waiting: 0, sharing: 1, remembered: 2)
        let authenticator = BasicAuthenticator(users: ["prometheus": BasicAuthenticatorTests.secretCost4], limits: limits, matcher: gate.matcher)
        gate.open(100)
        let verdicts = Verdicts()
        verdicts.check(authenticator, "right", password: "right", client: "192.0.2.1:1")
        await verdicts.wait(for: 1)
        for index in 0..<5 {
            verdicts.check(authenticator, "wrong\(index)", password: "wrong\(index)", client: "198.51.100.1:1")
            await verdicts.wait(for: 2 + index)
        }
        #expect(authenticator.occupancy.verified == 1 && authenticator.occupancy.wrong == 2)
        verdicts.check(authenticator, "again", password: "right", client: "192.0.2.1:2")
        #expect(verdicts["again"] == .allowed, "wrong pairs never push out a verified one")
        verdicts.check(authenticator, "wrong4 again", password: "wrong4", client: "198.51.100.1:2")
        #expect(verdicts["wrong4 again"] == .denied, "answered at once from the wrong pairs")
        #expect(gate.hashesStarted.count == 6)
    }

    @Test func theClientIsTheHostWithoutThePort() {
        #expect(BasicAuthenticator.host(of: "192.0.2.1:40000") == "192.0.2.1")
        #expect(BasicAuthenticator.host(of: "[2001:db8::1]:40000") == "[2001:db8::1]")
        #expect(BasicAuthenticator.host(of: "") == "")
    }
}
