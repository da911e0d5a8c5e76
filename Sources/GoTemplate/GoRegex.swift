
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
                out.unicodeScalars.append(c)
                out.unicodeScalars.append(escaped)
                index = afterEscape
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
            } else if c == "[" {
                inClass = true
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
            append(c)
            index += 1
        }
        return out
    }

    private static func quoted(_ text: String) -> String {
        String(reflecting: text)
    }
}
