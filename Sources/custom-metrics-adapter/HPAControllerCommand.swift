import ArgumentParser
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

    @Option(name: .customLong("namespace"), help: "Namespace of the scaled pods.")
    var namespace: String

    @Option(name: .customLong("label-selector"), help: "The scale target's pod selector (app=triton).")
    var labelSelector: String

    @Option(name: .customLong("hpa"), help: "autoscaling/v2 HorizontalPodAutoscaler YAML: min, max, metrics[0] (Pods), behavior.")
    var hpaFile: String

    @Option(name: .customLong("replicas-file"), help: "File holding the scale target's spec.replicas (running and starting replicas), written by whoever runs them.")
    var replicasFile: String

    @Option(name: .customLong("sync-period"), help: "How often to decide (the controller's --horizontal-pod-autoscaler-sync-period).")
    var syncPeriod = "15s"

    @Option(name: .customLong("downscale-stabilization"), help: "Default scale-down stabilization window when the HPA has no behavior (kube-controller-manager's flag).")
    var downscaleStabilization = "300s"

    @Option(name: .customLong("duration"), help: "Stop after this long (default: run until interrupted).")
    var duration: String?

    func run() async throws {
        let spec = try HPASpecFile(path: hpaFile)
        guard let period = AdapterSettings.duration(syncPeriod) else { throw ValidationError("--sync-period \"\(syncPeriod)\" is not a duration") }
        guard let window = AdapterSettings.duration(downscaleStabilization) else {
            throw ValidationError("--downscale-stabilization \"\(downscaleStabilization)\" is not a duration")
        }
        let stopAfter = try duration.map { text -> Duration in
            guard let value = AdapterSettings.duration(text) else { throw ValidationError("--duration \"\(text)\" is not a duration") }
            return value
        }
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
        var path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/\(namespace)/pods/%2A/\(spec.metricName)"
            + "?labelSelector=\(labelSelector.queryParameterEncoded)"
        if let metricSelector = spec.metricLabelSelector { path += "&metricLabelSelector=\(metricSelector.queryParameterEncoded)" }

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

    private struct Reading {
        var metric: MetricReading
        var values: [PodMetricValue]
        var error: String?
    }

    /// What the HPA would get: the items as milli-values, or why there are none.
    private func readMetric(client: KubernetesAPIClient, path: String) async -> Reading {
        let status: UInt
        let body: Data
        do {
            (status, body) = try await client.get(path, timeout: .seconds(10))
        } catch {
            return Reading(metric: .unavailable(reason: "\(error)"), values: [], error: "request failed: \(error)")
        }
        let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
        guard status == 200, let items = object?["items"] as? [[String: Any]] else {
            let message = object?["message"] as? String ?? String(decoding: body.prefix(200), as: UTF8.self)
            return Reading(metric: .unavailable(reason: message), values: [], error: "HTTP \(status): \(message)")
        }
        var values: [PodMetricValue] = []
        for item in items {
            guard let name = (item["describedObject"] as? [String: Any])?["name"] as? String,
                let text = item["value"] as? String, let quantity = try? MilliQuantity(parsing: text)
            else { continue }
            values.append(PodMetricValue(podName: name, milliValue: quantity.milliValue))
        }
        if values.isEmpty {
            // The HPA treats an empty list as an error and holds the replica count.
            return Reading(metric: .unavailable(reason: "no metrics returned"), values: [], error: "no metrics returned")
        }
        return Reading(metric: .pods(values), values: values, error: nil)
    }

    private func printLine(decision: Decision, reading: Reading) {
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
