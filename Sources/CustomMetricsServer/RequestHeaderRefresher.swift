import CustomMetricsAPI
import Logging
import MountedFiles
import ServiceLifecycle

/// Keeps a `RequestHeaderAuthenticator` current: loads the configuration at start and again every
/// `interval`, so a rotated front-proxy CA or a changed allowed-names list takes effect without a restart.
public struct RequestHeaderRefresher: Service {
    let authenticator: RequestHeaderAuthenticator
    let source: any RequestHeaderSource
    let interval: Duration
    let logger: Logger

    public init(authenticator: RequestHeaderAuthenticator, source: any RequestHeaderSource, interval: Duration = .seconds(30), logger: Logger) {
        self.authenticator = authenticator
        self.source = source
        self.interval = interval
        self.logger = logger
    }

    /// Loads once; used at start so the first requests can already be authenticated.
    public func refresh() async {
        do {
            let configuration = try await source.load()
            try authenticator.update(configuration)
        } catch {
            logger.info("front-proxy configuration not loaded; keeping the previous one", metadata: ["error": "\(error)"])
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await refresh()
                try? await Task.sleep(for: interval)
            }
        }
    }
}

/// The request-header configuration from flags and a CA file (`--requestheader-client-ca-file`), re-read
/// through its links on every load so a rotated file (kubelet's `..data` swap) is picked up; an unchanged
/// file yields an equal configuration, which `RequestHeaderAuthenticator.update` ignores.
public struct RequestHeaderFile: RequestHeaderSource {
    public var caFile: String
    public var template: RequestHeaderConfiguration

    public init(caFile: String, template: RequestHeaderConfiguration) {
        self.caFile = caFile
        self.template = template
    }

    public func load() async throws -> RequestHeaderConfiguration {
        var configuration = template
        do {
            configuration.clientCAPEM = try MountedFile(caFile).read().text
        } catch {
            throw RequestHeaderError("cannot read --requestheader-client-ca-file: \(error)")
        }
        return configuration
    }
}

public struct RequestHeaderError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
