
/// A regular expression from a prometheus-adapter configuration, read with Go's `regexp` semantics
/// where a configuration can tell the difference.
///
/// prometheus-adapter compiles `seriesFilters` and `name.matches` with Go's RE2 engine. This type keeps
/// what matters for the same file to mean the same thing here:
/// - matching is an unanchored search (`MatchString`, `FindStringSubmatchIndex`), leftmost-first, on
///   Unicode scalars (Go matches runes, not grapheme clusters);
/// - `as` templates expand like `Regexp.Expand`: `$1`, `${1}`, `$name`, `$$`, and a name is as long as
///   possible, so `$1_per_second` means `${1_per_second}` (empty), not `${1}_per_second`;
/// - RE2's refusals stay refusals: look-around, back-references, atomic groups and possessive
///   quantifiers are configuration errors, as prometheus-adapter reports them at start;
/// - Go's one-letter Unicode classes (`\pL`) are accepted.
///
/// A class only to be `Sendable`: `Regex<AnyRegexOutput>` is not marked so, but it is never mutated after
/// `init`, and its lazily compiled program is built here once, before the value is shared.
public final class GoRegex: @unchecked Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written in the configuration.
    public let pattern: String
    /// The number of capture groups, named or not (Go's `NumSubexp`).
    public let captureCount: Int
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `pattern`.
    ///
    /// - Throws: `TemplateError` `invalid regular expression "<pattern>": <why>`.
    public init(_ pattern: String) throws(TemplateError) {
        self.pattern = pattern
        let translated: String
        do {
            translated = try Self.translated(pattern)
            self.regex = try Regex(translated).matchingSemantics(.unicodeScalar)
            // An empty alternative makes the empty string match, with every group of `pattern` unset:
            // the match reports how many groups there are.
            let counter = try Regex("(?:" + translated + ")|")
            self.captureCount = (try counter.firstMatch(in: "")?.output.count ?? 1) - 1
            _ = try regex.firstMatch(in: "")
        } catch let error as TemplateError {
            throw TemplateError("invalid regular expression \(Self.quoted(pattern)): \(error.message)")
        } catch {
            throw TemplateError("invalid regular expression \(Self.quoted(pattern)): \(error)")
        }
    }

    /// Whether the pattern matches anywhere in `text` (Go's `MatchString`).
    public func matches(_ text: String) -> Bool {
        ((try? regex.firstMatch(in: text)) ?? nil) != nil
    }

    /// `template` with `$…` references replaced by the groups of the first match in `text`, as Go's
    /// `Regexp.ExpandString`; nil when the pattern does not match.
    public func expand(_ template: String, matching text: String) -> String? {
        guard let found = (try? regex.firstMatch(in: text)) ?? nil else { return nil }
        let output = found.output
        var result = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            if rest.first == "$" {
                result += "$"
                rest = rest.dropFirst()
                continue
            }
            guard let (name, after) = Self.reference(in: rest) else {
                result += "$"
                continue
            }
            rest = after
            if let number = Self.groupNumber(name) {
                if number < output.count, let group = output[number].substring { result += group }
            } else if let group = output[name]?.substring {
                result += group
            }
        }
        return result + rest
    }

    public var description: String { pattern }

    public static func == (lhs: GoRegex, rhs: GoRegex) -> Bool { lhs.pattern == rhs.pattern }
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }

    // MARK: - Go's expansion grammar

    /// The name after a `$` (`1`, `name`, `{1}`), and what follows it; nil when malformed, in which case
    /// Go writes the `$` as text.
    private static func reference(in text: Substring) -> (name: String, rest: Substring)? {
        var rest = text
        let braced = rest.first == "{"
        if braced { rest = rest.dropFirst() }
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        if braced {
            guard rest.first == "}" else { return nil }
            rest = rest.dropFirst()
        }
        return (String(name), rest)
    }

    /// The group number a purely numeric name denotes; nil for other names. Go's refusals (a leading
    /// zero, a number of 10^8 or more) give `Int.max`, a group that never exists.
    private static func groupNumber(_ name: String) -> Int? {
        guard name.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if name.count > 1, name.hasPrefix("0") { return Int.max }
        guard name.count <= 9, let number = Int(name), number < 100_000_000 else { return Int.max }
        return number
    }

    // MARK: - RE2 syntax

    /// `pattern` in the syntax Swift's `Regex` reads, refusing what RE2 refuses.
    ///
    /// The pattern is read as Go reads it, one Unicode scalar (rune) at a time: a combining mark after `(`
    /// or `<` is a literal of its own, not part of the metacharacter. Every scalar outside ASCII is
    /// written as `\u{…}`, so Swift's parser, which reads grapheme clusters and refuses a metacharacter
    /// followed by a combining mark as "confusable", sees only ASCII.
    private static func translated(_ pattern: String) throws(TemplateError) -> String {
        let scalars = Array(pattern.unicodeScalars)
        var out = ""
        var index = 0
        var inClass = false
        var nesting = RepetitionNesting()
        func append(_ scalar: Unicode.Scalar) {
            if scalar.isASCII { out.unicodeScalars.append(scalar) } else { out += "\\u{\(String(scalar.value, radix: 16))}" }
        }
        while index < scalars.count {
            let c = scalars[index]
            let following = index + 1 < scalars.count ? scalars[index + 1] : nil
            if c == "\\", let escaped = following {
                guard escaped.isASCII else {
                    throw TemplateError("invalid escape sequence: `\\\(Character(escaped))`")
                }
                if !inClass, ("1"..."9").contains(escaped) {
                    throw TemplateError("invalid escape sequence: `\\\(Character(escaped))` (back-references are not supported)")
                }
                let afterEscape = index + 2
                if escaped == "p" || escaped == "P", afterEscape < scalars.count, scalars[afterEscape] != "{" {
                    out += "\\\(Character(escaped)){"
                    append(scalars[afterEscape])
                    out += "}"
                    index = afterEscape + 1
                    continue
                }
                if !inClass { nesting.atom() }
                out.unicodeScalars.append(c)
                out.unicodeScalars.append(escaped)
                index = afterEscape
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
            } else if c == "[" {
                inClass = true
                nesting.atom()
                // A `]` right after `[` or `[^` is a literal member.
                out.unicodeScalars.append(c)
                index += 1
                if index < scalars.count, scalars[index] == "^" { out.append("^"); index += 1 }
                if index < scalars.count, scalars[index] == "]" { out.append("]"); index += 1 }
                continue
            } else if c == "(", following == "?" {
                let head = String(String.UnicodeScalarView(scalars[index..<min(index + 4, scalars.count)]))
                for perl in ["(?=", "(?!", "(?<=", "(?<!", "(?>", "(?P="] where head.hasPrefix(perl) {
                    throw TemplateError("invalid or unsupported Perl syntax: `\(perl)`")
                }
            } else if "*+?}".unicodeScalars.contains(c), following == "+" {
                throw TemplateError("invalid nested repetition operator: `\(Character(c))+`")
            }
            if !inClass {
                try nesting.read(c, at: index, in: scalars)
            }
            append(c)
            index += 1
        }
        return out
    }

    /// Refuses a repeated group that holds a repetition or an alternation (`(a+)*`, `(.+?)*`, `(a|ab)+`).
    ///
    /// Go's RE2 matches in time linear in the text whatever the pattern; Swift's `Regex` backtracks, and
    /// such a group makes it try exponentially many ways to split the text: a 40-character series name
    /// would stop discovery for minutes. No prometheus-adapter pattern we know of needs one; the error
    /// says how to write it instead.
    private struct RepetitionNesting {
        /// For each open group: whether it holds a repetition or an alternation.
        private var open: [Bool] = []
        /// Whether the last item read was a group holding one (what a repetition after it would repeat).
        private var lastGroupIsComplex = false
        /// Whether the last item read was a repetition operator, so that a `?` after it makes it lazy.
        private var afterRepetition = false
        /// Where a group's opening `(` was just read, and then inside its `?P<name>`, `?:` or `?i` prefix.
        private var afterOpen = false
        private var inPrefix = false

        mutating func atom() {
            lastGroupIsComplex = false
            afterRepetition = false
        }

        mutating func read(_ c: Unicode.Scalar, at index: Int, in scalars: [Unicode.Scalar]) throws(TemplateError) {
            defer { afterOpen = c == "(" && !inPrefix }
            if afterOpen, c == "?" {
                inPrefix = true
                return
            }
            if inPrefix {
                guard c == ")" || c == ":" || c == ">" else { return }
                inPrefix = false
                if c != ")" { return }
            }
            switch c {
            case "(":
                open.append(false)
                atom()
            case ")":
                let complex = open.popLast() ?? false
                if complex, !open.isEmpty { open[open.count - 1] = true }
                lastGroupIsComplex = complex
                afterRepetition = false
            case "|":
                if !open.isEmpty { open[open.count - 1] = true }
                atom()
            case "?" where afterRepetition:
                afterRepetition = false  // lazy: `*?`, `+?`, `??`
            case "*", "+", "?", "{":
                guard c != "{" || Self.isCounted(scalars, from: index) else { return atom() }
                let repeats = c == "*" || c == "+" || (c == "{" && !Self.isAtMostOnce(scalars, from: index))
                if repeats, lastGroupIsComplex {
                    throw TemplateError(
                        "a repeated group holds a repetition or an alternation (as in `(a+)*`): this engine would"
                            + " backtrack exponentially where Go's RE2 does not; repeat a single item instead, e.g."
                            + " `(?:[a-z_]+)` rather than `(?:[a-z]+_?)*`")
                }
                if !open.isEmpty { open[open.count - 1] = true }
                lastGroupIsComplex = false
                afterRepetition = true
            default:
                atom()
            }
        }

        /// Whether the `{` at `index` starts a counted repetition (`{n}`, `{n,}`, `{n,m}`); else it is a literal.
        static func isCounted(_ scalars: [Unicode.Scalar], from index: Int) -> Bool {
            counts(scalars, from: index) != nil
        }

        /// Whether the counted repetition at `index` allows at most one (`{0}`, `{1}`, `{0,1}`, `{1,1}`).
        static func isAtMostOnce(_ scalars: [Unicode.Scalar], from index: Int) -> Bool {
            guard let (_, upper) = counts(scalars, from: index), let upper else { return false }
            return upper <= 1
        }

        /// The bounds of `{n}`, `{n,}`, `{n,m}` at `index` (upper nil: unbounded); nil when it is not one.
        static func counts(_ scalars: [Unicode.Scalar], from index: Int) -> (Int, Int?)? {
            guard let close = scalars[index...].firstIndex(of: "}") else { return nil }
            let inner = String(String.UnicodeScalarView(scalars[(index + 1)..<close]))
            let parts = inner.split(separator: ",", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let lower = Int(parts[0]), parts[0].allSatisfy(\.isASCII) else { return nil }
            if parts.count == 1 { return (lower, lower) }
            if parts[1].isEmpty { return (lower, nil) }
            guard let upper = Int(parts[1]), parts[1].allSatisfy(\.isASCII) else { return nil }
            return (lower, upper)
        }
    }

    private static func quoted(_ text: String) -> String {
        String(reflecting: text)
    }
}
