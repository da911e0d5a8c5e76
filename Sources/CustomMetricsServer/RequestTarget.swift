import CustomMetricsAPI
import Hummingbird

/// What a request names, parsed once per request from the raw (still percent-encoded) path and query by
/// `StatusMiddleware`, and carried in the context to authorization, the controllers and the metrics.
///
/// Parsing once means the path that is authorized is the path that is served: a non-resource decision
/// is keyed by the decoded path (`/apis/custom.metrics.k8s.io/v1beta%32` and `.../v1beta2/` are both
/// served as `.../v1beta2`, and authorized as that).
public enum RequestTarget: Sendable, Hashable {
    /// Longer than `RequestLimits.maximumURILength`: answered with this 414 before anything else.
    case tooLong(MetricsError)
    /// A request of `custom.metrics.k8s.io`.
    case customMetrics(MetricsRequest)
    /// A request of `external.metrics.k8s.io`.
    case externalMetrics(ExternalMetricsRequest)
    /// Under one of the metrics APIs but malformed: answered with this Status once authorized.
    case malformed(MetricsError, servedPath: String, external: Bool)
    /// Anything else (health, `/metrics`, OpenAPI, unknown), by its percent-decoded path.
    case other(servedPath: String)

    /// Parses a request target.
    ///
    /// - Parameters:
    ///   - path: The raw path.
    ///   - query: The raw query string without `?` (empty when absent).
    ///   - maximumLength: The longest target (path and query) accepted.
    public init(path: String, query: String, maximumLength: Int) {
        let length = path.utf8.count + (query.isEmpty ? 0 : 1 + query.utf8.count)
        if length > maximumLength {
            self = .tooLong(MetricsError(.uriTooLong, "the request target is \(length) bytes long; the limit is \(maximumLength)"))
            return
        }
        let servedPath = PercentDecoding.decode(path) ?? path
        if path.hasPrefix(ExternalMetricsRequest.prefix) {
            do {
                self = .externalMetrics(try ExternalMetricsRequest(path: path, query: query))
            } catch {
                self = .malformed(error, servedPath: servedPath, external: true)
            }
        } else if path.hasPrefix(MetricsRequest.prefix) {
            do {
                self = .customMetrics(try MetricsRequest(path: path, query: query))
            } catch {
                self = .malformed(error, servedPath: servedPath, external: false)
            }
        } else {
            self = .other(servedPath: servedPath)
        }
    }

    /// What the request asks to do, as kube-apiserver's request info would say: a metric read is a
    /// resource request, anything else a non-resource request for the path as served.
    func attributes(verb: String) -> AuthorizationAttributes {
        switch self {
        case .customMetrics(.object(let version, let object, let metric)):
            return .resource(verb: verb, group: APIVersion.group, version: version.rawValue, resource: object.resource,
                             subresource: metric.name, namespace: object.namespace, name: object.name)
        case .customMetrics(.selection(let version, let resource, let namespace, _, let metric)):
            return .resource(verb: verb, group: APIVersion.group, version: version.rawValue, resource: resource,
                             subresource: metric.name, namespace: namespace, name: nil)
        case .customMetrics(.group):
            return .nonResource(verb: verb, path: MetricsRequest.prefix)
        case .customMetrics(.discovery(let version)):
            return .nonResource(verb: verb, path: MetricsRequest.prefix + "/" + version.rawValue)
        case .externalMetrics(.values(let namespace, let metric, _)):
            // A namespaced collection: verb list, the metric as resource.
            return .resource(verb: verb == "get" ? "list" : verb, group: ExternalMetricsRequest.groupName,
                             version: ExternalMetricsRequest.version, resource: metric, subresource: "", namespace: namespace, name: nil)
        case .externalMetrics(.group):
            return .nonResource(verb: verb, path: ExternalMetricsRequest.prefix)
        case .externalMetrics(.discovery):
            return .nonResource(verb: verb, path: ExternalMetricsRequest.prefix + "/" + ExternalMetricsRequest.version)
        case .malformed(_, let servedPath, _), .other(let servedPath):
            return .nonResource(verb: verb, path: servedPath)
        case .tooLong:
            return .nonResource(verb: verb, path: "")
        }
    }

    /// A low-cardinality label for the self-metrics.
    var kind: String {
        switch self {
        case .customMetrics(.group), .customMetrics(.discovery): "discovery"
        case .customMetrics: "metric"
        case .externalMetrics(.group), .externalMetrics(.discovery): "external_discovery"
        case .externalMetrics: "external_metric"
        case .malformed(_, _, let external): external ? "external_metric" : "metric"
        case .tooLong: "other"
        case .other(let path):
            if HealthController<AdapterRequestContext>.healthPaths.contains(path) { "health" }
            else if path == "/metrics" { "metrics" }
            else if path.hasPrefix("/openapi") { "openapi" }
            else { "other" }
        }
    }
}

/// A request context that carries the parsed `RequestTarget`.
public protocol RequestTargetContext: RequestContext {
    /// Set by `StatusMiddleware`, the outermost middleware; nil only when a router is used without it.
    var target: RequestTarget? { get set }
}

extension RequestTargetContext {
    /// The parsed target, parsing it here when no middleware did.
    func target(of request: Request, limits: RequestLimits) -> RequestTarget {
        target ?? RequestTarget(path: request.uri.path, query: request.uri.query ?? "", maximumLength: limits.maximumURILength)
    }
}
