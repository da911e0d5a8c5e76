/// The served versions of `custom.metrics.k8s.io`, most preferred first.
public enum APIVersion: String, Sendable, CaseIterable, Hashable {
    case v1beta2
    case v1beta1

    public static let group = "custom.metrics.k8s.io"

    /// `custom.metrics.k8s.io/v1beta2`.
    public var groupVersion: String { "\(Self.group)/\(rawValue)" }
}
