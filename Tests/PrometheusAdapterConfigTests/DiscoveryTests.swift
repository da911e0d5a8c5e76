import CustomMetricsAPI
import MetricRules
import PrometheusAdapterConfig
import Testing

@Suite("Series discovery follows prometheus-adapter")
struct DiscoveryTests {
    static let overrides = "{overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}"

    /// The metric names (`resource/name`) one rule gives for series with these names.
    static func names(
        _ name: String,
        filters: String = "[]",
        series: [String],
        labels: [String: String] = ["namespace": "a", "pod": "p"]
    ) throws -> [String] {
        let yaml = "rules: [{seriesQuery: q, seriesFilters: \(filters), name: \(name), resources: \(overrides), metricsQuery: x}]"
        let discovery = try MetricsDiscoveryConfig.parse(yaml: yaml).discoverCustomMetrics(seriesByQuery: [
            "q": series.map { labels.merging(["__name__": $0]) { $1 } },
        ])
        return discovery.metrics.filter { $0.resource == "pods" }.map(\.name)
    }

    /// `name.matches` is an unanchored search and `as` expands like Go's `Regexp.Expand`.
    @Test(arguments: [
        ("{matches: '^(.*)_total$', as: '${1}_per_second'}", ["http_requests_per_second"]),
        // `$1_per_second` is `${1_per_second}`, a group that does not exist: the name is empty, and a
        // metric without a name is not served.
        ("{matches: '^(.*)_total$', as: '$1_per_second'}", []),
        ("{matches: '^(?P<base>.*)_total$', as: '${base}_rate'}", ["http_requests_rate"]),
        ("{matches: '^(.*)_total$', as: '$$1'}", ["$1"]),
        ("{matches: '', as: ''}", ["http_requests_total", "queue_size"]),
        ("{matches: 'requests', as: ''}", ["requests"]),
        ("{matches: '\\pL+_total'}", ["requests_total"]),
        ("{matches: '(?i)HTTP_(.*)'}", ["requests_total"]),
        ("{as: 'constant'}", ["constant"]),
    ])
    func naming(name: String, expected: [String]) throws {
        #expect(try Self.names(name, series: ["http_requests_total", "queue_size"]) == expected)
    }

    @Test(arguments: [
        ("[{is: '_total$'}]", ["http_requests_total"]),
        ("[{isNot: '_total$'}]", ["queue_size"]),
        ("[{is: 'http'}, {isNot: 'size'}]", ["http_requests_total"]),
    ])
    func seriesFilters(filters: String, expected: [String]) throws {
        #expect(try Self.names("{}", filters: filters, series: ["http_requests_total", "queue_size"]) == expected)
    }

