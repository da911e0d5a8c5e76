import AdapterWiring
import ArgumentParser
import CustomMetricsAPI
import Foundation
import HorizontalScaling
import KubernetesClient
import NIOCore
import NIOSSL

/// `custom-metrics-adapter hpa-controller`: the HPA's decision loop, run locally against an adapter.
///
/// Every sync period it asks the adapter through the URL the HPA uses, applies the HPA controller's
/// replica calculation (`HorizontalScaling`) and prints one JSON line with the decision. Whoever runs the
/// replicas (the closed-loop demo) applies it and writes the replica count it runs (ready and starting, the
/// Deployment's spec.replicas) to `--replicas-file`.
struct HPAControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hpa-controller",
        abstract: "Run the HPA's replica calculation against an adapter every sync period; print one JSON decision per line."
    )

    @Option(name: .customLong("adapter-url"), help: "Base URL of the adapter (https://127.0.0.1:6443).")
    var adapterURL: String

    @Option(name: .customLong("ca-file"), help: "PEM CA that signs the adapter's serving certificate.")
    var caFile: String

    @Option(name: .customLong("token-file"), help: "File holding the bearer token to send (re-read every sync).")
    var tokenFile: String?

    @Option(name: .customLong("label-selector"), help: "The scale target's pod selector (app=triton).")
    var labelSelector: String

    @OptionGroup var hpa: HPAFileOptions

    @Option(name: .customLong("replicas-file"), help: "File holding the scale target's spec.replicas (running and starting replicas), written by whoever runs them.")
    var replicasFile: String

    @Option(name: .customLong("sync-period"), help: "How often to decide (the controller's --horizontal-pod-autoscaler-sync-period).")
    var syncPeriod = "15s"

    @Option(name: .customLong("duration"), help: "Stop after this long (default: run until interrupted).")
    var duration: String?

    func run() async throws {
        let spec = try hpa.spec()
        let period = try DurationFlag.parse(syncPeriod, flag: "--sync-period")
        let window = try hpa.stabilizationWindow()
        let stopAfter = try duration.map { text throws(SettingsError) in try DurationFlag.parse(text, flag: "--duration") }
        var model = try HorizontalPodAutoscalerModel(
            spec: spec.autoscaler.spec, configuration: ControllerConfiguration(downscaleStabilizationWindow: window)
        )
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(caFile)
        } catch {
            throw ValidationError("--ca-file \(caFile): \(error)")
        }
        let client = KubernetesAPIClient(config: KubeConfig(server: adapterURL, certificateAuthority: certificates, tokenFile: tokenFile))
        let path = spec.metricPath(namespace: hpa.namespace, labelSelector: labelSelector)

        let clock = ContinuousClock()
        let started = clock.now
        var next = started
        defer { Task { [client] in try? await client.shutdown() } }
        while stopAfter.map({ clock.now - started < $0 }) ?? true {
            try await clock.sleep(until: next)
            next = next.advanced(by: period)
            let current = readReplicas()
            let reading = await readMetric(client: client, path: path)
            // The replicas file says how many pods run, not their names: a pod without a value yet (still
            // starting) stands in as an unmeasured one, counted as the HPA counts a Pending pod: 0 on
            // scale-up, the target on scale-down.
            var pods = reading.values.map { PodSnapshot(name: $0.podName) }
            while pods.count < Int(current) { pods.append(PodSnapshot(name: "unmeasured-\(pods.count)")) }
            let decision = model.decide(at: clock.now - started, currentReplicas: current, pods: pods, metrics: [reading.metric])
            printLine(decision: decision, reading: reading)
        }
        try? await client.shutdown()
    }

    private func readReplicas() -> Int32 {
        let text = (try? String(contentsOfFile: replicasFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.flatMap { Int32($0) } ?? 1
    }

    /// What the HPA would get from the adapter.
    private func readMetric(client: KubernetesAPIClient, path: String) async -> MetricValueListReading {
        do {
            let (status, body) = try await client.get(path, timeout: .seconds(10))
            return MetricValueListReading(status: status, body: body)
        } catch {
            return MetricValueListReading(failure: "\(error)")
        }
    }

    private func printLine(decision: Decision, reading: MetricValueListReading) {
        let evaluation = decision.evaluations.first
        var line: [String: Any] = [
            "time": Date().timeIntervalSince1970,
            "current": Int(decision.currentReplicas),
            "desired": Int(decision.desiredReplicas),
            "values": Dictionary(uniqueKeysWithValues: reading.values.map { ($0.podName, Int($0.milliValue)) }),
            "reason": decision.reason.description,
            "detail": decision.description,
        ]
        if let evaluation {
            line["target"] = Int(evaluation.targetMilli)
            if let usage = evaluation.usageMilli { line["average"] = Int(usage) }
            if let ratio = evaluation.ratio { line["ratio"] = ratio }
        }
        if let error = reading.error { line["error"] = error }
        guard let data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
