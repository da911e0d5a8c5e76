import CustomMetricsAPI
import MetricRules
import PrometheusAdapterConfig
import Testing

/// Real configurations read unchanged: the metrics they expose for fixture series, and the PromQL sent,
/// next to the PromQL prometheus-adapter documents for the same request.
///
/// prometheus-adapter's `<<.LabelMatchers>>` for a selection of pods is the metric selector, then
/// `namespace="…"`, then `pod=~"a|b"` (docs/config.md, "Querying"; pkg/naming/metrics_query.go, `Build`).
/// Ours stops before the pod regex: the query covers the namespace and the provider keeps the pods it
/// selected. Everything else in each expected string is what prometheus-adapter sends.
@Suite("Real prometheus-adapter configurations")
struct RealConfigTests {
    static let containerQuery = #"{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}"#
    static let namespacedQuery = #"{namespace!="",__name__!~"^container_.*"}"#

    /// `resource/name ← series (rule)` for each discovered metric.
    static func summary(_ discovery: Discovery<DiscoveredMetric>) -> [String] {
        discovery.metrics.map { "\($0.resource)/\($0.name) ← \($0.seriesName) (rules[\($0.ruleIndex)])" }
    }

    static func metric(_ discovery: Discovery<DiscoveredMetric>, _ resource: String, _ name: String) throws -> DiscoveredMetric {
        try #require(discovery.metrics.first { $0.resource == resource && $0.name == name })
    }

    // MARK: - kube-prometheus

