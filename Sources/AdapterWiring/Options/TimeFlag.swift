import Foundation

/// Points in time as `replay`'s flags spell them: RFC 3339 (`2026-11-29T10:00:00Z`), unix seconds, `now`
/// or `now-<duration>` (`now-6h`).
public enum TimeFlag {
    /// Seconds since the epoch for `text`, with `now` the current time.
    ///
    /// - Throws: `SettingsError` naming the flag and its value.
    public static func parse(_ text: String, now: Double, flag: String) throws(SettingsError) -> Double {
        if text == "now" { return now.rounded(.down) }
        if text.hasPrefix("now-"), let duration = DurationFlag.parse(String(text.dropFirst(4))) {
            return (now - Double(duration.components.seconds)).rounded(.down)
        }
        if let seconds = Double(text) { return seconds }
        if let date = ISO8601DateFormatter().date(from: text) { return date.timeIntervalSince1970 }
        throw SettingsError("\(flag) \"\(text)\" is not RFC 3339, unix seconds, now or now-<duration>")
    }
}
