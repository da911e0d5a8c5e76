
/// A value a Go template works with, limited to the types prometheus-adapter passes to its templates
/// (strings, a string slice, a string-to-string map, the argument struct) and those the template
/// functions produce (booleans, integers).
public enum TemplateValue: Sendable, Hashable {
    case string(String)
    case strings([String])
    case stringMap([String: String])
    case bool(Bool)
    case int(Int)
    /// A struct: its fields, in declaration order.
    case record(typeName: String, fields: [Field])
    /// Go's invalid value: a missing map entry read as a field, or `nil`. Prints as `<no value>`.
    case missing

    /// One field of a `record`.
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: TemplateValue

        public init(name: String, value: TemplateValue) {
            self.name = name
            self.value = value
        }
    }

    /// The value as Go's `fmt` prints it with `%v`.
    public var printed: String {
        switch self {
        case .string(let text): text
        case .strings(let items): "[" + items.joined(separator: " ") + "]"
        case .stringMap(let map): "map[" + map.keys.sorted().map { "\($0):\(map[$0]!)" }.joined(separator: " ") + "]"
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .record(_, let fields): "{" + fields.map(\.value.printed).joined(separator: " ") + "}"
        case .missing: "<no value>"
        }
    }

    /// Go's truth: non-empty strings, slices and maps, true, non-zero numbers; a struct is true.
    var isTrue: Bool {
        switch self {
        case .string(let text): !text.isEmpty
        case .strings(let items): !items.isEmpty
        case .stringMap(let map): !map.isEmpty
        case .bool(let flag): flag
        case .int(let number): number != 0
        case .record: true
        case .missing: false
        }
    }

    /// The Go type name, for error messages.
    var typeName: String {
        switch self {
        case .string: "string"
        case .strings: "[]string"
        case .stringMap: "map[string]string"
        case .bool: "bool"
        case .int: "int"
        case .record(let name, _): name
        case .missing: "<nil>"
        }
    }

    /// `.name` on this value: a struct field, or a map entry (`<no value>` when absent, as in Go).
    func field(_ name: String) throws(TemplateError) -> TemplateValue {
        switch self {
        case .record(let type, let fields):
            guard let field = fields.first(where: { $0.name == name }) else {
                throw TemplateError("can't evaluate field \(name) in type \(type)")
            }
            return field.value
        case .stringMap(let map):
            return map[name].map(TemplateValue.string) ?? .missing
        case .missing:
            throw TemplateError("nil pointer evaluating \(typeName).\(name)")
        default:
            throw TemplateError("can't evaluate field \(name) in type \(typeName)")
        }
    }
}
