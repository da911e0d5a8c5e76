import CustomMetricsAPI
@testable import CustomMetricsServer
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing

/// A `TableReviewer` that takes a while to answer, so concurrent requests overlap inside a review.
final class SlowReviewer: TokenReviewing, AccessReviewing {
    let table = TableReviewer()

    func review(token: String) async throws -> UserInfo? {
        try await Task.sleep(for: .milliseconds(300))
        return try await table.review(token: token)
    }

    func review(user: UserInfo, attributes: AuthorizationAttributes) async throws -> (allowed: Bool, reason: String) {
        try await Task.sleep(for: .milliseconds(300))
        return try await table.review(user: user, attributes: attributes)
    }
}

/// What an authenticated stranger can make the authorization layer spend, and how reviews are shared.
@Suite("Auth under hostile input: target length, served paths, coalescing, bounded caches")
struct AuthHardeningTests {
    static func app(_ reviewer: some TokenReviewing & AccessReviewing) -> some ApplicationProtocol {
        Application(router: buildRouter(
            provider: TableProvider(),
            auth: AuthConfiguration(tokenReviewer: reviewer, accessReviewer: reviewer, requestHeader: RequestHeaderAuthenticator())
        ))
    }

    @Test(.timeLimit(.minutes(1)), arguments: [
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/" + String(repeating: "p", count: 9000) + "/m",
        "/" + String(repeating: "x", count: 9000),
        "/apis/custom.metrics.k8s.io/v1beta2?labelSelector=" + String(repeating: "a", count: 9000),
    ])
    func anOverLongTargetIsRefusedBeforeAnyReview(path: String) async throws {
        let reviewer = TableReviewer()
        try await Self.app(reviewer).test(.router) { client in
            try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer nobody-token"]) { response in
                #expect(response.status.code == 414)
            }
        }
        #expect(reviewer.tokenReviews.withLock { $0 } == 0)
        #expect(reviewer.accessReviews.withLock { $0 } == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func nonResourceDecisionsAreKeyedByTheServedPath() async throws {
        let reviewer = TableReviewer()
        try await Self.app(reviewer).test(.router) { client in
            for path in ["/apis/custom.metrics.k8s.io/v1beta2", "/apis/custom.metrics.k8s.io/v1beta%32", "/apis/custom.metrics.k8s.io/v1beta2/"] {
                try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer nobody-token"]) { response in
                    #expect(response.status == .forbidden)
                    #expect(String(buffer: response.body).contains(#"cannot get path \"/apis/custom.metrics.k8s.io/v1beta2\""#))
                }
            }
        }
        #expect(reviewer.accessReviews.withLock { $0 } == 1)
    }

    @Test(.timeLimit(.minutes(1)), arguments: [("hpa-token", 200, 1, 1), ("unknown-token", 401, 1, 0)])
    func concurrentIdenticalReviewsAreMergedIntoOne(token: String, code: Int, tokenReviews: Int, accessReviews: Int) async throws {
        let reviewer = SlowReviewer()
        try await Self.app(reviewer).test(.router) { client in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        try await client.execute(uri: AuthTests.metricPath, method: .get, headers: [.authorization: "Bearer \(token)"]) { $0.status.code }
                    }
                }
                for try await status in group { #expect(status == code) }
            }
        }
        #expect(reviewer.table.tokenReviews.withLock { $0 } == tokenReviews)
        #expect(reviewer.table.accessReviews.withLock { $0 } == accessReviews)
    }

    @Test func theDecisionCacheIsBoundedByBytesWithConstantKeys() {
        let cache = ReviewCache<Int, String>(capacity: 10_000, maximumBytes: 64 << 10) { $0.utf8.count }
        let reason = String(repeating: "r", count: 15_000)
        for key in 0..<1000 { cache.store(reason, for: key, ttl: .seconds(60)) }
        #expect(cache.bytes <= 64 << 10)
        #expect(cache.count == (64 << 10) / (15_000 + ReviewCache<Int, String>.entryOverhead))
        let small = ReviewCache<Int, String>(capacity: 10_000, maximumBytes: 64 << 10) { $0.utf8.count }
        for key in 0..<10_000 { small.store("", for: key, ttl: .seconds(60)) }
        #expect(small.count == (64 << 10) / ReviewCache<Int, String>.entryOverhead)
    }

    @Test func decisionKeysAreDigestsThatTellUsersAndPathsApart() {
        let alice = UserInfo(username: "alice", groups: ["a"])
        let keys = [
            AuthMiddleware.digest(user: alice, attributes: .nonResource(verb: "get", path: "/x")),
            AuthMiddleware.digest(user: alice, attributes: .nonResource(verb: "get", path: "/y")),
            AuthMiddleware.digest(user: UserInfo(username: "alic", groups: ["ea"]), attributes: .nonResource(verb: "get", path: "/x")),
            AuthMiddleware.digest(user: alice, attributes: .nonResource(verb: "list", path: "/x")),
        ]
        #expect(Set(keys).count == keys.count)
        #expect(keys[0] == AuthMiddleware.digest(user: alice, attributes: .nonResource(verb: "get", path: "/x")))
    }
}
