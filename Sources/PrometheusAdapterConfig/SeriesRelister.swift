import CustomMetricsAPI
import Foundation
import Logging
import MetricRules
import Metrics
import ServiceLifecycle
import Synchronization

/// Keeps the metrics of a prometheus-adapter configuration current: every relist interval it lists the
/// series of each `seriesQuery` (`/api/v1/series`), runs discovery and installs the result as the rules in
/// force.
///
/// A query that fails keeps its last good series list (prometheus-adapter does the same), so a Prometheus
/// hiccup never empties discovery; a query never answered yet contributes nothing. Each query is bounded by
/// the client's timeout and response size, and discovery reads at most `maximumSeriesPerQuery` series of it.
public final class SeriesRelister: Service, Sendable {
    private struct State {
        var config: MetricsDiscoveryConfig
        var lastGood: [String: [[String: String]]] = [:]
    }

    private let state: Mutex<State>
    private let store: RuleStore
    private let listing: any PrometheusSeriesListing
    private let interval: Duration
    private let maximumSeriesPerQuery: Int
    private let logger: Logger
    private let relists: (success: Counter, failure: Counter)
    private let discovered: Gauge

    /// - Parameters:
    ///   - config: The parsed configuration.
    ///   - store: Where the discovered metrics are installed as rules.
    ///   - listing: Lists series (the Prometheus client).
    ///   - interval: `--metrics-relist-interval`; also how far back series are listed.
    public init(
        config: MetricsDiscoveryConfig,
        store: RuleStore,
        listing: any PrometheusSeriesListing,
        interval: Duration,
        maximumSeriesPerQuery: Int = 100_000,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.state = Mutex(State(config: config))
        self.store = store
        self.listing = listing
        self.interval = interval
        self.maximumSeriesPerQuery = maximumSeriesPerQuery
        self.logger = logger
        relists = (
            Counter(label: "custom_metrics_adapter_series_queries_total", dimensions: [("result", "success")], factory: metricsFactory),
            Counter(label: "custom_metrics_adapter_series_queries_total", dimensions: [("result", "failure")], factory: metricsFactory)
        )
        discovered = Gauge(label: "custom_metrics_adapter_discovered_metrics", factory: metricsFactory)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                if Task.isCancelled { break }
                _ = await self.relist()
            }
        }
    }

    /// Installs a new configuration (a reload) and relists at once; returns the rules now in force.
    public func install(_ config: MetricsDiscoveryConfig) async -> RuleSet {
        state.withLock { $0.config = config }
        return await relist()
    }

    /// Lists every series query, runs discovery and installs the result; returns the rules now in force.
    @discardableResult
    public func relist() async -> RuleSet {
        let config = state.withLock { $0.config }
        let since = Date().timeIntervalSince1970 - max(interval.totalSeconds, 60)
        var fresh: [String: [[String: String]]] = [:]
        for query in config.seriesQueries {
            do {
                fresh[query] = try await listing.series(matching: query, since: since)
                relists.success.increment()
            } catch {
                relists.failure.increment()
                logger.warning("series query failed; keeping its last good list", metadata: [
                    "series.query": "\(query)", "error": "\(error)",
                ])
            }
        }
        let seriesByQuery = state.withLock { state in
            for (query, series) in fresh { state.lastGood[query] = series }
            return state.lastGood.filter { config.seriesQueries.contains($0.key) }
        }
        let custom = config.discoverCustomMetrics(seriesByQuery: seriesByQuery, maxSeriesPerQuery: maximumSeriesPerQuery)
        let external = config.discoverExternalMetrics(seriesByQuery: seriesByQuery, maxSeriesPerQuery: maximumSeriesPerQuery)
        for query in custom.truncatedQueries + external.truncatedQueries {
            logger.warning("series query returned more series than discovery reads", metadata: [
                "series.query": "\(query)", "limit": "\(maximumSeriesPerQuery)",
            ])
        }
        let candidates = custom.metrics.map(\.rule) + external.metrics.map(\.rule)
        let rules = RuleSet(accepting: candidates) { rule, error in
            logger.warning("discovered metric left out", metadata: [
                "metric": "\(rule.resource)/\(rule.name)", "error": "\(error)",
            ])
        }
        store.replace(with: rules)
        discovered.record(rules.rules.count)
        logger.info("series discovery", metadata: [
            "custom": "\(custom.metrics.count)", "external": "\(external.metrics.count)",
            "series.queries": "\(config.seriesQueries.count)", "failed": "\(config.seriesQueries.count - fresh.count)",
        ])
        return rules
    }
}
