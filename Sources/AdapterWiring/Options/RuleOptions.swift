import ArgumentParser
import Logging
import Metrics
import PrometheusAdapterConfig
import MetricRules
import PrometheusClient

/// Which rules to serve: the flags every command that reads rules shares.
public struct RuleOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("config"), help: "Rules file: this adapter's `metrics:` list, or prometheus-adapter's `rules:`/`externalRules:` file as is. Without it the built-in rule serves triton:queue_compute:ratio for pods.")
    public var config: String?

    @Option(name: .customLong("config-reload-interval"), help: "How often --config is checked for changes; a valid new file replaces the rules without a restart, an invalid one is logged and ignored.")
    public var configReloadInterval = "10s"

    @Option(name: .customLong("metrics-relist-interval"), help: "With a prometheus-adapter config (rules:/externalRules:): how often series are listed to discover metrics, and how far back. Unused by native rules.")
    public var metricsRelistInterval = "10m"

    public init() {}

    /// The rules file these flags name, read and validated, with its intervals; nil for the built-in rule.
    ///
    /// - Throws: `SettingsError` naming the flag, file, rule and field.
    public func load() throws(SettingsError) -> RuleFile? {
        let relist = try DurationFlag.parse(metricsRelistInterval, flag: "--metrics-relist-interval")
        let reload = try DurationFlag.parse(configReloadInterval, flag: "--config-reload-interval")
        guard let config else { return nil }
        do {
            return RuleFile(path: config, content: try ConfigurationFile.load(path: config), relistInterval: relist, reloadInterval: reload)
        } catch {
            throw SettingsError("--config \(error.message)")
        }
    }

    /// The rules these flags name, loaded (and, for prometheus-adapter's format, discovered once).
    ///
    /// - Throws: `SettingsError` naming the flag, file, rule and field.
    public func ruleSource(
        listing: any PrometheusSeriesListing,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) async throws(SettingsError) -> RuleSource {
        await RuleFile.source(try load(), listing: listing, logger: logger, metricsFactory: metricsFactory)
    }
}

/// A `--config` file, read and validated, with the intervals it is relisted and reloaded at.
public struct RuleFile: Sendable {
    public var path: String
    public var content: ConfigurationFile
    public var relistInterval: Duration
    public var reloadInterval: Duration

    /// The rule source serving `file`, or the built-in rule when there is none.
    public static func source(
        _ file: RuleFile?,
        listing: any PrometheusSeriesListing,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) async -> RuleSource {
        guard let file else { return RuleSource() }
        return await RuleSource(
            file: file.content, path: file.path, listing: listing, relistInterval: file.relistInterval,
            reloadInterval: file.reloadInterval, logger: logger, metricsFactory: metricsFactory
        )
    }
}
