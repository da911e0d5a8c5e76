/// Why a template or regular expression could not be parsed or executed, in Go's wording where Go has
/// one (`function "join" not defined`).
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(_ message: String) {
        self.message = message
    }
}
