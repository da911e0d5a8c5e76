import AdapterWiring
import ArgumentParser
import Foundation
import Logging
import MetricRules
import PrometheusAdapterConfig
import Testing

/// The wiring the executable uses, reached from tests: flags parsed and validated into a configuration,
/// and `buildAdapter` with port 0, as Hummingbird's `buildApplication` habit has it.
@Suite("AdapterWiring: flags, validation and buildAdapter", .timeLimit(.minutes(1)))
struct AdapterWiringTests {
    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wiring-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A local configuration: port 0, a pods file, no authentication, a certificate made in `directory`.
    static func options(_ directory: URL, _ extra: [String] = []) throws -> ServerOptions {
        let pods = directory.appendingPathComponent("pods.yaml")
        try "pods:\n  - {namespace: team-a, name: triton-0, labels: {app: triton}}\n".write(to: pods, atomically: true, encoding: .utf8)
        return try ServerOptions.parse([
            "--secure-port", "0", "--bind-address", "127.0.0.1", "--insecure-local-mode",
            "--pods-file", pods.path, "--cert-dir", directory.appendingPathComponent("certs").path,
            "--prometheus-url", "http://127.0.0.1:9",
        ] + extra)
    }

    @Test(arguments: [
        (["--prometheus-query-timeout", "soon"], #"--prometheus-query-timeout "soon" is not a duration such as 5s or 1500ms"#),
        (["--prometheus-header", "X-Scope-OrgID"], #"--prometheus-header "X-Scope-OrgID" must be Name=Value"#),
        (["--prometheus-client-tls-cert-file", "c.pem"], "--prometheus-client-tls-cert-file and --prometheus-client-tls-key-file must be given together"),
        (["--prometheus-username", "u"], "--prometheus-username and --prometheus-password-file must be given together"),
    ])
    func prometheusFlagsAreValidatedOnce(arguments: [String], message: String) throws {
        let options = try PrometheusOptions.parse(arguments)
        #expect(throws: SettingsError.self) { try options.clientConfiguration() }
        do {
            _ = try options.clientConfiguration()
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func prometheusFlagsHaveOneDefault() throws {
        let configuration = try PrometheusOptions.parse([]).clientConfiguration()
        #expect(configuration.url == "http://localhost:9090")
        #expect(configuration.queryTimeout == .seconds(5))
    }

    @Test(.timeLimit(.minutes(1)))
    func buildsTheBuiltInRuleOnPortZero() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try AdapterConfiguration(Self.options(directory))
        let adapter = try await buildAdapter(configuration: configuration, logger: Logger(label: "test"))
        #expect(adapter.rules.origin == "built-in")
        #expect(adapter.rules.servedMetrics == ["pods/triton:queue_compute:ratio"])
        #expect(adapter.services.count == 1)
        await adapter.shutdown()
    }

    @Test(.timeLimit(.minutes(1)))
    func readsEitherConfigFormat() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let native = directory.appendingPathComponent("native.yaml")
        try """
            metrics:
              - name: queue:rate
                query: sum by (<<.GroupBy>>) (rate(q{<<.LabelMatchers>>}[<<.Window>>]))
            """.write(to: native, atomically: true, encoding: .utf8)
        let adapterFormat = directory.appendingPathComponent("adapter.yaml")
        try """
            rules:
              - seriesQuery: 'nv_inference_queue_duration_us{namespace!="",pod!=""}'
                resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
                metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
            """.write(to: adapterFormat, atomically: true, encoding: .utf8)

        let nativeAdapter = try await buildAdapter(
            configuration: AdapterConfiguration(Self.options(directory, ["--config", native.path])), logger: Logger(label: "test")
        )
        #expect(nativeAdapter.rules.origin == native.path)
        #expect(nativeAdapter.rules.servedMetrics == ["pods/queue:rate"])
        #expect(nativeAdapter.services.count == 2)  // the server and the file reloader
        await nativeAdapter.shutdown()

        // Prometheus is unreachable: discovery starts empty and relists every interval.
        let discovering = try await buildAdapter(
            configuration: AdapterConfiguration(Self.options(directory, ["--config", adapterFormat.path])), logger: Logger(label: "test")
        )
        #expect(discovering.rules.servedMetrics == [])
        #expect(discovering.services.count == 3)  // the server, the relister and the file reloader
        await discovering.shutdown()
    }

    @Test func anInvalidRulesFileNamesTheFlagFileRuleAndField() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = directory.appendingPathComponent("bad.yaml")
        try "metrics: [{name: a, query: 'sum by (<<.GroupBy>>) (x)'}]".write(to: bad, atomically: true, encoding: .utf8)
        // Read with the flags, before any client or certificate exists.
        let options = try Self.options(directory, ["--config", bad.path, "--tls-cert-file", "/missing.crt", "--tls-private-key-file", "/missing.key"])
        #expect {
            _ = try AdapterConfiguration(options)
        } throws: { error in
            "\(error)" == "--config \(bad.path): metrics[0] \"a\": query must use <<.LabelMatchers>>: "
                + "without it a request for one namespace would read every namespace"
        }
    }
}
