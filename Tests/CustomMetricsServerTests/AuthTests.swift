import CustomMetricsAPI
import CustomMetricsServer
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing

/// TokenReview and SubjectAccessReview with fixed answers, counting how often they are asked.
final class TableReviewer: TokenReviewing, AccessReviewing {
    let tokenReviews = Mutex(0)
    let accessReviews = Mutex(0)
    let failing = Mutex(false)

    func review(token: String) async throws -> UserInfo? {
        tokenReviews.withLock { $0 += 1 }
        if failing.withLock({ $0 }) { throw CancellationError() }
        switch token {
        case "hpa-token": return UserInfo(username: "system:serviceaccount:kube-system:horizontal-pod-autoscaler", groups: ["system:serviceaccounts"])
        case "nobody-token": return UserInfo(username: "nobody", groups: ["system:authenticated"])
        default: return nil
        }
    }

    func review(user: UserInfo, attributes: AuthorizationAttributes) async throws -> (allowed: Bool, reason: String) {
        accessReviews.withLock { $0 += 1 }
        if user.username.hasSuffix("horizontal-pod-autoscaler") { return (true, "RBAC: allowed by ClusterRoleBinding") }
        return (false, "")
    }
}

@Suite("Authentication and authorization at the edge", .timeLimit(.minutes(1)))
struct AuthTests {
    static func app(_ reviewer: TableReviewer) -> some ApplicationProtocol {
        Application(router: buildRouter(
            provider: TableProvider(),
            auth: AuthConfiguration(tokenReviewer: reviewer, accessReviewer: reviewer, requestHeader: RequestHeaderAuthenticator())
        ))
    }

    static let metricPath = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%2A/triton:queue_compute:ratio?labelSelector=app%3Dtriton"

    @Test(arguments: [
        (nil, 401, #"{"apiVersion":"v1","code":401,"kind":"Status","message":"Unauthorized","metadata":{},"reason":"Unauthorized","status":"Failure"}"#),
        ("Bearer wrong-token", 401, #"{"apiVersion":"v1","code":401,"kind":"Status","message":"Unauthorized","metadata":{},"reason":"Unauthorized","status":"Failure"}"#),
        ("Basic dXNlcjpwYXNz", 401, #"{"apiVersion":"v1","code":401,"kind":"Status","message":"Unauthorized","metadata":{},"reason":"Unauthorized","status":"Failure"}"#),
        ("Bearer nobody-token", 403, #"{"apiVersion":"v1","code":403,"kind":"Status","message":"User \"nobody\" cannot get resource \"pods/triton:queue_compute:ratio\" in API group \"custom.metrics.k8s.io\" in the namespace \"team-a\"","metadata":{},"reason":"Forbidden","status":"Failure"}"#),
    ] as [(String?, Int, String)])
    func deniedRequests(authorization: String?, code: Int, body: String) async throws {
        try await Self.app(TableReviewer()).test(.router) { client in
            var headers = HTTPFields()
            if let authorization { headers[.authorization] = authorization }
            try await client.execute(uri: Self.metricPath, method: .get, headers: headers) { response in
                #expect(response.status.code == code)
                #expect(String(buffer: response.body) == body)
            }
        }
    }

    @Test func theHPAIsServedAndReviewsAreCached() async throws {
        let reviewer = TableReviewer()
        try await Self.app(reviewer).test(.router) { client in
            for _ in 0..<3 {
                try await client.execute(uri: Self.metricPath, method: .get, headers: [.authorization: "Bearer hpa-token"]) { response in
                    #expect(response.status == .ok)
                }
            }
        }
        #expect(reviewer.tokenReviews.withLock { $0 } == 1)
        #expect(reviewer.accessReviews.withLock { $0 } == 1)
    }

    @Test func remoteUserHeadersWithoutAVerifiedCertificateAreIgnored() async throws {
        let reviewer = TableReviewer()
        try await Self.app(reviewer).test(.router) { client in
            let headers: HTTPFields = [
                HTTPField.Name("X-Remote-User")!: "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
                HTTPField.Name("X-Remote-Group")!: "system:masters",
            ]
            try await client.execute(uri: Self.metricPath, method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(reviewer.accessReviews.withLock { $0 } == 0)
    }

    @Test(arguments: ["/healthz", "/livez", "/readyz"])
    func healthNeedsNoCredentials(path: String) async throws {
        try await Self.app(TableReviewer()).test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func discoveryIsANonResourceRequest() async throws {
        try await Self.app(TableReviewer()).test(.router) { client in
            try await client.execute(uri: "/apis/custom.metrics.k8s.io/v1beta2", method: .get, headers: [.authorization: "Bearer nobody-token"]) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains(#"User \"nobody\" cannot get path \"/apis/custom.metrics.k8s.io/v1beta2\""#))
            }
        }
    }

    @Test func reviewFailureIsServiceUnavailableNotAccess() async throws {
        let reviewer = TableReviewer()
        reviewer.failing.withLock { $0 = true }
        try await Self.app(reviewer).test(.router) { client in
            try await client.execute(uri: Self.metricPath, method: .get, headers: [.authorization: "Bearer hpa-token"]) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("authentication is temporarily unavailable"))
            }
        }
    }
}
