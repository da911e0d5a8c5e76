extension Duration {
    /// The duration in whole nanoseconds (what swift-metrics timers record).
    public var totalNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }

    /// The duration in seconds, as a floating-point number.
    public var totalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in milliseconds, as a floating-point number.
    public var totalMilliseconds: Double {
        totalSeconds * 1000
    }
}
