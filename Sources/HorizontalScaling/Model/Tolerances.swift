/// The band of usage ratios around 1 inside which a metric proposes no change.
///
/// The controller checks `1 - scaleDown <= ratio <= 1 + scaleUp` (inclusive on both ends, so an
/// average of exactly `1100m` against `1000m` is *within* a 0.1 tolerance).
public struct Tolerances: Sendable, Equatable {
    /// How far below 1 the ratio may fall before scaling down.
    public var scaleDown: Double
    /// How far above 1 the ratio may rise before scaling up.
    public var scaleUp: Double

    public init(scaleDown: Double, scaleUp: Double) {
        self.scaleDown = scaleDown
        self.scaleUp = scaleUp
    }

    /// The same tolerance in both directions.
    public init(_ both: Double) {
        self.init(scaleDown: both, scaleUp: both)
    }

    /// Whether `ratio` is close enough to 1 to leave the replica count alone.
    public func contains(_ ratio: Double) -> Bool {
        (1.0 - scaleDown) <= ratio && ratio <= (1.0 + scaleUp)
    }
}
