import ArgumentParser
import CustomMetricsServer
import Foundation
import Hummingbird
import KubernetesClient
import Logging
import MetricRules
import Metrics
import Prometheus
import PrometheusClient
import ServiceLifecycle

/// `custom-metrics-adapter`: serves custom.metrics.k8s.io from Prometheus.
///
/// Flags shared with prometheus-adapter keep its names and meanings, so a Deployment's args carry over.
@main
struct AdapterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custom-metrics-adapter",
        abstract: "Serve the Kubernetes custom.metrics.k8s.io API (v1beta2, v1beta1) from Prometheus over HTTPS."
    )

    @OptionGroup var options: AdapterOptions

    func run() async throws {
        var logger = Logger(label: "custom-metrics-adapter")
        logger.logLevel = options.logLevel

        let settings: AdapterSettings
        do {
            settings = try AdapterSettings(options)
        } catch {
            logger.critical("invalid configuration", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        }
        try await AdapterRunner(settings: settings, logger: logger).run()
    }
}
