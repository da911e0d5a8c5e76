import AdapterWiring
import ArgumentParser
import CustomMetricsAPI
import Foundation
import KubernetesClient
import Logging
import MetricRules
import PrometheusAdapterConfig
import PrometheusClient

/// `custom-metrics-adapter explain <API path> [server flags]`: one request, every decision on the way.
///
/// Takes the server's flags, so it sees the same rules, Prometheus and pods the server does, and prints the
/// rule that matched, the PromQL sent, Prometheus' timing, every pod considered and why it was kept or left
/// out, and the answer the API gives: the answer to "metric not found".
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain one custom.metrics.k8s.io request: rule, PromQL, timing, each pod's verdict, the answer.",
        discussion: """
            Example: custom-metrics-adapter explain \\
              '/apis/custom.metrics.k8s.io/v1beta2/namespaces/triton/pods/*/triton:queue_compute:ratio?labelSelector=app=triton' \\
              --prometheus-url http://prometheus:9090 --kubeconfig ~/.kube/config
            """
    )

    @Argument(help: "The API path as the HPA or kubectl get --raw sends it (quote it; * and %2A both work).")
    var path: String

    @OptionGroup var options: ServerOptions

    func run() async throws {
        var logger = Logger(label: "custom-metrics-adapter.explain")
        logger.logLevel = .error
        let settings = try AdapterConfiguration(options, serving: false)
        let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = String(parts[0]).replacingOccurrences(of: "/*/", with: "/%2A/")
        let request: MetricsRequest
        do {
            request = try MetricsRequest(path: rawPath, query: parts.count > 1 ? String(parts[1]) : "")
        } catch {
            print("request: \(path)\nanswer:  \(error.code.httpStatus) \(error.code.reason): \(error.message)")
            throw ExitCode(1)
        }

        let prometheus = try PrometheusHTTPClient(configuration: settings.prometheus)
        let kubernetes: KubernetesAPIClient?
        let pods: any PodDirectory
        var cacheTask: Task<Void, Never>?
        if let file = settings.podsFile {
            pods = try PodsFile(path: file)
            kubernetes = nil
        } else {
            let config = try settings.kubeconfigPath.map { try KubeConfig.load(path: $0) } ?? KubeConfig.inCluster()
            let client = KubernetesAPIClient(config: config)
            let cache = PodCache(client: client, logger: logger)
            cacheTask = Task { try? await cache.run() }
            pods = cache
            kubernetes = client
        }
        defer { cacheTask?.cancel() }
        // Either format; prometheus-adapter's discovers its metrics once, as the server does at start.
        let rules = await RuleFile.source(settings.rules, listing: prometheus, logger: logger)
        let provider = PrometheusMetricsProvider(rules: rules.store, prometheus: prometheus, pods: pods, logger: logger)
        if case .selection(_, _, let namespace?, _, _) = request { await waitForPods(pods, namespace: namespace) }
        if case .object(_, let object, _) = request, let namespace = object.namespace { await waitForPods(pods, namespace: namespace) }
        let explanation = await provider.explain(request)
        cacheTask?.cancel()
        try? await prometheus.shutdown()
        try? await kubernetes?.shutdown()
        print(Self.render(explanation, path: path, rulesSource: rules.origin, prometheusURL: settings.prometheus.url))
        if case .failure = explanation.outcome { throw ExitCode(1) }
    }

    /// Gives the pod list up to 10 s to sync, as the server's readiness would.
    private func waitForPods(_ pods: any PodDirectory, namespace: String) async {
        for _ in 0..<100 {
            do throws(MetricsError) {
                _ = try await pods.pods(inNamespace: namespace)
                return
            } catch {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    static func render(_ explanation: Explanation, path: String, rulesSource: String, prometheusURL: String) -> String {
        var lines = ["request:     \(path)"]
        if let rule = explanation.rule {
            lines.append("rule:        \(rule.name) for \(rule.resource) (from \(rulesSource); window \(rule.windowSeconds.map { "\($0)s" } ?? "none"), object label \(rule.nameLabel))")
        } else if !explanation.servedMetrics.isEmpty {
            lines.append("rules:       \(rulesSource) serves " + explanation.servedMetrics.map { "\($0.resource)/\($0.metric)" }.joined(separator: ", "))
        }
        if let promql = explanation.promql { lines.append("promql:      \(promql)") }
        if let duration = explanation.queryDuration {
            lines.append("prometheus:  \(prometheusURL) answered in \(String(format: "%.1f", duration.totalMilliseconds)) ms")
        }
        if !explanation.verdicts.isEmpty {
            lines.append("objects:")
            let width = explanation.verdicts.map(\.object.count).max() ?? 0
            for verdict in explanation.verdicts {
                let value = verdict.value.map { " \($0)" } ?? ""
                lines.append("  \(verdict.object.padding(toLength: width, withPad: " ", startingAt: 0))  \(verdict.verdict)\(value)")
            }
        }
        switch explanation.outcome {
        case .success(let values) where explanation.rule != nil:
            let items = values.map { "\($0.describedObject.name)=\($0.value)" }.joined(separator: ", ")
            lines.append("answer:      200 MetricValueList with \(values.count) item\(values.count == 1 ? "" : "s")" + (items.isEmpty ? "" : ": \(items)"))
            if values.isEmpty { lines.append("             (the HPA reports an empty list as \"no metrics returned\" and holds its replicas)") }
        case .success:
            lines.append("answer:      200 (discovery)")
        case .failure(let error):
            lines.append("answer:      \(error.code.httpStatus) \(error.code.reason): \(error.message)")
        }
        return lines.joined(separator: "\n")
    }
}
