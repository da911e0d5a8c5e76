import CustomMetricsAPI
import Testing

@Suite("MetricsRequest: paths and query strings as clients send them")
struct MetricsRequestTests {
    static let base = "/apis/custom.metrics.k8s.io"
    static let m = MetricQuery(name: "triton:queue_compute:ratio")

    @Test func groupAndDiscovery() throws {
        #expect(try MetricsRequest(path: Self.base, query: "") == .group)
        #expect(try MetricsRequest(path: Self.base + "/", query: "") == .group)
        #expect(try MetricsRequest(path: Self.base + "/v1beta2", query: "") == .discovery(.v1beta2))
        #expect(try MetricsRequest(path: Self.base + "/v1beta1/", query: "") == .discovery(.v1beta1))
    }

    @Test(arguments: [
        ("/v1beta2/namespaces/team-a/pods/%2A/triton:queue_compute:ratio", "labelSelector=app%3Dtriton"),
        ("/v1beta2/namespaces/team-a/pods/*/triton:queue_compute:ratio", "labelSelector=app=triton"),
        ("/v1beta2/namespaces/team-a/pods/%2a/triton%3Aqueue_compute%3Aratio", "labelSelector=app%3dtriton&other=1"),
    ])
    func podSelection(path: String, query: String) throws {
        let selector = try LabelSelector(parsing: "app=triton")
        #expect(try MetricsRequest(path: Self.base + path, query: query)
            == .selection(.v1beta2, resource: "pods", namespace: "team-a", selector: selector, Self.m))
    }

    @Test func plusIsASpaceInQueries() throws {
        let request = try MetricsRequest(
            path: Self.base + "/v1beta1/namespaces/ns/pods/%2A/m",
            query: "labelSelector=app+in+%28triton%2Cother%29&metricLabelSelector=model%3Dtensorrt_llm"
        )
        let selector = try LabelSelector(parsing: "app in (triton,other)")
        let metric = MetricQuery(name: "m", selector: try LabelSelector(parsing: "model=tensorrt_llm"))
        #expect(request == .selection(.v1beta1, resource: "pods", namespace: "ns", selector: selector, metric))
    }

    @Test func objectPaths() throws {
        #expect(try MetricsRequest(path: Self.base + "/v1beta2/namespaces/ns/pods/web-0/m", query: "")
            == .object(.v1beta2, ObjectKey(resource: "pods", namespace: "ns", name: "web-0"), MetricQuery(name: "m")))
        #expect(try MetricsRequest(path: Self.base + "/v1beta2/namespaces/ns/metrics/m", query: "")
            == .object(.v1beta2, ObjectKey(resource: "namespaces", namespace: nil, name: "ns"), MetricQuery(name: "m")))
        #expect(try MetricsRequest(path: Self.base + "/v1beta2/nodes/node-1/m", query: "")
            == .object(.v1beta2, ObjectKey(resource: "nodes", namespace: nil, name: "node-1"), MetricQuery(name: "m")))
        #expect(try MetricsRequest(path: Self.base + "/v1beta2/namespaces/ns/m", query: "")
            == .object(.v1beta2, ObjectKey(resource: "namespaces", namespace: nil, name: "ns"), MetricQuery(name: "m")))
        #expect(try MetricsRequest(path: Self.base + "/v1beta2/nodes/%2A/m", query: "")
            == .selection(.v1beta2, resource: "nodes", namespace: nil, selector: .everything, MetricQuery(name: "m")))
    }

    @Test(arguments: [
        ("/v1beta3", "", 404, "the server could not find the requested resource"),
        ("/v1beta2/namespaces/ns", "", 404, "the server could not find the requested resource"),
        ("/v1beta2/a/b/c/d/e/f", "", 404, "the server could not find the requested resource"),
        ("/v1beta2/namespaces/Team_A/pods/%2A/m", "", 400, "invalid namespace \"Team_A\""),
        ("/v1beta2/namespaces/ns/pods/Web_0/m", "", 400, "invalid pods name \"Web_0\""),
        ("/v1beta2/namespaces/ns/pods/a%2Fb/m", "", 400, "invalid pods name \"a/b\""),
        ("/v1beta2/namespaces/ns/pods/%ZZ/m", "", 400, "invalid percent-encoding in the request path segment \"%ZZ\""),
        ("/v1beta2/namespaces/ns/pods/%2A/m", "labelSelector=app+in+(", 400, "invalid labelSelector \"app in (\""),
        ("/v1beta2/namespaces/ns/pods/%2A/m", "metricLabelSelector=%3D", 400, "invalid metricLabelSelector \"=\""),
        ("/v1beta2/namespaces/ns/pods/%2A/m", "labelSelector=%E0%A4", 400, "invalid percent-encoding in the query string"),
        ("/v1beta2/namespaces/ns/pods/%2A/m", "labelSelector=a&labelSelector=b", 400, "the query parameter labelSelector is given more than once"),
        ("/v1beta2/namespaces/ns/pods/x/%20bad", "", 400, "invalid metric name \" bad\""),
        ("/v1beta2/namespaces/%0A/pods/x/m", "", 400, "invalid namespace \"\\u{a}\""),
    ])
    func rejects(path: String, query: String, code: Int, message: String) {
        #expect {
            try MetricsRequest(path: Self.base + path, query: query)
        } throws: { error in
            guard let error = error as? MetricsError else { return false }
            return error.code.httpStatus == code && error.message.hasPrefix(message)
        }
    }

    @Test func otherPrefixesAreNotFound() {
        #expect(throws: MetricsError.pathNotFound) { try MetricsRequest(path: "/apis/custom.metrics.k8s.iox", query: "") }
        #expect(throws: MetricsError.pathNotFound) { try MetricsRequest(path: "/apis/external.metrics.k8s.io/v1beta1", query: "") }
    }
}
