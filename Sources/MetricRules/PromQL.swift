import CustomMetricsAPI

/// Building PromQL safely: every value that comes from a request enters a query as an escaped string
/// literal; label names are checked, never escaped into validity.
public enum PromQL {
    /// A PromQL double-quoted string literal holding exactly `value`.
    public static func stringLiteral(_ value: String) -> String {
        "\"" + escaped(value, quotesAsHex: false) + "\""
    }

    /// `value` escaped to sit inside a PromQL string literal: backslashes and control characters always;
    /// the double quote as `\"`, or, with `quotesAsHex`, every quote character (`"`, `'`, `` ` ``) as a hex
    /// escape, so the text is safe inside a string of any quoting that a template author wrote.
    public static func escaped(_ value: String, quotesAsHex: Bool) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"" where !quotesAsHex: out += "\\\""
            case "\"", "'", "`":
                if quotesAsHex { out += "\\x" + String(scalar.value, radix: 16) } else { out.unicodeScalars.append(scalar) }
            case "\n" where !quotesAsHex: out += "\\n"
            case "\r" where !quotesAsHex: out += "\\r"
            case "\t" where !quotesAsHex: out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `value` as an RE2 pattern that matches only itself (metacharacters quoted).
    public static func regexQuoted(_ value: String) -> String {
        var out = ""
        for c in value {
            if "\\.+*?()|[]{}^$".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Whether `name` is a valid Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    public static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetterOrUnderscore else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetterOrUnderscore || ("0"..."9").contains($0) }
    }

    /// One label matcher.
    public struct Matcher: Sendable, Hashable, CustomStringConvertible {
        public enum Operator: String, Sendable, Hashable {
            case equal = "=", notEqual = "!=", regexMatch = "=~", regexNoMatch = "!~"
        }
        public var label: String
        public var op: Operator
        /// The unescaped value (a regex for `=~`/`!~`).
        public var value: String

        public init(_ label: String, _ op: Operator, _ value: String) {
            self.label = label
            self.op = op
            self.value = value
        }

        public var description: String { label + op.rawValue + PromQL.stringLiteral(value) }
    }

    /// The matchers equivalent to a `metricLabelSelector`.
    ///
    /// - Throws: `MetricsError` 400 when a key is no Prometheus label name or the operator (`>`, `<`) has
    ///   no PromQL matcher.
    public static func matchers(for selector: LabelSelector) throws(MetricsError) -> [Matcher] {
        var result: [Matcher] = []
        for requirement in selector.requirements {
            guard isLabelName(requirement.key) else {
                throw MetricsError(
                    .badRequest,
                    "invalid metricLabelSelector: \"\(requirement.key)\" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"
                )
            }
            // Prometheus anchors regex matchers itself: `a|b` matches exactly "a" or "b".
            let alternatives = requirement.values.map(regexQuoted).joined(separator: "|")
            switch requirement.operator {
            case .equals: result.append(.init(requirement.key, .equal, requirement.values.first ?? ""))
            case .notEquals: result.append(.init(requirement.key, .notEqual, requirement.values.first ?? ""))
            case .in: result.append(.init(requirement.key, .regexMatch, alternatives))
            case .notIn: result.append(.init(requirement.key, .regexNoMatch, alternatives))
            case .exists: result.append(.init(requirement.key, .notEqual, ""))
            case .doesNotExist: result.append(.init(requirement.key, .equal, ""))
            case .greaterThan, .lessThan:
                throw MetricsError(
                    .badRequest,
                    "invalid metricLabelSelector: \"\(requirement)\" compares numbers, which Prometheus label matchers cannot do"
                )
            }
        }
        return result
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetterOrUnderscore: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_"
    }
}
