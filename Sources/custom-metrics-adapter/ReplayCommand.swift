import AdapterWiring
import ArgumentParser
import CustomMetricsAPI
import Foundation
import HorizontalScaling
import Logging
import MetricRules
import PrometheusClient

/// `custom-metrics-adapter replay`: what an HPA would have done over a stretch of Prometheus history.
///
/// Reads the rule's values per pod with `query_range` at the HPA sync period, steps an HPA model through
/// them with its own replica count (the recorded load shared over the simulated replicas by a `LoadModel`,
/// see `ReplaySimulation`), prints the syncs where something changes and writes an SVG plot; with
/// `--compare-with` it sets the replay against a real run's replica timeline (`ReplayComparison`).
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay an HPA over Prometheus history: the replicas it would have chosen, as a table and an SVG plot."
    )

    @OptionGroup var prometheus: PrometheusOptions

    @OptionGroup var rules: RuleOptions

    @OptionGroup var hpa: HPAFileOptions

    @Option(name: .customLong("start"), help: "Start: RFC 3339 (2026-11-29T10:00:00Z), unix seconds, or now-<duration> (now-6h).")
    var start: String

    @Option(name: .customLong("end"), help: "End, in the same forms; default now.")
    var end = "now"

    @Option(name: .customLong("step"), help: "Time between syncs (the HPA's sync period).")
    var step = "15s"

    @Option(name: .customLong("initial-replicas"), help: "Replicas at the start (default: minReplicas).")
    var initialReplicas: Int32?

    @Option(name: .customLong("output"), help: "Where the SVG plot goes.")
    var output = "replay.svg"

    @Option(name: .customLong("csv"), help: "Also write every sync as CSV here.")
    var csv: String?

    @Flag(name: .customLong("all-rows"), help: "Print every sync, not only those where the replicas change.")
    var allRows = false

    @Option(
        name: .customLong("load-model"),
        help: "How the recorded load is shared over the replayed replicas: even, closed-loop or open-loop (docs/what-if.md).")
    var loadModelName = LoadModel.closedLoop.rawValue

    var loadModel: LoadModel { LoadModel(rawValue: loadModelName) ?? .even }

    func validate() throws {
        guard LoadModel(rawValue: loadModelName) != nil else {
            throw ValidationError("--load-model must be one of \(LoadModel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    @Option(name: .customLong("instances"), help: "Model instances per replica (instance_group count), for the closed- and open-loop models.")
    var instances = 1

    @Option(name: .customLong("max-batch-size"), help: "Requests one instance computes at once, for the closed- and open-loop models.")
    var maxBatchSize = 1

    @Option(name: .customLong("warm-up"), help: "Time from a scale-up until the new replica takes load (default: at once).")
    var warmUp: String?

    @Option(name: .customLong("compare-with"), help: "A real run's replica timeline (CSV `time,replicas`): print how far the replay is from it and plot it.")
    var compareWith: String?

    func run() async throws {
        let spec = try hpa.spec()
        let step = try DurationFlag.parse(self.step, flag: "--step")
        let warmUp = try self.warmUp.map { try DurationFlag.parse($0, flag: "--warm-up") } ?? .zero
        let window = try hpa.stabilizationWindow()
        let now = Date().timeIntervalSince1970
        let from = try TimeFlag.parse(start, now: now, flag: "--start")
        let to = try TimeFlag.parse(end, now: now, flag: "--end")
        guard to > from else { throw ValidationError("--end must be after --start") }
        let timeline = try compareWith.map { path in
            try ReplicaTimeline(csv: String(contentsOfFile: path, encoding: .utf8), source: "--compare-with \(path)")
        }
        let observations = try await read(spec: spec, from: from, to: to, step: step.totalSeconds)
        let loadModel = Self.usable(self.loadModel, observations: observations)
        let model = try HorizontalPodAutoscalerModel(spec: spec.autoscaler.spec, configuration: ControllerConfiguration(downscaleStabilizationWindow: window))
        var simulation = ReplaySimulation(
            model: model, initialReplicas: initialReplicas ?? timeline?.replicas(at: from), loadModel: loadModel,
            capacity: ReplicaCapacity(instances: instances, maxBatchSize: maxBatchSize), warmUp: Double(warmUp.totalSeconds))
        let steps = simulation.run(observations)
        let target = spec.autoscaler.spec.metrics.first?.pods?.target.averageValue?.milliValue ?? 1000
        ReplayReport.table(steps, target: target, allRows: allRows).forEach { print($0) }
        if let timeline {
            ReplayComparison(steps: steps, timeline: timeline, step: step.totalSeconds, minReplicas: spec.autoscaler.spec.effectiveMinReplicas)
                .lines.forEach { print($0) }
        }
        let title = "replay of \(spec.metricName) in \(hpa.namespace): target \(Quantity(milli: target)), replicas \(spec.autoscaler.spec.effectiveMinReplicas)-\(spec.autoscaler.spec.maxReplicas), \(loadModel.rawValue) load"
        try ReplayPlot.svg(steps: steps, targetMilli: target, maxReplicas: spec.autoscaler.spec.maxReplicas, title: title, real: timeline)
            .write(toFile: output, atomically: true, encoding: .utf8)
        if let csv {
            try ReplayReport.csv(steps).write(toFile: csv, atomically: true, encoding: .utf8)
        }
        print("plot: \(output)" + (csv.map { ", csv: \($0)" } ?? ""))
    }

    /// The rule's per-pod values over the range and, for the closed- and open-loop models, the load series.
    func read(spec: HPASpecFile, from: Double, to: Double, step: Double) async throws -> [ReplaySimulation.Observation] {
        let selector = try spec.metricLabelSelector.map { try LabelSelector(parsing: $0) } ?? .everything
        let client = try PrometheusHTTPClient(configuration: prometheus.clientConfiguration())
        do {
            // Either config format: prometheus-adapter's discovers its metrics from the same Prometheus.
            let source = try await rules.ruleSource(listing: client, logger: Logger(label: "custom-metrics-adapter.replay"))
            guard let rule = source.store.current.rule(resource: "pods", metric: spec.metricName) else {
                throw ValidationError(
                    "no rule serves pods/\(spec.metricName) (the HPA's metric); rules: \(source.store.current.rules.map(\.name))"
                )
            }
            var queries = [(try rule.promql(namespace: hpa.namespace, metricSelector: selector), ReplayLoadQuery?.none)]
            if loadModel != .even {
                queries += try ReplayLoadQuery.allCases.map { (try $0.promql(rule: rule, namespace: hpa.namespace, metricSelector: selector), $0) }
            }
            let observations = try await Self.history(client: client, queries: queries, rule: rule, from: from, to: to, step: step)
            try? await client.shutdown()
            return observations
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The per-pod values at every step (see `ReplayHistory`), with a progress bar on standard error.
    ///
    /// - Parameter queries: The rule's PromQL (no load query), then any load series.
    static func history(
        client: PrometheusHTTPClient, queries: [(String, ReplayLoadQuery?)], rule: MetricRule, from: Double, to: Double, step: Double
    ) async throws -> [ReplaySimulation.Observation] {
        var history = ReplayHistory(from: from, to: to, step: step)
        let chunks = history.chunks()
        for (index, chunk) in chunks.enumerated() {
            for (promql, load) in queries {
                let series = try await client.rangeQuery(promql, start: chunk.start, end: chunk.end, step: history.step)
                if let load {
                    history.addLoad(series, nameLabel: rule.nameLabel, query: load)
                } else {
                    history.add(series, nameLabel: rule.nameLabel)
                }
            }
            progress(index + 1, of: chunks.count)
        }
        if history.seriesSeen == 0 {
            FileHandle.standardError.write(Data("warning: Prometheus returned no series for this rule, namespace and range: check --namespace and the HPA's metric selector\n".utf8))
        }
        return history.observations
    }

    /// `model`, or `even` when the history has none of the load series it needs (a metric that is not
    /// Triton's, a Prometheus that does not keep them), said on standard error.
    static func usable(_ model: LoadModel, observations: [ReplaySimulation.Observation]) -> LoadModel {
        guard model != .even, !observations.contains(where: { !$0.load.isEmpty }) else { return model }
        FileHandle.standardError.write(Data("warning: no Triton load series (\(ReplayLoadQuery.allCases.map(\.rawValue).joined(separator: ", "))) for these pods: the \(model.rawValue) model has no data, replaying with --load-model even\n".utf8))
        return .even
    }

    static func progress(_ done: Int, of total: Int) {
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let text = "reading history [\(bar)] \(done)/\(total) range queries"
        FileHandle.standardError.write(Data((isatty(2) == 1 ? "\r\(text)" + (done == total ? "\n" : "") : "\(text)\n").utf8))
    }
}
