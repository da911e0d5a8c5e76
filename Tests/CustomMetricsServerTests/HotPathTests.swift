import CustomMetricsAPI
@testable import CustomMetricsServer
import Testing

/// The shortcuts of the request path give the answers the long way gives.
@Suite("Hot path: kept request targets, bearer tokens read on bytes")
struct HotPathTests {
    @Test(arguments: [
        ("Bearer abc.def", "abc.def"), ("bearer abc", "abc"), ("BEARER  abc\t", "abc"), ("bEaReR x", "x"),
    ])
    func bearerTokens(header: String, token: String) {
        #expect(AuthMiddleware.bearerToken(header) == token)
    }

    @Test(arguments: ["Bearer ", "Bearer    ", "Basic abc", "Bearerabc", "Bearer", "", "Bear abc"])
    func notBearerTokens(header: String) {
        #expect(AuthMiddleware.bearerToken(header) == nil)
    }

    @Test func keptTargetsAreWhatParsingGives() {
        let targets = RequestTargets()
        let cases = [
            ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/%2A/m", "labelSelector=app%3Dtriton"),
            ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/%2A/m", "labelSelector=app%3Dother"),
            ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/A/pods/x/m", ""),
            ("/readyz", ""),
        ]
        for _ in 0..<2 {
            for (path, query) in cases {
                #expect(targets.target(path: path, query: query, maximumLength: 8192) == RequestTarget(path: path, query: query, maximumLength: 8192))
            }
        }
        #expect(targets.count == cases.count)
    }

    @Test func strangersCannotGrowTheKeptTargets() {
        let targets = RequestTargets()
        for index in 0..<(RequestTargets.capacity * 3) {
            _ = targets.target(path: "/x/\(index)", query: "", maximumLength: 8192)
        }
        #expect(targets.count <= RequestTargets.capacity)
        let long = "/" + String(repeating: "a", count: RequestTargets.maximumKeyBytes)
        let before = targets.count
        #expect(targets.target(path: long, query: "", maximumLength: 8192) == RequestTarget(path: long, query: "", maximumLength: 8192))
        #expect(targets.count == before)
    }
}
