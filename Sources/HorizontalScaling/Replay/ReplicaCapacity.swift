/// How many requests one replica computes at once: its model instances times the max batch size.
public struct ReplicaCapacity: Sendable, Equatable {
    public var instances: Int
    public var maxBatchSize: Int

    public init(instances: Int = 1, maxBatchSize: Int = 1) {
        self.instances = max(instances, 1)
        self.maxBatchSize = max(maxBatchSize, 1)
    }

    public var concurrentRequests: Int { instances * maxBatchSize }
}
