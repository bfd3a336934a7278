@testable import ApplianceAPI
import Foundation
import Testing

@Suite struct VAPIErrorTests {
    @Test func apiShape() throws {
        let error = VAPIError(httpStatus: 404, body: try Fixture.bytes("error-not-found.json"))
        #expect(error.errorType == .notFound)
        #expect(!error.isRouteNotFound)
        #expect(error.summary == "com.vmware.appliance.recovery.reconciliation.job.not_found: There is no running reconciliation job.")
    }

    @Test func legacyRestShape() throws {
        let error = VAPIError(httpStatus: 404, body: try Fixture.bytes("error-legacy-not-found.json"))
        #expect(error.errorType == .notFound)
        #expect(error.messages.count == 1)
        let busy = VAPIError(httpStatus: 500, body: Array(#"{"type":"com.vmware.vapi.std.errors.resource_busy","value":{"messages":[]}}"#.utf8))
        #expect(busy.errorType == .resourceBusy)
        let inner = VAPIError(httpStatus: 500, body: Array(#"{"type":"x","value":{"error_type":"TIMED_OUT","messages":[]}}"#.utf8))
        #expect(inner.errorType == .timedOut)
    }

    @Test func routeNotFoundIsTold() throws {
        let error = VAPIError(httpStatus: 404, body: try Fixture.bytes("error-route-not-found.json"))
        #expect(error.isRouteNotFound)
        #expect(ApplianceError.api(httpStatus: 404, error: error).isOperationMissing)
        #expect(!ApplianceClient.isNoJob(status: 404, body: try Fixture.bytes("error-route-not-found.json")))
        #expect(ApplianceClient.isNoJob(status: 404, body: try Fixture.bytes("error-not-found.json")))
        #expect(ApplianceClient.isNoJob(status: 404, body: try Fixture.bytes("error-legacy-not-found.json")))
        #expect(!ApplianceClient.isNoJob(status: 404, body: Array("<html>Not Found</html>".utf8)))
    }

    /// A route-not-found body whose messages leave out `args` (the spec has them; a proxy or an
    /// older build may not): still a missing route ("unsupported"), never "no job".
    @Test func aRouteNotFoundWithoutArgsIsStillAMissingRoute() {
        let body = Array(#"{"error_type":"NOT_FOUND","messages":[{"id":"com.vmware.vapi.rest.httpNotFound","default_message":"Not found."}]}"#.utf8)
        let error = VAPIError(httpStatus: 404, body: body)
        #expect(error.isRouteNotFound)
        #expect(error.summary == "com.vmware.vapi.rest.httpNotFound: Not found.")
        #expect(!ApplianceClient.isNoJob(status: 404, body: body))
        #expect(ApplianceError.api(httpStatus: 404, error: error).isOperationMissing)
        let odd = Array(#"{"error_type":"NOT_FOUND","messages":[7,{"id":"com.vmware.vapi.rest.httpNotFound","args":[1,"x"]}]}"#.utf8)
        #expect(VAPIError(httpStatus: 404, body: odd).isRouteNotFound, "one odd message does not hide the others")
    }

    @Test(arguments: [
        (401, ErrorType.unauthenticated), (403, .unauthorized), (404, .notFound), (409, .concurrentChange),
        (503, .serviceUnavailable), (504, .timedOut), (400, .invalidRequest), (418, .invalidRequest), (500, .error), (502, .error),
    ])
    func missingErrorTypeComesFromTheStatus(status: Int, expected: ErrorType) {
        #expect(VAPIError(httpStatus: status, body: Array("<html>proxy error</html>".utf8)).errorType == expected)
        #expect(VAPIError(httpStatus: status, body: Array(#"{"messages":[]}"#.utf8)).errorType == expected)
    }

    @Test func unknownErrorTypeFallsBackToTheStatus() {
        #expect(VAPIError(httpStatus: 503, body: Array(#"{"error_type":"BRAND_NEW","messages":[]}"#.utf8)).errorType == .serviceUnavailable)
    }

    @Test func clientSideClasses() {
        #expect(ApplianceError.deadlineExceeded.errorType == "DEADLINE_EXCEEDED")
        #expect(ApplianceError.transport("refused").errorType == "TRANSPORT_ERROR")
        #expect(ApplianceError.tls("untrusted").errorType == "TLS_ERROR")
        #expect(ApplianceError.invalidResponse("bad").errorType == "INVALID_RESPONSE")
        #expect(ErrorType.allCases.count == 25)
    }

    @Test func credentialsNeverDescribeThePassword() {
        let credentials = Credentials(username: "administrator@vsphere.local", password: .literal("s3cret-Pa55"))
        #expect(!"\(credentials)".contains("s3cret-Pa55"))
        #expect(credentials.basicAuthorization(password: "s3cret-Pa55") == "Basic " + Data("administrator@vsphere.local:s3cret-Pa55".utf8).base64EncodedString())
    }
}
