import Logging
import MetricRules
import Metrics
import ServiceLifecycle

/// Where the rules in force come from, for every command: the built-in rule, or a `--config` file in
/// either format, validated, relisted (prometheus-adapter's format discovers its metrics from series)
/// and reloaded while serving.
///
/// It owns the one rule a reload cannot cross: a file that changes format (native to
/// prometheus-adapter's or back) is refused, as it would need series discovery started or stopped.
public final class RuleSource: Sendable {
    /// The rules now in force; the provider reads them.
    public let store: RuleStore
    /// Where the rules came from (`built-in` or the file's path), for logs and `explain`.
    public let origin: String
    private let relister: SeriesRelister?
    private let reloader: RuleFileReloader?

    /// The built-in rule: the Triton queue-to-compute ratio.
    public init() {
        store = RuleStore(.builtIn)
        origin = "built-in"
        relister = nil
        reloader = nil
    }

    /// Serves the rules of `file`, read from `path`; for prometheus-adapter's format, discovers its
    /// metrics once. `services` then keep them current.
    ///
    /// - Parameters:
    ///   - file: The parsed `--config` file (`ConfigurationFile.load(path:)`).
    ///   - path: Where it was read, re-read every `reloadInterval`.
    ///   - listing: Lists series for discovery (the Prometheus client).
    ///   - relistInterval: `--metrics-relist-interval`.
    ///   - reloadInterval: `--config-reload-interval`.
    public init(
        file: ConfigurationFile,
        path: String,
        listing: any PrometheusSeriesListing,
        relistInterval: Duration,
        reloadInterval: Duration,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) async {
        origin = path
        switch file {
        case .native(let rules):
            store = RuleStore(rules)
            relister = nil
        case .prometheusAdapter(let config):
            store = RuleStore(RuleSet(accepting: []) { _, _ in })
            let relister = SeriesRelister(
                config: config, store: store, listing: listing, interval: relistInterval, logger: logger, metricsFactory: metricsFactory
            )
            // Serve with what Prometheus has now; a failed first listing is retried every interval.
            await relister.relist()
            self.relister = relister
        }
        let relister = self.relister
        reloader = RuleFileReloader(
            store: store, path: path, interval: reloadInterval, logger: logger, metricsFactory: metricsFactory,
            parse: { text in try await Self.reload(text, relister: relister) }
        )
    }

    /// The background work that keeps the rules current: relisting and reloading.
    public var services: [any Service] {
        let services: [(any Service)?] = [relister, reloader]
        return services.compactMap { $0 }
    }

    /// The metrics in force as `resource/name`, for the start-up log.
    public var servedMetrics: [String] {
        store.current.rules.map { "\($0.resource)/\($0.name)" }
    }

    /// A changed file's rules, in the format the adapter started with.
    private static func reload(_ text: String, relister: SeriesRelister?) async throws(RuleError) -> RuleSet {
        switch try ConfigurationFile.parse(text) {
        case .native(let native):
            guard relister == nil else {
                throw RuleError("the file changed from prometheus-adapter's format to `metrics:`; that needs a restart")
            }
            return native
        case .prometheusAdapter(let config):
            guard let relister else {
                throw RuleError("the file changed from `metrics:` to prometheus-adapter's format; that needs a restart")
            }
            return await relister.install(config)
        }
    }
}
