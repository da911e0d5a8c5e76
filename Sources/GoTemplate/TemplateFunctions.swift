
/// Go's template built-ins that prometheus-adapter templates call, with Go's results and errors.
enum TemplateFunctions {
    static func call(_ name: String, _ args: [TemplateValue]) throws(TemplateError) -> TemplateValue {
        switch name {
        case "not":
            try arity(name, args, 1)
            return .bool(!args[0].isTrue)
        case "len":
            try arity(name, args, 1)
            switch args[0] {
            case .string(let text): return .int(text.utf8.count)
            case .strings(let items): return .int(items.count)
            case .stringMap(let map): return .int(map.count)
            case let other: throw TemplateError("error calling len: len of type \(other.typeName)")
            }
        case "index":
            guard var value = args.first else { throw TemplateError("wrong number of args for index: want at least 1 got 0") }
            for key in args.dropFirst() { value = try index(value, key) }
            return value
        case "eq":
            guard args.count >= 2 else { throw TemplateError("missing argument for comparison") }
            for other in args.dropFirst() where try compare(args[0], other) == 0 { return .bool(true) }
            return .bool(false)
        case "ne", "lt", "le", "gt", "ge":
            try arity(name, args, 2)
            let order = try compare(args[0], args[1], ordered: name != "ne")
            switch name {
            case "ne": return .bool(order != 0)
            case "lt": return .bool(order < 0)
            case "le": return .bool(order <= 0)
            case "gt": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "print":
            return .string(sprint(args))
        case "println":
            return .string(args.map(\.printed).joined(separator: " ") + "\n")
        case "printf":
            guard case .string(let format)? = args.first else { throw TemplateError("printf needs a format string") }
            return .string(try sprintf(format, Array(args.dropFirst())))
        default:
            throw TemplateError("function \"\(name)\" not defined")
        }
    }

    private static func arity(_ name: String, _ args: [TemplateValue], _ count: Int) throws(TemplateError) {
        guard args.count == count else {
            throw TemplateError("wrong number of args for \(name): want \(count) got \(args.count)")
        }
    }

    /// `index` of a map (a missing key gives the zero value, "") or of a slice (out of range is an error).
    private static func index(_ value: TemplateValue, _ key: TemplateValue) throws(TemplateError) -> TemplateValue {
        switch (value, key) {
        case (.stringMap(let map), .string(let name)):
            return .string(map[name] ?? "")
        case (.strings(let items), .int(let position)):
            guard items.indices.contains(position) else {
                throw TemplateError("error calling index: index out of range: \(position)")
            }
            return .string(items[position])
        case (.missing, _):
            throw TemplateError("error calling index: index of untyped nil")
        default:
            throw TemplateError("error calling index: cannot index \(value.typeName) with \(key.typeName)")
        }
    }

    /// -1, 0 or 1; comparing different kinds is an error, as in Go.
    private static func compare(_ a: TemplateValue, _ b: TemplateValue, ordered: Bool = true) throws(TemplateError) -> Int {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.int(let x), .int(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.bool(let x), .bool(let y)):
            if x == y { return 0 }
            if ordered { throw TemplateError("error calling comparison: invalid type for comparison") }
            return 1
        default:
            throw TemplateError("error calling comparison: incompatible types for comparison")
        }
    }

    /// `fmt.Sprint`: operands joined, with a space between two operands when neither is a string.
    private static func sprint(_ args: [TemplateValue]) -> String {
        var result = ""
        for (offset, arg) in args.enumerated() {
            if offset > 0, !isString(args[offset - 1]), !isString(arg) { result += " " }
            result += arg.printed
        }
        return result
    }

    private static func isString(_ value: TemplateValue) -> Bool {
        if case .string = value { true } else { false }
    }

    /// `fmt.Sprintf` for the verbs templates use: `%s`, `%v`, `%d`, `%q`, `%%`.
    private static func sprintf(_ format: String, _ args: [TemplateValue]) throws(TemplateError) -> String {
        var result = ""
        var remaining = args[...]
        var characters = format[...]
        while let c = characters.popFirst() {
            guard c == "%" else { result.append(c); continue }
            guard let verb = characters.popFirst() else { result += "%!(NOVERB)"; break }
            if verb == "%" { result += "%"; continue }
            guard let arg = remaining.popFirst() else { result += "%!\(verb)(MISSING)"; continue }
            switch verb {
            case "s", "v": result += arg.printed
            case "d":
                guard case .int(let number) = arg else { result += "%!d(\(arg.typeName)=\(arg.printed))"; continue }
                result += String(number)
            case "q": result += String(reflecting: arg.printed)
            default: throw TemplateError("printf verb %\(verb) is not supported in this adapter's templates")
            }
        }
        if !remaining.isEmpty {
            result += "%!(EXTRA " + remaining.map { "\($0.typeName)=\($0.printed)" }.joined(separator: ", ") + ")"
        }
        return result
    }
}
