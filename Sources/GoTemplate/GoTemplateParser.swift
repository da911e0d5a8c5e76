
/// Builds a `GoTemplate`'s syntax tree from the lexer's items, checking what Go checks when it parses
/// (undefined functions and variables, unbalanced `end`) and, for the top-level `.`, the field names.
struct GoTemplateParser {
    private typealias Token = GoTemplateLexer.Token
    private typealias Node = GoTemplate.Node
    private typealias Pipeline = GoTemplate.Pipeline
    private typealias Operand = GoTemplate.Operand

    private let items: [GoTemplateLexer.Item]
    private let rootFields: [String]
    private var index = 0
    /// Variables in scope, innermost control structure last.
    private var scopes: [[String]] = [["$"]]

    init(source: String, rootFields: [String]) throws(TemplateError) {
        var lexer = GoTemplateLexer(source)
        self.items = try lexer.items()
        self.rootFields = rootFields
    }

    mutating func parseAll() throws(TemplateError) -> [GoTemplate.Node] {
        let (nodes, terminator) = try parseList(dotIsRoot: true)
        switch terminator {
        case nil: return nodes
        case .end: throw TemplateError("unexpected <<end>>")
        case .otherwise, .otherwiseIf: throw TemplateError("unexpected <<else>>")
        }
    }

    private enum Terminator {
        case end
        case otherwise
        /// `<<else if …>>` or `<<else with …>>`: the keyword's tokens.
        case otherwiseIf([Token])
    }

    private mutating func parseList(dotIsRoot: Bool) throws(TemplateError) -> ([Node], Terminator?) {
        var nodes: [Node] = []
        while index < items.count {
            let item = items[index]
            index += 1
            switch item {
            case .text(let text):
                nodes.append(.text(text))
            case .action(let tokens):
                guard case .identifier(let keyword)? = tokens.first?.kind else {
                    nodes.append(.action(try pipeline(tokens[...], dotIsRoot: dotIsRoot, context: "command")))
                    continue
                }
                switch keyword {
                case "end":
                    guard tokens.count == 1 else { throw TemplateError("unexpected \(describe(tokens[1])) in end") }
                    return (nodes, .end)
                case "else":
                    if tokens.count == 1 { return (nodes, .otherwise) }
                    return (nodes, .otherwiseIf(Array(tokens.dropFirst())))
                case "if", "range", "with":
                    nodes.append(try control(keyword, tokens.dropFirst(), dotIsRoot: dotIsRoot))
                case "define", "template", "block", "break", "continue":
                    throw TemplateError("<<\(keyword)>> is not supported in this adapter's templates")
                default:
                    nodes.append(.action(try pipeline(tokens[...], dotIsRoot: dotIsRoot, context: "command")))
                }
            }
        }
        return (nodes, nil)
    }

    /// An `if`, `range` or `with` from its keyword to its `end`.
    private mutating func control(_ keyword: String, _ tokens: ArraySlice<Token>, dotIsRoot: Bool) throws(TemplateError) -> Node {
        scopes.append([])
        defer { scopes.removeLast() }
        let head = try pipeline(tokens, dotIsRoot: dotIsRoot, context: keyword, maxVariables: keyword == "range" ? 2 : 1)
        let (body, terminator) = try parseList(dotIsRoot: keyword == "if" ? dotIsRoot : false)
        var otherwise: [Node] = []
        switch terminator {
        case nil:
            throw TemplateError("unexpected end of template: <<\(keyword)>> has no <<end>>")
        case .end:
            break
        case .otherwise:
            let (nodes, last) = try parseList(dotIsRoot: dotIsRoot)
            guard case .end? = last else { throw TemplateError("expected <<end>> after <<else>> of <<\(keyword)>>") }
            otherwise = nodes
        case .otherwiseIf(let tokens):
            guard case .identifier(let nested)? = tokens.first?.kind, nested == "if" || nested == "with" else {
                throw TemplateError("unexpected \(describe(tokens[tokens.startIndex])) after else")
            }
            // `<<else if x>>…<<end>>` is `<<else>><<if x>>…<<end>><<end>>` sharing one end.
            otherwise = [try control(nested, tokens.dropFirst(), dotIsRoot: dotIsRoot)]
        }
        switch keyword {
        case "if": return .conditional(head, then: body, otherwise: otherwise)
        case "range": return .range(head, body: body, otherwise: otherwise)
        default: return .with(head, body: body, otherwise: otherwise)
        }
    }

    // MARK: - Pipelines

