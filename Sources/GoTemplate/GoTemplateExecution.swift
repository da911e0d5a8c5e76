
/// Runs a `GoTemplate`'s syntax tree as Go's `text/template` executes it.
struct GoTemplateExecution {
    private typealias Node = GoTemplate.Node
    private typealias Operand = GoTemplate.Operand

    /// Variables in scope, innermost last; `$` is the data the template runs with.
    private var variables: [(name: String, value: TemplateValue)]

    init(root: TemplateValue) {
        self.variables = [("$", root)]
    }

    mutating func run(_ nodes: [GoTemplate.Node], dot: TemplateValue, into output: inout String) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .action(let pipeline):
                let value = try evaluate(pipeline, dot: dot)
                if pipeline.variables.isEmpty { output += value.printed }
            case .conditional(let pipeline, let then, let otherwise):
                let mark = variables.count
                let value = try evaluate(pipeline, dot: dot)
                try run(value.isTrue ? then : otherwise, dot: dot, into: &output)
                variables.removeLast(variables.count - mark)
            case .with(let pipeline, let body, let otherwise):
                let mark = variables.count
                let value = try evaluate(pipeline, dot: dot)
                if value.isTrue {
                    try run(body, dot: value, into: &output)
                } else {
                    try run(otherwise, dot: dot, into: &output)
                }
                variables.removeLast(variables.count - mark)
            case .range(let pipeline, let body, let otherwise):
                try range(pipeline, body: body, otherwise: otherwise, dot: dot, into: &output)
            }
        }
    }

    private mutating func range(
        _ pipeline: GoTemplate.Pipeline,
        body: [Node],
        otherwise: [Node],
        dot: TemplateValue,
        into output: inout String
    ) throws(TemplateError) {
        let mark = variables.count
        defer { variables.removeLast(variables.count - mark) }
        var plain = pipeline
        plain.variables = []
        let elements: [(key: TemplateValue, value: TemplateValue)]
        switch try evaluate(plain, dot: dot) {
        case .strings(let items): elements = items.enumerated().map { (.int($0.offset), .string($0.element)) }
        case .stringMap(let map): elements = map.keys.sorted().map { (.string($0), .string(map[$0]!)) }
        case .int(let count): elements = (0..<max(count, 0)).map { (.int($0), .int($0)) }
        case .missing: elements = []
        case let other: throw TemplateError("range can't iterate over \(other.printed)")
        }
        if elements.isEmpty {
            try run(otherwise, dot: dot, into: &output)
            return
        }
        for element in elements {
            let iterationMark = variables.count
            switch pipeline.variables.count {
            case 1: variables.append((pipeline.variables[0], element.value))
            case 2: variables += [(pipeline.variables[0], element.key), (pipeline.variables[1], element.value)]
            default: break
            }
            try run(body, dot: element.value, into: &output)
            variables.removeLast(variables.count - iterationMark)
        }
    }

    private mutating func evaluate(_ pipeline: GoTemplate.Pipeline, dot: TemplateValue) throws(TemplateError) -> TemplateValue {
        var value: TemplateValue?
        for command in pipeline.commands {
            value = try evaluate(command, dot: dot, piped: value)
        }
        let result = value ?? .missing
        if pipeline.isAssignment, let name = pipeline.variables.first,
           let slot = variables.lastIndex(where: { $0.name == name }) {
            variables[slot].value = result
        } else if let name = pipeline.variables.first {
            variables.append((name, result))
        }
        return result
    }

    private mutating func evaluate(_ command: GoTemplate.Command, dot: TemplateValue, piped: TemplateValue?) throws(TemplateError) -> TemplateValue {
        if case .function(let name) = command.operands[0] {
            var arguments = Array(command.operands.dropFirst())
            var pipedValue = piped
            if name == "and" || name == "or" {
                // Go evaluates `and`/`or` arguments lazily, stopping at the first deciding one.
                var last: TemplateValue = .missing
                while !arguments.isEmpty || pipedValue != nil {
                    if !arguments.isEmpty {
                        last = try evaluate(arguments.removeFirst(), dot: dot)
                    } else {
                        last = pipedValue!
                        pipedValue = nil
                    }
                    if last.isTrue != (name == "and") { return last }
                }
                return last
            }
            var values: [TemplateValue] = []
            for argument in arguments { values.append(try evaluate(argument, dot: dot)) }
            if let piped { values.append(piped) }
            return try TemplateFunctions.call(name, values)
        }
        guard command.operands.count == 1, piped == nil else {
            throw TemplateError("can't give argument to non-function \(command.operands[0])")
        }
        return try evaluate(command.operands[0], dot: dot)
    }

    private mutating func evaluate(_ operand: Operand, dot: TemplateValue) throws(TemplateError) -> TemplateValue {
        switch operand {
        case .dot(let fields):
            return try access(dot, fields)
        case .variable(let name, let fields):
            guard let value = variables.last(where: { $0.name == name })?.value else {
                throw TemplateError("undefined variable \"\(name)\"")
            }
            return try access(value, fields)
        case .function(let name):
            return try TemplateFunctions.call(name, [])
        case .string(let text): return .string(text)
        case .int(let number): return .int(number)
        case .bool(let flag): return .bool(flag)
        case .null: return .missing
        case .parenthesized(let pipeline, let fields):
            return try access(try evaluate(pipeline, dot: dot), fields)
        }
    }

    private func access(_ value: TemplateValue, _ fields: [String]) throws(TemplateError) -> TemplateValue {
        var current = value
        for field in fields { current = try current.field(field) }
        return current
    }
}
