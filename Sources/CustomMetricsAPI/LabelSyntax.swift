/// The Kubernetes rules for label keys, label values and object names (apimachinery `validation`).
public enum LabelSyntax {
    /// What is wrong with a label key (`[prefix/]name`), or nil when it is valid.
    public static func problem(withKey key: String) -> String? {
        var name = Substring(key)
        if let slash = key.firstIndex(of: "/") {
            let prefix = key[..<slash]
            name = key[key.index(after: slash)...]
            if prefix.isEmpty { return "the prefix before \"/\" must not be empty" }
            if let problem = problem(withSubdomain: prefix) { return "prefix \(problem)" }
        }
        if name.isEmpty { return "the name part must not be empty" }
        if name.count > 63 { return "the name part must be no more than 63 characters" }
        if !isQualifiedNamePart(name) {
            return "the name part must consist of alphanumeric characters, \"-\", \"_\" or \".\", "
                + "and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// What is wrong with a label value (empty is allowed), or nil when it is valid.
    public static func problem(withValue value: some StringProtocol) -> String? {
        if value.isEmpty { return nil }
        if value.count > 63 { return "must be no more than 63 characters" }
        if !isQualifiedNamePart(value) {
            return "must consist of alphanumeric characters, \"-\", \"_\" or \".\", "
                + "and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// What is wrong with a namespace name (a DNS-1123 label), or nil when it is valid.
    public static func problem(withNamespace name: some StringProtocol) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > 63 { return "must be no more than 63 characters" }
        if !isDNSLabel(name) {
            return "must consist of lower case alphanumeric characters or \"-\", "
                + "and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// What is wrong with an object name such as a pod's (a DNS-1123 subdomain), or nil when it is valid.
    public static func problem(withSubdomain name: some StringProtocol) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > 253 { return "must be no more than 253 characters" }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.contains(where: { $0.isEmpty || !isDNSLabel($0) }) {
            return "must consist of lower case alphanumeric characters, \"-\" or \".\", "
                + "and must start and end with an alphanumeric character"
        }
        return nil
    }

    private static func isAlphanumeric(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber)
    }

    private static func isQualifiedNamePart(_ s: some StringProtocol) -> Bool {
        guard let first = s.first, let last = s.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return false
        }
        return s.allSatisfy { isAlphanumeric($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    private static func isDNSLabel(_ s: some StringProtocol) -> Bool {
        let lowerAlnum: (Character) -> Bool = { $0.isASCII && ($0.isLowercase || $0.isNumber) }
        guard let first = s.first, let last = s.last, lowerAlnum(first), lowerAlnum(last) else {
            return false
        }
        return s.allSatisfy { lowerAlnum($0) || $0 == "-" }
    }
}