    @Test func laterSeriesWinsAndIsReported() throws {
        let config = try MetricsDiscoveryConfig.parse(yaml: """
            rules:
            - {seriesQuery: a, name: {as: requests}, resources: \(Self.overrides), metricsQuery: x}
            - {seriesQuery: b, name: {as: requests}, resources: \(Self.overrides), metricsQuery: y}
            """)
        let discovery = config.discoverCustomMetrics(seriesByQuery: [
            "a": [["__name__": "requests_a", "namespace": "n", "pod": "p"]],
            "b": [["__name__": "requests_b", "namespace": "n", "pod": "p"]],
        ])
        #expect(discovery.metrics.map { "\($0.resource)/\($0.name) ← \($0.seriesName)" } == [
            "namespaces/requests ← requests_b", "pods/requests ← requests_b",
        ])
        #expect(discovery.shadowed.map(\.description) == [
            "namespaces/requests: series requests_a (rule 0) replaced by requests_b (rule 1)",
            "pods/requests: series requests_a (rule 0) replaced by requests_b (rule 1)",
        ])
    }

    @Test func boundsAndGaps() throws {
        let config = try MetricsDiscoveryConfig.parse(yaml: """
            rules:
            - {seriesQuery: a, resources: \(Self.overrides), metricsQuery: x}
            - {seriesQuery: b, resources: \(Self.overrides), metricsQuery: x}
            """)
        let discovery = config.discoverCustomMetrics(
            seriesByQuery: ["a": [["__name__": "one", "pod": "p"], ["__name__": "two", "pod": "p"], ["__name__": "bare", "job": "j"]]],
            maxSeriesPerQuery: 1
        )
        #expect(discovery.metrics.map(\.info) == [MetricInfo(resource: "pods", namespaced: true, metric: "one")])
        #expect(discovery.truncatedQueries == ["a"])
        #expect(discovery.missingQueries == ["b"])
        let all = config.discoverCustomMetrics(seriesByQuery: ["a": [["__name__": "bare", "job": "j"]], "b": []])
        #expect(all.metrics.isEmpty && all.unattachedSeries == ["bare"] && all.missingQueries.isEmpty)
    }

    /// A `kube_<group>_<resource>` template: the group is read from the label, the label for namespaces is
    /// the template with an empty group (`kube__namespace`), as in prometheus-adapter.
    @Test func templateWithGroup() throws {
        let config = try MetricsDiscoveryConfig.parse(yaml: """
            rules:
            - seriesQuery: x
              resources: {template: "kube_<<.Group>>_<<.Resource>>"}
              metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
            """)
        let discovery = config.discoverCustomMetrics(seriesByQuery: [
            "x": [["__name__": "x", "kube_apps_deployment": "web", "kube_batch_job": "j", "kube_core_pod": "p", "kube__namespace": "n"]],
        ])
        #expect(discovery.metrics.map { "\($0.resource) \($0.resourceLabel) \($0.namespaceLabel ?? "-")" } == [
            "deployments.apps kube_apps_deployment kube__namespace", "jobs.batch kube_batch_job kube__namespace",
        ])
        #expect(try discovery.metrics[0].promql(namespace: "n") == #"sum(x{kube__namespace="n"}) by (kube_apps_deployment)"#)
    }

    @Test func overridesNormalizeResources() throws {
        let config = try MetricsDiscoveryConfig.parse(yaml: """
            rules:
            - seriesQuery: x
              resources:
                overrides:
                  kubernetes_namespace: {resource: namespaces}
                  node: {resource: Node}
                  microservice: {group: apps, resource: deployment}
                  rollout: {group: argoproj.io, resource: rollout}
              metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
            """)
        let discovery = config.discoverCustomMetrics(seriesByQuery: [
            "x": [["__name__": "x", "kubernetes_namespace": "n", "node": "gpu-1", "microservice": "web", "rollout": "r"]],
        ])
        #expect(discovery.metrics.map(\.info) == [
            MetricInfo(resource: "deployments.apps", namespaced: true, metric: "x"),
            MetricInfo(resource: "namespaces", namespaced: false, metric: "x"),
            MetricInfo(resource: "nodes", namespaced: false, metric: "x"),
            MetricInfo(resource: "rollouts.argoproj.io", namespaced: true, metric: "x"),
        ])
        let node = try #require(discovery.metrics.first { $0.resource == "nodes" })
        #expect(try node.promql(namespace: nil) == #"sum(x{node!=""}) by (node)"#)
        #expect(try node.promql(namespace: nil, objectName: "gpu-1") == #"sum(x{node="gpu-1"}) by (node)"#)
        let deployment = try #require(discovery.metrics.first { $0.resource == "deployments.apps" })
        #expect(try deployment.promql(namespace: "n") == #"sum(x{kubernetes_namespace="n"}) by (microservice)"#)
    }

    /// The catalog stands in for the cluster's discovery: custom resources it learns become templatable.
    @Test func catalogExtension() throws {
        let catalog = ResourceCatalog.kubernetes.adding([.init(group: "serving.kserve.io", plural: "inferenceservices", singular: "inferenceservice")])
        let yaml = "rules: [{seriesQuery: x, resources: {template: '<<.Resource>>'}, metricsQuery: x}]"
        let series = ["x": [["__name__": "x", "inferenceservice": "llm", "namespace": "n"]]]
        #expect(try MetricsDiscoveryConfig.parse(yaml: yaml).discoverCustomMetrics(seriesByQuery: series).metrics.map(\.resource)
            == ["namespaces"])
        #expect(try MetricsDiscoveryConfig.parse(yaml: yaml, catalog: catalog).discoverCustomMetrics(seriesByQuery: series).metrics.map(\.resource)
            == ["inferenceservices.serving.kserve.io", "namespaces"])
    }
}
