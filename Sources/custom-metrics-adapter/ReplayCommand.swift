import ArgumentParser
import CustomMetricsAPI
import Foundation
import HorizontalScaling
import MetricRules
import PrometheusClient

/// `custom-metrics-adapter replay`: what an HPA would have done over a stretch of Prometheus history.
///
/// Reads the rule's values per pod with `query_range` at the HPA sync period, steps an HPA model through
/// them with its own replica count (the recorded load shared over the simulated replicas, see
/// `ReplaySimulation`), prints the syncs where something changes and writes an SVG plot.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay an HPA over Prometheus history: the replicas it would have chosen, as a table and an SVG plot."
    )

    @Option(name: .customLong("prometheus-url"), help: "Base URL of the Prometheus-compatible query API.")
    var prometheusURL = "http://localhost:9090"

    @Option(name: .customLong("prometheus-query-timeout"), help: "How long one range query may take.")
    var queryTimeout = "60s"

    @Option(name: .customLong("prometheus-token-file"), help: "File with a bearer token for Prometheus.")
    var tokenFile: String?

    @Option(name: .customLong("prometheus-ca-file"), help: "PEM CA bundle that signs Prometheus' certificate.")
    var caFile: String?

    @Option(name: .customLong("prometheus-header"), help: "Extra header as Name=Value (repeatable), e.g. X-Scope-OrgID=tenant-a.")
    var headers: [String] = []

    @Option(name: .customLong("prometheus-username"), help: "Basic-auth user (with --prometheus-password-file).")
    var username: String?

    @Option(name: .customLong("prometheus-password-file"), help: "File with the basic-auth password.")
    var passwordFile: String?

    @Option(name: .customLong("prometheus-client-tls-cert-file"), help: "Client certificate (PEM) for mutual TLS to Prometheus.")
    var clientCertFile: String?

    @Option(name: .customLong("prometheus-client-tls-key-file"), help: "Client key (PEM) for mutual TLS to Prometheus.")
    var clientKeyFile: String?

    @Flag(name: .customLong("prometheus-insecure-skip-tls-verify"), help: "Do not verify Prometheus' certificate (local experiments only).")
    var insecureSkipTLSVerify = false

    @Option(name: .customLong("config"), help: "Rules file (`metrics:`); default: the built-in Triton rule.")
    var config: String?

    @Option(name: .customLong("hpa"), help: "autoscaling/v2 HorizontalPodAutoscaler YAML: min, max, metrics[0] (Pods), behavior.")
    var hpaFile: String

    @Option(name: .customLong("namespace"), help: "Namespace of the scaled pods.")
    var namespace: String

    @Option(name: .customLong("start"), help: "Start: RFC 3339 (2026-11-29T10:00:00Z), unix seconds, or now-<duration> (now-6h).")
    var start: String

    @Option(name: .customLong("end"), help: "End, in the same forms; default now.")
    var end = "now"

    @Option(name: .customLong("step"), help: "Time between syncs (the HPA's sync period).")
    var step = "15s"

    @Option(name: .customLong("initial-replicas"), help: "Replicas at the start (default: minReplicas).")
    var initialReplicas: Int32?

    @Option(name: .customLong("downscale-stabilization"), help: "Default scale-down stabilization window when the HPA has no behavior.")
    var downscaleStabilization = "300s"

    @Option(name: .customLong("output"), help: "Where the SVG plot goes.")
    var output = "replay.svg"

    @Option(name: .customLong("csv"), help: "Also write every sync as CSV here.")
    var csv: String?

    @Flag(name: .customLong("all-rows"), help: "Print every sync, not only those where the replicas change.")
    var allRows = false

    func run() async throws {
        let hpa = try HPASpecFile(path: hpaFile)
        let rules: RuleSet
        if let config {
            rules = try RuleConfig.parse(yaml: try String(contentsOfFile: config, encoding: .utf8))
        } else {
            rules = .builtIn
        }
        guard let (rule, template) = rules.rule(resource: "pods", metric: hpa.metricName) else {
            throw ValidationError("no rule serves pods/\(hpa.metricName) (the HPA's metric); rules: \(rules.rules.map(\.name))")
        }
        let selector = try hpa.metricLabelSelector.map { try LabelSelector(parsing: $0) } ?? .everything
        let promql = try PrometheusMetricsProvider.promql(rule: rule, template: template, namespace: namespace, metricSelector: selector)
        guard let stepDuration = AdapterSettings.duration(step), let timeout = AdapterSettings.duration(queryTimeout),
            let window = AdapterSettings.duration(downscaleStabilization)
        else { throw ValidationError("--step, --prometheus-query-timeout and --downscale-stabilization take durations such as 15s") }
        let stepSeconds = Double(stepDuration.components.seconds) + Double(stepDuration.components.attoseconds) / 1e18
        let now = Date().timeIntervalSince1970
        let from = try Self.time(start, now: now, flag: "--start")
        let to = try Self.time(end, now: now, flag: "--end")
        guard to > from else { throw ValidationError("--end must be after --start") }

        var headerPairs: [(name: String, value: String)] = []
        for header in headers {
            guard let equals = header.firstIndex(of: "=") else { throw ValidationError("--prometheus-header \"\(header)\" must be Name=Value") }
            headerPairs.append((String(header[..<equals]), String(header[header.index(after: equals)...])))
        }
        let client = try PrometheusHTTPClient(configuration: PrometheusClientConfiguration(
            url: prometheusURL, queryTimeout: timeout, bearerTokenFile: tokenFile,
            basicAuthUsername: username, basicAuthPasswordFile: passwordFile, caFile: caFile,
            clientCertificateFile: clientCertFile, clientKeyFile: clientKeyFile,
            insecureSkipTLSVerify: insecureSkipTLSVerify, headers: headerPairs
        ))
        let observations: [ReplaySimulation.Observation]
        do {
            observations = try await Self.history(client: client, promql: promql, rule: rule, from: from, to: to, step: stepSeconds)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try? await client.shutdown()

        let model = try HorizontalPodAutoscalerModel(spec: hpa.autoscaler.spec, configuration: ControllerConfiguration(downscaleStabilizationWindow: window))
        var simulation = ReplaySimulation(model: model, initialReplicas: initialReplicas)
        let steps = simulation.run(observations)
        let target = hpa.autoscaler.spec.metrics.first?.pods?.target.averageValue?.milliValue ?? 1000
        printTable(steps, target: target)
        let title = "replay of \(hpa.metricName) in \(namespace): target \(Quantity(milli: target)), replicas \(hpa.autoscaler.spec.effectiveMinReplicas)-\(hpa.autoscaler.spec.maxReplicas)"
        try ReplayPlot.svg(steps: steps, targetMilli: target, maxReplicas: hpa.autoscaler.spec.maxReplicas, title: title)
            .write(toFile: output, atomically: true, encoding: .utf8)
        if let csv {
            var text = "time,recorded_pods,recorded_average_milli,simulated_milli,replicas,desired,reason\n"
            for step in steps {
                text += "\(Int(step.time)),\(step.recordedPods),\(step.recordedAverage.map(String.init) ?? ""),"
                    + "\(step.simulatedValue.map(String.init) ?? ""),\(step.replicas),\(step.desiredReplicas),\"\(step.reason)\"\n"
            }
            try text.write(toFile: csv, atomically: true, encoding: .utf8)
        }
        print("plot: \(output)" + (csv.map { ", csv: \($0)" } ?? ""))
    }

    /// The per-pod values at every step, read in chunks that stay under Prometheus' 11,000 points per series.
    static func history(
        client: PrometheusHTTPClient, promql: String, rule: MetricRule, from: Double, to: Double, step: Double
    ) async throws -> [ReplaySimulation.Observation] {
        // Times are keyed in whole milliseconds (Prometheus' resolution), computed as start + k·step, so a
        // step such as 1.1 s never drifts away from the timestamps Prometheus returns.
        let stepMilliseconds = Int64((step * 1000).rounded())
        let fromMilliseconds = Int64((from * 1000).rounded())
        let count = Int64(((to - from) * 1000).rounded(.down)) / stepMilliseconds + 1
        let perChunk: Int64 = 10_000
        let chunks = Int((count + perChunk - 1) / perChunk)
        var byTime: [Int64: [String: Int64]] = [:]
        var seriesSeen = 0
        for chunk in 0..<chunks {
            let first = Int64(chunk) * perChunk
            let last = min(first + perChunk, count) - 1
            let series = try await client.rangeQuery(
                promql,
                start: Double(fromMilliseconds + first * stepMilliseconds) / 1000,
                end: Double(fromMilliseconds + last * stepMilliseconds) / 1000,
                step: Double(stepMilliseconds) / 1000
            )
            seriesSeen += series.count
            for entry in series {
                guard let pod = entry.labels[rule.nameLabel] else { continue }
                for sample in entry.samples {
                    guard let milli = Quantity(decimal: sample.value)?.milliValue else { continue }
                    byTime[Int64((sample.timestamp * 1000).rounded()), default: [:]][pod] = milli
                }
            }
            progress(chunk + 1, of: chunks)
        }
        if seriesSeen == 0 {
            FileHandle.standardError.write(Data("warning: Prometheus returned no series for this rule, namespace and range: check --namespace and the HPA's metric selector\n".utf8))
        }
        return (0..<count).map { index in
            let time = fromMilliseconds + index * stepMilliseconds
            return ReplaySimulation.Observation(time: Double(time) / 1000, values: byTime[time] ?? [:])
        }
    }

    static func progress(_ done: Int, of total: Int) {
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let text = "reading history [\(bar)] \(done)/\(total) range queries"
        FileHandle.standardError.write(Data((isatty(2) == 1 ? "\r\(text)" + (done == total ? "\n" : "") : "\(text)\n").utf8))
    }

    private func printTable(_ steps: [ReplaySimulation.Step], target: Int64) {
        print("TIME (UTC)  PODS RECORDED  RECORDED AVG  PER REPLICA  REPLICAS  DECISION")
        var previous: Int32?
        for step in steps where allRows || previous != step.desiredReplicas || step.replicas != step.desiredReplicas || previous == nil {
            let recorded = step.recordedAverage.map { String(format: "%.3f", Double($0) / 1000) } ?? "-"
            let simulated = step.simulatedValue.map { String(format: "%.3f", Double($0) / 1000) } ?? "-"
            let change = step.replicas == step.desiredReplicas ? "\(step.replicas)" : "\(step.replicas) → \(step.desiredReplicas)"
            print(
                ReplayPlot.clock(step.time).padding(toLength: 12, withPad: " ", startingAt: 0)
                    + "\(step.recordedPods)".padding(toLength: 15, withPad: " ", startingAt: 0)
                    + recorded.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + simulated.padding(toLength: 13, withPad: " ", startingAt: 0)
                    + change.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + step.reason
            )
            previous = step.desiredReplicas
        }
        let replicaSeconds = steps.reduce(0.0) { $0 + Double($1.replicas) }
        let changes = zip(steps, steps.dropFirst()).filter { $0.0.desiredReplicas != $0.1.desiredReplicas }.count
        print("syncs: \(steps.count), replica changes: \(changes), peak replicas: \(steps.map(\.replicas).max() ?? 0), "
            + "mean replicas: \(String(format: "%.2f", steps.isEmpty ? 0 : replicaSeconds / Double(steps.count))), target: \(Quantity(milli: target))")
    }

    /// RFC 3339, unix seconds, `now` or `now-<duration>`.
    static func time(_ text: String, now: Double, flag: String) throws -> Double {
        if text == "now" { return now.rounded(.down) }
        if text.hasPrefix("now-"), let duration = AdapterSettings.duration(String(text.dropFirst(4))) {
            return (now - Double(duration.components.seconds)).rounded(.down)
        }
        if let seconds = Double(text) { return seconds }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        throw ValidationError("\(flag) \"\(text)\" is not RFC 3339, unix seconds, now or now-<duration>")
    }
}
