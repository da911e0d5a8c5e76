
/// Splits a `<<`/`>>` template into text and the tokens of each action, applying Go's trim markers
/// (`<<- ` drops the whitespace before, ` ->>` the whitespace after) and dropping comments.
struct GoTemplateLexer {
    enum Item: Equatable {
        case text(String)
        case action([Token])
    }

    struct Token: Equatable {
        enum Kind: Equatable {
            case field(String)
            case dot
            case variable(String)
            case identifier(String)
            case string(String)
            case int(Int)
            case leftParen, rightParen, pipe, comma, declare, assign
        }
        var kind: Kind
        /// Whether whitespace separates this token from the previous one (`$x.A` is one operand,
        /// `$x .A` two).
        var spaceBefore: Bool
    }

    private let chars: [Character]
    private var position = 0

    init(_ source: String) {
        self.chars = Array(source)
    }

    /// The items of the whole template.
    mutating func items() throws(TemplateError) -> [Item] {
        var items: [Item] = []
        var text = ""
        var trimNext = false
        while position < chars.count {
            guard starts(with: "<<") else {
                text.append(chars[position])
                position += 1
                continue
            }
            position += 2
            let trimBefore = starts(with: "- ") || starts(with: "-\t") || starts(with: "-\n") || starts(with: "-\r")
            if trimBefore { position += 1 }
            var chunk = text
            if trimNext { chunk = String(chunk.drop { $0.isTemplateSpace }) }
            if trimBefore { chunk = String(chunk.reversed().drop { $0.isTemplateSpace }.reversed()) }
            if !chunk.isEmpty { items.append(.text(chunk)) }
            text = ""
            let afterMarker = trimBefore ? position + 1 : position
            if afterMarker + 1 < chars.count, chars[afterMarker] == "/", chars[afterMarker + 1] == "*" {
                trimNext = try skipComment(from: afterMarker + 2)
            } else {
                let (tokens, trimAfter) = try actionTokens()
                items.append(.action(tokens))
                trimNext = trimAfter
            }
        }
        if trimNext { text = String(text.drop { $0.isTemplateSpace }) }
        if !text.isEmpty { items.append(.text(text)) }
        return items
    }

    private func starts(with prefix: String, at index: Int? = nil) -> Bool {
        var i = index ?? position
        for c in prefix {
            guard i < chars.count, chars[i] == c else { return false }
            i += 1
        }
        return true
    }

    /// Skips `/* … */` and the closing delimiter; returns whether it had a trim marker.
    private mutating func skipComment(from start: Int) throws(TemplateError) -> Bool {
        var i = start
        while i + 1 < chars.count, !(chars[i] == "*" && chars[i + 1] == "/") { i += 1 }
        guard i + 1 < chars.count else { throw TemplateError("unclosed comment") }
        i += 2
        if starts(with: " ->>", at: i) {
            position = i + 4
            return true
        }
        guard starts(with: ">>", at: i) else { throw TemplateError("comment ends before closing delimiter") }
        position = i + 2
        return false
    }

    /// The tokens up to the closing delimiter, and whether it had a trim marker.
    private mutating func actionTokens() throws(TemplateError) -> ([Token], Bool) {
        var tokens: [Token] = []
        while true {
            var space = false
            while position < chars.count, chars[position].isTemplateSpace {
                space = true
                position += 1
            }
            guard position < chars.count else { throw TemplateError("unclosed action") }
            if space, starts(with: "->>") {
                position += 3
                return (tokens, true)
            }
            if starts(with: ">>") {
                position += 2
                return (tokens, false)
            }
            tokens.append(Token(kind: try token(), spaceBefore: space || tokens.isEmpty))
        }
    }

    private mutating func token() throws(TemplateError) -> Token.Kind {
        let c = chars[position]
        switch c {
        case "(": position += 1; return .leftParen
        case ")": position += 1; return .rightParen
        case "|": position += 1; return .pipe
        case ",": position += 1; return .comma
        case "=": position += 1; return .assign
        case ":":
            guard starts(with: ":=") else { throw TemplateError("expected :=") }
            position += 2
            return .declare
        case ".":
            position += 1
            let name = word()
            return name.isEmpty ? .dot : .field(name)
        case "$":
            position += 1
            return .variable("$" + word())
        case "\"": return .string(try quoted())
        case "`":
            position += 1
            let start = position
            while position < chars.count, chars[position] != "`" { position += 1 }
            guard position < chars.count else { throw TemplateError("unterminated raw quoted string") }
            position += 1
            return .string(String(chars[start..<(position - 1)]))
        case "'":
            throw TemplateError("character constants are not supported")
        default:
            if c.isNumber || ((c == "-" || c == "+") && position + 1 < chars.count && chars[position + 1].isNumber) {
                return .int(try number())
            }
            let name = word()
            guard !name.isEmpty else { throw TemplateError("unexpected \(String(reflecting: String(c))) in action") }
            return .identifier(name)
        }
    }

    private mutating func word() -> String {
        let start = position
        while position < chars.count, chars[position].isLetter || chars[position].isNumber || chars[position] == "_" {
            position += 1
        }
        return String(chars[start..<position])
    }

    private mutating func number() throws(TemplateError) -> Int {
        let start = position
        if chars[position] == "-" || chars[position] == "+" { position += 1 }
        while position < chars.count, chars[position].isLetter || chars[position].isNumber || chars[position] == "." || chars[position] == "_" {
            position += 1
        }
        let text = String(chars[start..<position]).replacingUnderscores()
        let negative = text.hasPrefix("-")
        let digits = text.drop { $0 == "-" || $0 == "+" }
        let value: Int? = digits.lowercased().hasPrefix("0x") ? Int(digits.dropFirst(2), radix: 16) : Int(digits)
        guard let value else { throw TemplateError("bad number syntax: \(String(reflecting: text)) (only integers are supported)") }
        return negative ? -value : value
    }

    /// A double-quoted string with Go's escapes.
    private mutating func quoted() throws(TemplateError) -> String {
        position += 1
        var result = ""
        while position < chars.count, chars[position] != "\"" {
            let c = chars[position]
            position += 1
            guard c == "\\" else {
                if c == "\n" { throw TemplateError("unterminated quoted string") }
                result.append(c)
                continue
            }
            guard position < chars.count else { break }
            let e = chars[position]
            position += 1
            switch e {
            case "n": result += "\n"
            case "t": result += "\t"
            case "r": result += "\r"
            case "a": result += "\u{07}"
            case "b": result += "\u{08}"
            case "f": result += "\u{0C}"
            case "v": result += "\u{0B}"
            case "\\", "\"", "'": result.append(e)
            case "x", "u", "U":
                let count = e == "x" ? 2 : e == "u" ? 4 : 8
                guard position + count <= chars.count, let code = UInt32(String(chars[position..<(position + count)]), radix: 16),
                      let scalar = Unicode.Scalar(code)
                else { throw TemplateError("invalid escape in quoted string") }
                result.unicodeScalars.append(scalar)
                position += count
            default:
                throw TemplateError("invalid escape \\\(e) in quoted string")
            }
        }
        guard position < chars.count else { throw TemplateError("unterminated quoted string") }
        position += 1
        return result
    }
}

extension Character {
    /// Go template whitespace: space, tab, carriage return, newline.
    public var isTemplateSpace: Bool { self == " " || self == "\t" || self == "\n" || self == "\r" || self == "\r\n" }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
