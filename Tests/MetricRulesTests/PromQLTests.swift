import CustomMetricsAPI
import MetricRules
import Testing

@Suite("PromQL: request values enter queries only as escaped literals")
struct PromQLTests {
    @Test(arguments: [
        ("team-a", #""team-a""#),
        (#"a"b"#, #""a\"b""#),
        (#"a\b"#, #""a\\b""#),
        ("a\nb", #""a\nb""#),
        ("a\rb\tc", #""a\rb\tc""#),
        ("a\u{1}b", #""a\x01b""#),
        (#"x"} or vector(1) or {a=""#, #""x\"} or vector(1) or {a=\"""#),
        ("ünïcode", #""ünïcode""#),
        ("", #""""#),
    ])
    func stringLiteral(value: String, expected: String) {
        #expect(PromQL.stringLiteral(value) == expected)
    }

    @Test(arguments: [
        ("a.b", #"a\.b"#),
        ("a|b", #"a\|b"#),
        ("(x)*+?", #"\(x\)\*\+\?"#),
        ("[^$]{1}", #"\[\^\$\]\{1\}"#),
        (#"back\slash"#, #"back\\slash"#),
    ])
    func regexQuoting(value: String, expected: String) {
        #expect(PromQL.regexQuoted(value) == expected)
    }

    @Test(arguments: [
        ("model=tensorrt_llm", #"model="tensorrt_llm""#),
        ("model!=ensemble", #"model!="ensemble""#),
        ("model in (tensorrt_llm,pre.process)", #"model=~"pre\\.process|tensorrt_llm""#),
        ("model notin (ensemble)", #"model!~"ensemble""#),
        ("gpu", #"gpu!="""#),
        ("!gpu", #"gpu="""#),
        ("model=tensorrt_llm,version=1", #"model="tensorrt_llm",version="1""#),
    ])
    func metricSelectorMatchers(selector: String, expected: String) throws {
        let matchers = try PromQL.matchers(for: try LabelSelector(parsing: selector))
        #expect(matchers.map(\.description).joined(separator: ",") == expected)
    }

    @Test(arguments: [
        ("example.com/model=x", #"invalid metricLabelSelector: "example.com/model" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"#),
        ("model-name=x", #"invalid metricLabelSelector: "model-name" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"#),
        ("version>1", #"invalid metricLabelSelector: "version>1" compares numbers, which Prometheus label matchers cannot do"#),
    ])
    func unsupportedMetricSelectors(selector: String, message: String) throws {
        let parsed = try LabelSelector(parsing: selector)
        #expect(throws: MetricsError(.badRequest, message)) { try PromQL.matchers(for: parsed) }
    }

    @Test func builtInRuleQuery() throws {
        let rule = try #require(RuleSet.builtIn.rule(resource: "pods", metric: "triton:queue_compute:ratio"))
        let promql = try rule.promql(namespace: "team-a", metricSelector: .everything)
        #expect(promql == #"sum by (namespace,pod) (rate(nv_inference_queue_duration_us{namespace="team-a"}[1m])) / clamp_min(sum by (namespace,pod) (rate(nv_inference_compute_infer_duration_us{namespace="team-a"}[1m])), 1)"#)
    }

    @Test func builtInRuleWithMetricSelector() throws {
        let rule = try #require(RuleSet.builtIn.rule(resource: "pods", metric: "triton:queue_compute:ratio"))
        let promql = try rule.promql(namespace: "team-a", metricSelector: try LabelSelector(parsing: "model=tensorrt_llm"))
        #expect(promql == #"sum by (namespace,pod) (rate(nv_inference_queue_duration_us{namespace="team-a",model="tensorrt_llm"}[1m])) / clamp_min(sum by (namespace,pod) (rate(nv_inference_compute_infer_duration_us{namespace="team-a",model="tensorrt_llm"}[1m])), 1)"#)
    }

    @Test(arguments: [("30s", Int64(30)), ("1m", 60), ("1m30s", 90), ("2h", 7200), ("1d", 86400)])
    func durations(text: String, seconds: Int64) {
        #expect(PrometheusDuration.seconds(text) == seconds)
    }

    @Test(arguments: ["", "1", "m", "500ms", "1.5m", "-1m", "0s", "1x"])
    func invalidDurations(text: String) {
        #expect(PrometheusDuration.seconds(text) == nil)
    }
}
