/// A Kubernetes label selector, parsed from its string form and evaluated locally.
///
/// The grammar is `labels.Parse` from apimachinery: requirements joined by commas (logical and), each one
/// of `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (v1,v2)`, `key notin (v1,v2)`,
/// `key>n`, `key<n`. Keys are qualified names (`prefix/name`), values are label values. An empty selector
/// matches everything.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    /// The requirements, all of which must hold, in the order they were written.
    public let requirements: [Requirement]

    /// The selector that matches every label set.
    public static let everything = LabelSelector(requirements: [])

    public init(requirements: [Requirement]) {
        self.requirements = requirements
    }

    /// Parses the string form of a selector.
    ///
    /// - Throws: `LabelSelector.ParseError` naming what was wrong and where.
    public init(parsing text: String) throws(ParseError) {
        var parser = SelectorParser(text)
        self.requirements = try parser.parse()
    }

    /// Whether the selector matches nothing but the empty requirement list.
    public var isEmpty: Bool { requirements.isEmpty }

    /// Whether every requirement holds for these labels.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// The selector in its canonical string form, as `labels.Selector.String()` prints it.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }

    /// One condition on one label.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public enum Operator: String, Sendable, Hashable {
            case equals = "="
            case notEquals = "!="
            case `in` = "in"
            case notIn = "notin"
            case exists = "exists"
            case doesNotExist = "!"
            case greaterThan = "gt"
            case lessThan = "lt"
        }

        public let key: String
        public let `operator`: Operator
        /// The values, sorted and unique (one for `=`, `!=`, `gt`, `lt`; none for `exists` and `!`).
        public let values: [String]

        public init(key: String, operator: Operator, values: [String]) {
            self.key = key
            self.operator = `operator`
            self.values = Array(Set(values)).sorted()
        }

        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch self.operator {
            case .equals, .in:
                guard let value else { return false }
                return values.contains(value)
            case .notEquals, .notIn:
                guard let value else { return true }
                return !values.contains(value)
            case .exists:
                return value != nil
            case .doesNotExist:
                return value == nil
            case .greaterThan, .lessThan:
                guard let value, let actual = Int64(value), let bound = values.first.flatMap({ Int64($0) }) else {
                    return false
                }
                return self.operator == .greaterThan ? actual > bound : actual < bound
            }
        }

        public var description: String {
            switch self.operator {
            case .equals: "\(key)=\(values.first ?? "")"
            case .notEquals: "\(key)!=\(values.first ?? "")"
            case .in: "\(key) in (\(values.joined(separator: ",")))"
            case .notIn: "\(key) notin (\(values.joined(separator: ",")))"
            case .exists: key
            case .doesNotExist: "!\(key)"
            case .greaterThan: "\(key)>\(values.first ?? "")"
            case .lessThan: "\(key)<\(values.first ?? "")"
            }
        }
    }

    /// Why a selector string could not be parsed; `message` is shown to the client as is.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }
}

/// Recursive-descent parser over the selector text, character by character.
private struct SelectorParser {
    private let text: [Character]
    private var position = 0

    init(_ text: String) {
        self.text = Array(text)
    }

    mutating func parse() throws(LabelSelector.ParseError) -> [LabelSelector.Requirement] {
        var requirements: [LabelSelector.Requirement] = []
        skipSpaces()
        if atEnd { return [] }
        while true {
            requirements.append(try requirement())
            skipSpaces()
            if atEnd { return requirements }
            guard peek == "," else {
                throw error("expected \",\" or the end of the selector at position \(position + 1), found \"\(MetricsRequest.quoted(String(peek!)))\"")
            }
            position += 1
        }
    }

