import MetricRules

/// Durations as flags spell them: `5s`, `1500ms`, `1m`, `1h30m`.
public enum DurationFlag {
    /// The duration `text` spells, or nil.
    public static func parse(_ text: String) -> Duration? {
        if text.hasSuffix("ms"), let ms = Int64(text.dropLast(2)), ms > 0 { return .milliseconds(ms) }
        if let seconds = PrometheusDuration.seconds(text) { return .seconds(seconds) }
        return nil
    }

    /// The duration of `flag`.
    ///
    /// - Throws: `SettingsError` naming the flag and its value.
    public static func parse(_ text: String, flag: String) throws(SettingsError) -> Duration {
        guard let value = parse(text) else { throw SettingsError("\(flag) \"\(text)\" is not a duration such as 10s, 1500ms or 1m") }
        return value
    }
}

/// A flag or file that cannot be used, with a message naming it.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
