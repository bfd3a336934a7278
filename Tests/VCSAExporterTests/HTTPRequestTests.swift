import MicroHTTPD
import Testing

@Suite struct HTTPRequestTests {
    @Test(arguments: [
        ("gzip", true), ("gzip, deflate", true), ("deflate, gzip;q=0.5", true), ("gzip;q=0", false), ("identity", false), ("", false),
    ])
    func acceptsGzip(header: String, expected: Bool) {
        #expect(HTTPRequest(method: "GET", path: "/", headers: ["accept-encoding": header]).acceptsGzip == expected)
    }

    @Test(arguments: [
        (":28272", ListenAddress(host: nil, port: 28272)), ("127.0.0.1:9", ListenAddress(host: "127.0.0.1", port: 9)),
        ("[::1]:80", ListenAddress(host: "::1", port: 80)), ("localhost:0", ListenAddress(host: "localhost", port: 0)),
    ])
    func listenAddresses(text: String, expected: ListenAddress) throws {
        #expect(try ListenAddress(parsing: text) == expected)
    }

    /// `[[]]:4` once parsed to a host `[]` whose description re-parsed as every interface (found by FuzzListenAddress).
    @Test(arguments: ["28272", "host:99999", "::1:80", "host:port", "[[]]:4", "[[x]]:80"])
    func badListenAddresses(text: String) {
        #expect(throws: ListenAddressError.self) { try ListenAddress(parsing: text) }
    }
}
