/// Real prometheus-adapter configurations, written here by hand (configuration data, trimmed to what the
/// tests use), and the series a cluster running them would return from `/api/v1/series`.
enum Fixtures {
    // MARK: - Configurations

    /// kube-prometheus, jsonnet/kube-prometheus/addons/custom-metrics.libsonnet: the `config.rules` the
    /// addon adds to prometheus-adapter, transcribed from jsonnet to YAML.
    static let kubePrometheus = #"""
        rules:
        - seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
          seriesFilters: []
          resources:
            overrides:
              namespace: {resource: namespace}
              pod: {resource: pod}
          name: {matches: '^container_(.*)_seconds_total$', as: ''}
          metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[1m])) by (<<.GroupBy>>)'
        - seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
          seriesFilters:
          - isNot: '^container_.*_seconds_total$'
          resources:
            overrides:
              namespace: {resource: namespace}
              pod: {resource: pod}
          name: {matches: '^container_(.*)_total$', as: ''}
          metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[1m])) by (<<.GroupBy>>)'
        - seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
          seriesFilters:
          - isNot: '^container_.*_total$'
          resources:
            overrides:
              namespace: {resource: namespace}
              pod: {resource: pod}
          name: {matches: '^container_(.*)$', as: ''}
          metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)'
        - seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
          seriesFilters:
          - isNot: '.*_total$'
          resources: {template: '<<.Resource>>'}
          name: {matches: '', as: ''}
          metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
        - seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
          seriesFilters:
          - isNot: '.*_seconds_total'
          resources: {template: '<<.Resource>>'}
          name: {matches: '^(.*)_total$', as: ''}
          metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
        - seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
          seriesFilters: []
          resources: {template: '<<.Resource>>'}
          name: {matches: '^(.*)_seconds_total$', as: ''}
          metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
        """#

    /// prometheus-community/helm-charts, charts/prometheus-adapter (chart 5.3.0): the `config.yaml` that
    /// templates/configmap.yaml renders with the default values (`rules.default: true`). The same six
    /// rules as kube-prometheus with `[5m]` windows; two of them as rendered (folded `metricsQuery`).
    static let helmChartDefault = #"""
        rules:
        - seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
          seriesFilters: []
          resources:
            overrides:
              namespace:
                resource: namespace
              pod:
                resource: pod
          name:
            matches: ^container_(.*)_seconds_total$
            as: ""
          metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m]))
            by (<<.GroupBy>>)
        - seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
          seriesFilters:
          - isNot: ^container_.*_seconds_total$
          resources:
            overrides:
              namespace:
                resource: namespace
              pod:
                resource: pod
          name:
            matches: ^container_(.*)_total$
            as: ""
          metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m]))
            by (<<.GroupBy>>)
        - seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
          seriesFilters:
          - isNot: ^container_.*_total$
          resources:
            overrides:
              namespace:
                resource: namespace
              pod:
                resource: pod
          name:
            matches: ^container_(.*)$
            as: ""
          metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)
        - seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
          seriesFilters:
          - isNot: .*_total$
          resources:
            template: <<.Resource>>
          name:
            matches: ""
            as: ""
          metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
        - seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
          seriesFilters:
          - isNot: .*_seconds_total
          resources:
            template: <<.Resource>>
          name:
            matches: ^(.*)_total$
            as: ""
          metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
        - seriesQuery: '{namespace!="",__name__!~"^container_.*"}'
          seriesFilters: []
          resources:
            template: <<.Resource>>
          name:
            matches: ^(.*)_seconds_total$
            as: ""
          metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
        """#

    /// NVIDIA's "Triton Inference Server on Kubernetes" hands-on lab (DeepOps): the custom rule its
    /// yaml/prometheus-adapter.values add under `rules.custom`. The same rule, with `[30s]`, is the
    /// `adapter-config` ConfigMap (scaling_yamls/custom-metric-server-config.yaml) of a Merlin-on-EKS
    /// example derived from NVIDIA's.
    static let tritonAverageQueueTime = #"""
        rules:
        - seriesQuery: 'nv_inference_queue_duration_us{namespace="default"}'
          resources:
            overrides:
              namespace: {resource: "namespace"}
              pod: {resource: "pod"}
          name:
            matches: "nv_inference_queue_duration_us"
            as: "avg_time_queue_ms"
          metricsQuery: "avg(delta(nv_inference_queue_duration_us{<<.LabelMatchers>>}[1m])/(1+delta(nv_inference_request_success{<<.LabelMatchers>>}[1m]))/1000) by (<<.GroupBy>>)"
        """#

    /// kubernetes-sigs/prometheus-adapter, docs/config-walkthrough.md: the finished per-pod HTTP requests rule.
    static let walkthrough = #"""
        rules:
        - seriesQuery: 'http_requests_total{kubernetes_namespace!="",kubernetes_pod_name!=""}'
          resources:
            overrides:
              kubernetes_namespace: {resource: "namespace"}
              kubernetes_pod_name: {resource: "pod"}
          name:
            matches: "^(.*)_total"
            as: "${1}_per_second"
          metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
        """#

    /// kubernetes-sigs/prometheus-adapter, docs/sample-config.yaml: its second external rule, and
    /// docs/externalmetrics.md's namespaced one.
    static let external = #"""
        externalRules:
        - seriesQuery: '{__name__="queue_consumer_lag",name!=""}'
          metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (name)
          resources:
            overrides: { namespace: {resource: "namespace"} }
        - seriesQuery: '{__name__="queue_depth",topic!=""}'
          metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (name)
          resources:
            namespaced: false
        """#

    // MARK: - Series

    /// What `{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}` returns: cAdvisor series
    /// as kube-prometheus' kubelet ServiceMonitor labels them.
    static let containerSeries: [[String: String]] = [
        cadvisor("container_cpu_usage_seconds_total", ["cpu": "total"]),
        cadvisor("container_memory_working_set_bytes"),
        cadvisor("container_network_receive_bytes_total", ["interface": "eth0"], container: nil),
        cadvisor("container_network_receive_bytes_total", ["interface": "eth1"], container: nil),
    ]

    /// What `{namespace!="",__name__!~"^container_.*"}` returns: Triton's counters through a PodMonitor
    /// (one series per model), an application's counters through a ServiceMonitor, a kube-state-metrics
    /// gauge.
    static let namespacedSeries: [[String: String]] = [
        triton("nv_inference_queue_duration_us", model: "ensemble"),
        triton("nv_inference_queue_duration_us", model: "tensorrt_llm"),
        triton("nv_inference_request_success", model: "tensorrt_llm"),
        app("http_requests_total"),
        app("process_cpu_seconds_total"),
        [
            "__name__": "kube_deployment_status_replicas", "container": "kube-rbac-proxy-main", "deployment": "triton",
            "endpoint": "https-main", "instance": "10.0.3.4:8443", "job": "kube-state-metrics", "namespace": "team-a",
            "service": "kube-state-metrics",
        ],
    ]

    /// The series of the recording rule `triton:queue_compute:ratio` of NVIDIA's
    /// triton-inference-server/tutorials (Deployment/Kubernetes/TensorRT-LLM_Autoscaling_and_Load_Balancing),
    /// whose HPA reads it through prometheus-adapter installed with the chart's default rules: one series
    /// per model of each pod, with the PodMonitor's target labels.
    static let tritonRatioSeries: [[String: String]] = ["ensemble", "preprocessing", "tensorrt_llm", "postprocessing"].flatMap { model in
        ["llama-3-8b-7c9f5-abcde", "llama-3-8b-7c9f5-fghij"].map { pod in
            [
                "__name__": "triton:queue_compute:ratio", "container": "triton", "endpoint": "metrics",
                "instance": "10.1.2.3:8002", "job": "default/llama-3-8b", "model": model, "namespace": "default",
                "pod": pod, "version": "1",
            ]
        }
    }

    private static func cadvisor(_ name: String, _ extra: [String: String] = [:], container: String? = "triton") -> [String: String] {
        var labels = [
            "__name__": name, "endpoint": "https-metrics", "id": "/kubepods/burstable/pod0/abc", "image": "nvcr.io/nvidia/tritonserver",
            "instance": "10.0.0.5:10250", "job": "kubelet", "metrics_path": "/metrics/cadvisor", "name": "abc",
            "namespace": "team-a", "node": "gpu-node-1", "pod": "triton-7d9f-abcde", "service": "kubelet",
        ]
        labels["container"] = container
        return labels.merging(extra) { $1 }
    }

    private static func triton(_ name: String, model: String) -> [String: String] {
        [
            "__name__": name, "container": "triton", "endpoint": "metrics", "instance": "10.0.1.7:8002",
            "job": "team-a/triton", "model": model, "namespace": "team-a", "pod": "triton-7d9f-abcde", "version": "1",
        ]
    }

    private static func app(_ name: String) -> [String: String] {
        [
            "__name__": name, "container": "api", "endpoint": "http", "instance": "10.0.2.9:8080", "job": "api",
            "namespace": "team-a", "pod": "api-5b6c-xyz12", "service": "api",
        ]
    }
}
