/// The kube-controller-manager flags and feature gates that change the HPA's decision.
///
/// Defaults are the controller's: a 0.1 tolerance, a five-minute scale-down stabilization window,
/// and per-direction tolerances from `behavior` honoured.
public struct ControllerConfiguration: Sendable, Equatable {
    /// `--horizontal-pod-autoscaler-tolerance`: ratios within `1 ± tolerance` change nothing.
    public var tolerance: Double
    /// `--horizontal-pod-autoscaler-downscale-stabilization`: the scale-down window used when the
    /// HPA has no `behavior`, or a `behavior.scaleDown` without `stabilizationWindowSeconds`.
    public var downscaleStabilizationWindow: Duration
    /// Feature gate `HPAConfigurableTolerance`: whether `behavior.scaleUp.tolerance` and
    /// `behavior.scaleDown.tolerance` override `tolerance`.
    public var configurableTolerance: Bool

    public init(
        tolerance: Double = 0.1, downscaleStabilizationWindow: Duration = .seconds(300),
        configurableTolerance: Bool = true
    ) {
        self.tolerance = tolerance
        self.downscaleStabilizationWindow = downscaleStabilizationWindow
        self.configurableTolerance = configurableTolerance
    }

    /// The window in whole seconds, as the controller copies it into `behavior.scaleDown`.
    var downscaleStabilizationWindowSeconds: Int32 {
        Int32(clamping: downscaleStabilizationWindow.components.seconds)
    }
}
