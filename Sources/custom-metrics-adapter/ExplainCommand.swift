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
        print(ExplanationReport.render(explanation, path: path, rulesSource: rules.origin, prometheusURL: settings.prometheus.url))
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
}
