/// `HorizontalPodAutoscalerSpec` (autoscaling/v2).
///
/// `minReplicas` stays optional because the API server defaults it to 1 when absent, and the
/// controller reads it that way; `behavior` stays optional because a nil behavior selects the
/// controller's older normalization (a fixed scale-up rate of max(2 × current, 4)) instead of
/// policies.
public struct HPASpec: Decodable, Sendable, Equatable {
    public var scaleTargetRef: CrossVersionObjectReference?
    public var minReplicas: Int32?
    public var maxReplicas: Int32
    public var metrics: [MetricSpec]
    public var behavior: HorizontalPodAutoscalerBehavior?

    public init(
        scaleTargetRef: CrossVersionObjectReference? = nil, minReplicas: Int32? = nil,
        maxReplicas: Int32, metrics: [MetricSpec], behavior: HorizontalPodAutoscalerBehavior? = nil
    ) {
        self.scaleTargetRef = scaleTargetRef
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.metrics = metrics
        self.behavior = behavior
    }

    private enum CodingKeys: String, CodingKey {
        case scaleTargetRef, minReplicas, maxReplicas, metrics, behavior
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scaleTargetRef = try container.decodeIfPresent(
            CrossVersionObjectReference.self, forKey: .scaleTargetRef)
        minReplicas = try container.decodeIfPresent(Int32.self, forKey: .minReplicas)
        maxReplicas = try container.decode(Int32.self, forKey: .maxReplicas)
        metrics = try container.decodeIfPresent([MetricSpec].self, forKey: .metrics) ?? []
        behavior = try container.decodeIfPresent(
            HorizontalPodAutoscalerBehavior.self, forKey: .behavior)
    }

    /// `minReplicas` as the API server defaults it.
    public var effectiveMinReplicas: Int32 { minReplicas ?? 1 }
}
