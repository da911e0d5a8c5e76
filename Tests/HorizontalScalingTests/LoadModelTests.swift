import HorizontalScaling
import Testing

/// What each load model says one of `replicas` replicas reports, from the service's recorded load.
struct LoadModelTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let why: String
        let model: LoadModel
        let load: ServiceLoad
        let replicas: Int32
        var capacity = ReplicaCapacity()
        let milli: Int64?
        var testDescription: String { why }
    }

    static let rows: [Row] = [
        Row(why: "even: the total 7 of one replica with 8 clients over 4", model: .even, load: ServiceLoad(metricTotal: 7000), replicas: 4, milli: 1750),
        Row(why: "even: one replica keeps the total", model: .even, load: ServiceLoad(metricTotal: 7000), replicas: 1, milli: 7000),
        Row(why: "closed loop: 8 in flight on 1 replica wait 7 for each one computing", model: .closedLoop,
            load: ServiceLoad(metricTotal: 7000, inFlight: 8), replicas: 1, milli: 7000),
        Row(why: "closed loop: 8 in flight on 4 replicas read N/R − 1 = 1 (issue 15's example)", model: .closedLoop,
            load: ServiceLoad(metricTotal: 7000, inFlight: 8), replicas: 4, milli: 1000),
        Row(why: "closed loop: fewer in flight than replicas never queue", model: .closedLoop,
            load: ServiceLoad(metricTotal: 0, inFlight: 3), replicas: 4, milli: 0),
        Row(why: "closed loop: two instances per replica serve two at once", model: .closedLoop,
            load: ServiceLoad(metricTotal: 0, inFlight: 8), replicas: 2, capacity: ReplicaCapacity(instances: 2), milli: 1000),
        Row(why: "closed loop: a max batch of 4 serves four at once", model: .closedLoop,
            load: ServiceLoad(metricTotal: 0, inFlight: 8), replicas: 1, capacity: ReplicaCapacity(maxBatchSize: 4), milli: 1000),
        Row(why: "closed loop: no load recorded, no value", model: .closedLoop, load: ServiceLoad(metricTotal: 7000), replicas: 4, milli: nil),
        Row(why: "open loop: 2 busy on 4 replicas, ρ = 0.5 reads 1", model: .openLoop,
            load: ServiceLoad(metricTotal: 0, busy: 2), replicas: 4, milli: 1000),
        Row(why: "open loop: 2 busy on 8 replicas, ρ = 0.25 reads 1/3", model: .openLoop,
            load: ServiceLoad(metricTotal: 0, busy: 2), replicas: 8, milli: 333),
        Row(why: "open loop: saturated, ρ capped at 0.95 reads 19", model: .openLoop,
            load: ServiceLoad(metricTotal: 0, busy: 2), replicas: 2, milli: 19000),
        Row(why: "open loop: no load recorded, no value", model: .openLoop, load: ServiceLoad(metricTotal: 7000), replicas: 4, milli: nil),
    ]

    @Test(arguments: rows)
    func perReplicaValue(row: Row) {
        #expect(row.model.perReplicaValue(row.load, replicas: row.replicas, capacity: row.capacity) == row.milli)
    }

    @Test func flagNames() {
        #expect(LoadModel.allCases.map(\.rawValue) == ["even", "closed-loop", "open-loop"])
    }
}
