import CustomMetricsAPI
import Testing

@Suite("LabelSelector: the apimachinery grammar, evaluated locally")
struct LabelSelectorTests {
    static let labels = ["app": "triton", "tier": "gpu", "replicas": "3", "example.com/owner": "team-a"]

    @Test(arguments: [
        ("", true),
        ("app=triton", true),
        ("app==triton", true),
        ("app = triton", true),
        ("app!=triton", false),
        ("app!=other", true),
        ("missing!=x", true),
        ("app in (triton, other)", true),
        ("app in (other)", false),
        ("app notin (other)", true),
        ("app notin (triton)", false),
        ("missing notin (x)", true),
        // apimachinery reads "()" as the set {""}, as it does "(,)".
        ("app in ()", false),
        ("app notin ()", true),
        ("missing in (x)", false),
        ("app", true),
        ("missing", false),
        ("!missing", true),
        ("!app", false),
        ("app=triton,tier=gpu", true),
        ("app=triton,tier=cpu", false),
        ("replicas>2", true),
        ("replicas<3", false),
        ("example.com/owner=team-a", true),
        ("tier=", false),
        ("app in (triton,)", true),
    ])
    func matches(selector: String, expected: Bool) throws {
        let parsed = try LabelSelector(parsing: selector)
        #expect(parsed.matches(Self.labels) == expected)
    }

    @Test(arguments: [
        ("app in (", "expected a value in the set of \"app\" at the end of the selector"),
        ("app in (a", "expected \",\" or \")\" in the set of \"app\""),
        ("app in a", "expected \"(\" after \"app in\""),
        ("app ~ b", "expected an operator"),
        ("=x", "expected a label key at position 1"),
        ("app=a b", "expected \",\" or the end of the selector"),
        ("app=triton,", "expected a label key at the end of the selector"),
        ("-app=x", "invalid label key \"-app\""),
        ("app=-x", "invalid value \"-x\" for label \"app\""),
        ("app=\(String(repeating: "a", count: 64))", "must be no more than 63 characters"),
        ("replicas>x", "must be an integer"),
        ("/x=y", "the prefix before \"/\" must not be empty"),
        ("app!x", "expected \"!=\" after \"app\""),
        ("!", "expected a label key after \"!\" at the end of the selector"),
    ])
    func rejects(selector: String, messageContains: String) {
        #expect {
            try LabelSelector(parsing: selector)
        } throws: { error in
            guard let error = error as? LabelSelector.ParseError else { return false }
            return error.message.contains(messageContains)
        }
    }

    @Test func canonicalString() throws {
        #expect(try LabelSelector(parsing: " app = triton , tier in (b, a) ,!x").description == "app=triton,tier in (a,b),!x")
    }
}
