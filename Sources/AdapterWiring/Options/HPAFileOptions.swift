import ArgumentParser

/// The HPA to model: the flags `replay` and `hpa-controller` share.
public struct HPAFileOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("hpa"), help: "autoscaling/v2 HorizontalPodAutoscaler YAML: min, max, metrics[0] (Pods), behavior.")
    public var hpaFile: String

    @Option(name: .customLong("namespace"), help: "Namespace of the scaled pods.")
    public var namespace: String

    @Option(name: .customLong("downscale-stabilization"), help: "Default scale-down stabilization window when the HPA has no behavior (kube-controller-manager's flag).")
    public var downscaleStabilization = "300s"

    public init() {}

    /// The HPA manifest, read and validated.
    public func spec() throws -> HPASpecFile {
        try HPASpecFile(path: hpaFile)
    }

    /// `--downscale-stabilization`, validated.
    public func stabilizationWindow() throws(SettingsError) -> Duration {
        try DurationFlag.parse(downscaleStabilization, flag: "--downscale-stabilization")
    }
}