    @Test func kubePrometheusDiscovery() throws {
        let config = try MetricsDiscoveryConfig.parse(yaml: Fixtures.kubePrometheus)
        #expect(config.seriesQueries == [Self.containerQuery, Self.namespacedQuery])
        let discovery = config.discoverCustomMetrics(seriesByQuery: [
            Self.containerQuery: Fixtures.containerSeries,
            Self.namespacedQuery: Fixtures.namespacedSeries,
        ])
        // `_seconds_total` and `_total` lose their suffix (kube-prometheus has no `_per_second`); counters
        // without `_total`, such as Triton's microsecond counters, are served as gauges. `<<.Resource>>`
        // makes every label that names a resource a resource: `job` is jobs.batch, `service` services.
        #expect(Self.summary(discovery) == [
            "deployments.apps/kube_deployment_status_replicas ← kube_deployment_status_replicas (rules[3])",
            "jobs.batch/http_requests ← http_requests_total (rules[4])",
            "jobs.batch/kube_deployment_status_replicas ← kube_deployment_status_replicas (rules[3])",
            "jobs.batch/nv_inference_queue_duration_us ← nv_inference_queue_duration_us (rules[3])",
            "jobs.batch/nv_inference_request_success ← nv_inference_request_success (rules[3])",
            "jobs.batch/process_cpu ← process_cpu_seconds_total (rules[5])",
            "namespaces/cpu_usage ← container_cpu_usage_seconds_total (rules[0])",
            "namespaces/http_requests ← http_requests_total (rules[4])",
            "namespaces/kube_deployment_status_replicas ← kube_deployment_status_replicas (rules[3])",
            "namespaces/memory_working_set_bytes ← container_memory_working_set_bytes (rules[2])",
            "namespaces/network_receive_bytes ← container_network_receive_bytes_total (rules[1])",
            "namespaces/nv_inference_queue_duration_us ← nv_inference_queue_duration_us (rules[3])",
            "namespaces/nv_inference_request_success ← nv_inference_request_success (rules[3])",
            "namespaces/process_cpu ← process_cpu_seconds_total (rules[5])",
            "pods/cpu_usage ← container_cpu_usage_seconds_total (rules[0])",
            "pods/http_requests ← http_requests_total (rules[4])",
            "pods/memory_working_set_bytes ← container_memory_working_set_bytes (rules[2])",
            "pods/network_receive_bytes ← container_network_receive_bytes_total (rules[1])",
            "pods/nv_inference_queue_duration_us ← nv_inference_queue_duration_us (rules[3])",
            "pods/nv_inference_request_success ← nv_inference_request_success (rules[3])",
            "pods/process_cpu ← process_cpu_seconds_total (rules[5])",
            "services/http_requests ← http_requests_total (rules[4])",
            "services/kube_deployment_status_replicas ← kube_deployment_status_replicas (rules[3])",
            "services/process_cpu ← process_cpu_seconds_total (rules[5])",
        ])
        #expect(discovery.shadowed.isEmpty && discovery.truncatedQueries.isEmpty && discovery.missingQueries.isEmpty)
        let cpu = try Self.metric(discovery, "pods", "cpu_usage")
        #expect(cpu.info == MetricInfo(resource: "pods", namespaced: true, metric: "cpu_usage"))
        #expect((cpu.resourceLabel, cpu.namespaceLabel, cpu.windowSeconds) == ("pod", "namespace", 60))
        #expect(try Self.metric(discovery, "namespaces", "cpu_usage").namespaced == false)
    }

    @Test func kubePrometheusQueries() throws {
        let discovery = try MetricsDiscoveryConfig.parse(yaml: Fixtures.kubePrometheus).discoverCustomMetrics(seriesByQuery: [
            Self.containerQuery: Fixtures.containerSeries,
            Self.namespacedQuery: Fixtures.namespacedSeries,
        ])
        // prometheus-adapter, for pods triton-a and triton-b:
        // sum(rate(container_cpu_usage_seconds_total{namespace="team-a",pod=~"triton-a|triton-b",container!="POD"}[1m])) by (pod)
        #expect(try Self.metric(discovery, "pods", "cpu_usage").promql(namespace: "team-a")
            == #"sum(rate(container_cpu_usage_seconds_total{namespace="team-a",container!="POD"}[1m])) by (pod)"#)
        // prometheus-adapter: sum(nv_inference_queue_duration_us{model="tensorrt_llm",namespace="team-a",pod=~"…"}) by (pod)
        #expect(try Self.metric(discovery, "pods", "nv_inference_queue_duration_us")
            .promql(namespace: "team-a", metricSelector: LabelSelector(parsing: "model=tensorrt_llm"))
            == #"sum(nv_inference_queue_duration_us{model="tensorrt_llm",namespace="team-a"}) by (pod)"#)
        // One namespace object: the same as prometheus-adapter, which matches one name with `=`.
        #expect(try Self.metric(discovery, "namespaces", "http_requests").promql(namespace: nil, objectName: "team-a")
            == #"sum(rate(http_requests_total{namespace="team-a"}[1m])) by (namespace)"#)
        #expect(try Self.metric(discovery, "jobs.batch", "process_cpu").promql(namespace: "team-a")
            == #"sum(rate(process_cpu_seconds_total{namespace="team-a"}[1m])) by (job)"#)
    }

    // MARK: - prometheus-community chart

    @Test func helmChartDefaults() throws {
        let config = try MetricsDiscoveryConfig.parse(yaml: Fixtures.helmChartDefault)
        #expect(config.rules.map(\.windowSeconds) == [300, 300, nil, nil, 300, 300])
        let discovery = config.discoverCustomMetrics(seriesByQuery: [
            Self.containerQuery: Fixtures.containerSeries,
            Self.namespacedQuery: Fixtures.namespacedSeries,
        ])
        let kubePrometheus = try MetricsDiscoveryConfig.parse(yaml: Fixtures.kubePrometheus).discoverCustomMetrics(seriesByQuery: [
            Self.containerQuery: Fixtures.containerSeries,
            Self.namespacedQuery: Fixtures.namespacedSeries,
        ])
        #expect(Self.summary(discovery) == Self.summary(kubePrometheus))
        // prometheus-adapter: sum(rate(container_network_receive_bytes_total{namespace="team-a",pod=~"…",container!="POD"}[5m])) by (pod)
        #expect(try Self.metric(discovery, "pods", "network_receive_bytes").promql(namespace: "team-a")
            == #"sum(rate(container_network_receive_bytes_total{namespace="team-a",container!="POD"}[5m])) by (pod)"#)
        // A single pod is matched exactly, as prometheus-adapter does for one name.
        #expect(try Self.metric(discovery, "pods", "http_requests").promql(namespace: "team-a", objectName: "api-5b6c-xyz12")
            == #"sum(rate(http_requests_total{namespace="team-a",pod="api-5b6c-xyz12"}[5m])) by (pod)"#)
    }

    // MARK: - NVIDIA Triton

    @Test func tritonTutorialRatioThroughChartDefaults() throws {
        let discovery = try MetricsDiscoveryConfig.parse(yaml: Fixtures.helmChartDefault).discoverCustomMetrics(seriesByQuery: [
            Self.containerQuery: [],
            Self.namespacedQuery: Fixtures.tritonRatioSeries,
        ])
        #expect(Self.summary(discovery) == [
            "jobs.batch/triton:queue_compute:ratio ← triton:queue_compute:ratio (rules[3])",
            "namespaces/triton:queue_compute:ratio ← triton:queue_compute:ratio (rules[3])",
            "pods/triton:queue_compute:ratio ← triton:queue_compute:ratio (rules[3])",
        ])
        let ratio = try Self.metric(discovery, "pods", "triton:queue_compute:ratio")
        #expect(ratio.windowSeconds == nil)
        // prometheus-adapter, for the HPA's two pods:
        // sum(triton:queue_compute:ratio{namespace="default",pod=~"llama-3-8b-7c9f5-abcde|llama-3-8b-7c9f5-fghij"}) by (pod)
        // The sum adds the ratios of the ensemble and its three models; a metricLabelSelector picks one.
        #expect(try ratio.promql(namespace: "default") == #"sum(triton:queue_compute:ratio{namespace="default"}) by (pod)"#)
        #expect(try ratio.promql(namespace: "default", metricSelector: LabelSelector(parsing: "model=tensorrt_llm"))
            == #"sum(triton:queue_compute:ratio{model="tensorrt_llm",namespace="default"}) by (pod)"#)
    }

    @Test func tritonAverageQueueTime() throws {
        let config = try MetricsDiscoveryConfig.parse(yaml: Fixtures.tritonAverageQueueTime)
        let query = #"nv_inference_queue_duration_us{namespace="default"}"#
        #expect(config.seriesQueries == [query])
        let series = Fixtures.tritonRatioSeries.prefix(2).map { $0.merging(["__name__": "nv_inference_queue_duration_us"]) { $1 } }
        let discovery = config.discoverCustomMetrics(seriesByQuery: [query: Array(series)])
        #expect(Self.summary(discovery) == [
            "namespaces/avg_time_queue_ms ← nv_inference_queue_duration_us (rules[0])",
            "pods/avg_time_queue_ms ← nv_inference_queue_duration_us (rules[0])",
        ])
        // prometheus-adapter: avg(delta(nv_inference_queue_duration_us{namespace="default",pod=~"…"}[1m])
        //   /(1+delta(nv_inference_request_success{namespace="default",pod=~"…"}[1m]))/1000) by (pod)
        #expect(try Self.metric(discovery, "pods", "avg_time_queue_ms").promql(namespace: "default")
            == #"avg(delta(nv_inference_queue_duration_us{namespace="default"}[1m])/(1+delta(nv_inference_request_success{namespace="default"}[1m]))/1000) by (pod)"#)
        // The namespace as an object: identical to prometheus-adapter.
        #expect(try Self.metric(discovery, "namespaces", "avg_time_queue_ms").promql(namespace: nil, objectName: "default")
            == #"avg(delta(nv_inference_queue_duration_us{namespace="default"}[1m])/(1+delta(nv_inference_request_success{namespace="default"}[1m]))/1000) by (namespace)"#)
    }

    // MARK: - prometheus-adapter's own documentation

    @Test func configWalkthrough() throws {
        let query = #"http_requests_total{kubernetes_namespace!="",kubernetes_pod_name!=""}"#
        let discovery = try MetricsDiscoveryConfig.parse(yaml: Fixtures.walkthrough).discoverCustomMetrics(seriesByQuery: [
            query: [[
                "__name__": "http_requests_total", "method": "GET", "kubernetes_namespace": "production",
                "kubernetes_pod_name": "frontend-server-abcd-0123",
            ]],
        ])
        #expect(Self.summary(discovery) == [
            "namespaces/http_requests_per_second ← http_requests_total (rules[0])",
            "pods/http_requests_per_second ← http_requests_total (rules[0])",
        ])
        // docs/config-walkthrough.md writes the query it stands for as
        // sum(rate(http_requests_total{kubernetes_namespace="production",kubernetes_pod_name=~"frontend-server-abcd-0123|fronted-server-abcd-4567"}[2m])) by (kubernetes_pod_name)
        #expect(try Self.metric(discovery, "pods", "http_requests_per_second").promql(namespace: "production")
            == #"sum(rate(http_requests_total{kubernetes_namespace="production"}[2m])) by (kubernetes_pod_name)"#)
    }

    @Test func externalRules() throws {
        let config = try MetricsDiscoveryConfig.parse(yaml: Fixtures.external)
        let lag = #"{__name__="queue_consumer_lag",name!=""}"#
        let depth = #"{__name__="queue_depth",topic!=""}"#
        let discovery = config.discoverExternalMetrics(seriesByQuery: [
            lag: [["__name__": "queue_consumer_lag", "name": "orders", "namespace": "shop"]],
            depth: [["__name__": "queue_depth", "topic": "orders", "name": "orders"]],
        ])
        #expect(discovery.metrics.map { "\($0.name) ← \($0.seriesName) (externalRules[\($0.ruleIndex)])" } == [
            "queue_consumer_lag ← queue_consumer_lag (externalRules[0])",
            "queue_depth ← queue_depth (externalRules[1])",
        ])
        let consumerLag = discovery.metrics[0], queueDepth = discovery.metrics[1]
        // pkg/naming/metrics_query_test.go, TestBuildExternalSelector: `foo="bar",namespaces="default"`,
        // the metric selector first, then the namespace; nothing when the rule is not namespaced.
        #expect(try consumerLag.promql(namespace: "shop", metricSelector: LabelSelector(parsing: "name=orders"))
            == #"sum(queue_consumer_lag{name="orders",namespace="shop"}) by (name)"#)
        #expect(try queueDepth.promql(namespace: "shop", metricSelector: LabelSelector(parsing: "topic in (orders,returns)"))
            == #"sum(queue_depth{topic=~"orders|returns"}) by (name)"#)
        #expect(try queueDepth.promql(namespace: "shop") == "sum(queue_depth{}) by (name)")
    }
}