    private mutating func pipeline(
        _ tokens: ArraySlice<Token>,
        dotIsRoot: Bool,
        context: String,
        maxVariables: Int = 1
    ) throws(TemplateError) -> Pipeline {
        var rest = tokens
        var variables: [String] = []
        var isAssignment = false
        if let declaration = declaration(in: rest, maxVariables: maxVariables) {
            variables = declaration.names
            isAssignment = declaration.isAssignment
            rest = rest.dropFirst(declaration.length)
            if isAssignment, let name = variables.first, !isDefined(name) {
                throw TemplateError("undefined variable \"\(name)\"")
            }
        }
        var commands: [GoTemplate.Command] = []
        var current: [Operand] = []
        while let token = rest.first {
            if token.kind == .pipe {
                guard !current.isEmpty else { throw TemplateError("missing command before | in \(context)") }
                commands.append(GoTemplate.Command(operands: current))
                current = []
                rest = rest.dropFirst()
                continue
            }
            if token.kind == .rightParen { throw TemplateError("unexpected right paren") }
            current.append(try operand(&rest, dotIsRoot: dotIsRoot))
        }
        guard !current.isEmpty else { throw TemplateError("missing value for \(context)") }
        commands.append(GoTemplate.Command(operands: current))
        if !isAssignment { scopes[scopes.count - 1] += variables }
        return Pipeline(variables: variables, isAssignment: isAssignment, commands: commands)
    }

    private func declaration(in tokens: ArraySlice<Token>, maxVariables: Int) -> (names: [String], isAssignment: Bool, length: Int)? {
        let kinds = tokens.prefix(4).map(\.kind)
        if case .variable(let a)? = kinds.first, kinds.count > 1 {
            if kinds[1] == .declare { return ([a], false, 2) }
            if kinds[1] == .assign { return ([a], true, 2) }
            if maxVariables == 2, kinds.count == 4, kinds[1] == .comma, case .variable(let b) = kinds[2], kinds[3] == .declare {
                return ([a, b], false, 4)
            }
        }
        return nil
    }

    private mutating func operand(_ tokens: inout ArraySlice<Token>, dotIsRoot: Bool) throws(TemplateError) -> Operand {
        let token = tokens.removeFirst()
        let term: Operand
        switch token.kind {
        case .dot:
            term = .dot(fields: [])
        case .field(let name):
            var fields = [name]
            fields += trailingFields(&tokens)
            if dotIsRoot { try checkRootField(fields[0]) }
            return .dot(fields: fields)
        case .variable(let name):
            guard isDefined(name) else { throw TemplateError("undefined variable \"\(name)\"") }
            let fields = trailingFields(&tokens)
            if name == "$", let first = fields.first { try checkRootField(first) }
            return .variable(name, fields: fields)
        case .identifier("true"): term = .bool(true)
        case .identifier("false"): term = .bool(false)
        case .identifier("nil"): term = .null
        case .identifier(let name):
            if GoTemplate.refusedFunctions.contains(name) {
                throw TemplateError("function \"\(name)\" is not supported in this adapter's templates")
            }
            guard GoTemplate.functions.contains(name) else { throw TemplateError("function \"\(name)\" not defined") }
            term = .function(name)
        case .string(let text): term = .string(text)
        case .int(let number): term = .int(number)
        case .leftParen:
            var depth = 1
            var inner: [Token] = []
            while let next = tokens.first {
                tokens.removeFirst()
                if next.kind == .leftParen { depth += 1 }
                if next.kind == .rightParen {
                    depth -= 1
                    if depth == 0 { break }
                }
                inner.append(next)
            }
            guard depth == 0 else { throw TemplateError("unclosed left paren") }
            let nested = try pipeline(inner[...], dotIsRoot: dotIsRoot, context: "parenthesized pipeline")
            return .parenthesized(nested, fields: trailingFields(&tokens))
        default:
            throw TemplateError("unexpected \(describe(token)) in operand")
        }
        if let next = tokens.first, !next.spaceBefore, case .field = next.kind {
            throw TemplateError("unexpected \(describe(next)) after \(describe(token))")
        }
        return term
    }

    private func trailingFields(_ tokens: inout ArraySlice<Token>) -> [String] {
        var fields: [String] = []
        while let next = tokens.first, !next.spaceBefore, case .field(let name) = next.kind {
            fields.append(name)
            tokens.removeFirst()
        }
        return fields
    }

    private func checkRootField(_ name: String) throws(TemplateError) {
        guard rootFields.contains(name) else {
            let known = rootFields.map { "<<.\($0)>>" }.joined(separator: ", ")
            throw TemplateError("unknown placeholder <<.\(name)>> (known: \(known))")
        }
    }

    private func isDefined(_ name: String) -> Bool {
        scopes.contains { $0.contains(name) }
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .field(let name): "<.\(name)>"
        case .dot: "<.>"
        case .variable(let name): "<\(name)>"
        case .identifier(let name): "<\(name)>"
        case .string(let text): String(reflecting: text)
        case .int(let number): "<\(number)>"
        case .leftParen: "<(>"
        case .rightParen: "<)>"
        case .pipe: "<|>"
        case .comma: "<,>"
        case .declare: "<:=>"
        case .assign: "<=>"
        }
    }
}
