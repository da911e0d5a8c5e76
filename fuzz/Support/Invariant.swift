/// The checks every fuzz target shares: trap with a message naming the broken invariant.
///
/// A trap is what libFuzzer records as a failure; the message says which invariant broke, and the script
/// prints the input, so a report needs nothing else.
enum Invariant {
    /// The longest message a client may see, in Unicode scalars.
    ///
    /// A message is fixed text plus a few echoes of the input, each cut to 100 characters and escaped
    /// (`MetricsRequest.quoted`, at most 6 scalars per character): two such echoes and the fixed text stay
    /// under 1.5 KiB. Inputs run to 4 KiB, so an echo that is not cut shows up as a longer message.
    static let maximumMessageScalars = 2048

    /// Traps unless `condition` holds.
    static func require(
        _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
        file: StaticString = #fileID, line: UInt = #line
    ) {
        if !condition() {
            fatalError("invariant violated: \(message())", file: file, line: line)
        }
    }

    /// Traps unless `message` is safe to show a client: bounded in length, no raw control characters.
    static func requireClientMessage(
        _ message: String, _ context: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
    ) {
        let scalars = message.unicodeScalars
        require(!message.isEmpty, "\(context()): empty message", file: file, line: line)
        require(
            scalars.count <= maximumMessageScalars,
            "\(context()): message of \(scalars.count) scalars echoes unbounded input: \(Self.excerpt(message))",
            file: file, line: line
        )
        if let control = scalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            fatalError(
                "invariant violated: \(context()): message carries the raw control character "
                    + "U+\(String(control.value, radix: 16, uppercase: true)): \(Self.excerpt(message))",
                file: file, line: line
            )
        }
    }

    /// The start of a long text, escaped, for a failure message.
    static func excerpt(_ text: String, limit: Int = 160) -> String {
        let head = text.unicodeScalars.prefix(limit).map { $0.escaped(asASCII: true) }.joined()
        return "\"" + head + (text.unicodeScalars.count > limit ? "\"… (\(text.unicodeScalars.count) scalars)" : "\"")
    }
}
