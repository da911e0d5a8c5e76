import CustomMetricsAPI
import MetricRules
import PrometheusAdapterConfig
import Testing

/// `metricsQuery` is a Go template: what real configurations write in it renders as Go renders it.
@Suite("metricsQuery templates")
struct MetricsQueryTemplateTests {
    /// The PromQL `metricsQuery` gives for `pods/up` (or `namespaces/up`) in a configuration with only it.
    static func render(
        _ metricsQuery: String,
        resource: String = "pods",
        namespace: String? = "team-a",
        objectName: String? = nil,
        selector: String = ""
    ) throws -> String {
        let yaml = """
            rules:
            - seriesQuery: up
              resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
              metricsQuery: |-
                \(metricsQuery)
            """
        let discovery = try MetricsDiscoveryConfig.parse(yaml: yaml).discoverCustomMetrics(seriesByQuery: [
            "up": [["__name__": "up", "namespace": "team-a", "pod": "web-1"]],
        ])
        let metric = try #require(discovery.metrics.first { $0.resource == resource })
        return try metric.promql(namespace: namespace, objectName: objectName, metricSelector: LabelSelector(parsing: selector))
    }

    @Test(arguments: [
        ("<<.Series>>{<<.LabelMatchers>>}", #"up{namespace="team-a"}"#),
        // pkg/naming/metrics_query_test.go: "single GroupBySlice value" renders `[resource]`.
        ("<<.GroupBySlice>> <<.GroupBy>>", "[pod] pod"),
        ("sum by (<<range $i, $v := .GroupBySlice>><<if $i>>,<<end>><<$v>><<end>>) (x)", "sum by (pod) (x)"),
        ("sum by (<<range .GroupBySlice ->>  <<.>>  <<- end>>) (x)", "sum by (pod) (x)"),
        (#"x{namespace="<<index .LabelValuesByName "namespace">>",pod=~"<<index .LabelValuesByName "pod">>"}"#,
         #"x{namespace="team-a",pod=~".+"}"#),
        ("<<.LabelValuesByName.model>>|<<index .LabelValuesByName \"model\">>|", "<no value>||"),
        ("x<</* a comment */>>y", "xy"),
        (#"<<printf "%s{%s}" .Series .LabelMatchers>>"#, #"up{namespace="team-a"}"#),
        (#"<<.GroupBy | printf "by (%s)">>"#, "by (pod)"),
        ("<<if eq (len .GroupBySlice) 1>>one<<else>>many<<end>>", "one"),
        (#"<<if eq .GroupBy "node">>n<<else if eq .GroupBy "pod" "service">>p<<else>>o<<end>>"#, "p"),
        ("<<with .LabelValuesByName>><<.namespace>><<end>>", "team-a"),
        ("<<$g := .GroupBy>><<$g = print $g \"_name\">><<$g>>", "pod_name"),
        (#"<<or (index .LabelValuesByName "model") "all">> <<and 1 0 2>> <<not .GroupBy>>"#, "all 0 false"),
        ("<<`raw\\n`>> <<\"tab\\tend\">>", "raw\\n tab\tend"),
        ("<<print 1 2 \"a\" 3>> <<len .Series>> <<$.GroupBy>>", "1 2a3 2 pod"),
    ])
    func goTemplate(metricsQuery: String, expected: String) throws {
        #expect(try Self.render(metricsQuery) == expected)
    }

    /// kube-prometheus users' Kafka rule (`range` over `.LabelValuesByName`, keys sorted as Go sorts them).
    @Test func rangeOverLabelValues() throws {
        let query = #"x{<< range $key, $value := .LabelValuesByName >><< if ne $key "namespace" >><< $key >>="<< $value >>",<<end >><< end >>}"#
        #expect(try Self.render(query, selector: "topic=orders") == #"x{pod=".+",topic="orders",}"#)
    }

    @Test func labelValuesByName() throws {
        // pkg/naming/metrics_query_test.go, "single LabelValuesByName with multiple selectors": `map[foo:bar|baz]`.
        // Here each value is a regex matching exactly it, and the object label holds `.+` (every pod).
        #expect(try Self.render("<<.LabelValuesByName>>", selector: "model in (a.b,c)")
            == #"map[model:a\\.b|c namespace:team-a pod:.+]"#)
        #expect(try Self.render(#"<<.LabelMatchers>>|<<index .LabelValuesByName "pod">>"#, objectName: "web.1")
            == #"namespace="team-a",pod="web.1"|web\\.1"#)
    }

    @Test func requestValuesAreEscaped() throws {
        let hostile = #"x"} or vector(1) or {a=""#
        #expect(try Self.render(#"<<.LabelMatchers>> '<<index .LabelValuesByName "namespace">>'"#, namespace: hostile)
            == #"namespace="x\"} or vector(1) or {a=\"" 'x\x22\\} or vector\\(1\\) or \\{a=\x22'"#)
        #expect(try Self.render("<<.LabelMatchers>>", selector: "model in (a.b)")
            == #"model=~"a\\.b",namespace="team-a""#)
    }

    @Test func clusterScopedSelectionStaysValidPromQL() throws {
        // With no namespace, no object and no selector there is nothing to match: the object label must
        // be present, so `{<<.LabelMatchers>>,…}` does not become `{,…}`.
        #expect(try Self.render(#"sum(x{<<.LabelMatchers>>,job="a"}) by (<<.GroupBy>>)"#, resource: "namespaces", namespace: nil)
            == #"sum(x{namespace!="",job="a"}) by (namespace)"#)
        #expect(try Self.render(#"sum(x{<<.LabelMatchers>>}) by (<<.GroupBy>>)"#, resource: "namespaces", namespace: nil, objectName: "team-a")
            == #"sum(x{namespace="team-a"}) by (namespace)"#)
    }

    @Test(arguments: [
        ("version>1", #"invalid metricLabelSelector: "version>1" compares numbers, which Prometheus label matchers cannot do"#),
        ("example.com/model=x", #"invalid metricLabelSelector: "example.com/model" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"#),
    ])
    func unsupportedMetricSelectors(selector: String, message: String) {
        #expect(throws: MetricsError(.badRequest, message)) {
            try Self.render("<<.LabelMatchers>>", selector: selector)
        }
    }

    @Test func namespaceMustFitTheScope() {
        #expect(throws: MetricsError(.badRequest, "namespaces are cluster-scoped: ask for up without a namespace")) {
            try Self.render("<<.LabelMatchers>>", resource: "namespaces", namespace: "team-a")
        }
        #expect(throws: MetricsError(.badRequest, "pods are namespaced: ask for up in a namespace")) {
            try Self.render("<<.LabelMatchers>>", resource: "pods", namespace: nil)
        }
    }
}
