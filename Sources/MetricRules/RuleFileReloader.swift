import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Re-reads `--config` when its content changes (a ConfigMap update swaps a symlink under the mount) and,
/// when the new file validates, swaps it in; a file that does not validate is logged and the old rules stay.
///
/// `custom_metrics_adapter_config_reloads_total{result="success"|"failure"}` counts attempts, and
/// `custom_metrics_adapter_config_last_reload_successful` is 0 while a rejected file is on disk, so an
/// alert can catch a bad ConfigMap that the adapter is quietly ignoring.
public struct RuleFileReloader: Service {
    let store: RuleStore
    let path: String
    let interval: Duration
    let parse: @Sendable (String) async throws -> RuleSet
    let logger: Logger
    private let successes: Counter
    private let failures: Counter
    private let lastSuccessful: Gauge

    /// - Parameters:
    ///   - store: Where the rules in force live.
    ///   - path: The configuration file.
    ///   - interval: How often the file is read.
    ///   - parse: Validates a file's text into rules (the same function that loaded it at start).
    public init(
        store: RuleStore,
        path: String,
        interval: Duration = .seconds(10),
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        parse: @escaping @Sendable (String) async throws -> RuleSet
    ) {
        self.store = store
        self.path = path
        self.interval = interval
        self.parse = parse
        self.logger = logger
        successes = Counter(label: "custom_metrics_adapter_config_reloads_total", dimensions: [("result", "success")], factory: metricsFactory)
        failures = Counter(label: "custom_metrics_adapter_config_reloads_total", dimensions: [("result", "failure")], factory: metricsFactory)
        lastSuccessful = Gauge(label: "custom_metrics_adapter_config_last_reload_successful", factory: metricsFactory)
        lastSuccessful.record(1)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var seen = try? String(contentsOfFile: path, encoding: .utf8)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let text = try? String(contentsOfFile: path, encoding: .utf8), text != seen else { continue }
                seen = text
                await reload(text)
            }
        }
    }

    /// Validates `text` and swaps it in, or keeps the rules in force; returns whether it was installed.
    @discardableResult
    public func reload(_ text: String) async -> Bool {
        do {
            let rules = try await parse(text)
            store.replace(with: rules)
            successes.increment()
            lastSuccessful.record(1)
            logger.info("configuration reloaded", metadata: [
                "config": "\(path)", "metrics": "\(rules.rules.map { "\($0.resource)/\($0.name)" }.joined(separator: ","))",
            ])
            return true
        } catch {
            failures.increment()
            lastSuccessful.record(0)
            logger.error("configuration changed but is invalid; still serving the previous rules", metadata: [
                "config": "\(path)", "error": "\(error)",
            ])
            return false
        }
    }
}