    private mutating func requirement() throws(LabelSelector.ParseError) -> LabelSelector.Requirement {
        skipSpaces()
        if peek == "!" {
            position += 1
            skipSpaces()
            let key = try word(what: "a label key after \"!\"")
            try validateKey(key)
            return .init(key: key, operator: .doesNotExist, values: [])
        }
        let key = try word(what: "a label key")
        try validateKey(key)
        skipSpaces()
        if atEnd || peek == "," {
            return .init(key: key, operator: .exists, values: [])
        }
        if peek == "=" {
            position += 1
            if peek == "=" { position += 1 }
            return .init(key: key, operator: .equals, values: [try singleValue(for: key)])
        }
        if peek == "!" {
            guard next == "=" else { throw error("expected \"!=\" after \"\(MetricsRequest.quoted(key))\"") }
            position += 2
            return .init(key: key, operator: .notEquals, values: [try singleValue(for: key)])
        }
        if peek == ">" || peek == "<" {
            let op: LabelSelector.Requirement.Operator = peek == ">" ? .greaterThan : .lessThan
            position += 1
            let bound = try singleValue(for: key)
            guard Int64(bound) != nil else {
                throw error("the value of \"\(MetricsRequest.quoted(key))\(op == .greaterThan ? ">" : "<")\" must be an integer, not \"\(MetricsRequest.quoted(bound))\"")
            }
            return .init(key: key, operator: op, values: [bound])
        }
        let keyword = (try? word(what: "")) ?? String(peek.map { String($0) } ?? "")
        switch keyword {
        case "in", "notin":
            let values = try valueSet(for: key, keyword: keyword)
            return .init(key: key, operator: keyword == "in" ? .in : .notIn, values: values)
        default:
            throw error(
                "expected an operator (=, ==, !=, in, notin, >, <) after \"\(MetricsRequest.quoted(key))\", found \"\(MetricsRequest.quoted(keyword))\""
            )
        }
    }

    private mutating func singleValue(for key: String) throws(LabelSelector.ParseError) -> String {
        skipSpaces()
        let value = atEnd || peek == "," ? "" : try word(what: "a value for \"\(MetricsRequest.quoted(key))\"")
        try validateValue(value, key: key)
        return value
    }

    private mutating func valueSet(for key: String, keyword: String) throws(LabelSelector.ParseError) -> [String] {
        skipSpaces()
        guard peek == "(" else { throw error("expected \"(\" after \"\(MetricsRequest.quoted(key)) \(keyword)\"") }
        position += 1
        skipSpaces()
        if peek == ")" {
            position += 1
            return [""]
        }
        var values: [String] = []
        while true {
            skipSpaces()
            if peek == ")" {
                position += 1
                break
            }
            let value = peek == "," ? "" : try word(what: "a value in the set of \"\(MetricsRequest.quoted(key))\"")
            try validateValue(value, key: key)
            values.append(value)
            skipSpaces()
            if peek == "," {
                position += 1
                skipSpaces()
                if peek == ")" { values.append("") }
                continue
            }
            if peek == ")" { continue }
            throw error("expected \",\" or \")\" in the set of \"\(MetricsRequest.quoted(key))\"")
        }
        guard !values.isEmpty else {
            throw error("the set of \"\(MetricsRequest.quoted(key)) \(keyword)\" is empty: give at least one value")
        }
        return values
    }

    /// An identifier: a run of characters that are neither spaces nor selector punctuation.
    private mutating func word(what: String) throws(LabelSelector.ParseError) -> String {
        let start = position
        while let c = peek, !c.isWhitespace, !"!=<>(),".contains(c) {
            position += 1
        }
        guard position > start else {
            if let c = peek { throw error("expected \(what) at position \(position + 1), found \"\(MetricsRequest.quoted(String(c)))\"") }
            throw error("expected \(what) at the end of the selector")
        }
        return String(text[start..<position])
    }

    private func validateKey(_ key: String) throws(LabelSelector.ParseError) {
        if let problem = LabelSyntax.problem(withKey: key) {
            throw error("invalid label key \"\(MetricsRequest.quoted(key))\": \(problem)")
        }
    }

    private func validateValue(_ value: String, key: String) throws(LabelSelector.ParseError) {
        if let problem = LabelSyntax.problem(withValue: value) {
            throw error("invalid value \"\(MetricsRequest.quoted(value))\" for label \"\(MetricsRequest.quoted(key))\": \(problem)")
        }
    }

    private var atEnd: Bool { position >= text.count }
    private var peek: Character? { position < text.count ? text[position] : nil }
    private var next: Character? { position + 1 < text.count ? text[position + 1] : nil }

    private mutating func skipSpaces() {
        while let c = peek, c.isWhitespace { position += 1 }
    }

    private func error(_ message: String) -> LabelSelector.ParseError {
        .init(message)
    }
}
