/// A configuration problem, with a message that names the rule and the field.
public struct RuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(_ message: String) {
        self.message = message
    }

    /// The same problem, prefixed with where it was found (`metrics[0] "my:metric"`).
    func at(_ location: String) -> RuleError {
        RuleError("\(location): \(message)")
    }
}
