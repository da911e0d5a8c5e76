/// Which way a decision moves the replica count.
public enum ScalingDirection: String, Sendable, Equatable, CustomStringConvertible {
    case up
    case down

    public var description: String { "scale \(rawValue)" }
}
