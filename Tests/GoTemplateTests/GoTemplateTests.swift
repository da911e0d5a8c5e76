import GoTemplate
import Testing

/// The template engine on its own: Go's text/template semantics with prometheus-adapter's `<<` `>>`
/// delimiters, on the argument record prometheus-adapter passes to `metricsQuery`.
@Suite("GoTemplate: text/template as prometheus-adapter uses it")
struct GoTemplateTests {
    static let fields = ["Series", "LabelMatchers", "LabelValuesByName", "GroupBy", "GroupBySlice"]

    static let arguments = TemplateValue.record(typeName: "naming.queryTemplateArgs", fields: [
        .init(name: "Series", value: .string("up")),
        .init(name: "LabelMatchers", value: .string(#"namespace="team-a""#)),
        .init(name: "LabelValuesByName", value: .stringMap(["namespace": "team-a", "pod": ".+"])),
        .init(name: "GroupBy", value: .string("pod")),
        .init(name: "GroupBySlice", value: .strings(["pod"])),
    ])

    static func render(_ text: String) throws -> String {
        try GoTemplate(text, rootFields: fields).render(arguments)
    }

    @Test(arguments: [
        ("no actions at all", "no actions at all"),
        ("<<.Series>>{<<.LabelMatchers>>}", #"up{namespace="team-a"}"#),
        ("<<.GroupBySlice>> <<.GroupBy>>", "[pod] pod"),
        ("<<.LabelValuesByName>>", "map[namespace:team-a pod:.+]"),
        ("sum by (<<range $i, $v := .GroupBySlice>><<if $i>>,<<end>><<$v>><<end>>) (x)", "sum by (pod) (x)"),
        ("a  <<- .GroupBy ->>  b", "apodb"),
        ("x<</* a comment */>>y", "xy"),
        (#"<<printf "%s{%s}" .Series .LabelMatchers>>"#, #"up{namespace="team-a"}"#),
        (#"<<.GroupBy | printf "by (%s)">>"#, "by (pod)"),
        ("<<if eq (len .GroupBySlice) 1>>one<<else>>many<<end>>", "one"),
        (#"<<index .LabelValuesByName "pod">>"#, ".+"),
        ("<<.LabelValuesByName.model>>", "<no value>"),
        (#"<<with .GroupBy>><<.>><<end>>"#, "pod"),
    ])
    func renders(template: String, expected: String) throws {
        #expect(try Self.render(template) == expected)
    }

    @Test(arguments: [
        (#"<<join .GroupBySlice ",">>"#, #"function "join" not defined"#),
        ("<<range .GroupBySlice>>", "unexpected end of template: <<range>> has no <<end>>"),
    ])
    func refuses(template: String, message: String) {
        #expect {
            _ = try Self.render(template)
        } throws: { error in
            (error as? TemplateError)?.message.contains(message) == true
        }
    }

    @Test(arguments: [
        ("^container_(.*)_seconds_total$", "container_cpu_usage_seconds_total", "${1}_per_second", "cpu_usage_per_second"),
        ("^(?P<resource>.+?)_name$", "pod_name", "${resource}", "pod"),
        ("^kube_(.*)$", "kube_deployment", "$0", "kube_deployment"),
    ])
    func regexExpands(pattern: String, text: String, template: String, expected: String) throws {
        let regex = try GoRegex(pattern)
        #expect(regex.matches(text))
        #expect(regex.expand(template, matching: text) == expected)
    }

    /// Go reads a pattern rune by rune: a combining mark after `<` or an escaped `(` is a literal of its
    /// own. Swift's parser reads grapheme clusters and refused these as "confusable" (found by fuzzing).
    @Test(arguments: ["<\u{030D}x", "\\(\u{0301}", "a\u{0301}b"])
    func combiningMarksAreLiterals(pattern: String) throws {
        let literal = String(String.UnicodeScalarView(pattern.unicodeScalars.filter { $0 != "\\" }))
        #expect(try GoRegex("^" + pattern + "$").matches(literal))
    }

    @Test func escapedNonASCIIIsRefusedAsGoDoes() {
        #expect(throws: TemplateError.self) { try GoRegex("\\é") }
    }

    /// Found by fuzzing: `(?P<resource>.+?)*` took minutes on its own 47 characters. RE2 is linear;
    /// Swift's `Regex` backtracks, so such a group is a configuration error with a way out.
    @Test(arguments: ["(?P<resource>.+?)*", "(a+)+b", "(?:[a-z]+_?)*total", "(a|ab){2,}", "x((b*))*", "(?i:a|b)+"])
    func repeatedGroupsWithRepetitionInsideAreRefused(pattern: String) {
        #expect {
            try GoRegex(pattern)
        } throws: { error in
            (error as? TemplateError)?.message == "invalid regular expression \(String(reflecting: pattern)): a repeated group"
                + " holds a repetition or an alternation (as in `(a+)*`): this engine would backtrack exponentially"
                + " where Go's RE2 does not; repeat a single item instead, e.g. `(?:[a-z_]+)` rather than `(?:[a-z]+_?)*`"
        }
    }

    @Test(arguments: [
        "^(.*)_seconds_total$", "(?P<resource>.+?)_name", "(_total|_count)?$", "(ab)*c", "(a+)?", "(a*){1}",
        "(a|b){0,1}", "a{2,}b*", "[(a+)*]", "\\(a+\\)*", "(?i)(?:a+)?x", "(x){2}?",
    ])
    func otherGroupsAreAccepted(pattern: String) throws {
        _ = try GoRegex(pattern)
    }

    @Test func regexThatDoesNotMatchExpandsToNothing() throws {
        #expect(try GoRegex("^a$").expand("$0", matching: "b") == nil)
    }
}
