/// An `autoscaling/v2` HorizontalPodAutoscaler manifest, as a user applies it.
///
/// Field names are the Kubernetes ones, so the caller can decode the very YAML it would send to a
/// cluster (with Yams, or JSON with `JSONDecoder`) and replay the controller's decisions against it.
/// Only what the replica decision reads is modelled; unknown fields are ignored.
public struct HorizontalPodAutoscaler: Decodable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: Metadata?
    public var spec: HPASpec

    /// The object's identity, for messages only.
    public struct Metadata: Decodable, Sendable, Equatable {
        public var name: String?
        public var namespace: String?

        public init(name: String? = nil, namespace: String? = nil) {
            self.name = name
            self.namespace = namespace
        }
    }

    public init(
        apiVersion: String? = "autoscaling/v2", kind: String? = "HorizontalPodAutoscaler",
        metadata: Metadata? = nil, spec: HPASpec
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
    }
}
