
/// A Go `text/template` with prometheus-adapter's `<<` and `>>` delimiters: the language of its
/// `metricsQuery` strings.
///
/// prometheus-adapter hands `metricsQuery` to Go's template engine unchanged, so configurations use more
/// than placeholders: `<<range $i, $v := .GroupBySlice>><<if $i>>,<<end>><<$v>><<end>>`,
/// `<<index .LabelValuesByName "namespace">>`, `<<range $k, $v := .LabelValuesByName>><<if ne $k "namespace">>…`.
/// This is the part of the language such templates use, with Go's meaning:
/// - actions `<<pipeline>>`, `<<if>>`/`<<else if>>`/`<<else>>`/`<<end>>`, `<<range>>` (with `$i, $v :=`
///   and `<<else>>`), `<<with>>`, variables (`$x := …`, `$x = …`, `$`), comments `<</* … */>>`, and the
///   trim markers `<<- ` and ` ->>`;
/// - operands: `.`, field chains `.A.B`, `$x.A`, strings (`"…"` and raw), integers, `true`, `false`,
///   parenthesized pipelines, and pipes `x | f`;
/// - functions: `and`, `or`, `not`, `len`, `index`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `print`,
///   `printf` (`%s %v %d %q %%`), `println`.
///
/// Values print as Go's `fmt` prints them: a slice as `[a b]`, a map as `map[k:v]` with sorted keys, a
/// missing map entry as `<no value>`. `define`, `template`, `block`, `break`, `continue`, `html`, `js`,
/// `urlquery`, `call` and `slice` are refused with a message naming them.
public struct GoTemplate: Sendable, Hashable {
    /// The template text as written.
    public let source: String
    let nodes: [Node]

    /// Parses `source`.
    ///
    /// - Parameter rootFields: The fields of the data the template is executed with; a field chain on
    ///   the top-level `.` (or on `$`) that starts with another name is an error, as executing it would be.
    /// - Throws: `TemplateError` with Go's wording where Go has one (`function "join" not defined`).
    public init(_ source: String, rootFields: [String]) throws(TemplateError) {
        self.source = source
        var parser = try GoTemplateParser(source: source, rootFields: rootFields)
        self.nodes = try parser.parseAll()
    }

    /// Executes the template with `data` as `.` and `$`.
    ///
    /// - Throws: `TemplateError` with the execution error (an index out of range, a comparison of a string
    ///   with a number).
    public func render(_ data: TemplateValue) throws(TemplateError) -> String {
        var execution = GoTemplateExecution(root: data)
        var output = ""
        try execution.run(nodes, dot: data, into: &output)
        return output
    }

    // MARK: - Syntax tree

    indirect enum Node: Sendable, Hashable {
        case text(String)
        /// `<<pipeline>>`: printed unless it declares or assigns variables.
        case action(Pipeline)
        case conditional(Pipeline, then: [Node], otherwise: [Node])
        case range(Pipeline, body: [Node], otherwise: [Node])
        case with(Pipeline, body: [Node], otherwise: [Node])
    }

    struct Pipeline: Sendable, Hashable {
        /// Variables declared (`$x :=`, or `$i, $v :=` in a range) or assigned (`$x =`).
        var variables: [String]
        var isAssignment: Bool
        var commands: [Command]
    }

    /// A function call with its arguments, or a single operand.
    struct Command: Sendable, Hashable {
        var operands: [Operand]
    }

    indirect enum Operand: Sendable, Hashable {
        /// `.` (`dot`), or a chain of fields on it (`.A.B`).
        case dot(fields: [String])
        /// `$x` or `$`, with fields (`$x.A`).
        case variable(String, fields: [String])
        /// A function name.
        case function(String)
        case string(String)
        case int(Int)
        case bool(Bool)
        case null
        /// `(pipeline)`, with fields (`(…).A`).
        case parenthesized(Pipeline, fields: [String])
    }

    /// The functions this implementation runs.
    static let functions: Set<String> = ["and", "or", "not", "len", "index", "eq", "ne", "lt", "le", "gt", "ge", "print", "printf", "println"]
    /// Go's built-ins that are refused rather than run.
    static let refusedFunctions: Set<String> = ["html", "js", "urlquery", "call", "slice"]
}
