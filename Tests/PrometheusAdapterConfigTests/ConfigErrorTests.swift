import MetricRules
import PrometheusAdapterConfig
import Testing

@Suite("Configuration errors name the rule and the field")
struct ConfigErrorTests {
    static let query = "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
    /// A valid rule, to put before or around the wrong one.
    static let valid = "{seriesQuery: 'up', resources: {template: '<<.Resource>>'}, metricsQuery: '\(query)'}"

    static func rule(_ fields: String) -> String {
        "rules: [{seriesQuery: 'up', resources: {template: '<<.Resource>>'}, metricsQuery: '\(query)', \(fields)}]"
    }

    @Test(arguments: [
        ("rules: [", "the configuration is not valid YAML"),
        ("- a", "the configuration must be a mapping"),
        ("metrics: []", "metrics: unknown field (expected one of rules, externalRules, resourceRules)"),
        ("rules: []", "the configuration has no rules: write them under `rules:` (custom metrics) or `externalRules:`"),
        ("rules: {a: b}", "rules: must be a list"),
        ("rules: [\(valid)]\nresourceRules: {window: 5m}",
         "resourceRules (the resource metrics API, metrics.k8s.io) is not served by this adapter: use metrics-server for `kubectl top` and CPU/memory autoscaling, and remove `resourceRules:` from this file"),
        ("rules: [\(valid), {metricsQuery: q, resources: {template: '<<.Resource>>'}}]", "rules[1]: seriesQuery is empty"),
        ("rules: [{seriesQuery: up, resources: {template: '<<.Resource>>'}}]", "rules[0]: metricsQuery is empty"),
        ("rules: [\(valid), \(valid), {seriesQuery: up, name: {matches: '('}, resources: {template: '<<.Resource>>'}, metricsQuery: q}]",
         #"rules[2].name.matches: invalid regular expression "(": "#),
        (rule("name: {matches: 'a(b)\\1'}"), #"rules[0].name.matches: invalid regular expression "a(b)\\1": invalid escape sequence: `\1` (back-references are not supported)"#),
        (rule("name: {matches: '^(a)_(b)$'}"), #"rules[0].name.as: is required: "^(a)_(b)$" has 2 capture groups"#),
        (rule("seriesFilters: [{is: a, isNot: b}]"), "rules[0].seriesFilters[0]: has both `is` and `isNot`; write one filter for each"),
        (rule("seriesFilters: [{}]"), "rules[0].seriesFilters[0]: needs `is` or `isNot`"),
        (rule("seriesFilters: [{isNot: '(?=x)'}]"), #"rules[0].seriesFilters[0].isNot: invalid regular expression "(?=x)": invalid or unsupported Perl syntax: `(?=`"#),
        (rule("colour: red"), "rules[0].colour: unknown field (expected one of seriesQuery, seriesFilters, resources, name, metricsQuery)"),
        ("rules: [{seriesQuery: up, resources: {template: '<<.Foo>>_<<.Resource>>'}, metricsQuery: q}]",
         "rules[0].resources.template: unknown placeholder <<.Foo>> (known: <<.Group>>, <<.Resource>>)"),
        ("rules: [{seriesQuery: up, resources: {template: 'kube_<<.Group>>'}, metricsQuery: q}]",
         "rules[0].resources.template: must include <<.Resource>>, which becomes the resource a label names"),
        ("rules: [{seriesQuery: up, resources: {overrides: {pod: {resource: pod, kind: Pod}}}, metricsQuery: q}]",
         "rules[0].resources.overrides.pod.kind: unknown field (expected one of group, resource)"),
        ("rules: [{seriesQuery: up, resources: {overrides: {pod: {group: ''}}}, metricsQuery: q}]",
         "rules[0].resources.overrides.pod.resource: is required (a resource such as pod, namespace or service)"),
        ("rules: [{seriesQuery: up, resources: {overrides: {pod-name: {resource: pod}}}, metricsQuery: q}]",
         #"rules[0].resources.overrides.pod-name: "pod-name" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"#),
        ("rules: [{seriesQuery: up, resources: {overrides: {a: {resource: pod}, b: {resource: pods}, namespace: {resource: namespace}}}, metricsQuery: q}]",
         #"rules[0].resources.overrides.b: labels "a" and "b" both map to pods; keep one"#),
        ("rules: [{seriesQuery: up, resources: {namespaced: maybe, template: '<<.Resource>>'}, metricsQuery: q}]",
         "rules[0].resources.namespaced: must be true or false"),
        ("rules: [{seriesQuery: up, metricsQuery: q}]",
         "rules[0].resources: needs `overrides` or `template`: without them no series names a Kubernetes object, so the rule exposes nothing"),
        ("rules: [{seriesQuery: up, resources: {overrides: {pod: {resource: pod}}}, metricsQuery: q}]",
         #"rules[0].resources.overrides: "pod" maps to pods, which is namespaced, but no label maps to namespaces: add `namespace: {resource: namespace}` (prometheus-adapter accepts this rule but fails every request for it)"#),
        ("externalRules: [{seriesQuery: up, metricsQuery: q}]",
         "externalRules[0].resources: the rule is namespaced (the default) but no label maps to namespaces: add `overrides: {namespace: {resource: namespace}}`, or `namespaced: false` to ignore the request's namespace (prometheus-adapter accepts this rule but fails every request for it)"),
        ("rules: [{seriesQuery: up, resources: {template: '<<.Resource>>'}, metricsQuery: 'x[<<.Window>>]'}]",
         "rules[0].metricsQuery: unknown placeholder <<.Window>> (known: <<.Series>>, <<.LabelMatchers>>, <<.LabelValuesByName>>, <<.GroupBy>>, <<.GroupBySlice>>)"),
        ("rules: [{seriesQuery: up, resources: {template: '<<.Resource>>'}, metricsQuery: 'sum by (<<join .GroupBySlice \",\">>) (x)'}]",
         #"rules[0].metricsQuery: function "join" not defined"#),
        ("rules: [{seriesQuery: up, resources: {template: '<<.Resource>>'}, metricsQuery: '<<range .GroupBySlice>><<.>>'}]",
         "rules[0].metricsQuery: unexpected end of template: <<range>> has no <<end>>"),
        ("rules: [{seriesQuery: up, resources: {template: '<<.Resource>>'}, metricsQuery: 'x <<$v>>'}]",
         #"rules[0].metricsQuery: undefined variable "$v""#),
        ("rules: [{seriesQuery: up, resources: {template: '<<.Resource>>'}, metricsQuery: 'x<<index .GroupBySlice 3>>'}]",
         "rules[0].metricsQuery: error calling index: index out of range: 3"),
        ("rules: [{seriesQuery: up, resources: {template: '<<.Resource>>'}, metricsQuery: '<<if false>>x<<end>>'}]",
         "rules[0].metricsQuery: the template produces an empty query"),
    ])
    func rejects(yaml: String, message: String) {
        #expect {
            try MetricsDiscoveryConfig.parse(yaml: yaml)
        } throws: { error in
            guard let error = error as? RuleError else { return false }
            if !error.message.hasPrefix(message) { print("got:", error.message) }
            return error.message.hasPrefix(message)
        }
    }

    @Test func keyWrittenTwice() {
        #expect {
            try MetricsDiscoveryConfig.parse(yaml: "rules:\n- seriesQuery: up\n  seriesQuery: down\n")
        } throws: { error in
            guard let message = (error as? RuleError)?.message else { return false }
            // Yams refuses a duplicated key while composing; the message names the key and where it is.
            return message.hasPrefix("the configuration is not valid YAML: Parser: expected all keys to be unique but found the following duplicated key(s): 'seriesQuery'.")
                && message.contains("in line 2, column 3")
        }
    }

    @Test func acceptedAsPrometheusAdapterAcceptsThem() throws {
        // Null and empty fields, `namespaced` on a custom rule (prometheus-adapter ignores it there), a
        // query without placeholders, and the deploy manifests' quoted keys.
        let config = try MetricsDiscoveryConfig.parse(yaml: #"""
            "rules":
            - "seriesQuery": 'cheddar{sharp="true"}'
              "seriesFilters":
              "name": {"as": "cheesy_goodness"}
              "resources": {"namespaced": false, "overrides": {"namespace": {"resource": "namespace"}}}
              "metricsQuery": 'count(cheddar{sharp="true"})'
            "resourceRules":
            """#)
        #expect(config.rules.map(\.location) == ["rules[0]"])
        #expect(config.externalRules.isEmpty)
    }
}
