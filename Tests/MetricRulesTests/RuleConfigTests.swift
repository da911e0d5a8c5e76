import MetricRules
import Testing

@Suite("RuleConfig: the --config file, validated at start")
struct RuleConfigTests {
    static let query = "sum by (<<.GroupBy>>) (rate(x{<<.LabelMatchers>>}[<<.Window>>]))"

    @Test func fullRule() throws {
        let rules = try RuleConfig.parse(yaml: """
            metrics:
              - name: triton:queue_compute:ratio
                query: "\(Self.query)"
              - name: requests:rate
                resource: namespaces
                window: 2m
                query: "\(Self.query)"
              - name: gpu:util
                resource: nodes
                nameLabel: Hostname
                window: 30s
                query: "\(Self.query)"
            """)
        #expect(rules.rules == [
            MetricRule(name: "triton:queue_compute:ratio", resource: "pods", namespaced: true, namespaceLabel: "namespace",
                       nameLabel: "pod", windowSeconds: 60, query: try QueryTemplate(Self.query)),
            MetricRule(name: "requests:rate", resource: "namespaces", namespaced: false, namespaceLabel: nil,
                       nameLabel: "namespace", windowSeconds: 120, query: try QueryTemplate(Self.query)),
            MetricRule(name: "gpu:util", resource: "nodes", namespaced: false, namespaceLabel: nil,
                       nameLabel: "Hostname", windowSeconds: 30, query: try QueryTemplate(Self.query)),
        ])
    }

    @Test(arguments: [
        ("metrics: [", "the configuration is not valid YAML"),
        ("- a", "the configuration must be a YAML mapping with a `metrics:` list"),
        ("metrics: []", "`metrics:` must be a non-empty list of rules"),
        ("rules: []", "`rules:` is prometheus-adapter's rule format, which this parser of `metrics:` does not read"),
        ("metric: []", "unknown top-level key `metric` (expected `metrics`)"),
        ("metrics: [{query: x}]", "metrics[0]: `name` is required"),
        ("metrics: [{name: a}]", "metrics[0] \"a\": `query` is required"),
        ("metrics: [{name: a, query: q, colour: red}]", "metrics[0] \"a\": unknown field `colour`"),
        ("metrics: [{name: a, query: '{<<.LabelMatchers>>}'}]", "metrics[0] \"a\": query must use <<.GroupBy>>"),
        ("metrics: [{name: a, query: 'sum by (<<.GroupBy>>) (x)'}]", "metrics[0] \"a\": query must use <<.LabelMatchers>>"),
        ("metrics: [{name: a, query: '<<.Series>> <<.GroupBy>>'}]", "metrics[0] \"a\": query uses unknown placeholder <<.Series>>"),
        ("metrics: [{name: a, query: '<<.GroupBy'}]", "metrics[0] \"a\": query has a \"<<\" without a closing \">>\""),
        ("metrics: [{name: a, window: 90x, query: q}]", "metrics[0] \"a\": `window` \"90x\" is not a Prometheus duration"),
        ("metrics: [{name: a, nameLabel: 'pod-name', query: '<<.GroupBy>> <<.LabelMatchers>>'}]", "metrics[0] \"a\": \"pod-name\" is not a Prometheus label name"),
        ("metrics: [{name: 'a b', query: '<<.GroupBy>> <<.LabelMatchers>>'}]", "metrics[0] \"a b\": name must be non-empty"),
        ("metrics: [{name: a, resource: Pods, query: '<<.GroupBy>> <<.LabelMatchers>>'}]", "metrics[0] \"a\": resource \"Pods\" must be a lower-case plural"),
        ("metrics: [{name: a, resource: nodes, namespaceLabel: ns, query: q}]", "metrics[0] \"a\": `namespaceLabel` is only meaningful for namespaced resources"),
        ("metrics: [{name: a, namespaced: maybe, query: q}]", "metrics[0] \"a\": `namespaced` must be true or false"),
        ("metrics: [{name: a, query: '<<.GroupBy>> <<.LabelMatchers>>'}, {name: a, query: '<<.GroupBy>> <<.LabelMatchers>>'}]",
         "metrics[1] \"a\": another rule already serves pods/a"),
    ])
    func rejects(yaml: String, message: String) {
        #expect {
            try RuleConfig.parse(yaml: yaml)
        } throws: { error in
            (error as? RuleError)?.message.hasPrefix(message) == true
        }
    }
}
