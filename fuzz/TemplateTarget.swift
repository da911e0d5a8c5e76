/// Fuzzes the `GoTemplate` module: `metricsQuery` templates and the regular expressions of
/// prometheus-adapter's configs, which a platform team pastes from another project's values file.
///
/// Invariants, on any input:
/// - parsing a template never traps, and a refused one says why (a non-empty message);
/// - a parsed template renders, or refuses with a message, against prometheus-adapter's arguments, and
///   renders the same text twice (no hidden state);
/// - text without `<<` is a template of literal text only: it renders to itself (an independent model);
/// - compiling the input as a regular expression never traps; a literal, quoted here independently of the
///   module, compiles and matches exactly itself, and `expand` of `$0` gives the whole match back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    TemplateChecks.template(text)
    TemplateChecks.regex(text)
    return 0
}

enum TemplateChecks {
    static let fields = ["Series", "LabelMatchers", "LabelValuesByName", "GroupBy", "GroupBySlice"]

    /// Built per call: a lazily initialized static enum with boxed payloads reads as a leak to LeakSanitizer.
    static func arguments() -> TemplateValue {
        .record(typeName: "naming.queryTemplateArgs", fields: [
            .init(name: "Series", value: .string("nv_inference_queue_duration_us")),
            .init(name: "LabelMatchers", value: .string(#"namespace="team-a",model="tensorrt_llm""#)),
            .init(name: "LabelValuesByName", value: .stringMap(["namespace": "team-a", "pod": ".+"])),
            .init(name: "GroupBy", value: .string("pod")),
            .init(name: "GroupBySlice", value: .strings(["namespace", "pod"])),
        ])
    }

    static func template(_ text: String) {
        let template: GoTemplate
        do {
            template = try GoTemplate(text, rootFields: fields)
        } catch {
            Invariant.require(!error.message.isEmpty, "template refused without a message: \(Invariant.excerpt(text))")
            Invariant.require(!text.isEmpty, "the empty template was refused")
            return
        }
        Invariant.require(template.source == text, "the template does not keep its source")
        let first: String
        do {
            first = try template.render(arguments())
        } catch {
            Invariant.require(!error.message.isEmpty, "render refused without a message: \(Invariant.excerpt(text))")
            return
        }
        let second = try? template.render(arguments())
        Invariant.require(second == first, "two renders differ: \(Invariant.excerpt(text))")
        if !text.contains("<<") {
            Invariant.require(first == text, "literal text rendered as \(Invariant.excerpt(first)): \(Invariant.excerpt(text))")
        }
    }

    static func regex(_ text: String) {
        if let compiled = try? GoRegex(text) {
            _ = compiled.matches(text)
            _ = compiled.expand("$0", matching: text)
        }
        let literal = String(text.unicodeScalars.prefix(64).filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        // Quoted rune by rune, as Go reads a pattern: a combining mark after `(` leaves `(` a metacharacter.
        var quoted = ""
        for scalar in literal.unicodeScalars {
            if "\\.+*?()|[]{}^$".unicodeScalars.contains(scalar) { quoted.unicodeScalars.append("\\") }
            quoted.unicodeScalars.append(scalar)
        }
        guard let exact = try? GoRegex("^" + quoted + "$") else {
            Invariant.require(false, "a quoted literal does not compile: \(Invariant.excerpt(quoted))")
            return
        }
        Invariant.require(exact.matches(literal), "a quoted literal does not match itself: \(Invariant.excerpt(literal))")
        Invariant.require(
            exact.expand("$0", matching: literal) == literal,
            "expanding $0 of a literal does not give it back: \(Invariant.excerpt(literal))"
        )
    }
}
