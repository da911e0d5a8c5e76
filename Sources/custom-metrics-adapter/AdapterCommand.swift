import AdapterWiring
import ArgumentParser
import Logging

/// `custom-metrics-adapter`: serves custom.metrics.k8s.io from Prometheus.
///
/// Flags shared with prometheus-adapter keep its names and meanings, so a Deployment's args carry over.
struct AdapterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custom-metrics-adapter",
        abstract: "Serve the Kubernetes custom.metrics.k8s.io API (v1beta2, v1beta1) from Prometheus over HTTPS.",
        discussion: """
            Other tools in this binary: `custom-metrics-adapter explain <API path> [these flags]` (why a request \
            gets its answer: rule, PromQL, each pod's verdict), `custom-metrics-adapter replay --help` (what the \
            HPA would have done over your Prometheus history) and `custom-metrics-adapter hpa-controller --help` (the HPA's decision loop \
            against a running adapter).
            """
    )

    @OptionGroup var options: ServerOptions

    func run() async throws {
        var logger = Logger(label: "custom-metrics-adapter")
        logger.logLevel = options.logLevel
        let configuration: AdapterConfiguration
        let adapter: Adapter
        do {
            configuration = try AdapterConfiguration(options)
            adapter = try await buildAdapter(configuration: configuration, logger: logger)
        } catch {
            logger.critical("invalid configuration", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        }
        try await adapter.run(shutdownTimeout: configuration.shutdownTimeout, logger: logger)
    }
}

/// Dispatches to a tool by its first argument, otherwise serves. The server keeps its flags at the top
/// level (no `serve` word), so Deployments written for prometheus-adapter carry over.
@main
enum Main {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "hpa-controller": await HPAControllerCommand.main(Array(arguments.dropFirst()))
        case "replay": await ReplayCommand.main(Array(arguments.dropFirst()))
        case "explain": await ExplainCommand.main(Array(arguments.dropFirst()))
        default: await AdapterCommand.main(arguments)
        }
    }
}
