/// A request under `/apis/custom.metrics.k8s.io`, parsed and validated from the raw (still
/// percent-encoded) path and query string, before any provider sees it.
public enum MetricsRequest: Sendable, Hashable {
    /// `GET /apis/custom.metrics.k8s.io`: the API group document.
    case group
    /// `GET /apis/custom.metrics.k8s.io/<version>`: the resource list.
    case discovery(APIVersion)
    /// One object's value (`.../namespaces/<ns>/pods/<name>/<metric>`, `.../nodes/<name>/<metric>`).
    case object(APIVersion, ObjectKey, MetricQuery)
    /// The values for every object a label selector picks (`.../pods/*/<metric>?labelSelector=...`).
    case selection(APIVersion, resource: String, namespace: String?, selector: LabelSelector, MetricQuery)

    /// The path prefix every request of this API starts with.
    public static let prefix = "/apis/custom.metrics.k8s.io"

    /// Parses a request.
    ///
    /// Clients percent-encode: `*` arrives as `%2A` and a space in a selector as `+` or `%20`. Each path
    /// segment is decoded on its own, so an encoded `/` cannot invent a segment.
    ///
    /// - Parameters:
    ///   - path: The raw path, starting with `/apis/custom.metrics.k8s.io`.
    ///   - query: The raw query string without `?` (empty when absent).
    /// - Throws: `MetricsError` 404 for paths outside the API, 400 for malformed names, encodings and
    ///   selectors.
    public init(path: String, query: String) throws(MetricsError) {
        let segments = try Self.decodedSegments(of: path, under: Self.prefix)
        guard let versionName = segments.first else {
            self = .group
            return
        }
        guard let version = APIVersion(rawValue: versionName) else { throw MetricsError.pathNotFound }
        let rest = Array(segments.dropFirst())
        if rest.isEmpty {
            self = .discovery(version)
            return
        }
        let parameters = try QueryParameters(query)

        switch rest.count {
        case 4 where rest[0] == "namespaces" && rest[2] == "metrics":
            // The Namespace object's own metric.
            let namespace = try Self.validNamespace(rest[1])
            let metric = try Self.metricQuery(rest[3], parameters)
            self = .object(version, ObjectKey(resource: "namespaces", namespace: nil, name: namespace), metric)
        // Namespaces are cluster-scoped: namespaces/<ns>/namespaces/... names no object.
        case 5 where rest[0] == "namespaces" && rest[2] != "namespaces":
            let namespace = try Self.validNamespace(rest[1])
            let resource = try Self.validResource(rest[2])
            let metric = try Self.metricQuery(rest[4], parameters)
            if rest[3] == "*" {
                self = .selection(version, resource: resource, namespace: namespace,
                                  selector: try parameters.labelSelector(), metric)
            } else {
                let name = try Self.validName(rest[3], resource: resource)
                self = .object(version, ObjectKey(resource: resource, namespace: namespace, name: name), metric)
            }
        case 3:
            let resource = try Self.validResource(rest[0])
            let metric = try Self.metricQuery(rest[2], parameters)
            if rest[1] == "*" {
                self = .selection(version, resource: resource, namespace: nil,
                                  selector: try parameters.labelSelector(), metric)
            } else {
                let name = resource == "namespaces"
                    ? try Self.validNamespace(rest[1]) : try Self.validName(rest[1], resource: resource)
                self = .object(version, ObjectKey(resource: resource, namespace: nil, name: name), metric)
            }
        default:
            throw MetricsError.pathNotFound
        }
    }

    /// The percent-decoded segments of `path` after `prefix`, for every API group this server serves.
    ///
    /// Splits on the byte "/" (a "/" followed by a combining mark is still a separator, as for any
    /// router), drops the empty segment after the prefix and one from a trailing slash, and decodes each
    /// segment on its own so an encoded "/" cannot invent one. Anything glued to the prefix
    /// (`/apis/custom.metrics.k8s.iox`) is outside the API: 404 before decoding.
    static func decodedSegments(of path: String, under prefix: String) throws(MetricsError) -> [String] {
        guard path.hasPrefix(prefix) else { throw MetricsError.pathNotFound }
        let rawSegments = path.utf8.dropFirst(prefix.utf8.count)
            .split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { Substring($0) }
        if let first = rawSegments.first, !first.isEmpty { throw MetricsError.pathNotFound }
        var segments: [String] = []
        for (index, raw) in rawSegments.enumerated() {
            if raw.isEmpty, index == 0 || index == rawSegments.count - 1 { continue }
            guard let decoded = PercentDecoding.decode(raw) else {
                throw MetricsError(.badRequest, "invalid percent-encoding in the request path segment \"\(quoted(String(raw)))\"")
            }
            segments.append(decoded)
        }
        return segments
    }

    static func validNamespace(_ name: String) throws(MetricsError) -> String {
        if let problem = LabelSyntax.problem(withNamespace: name) {
            throw MetricsError(.badRequest, "invalid namespace \"\(Self.quoted(name))\": \(problem)")
        }
        return name
    }

    private static func validName(_ name: String, resource: String) throws(MetricsError) -> String {
        if let problem = LabelSyntax.problem(withSubdomain: name) {
            throw MetricsError(.badRequest, "invalid \(resource) name \"\(Self.quoted(name))\": \(problem)")
        }
        return name
    }

    private static func validResource(_ resource: String) throws(MetricsError) -> String {
        // Resource names are lower-case plurals, optionally with a group (`deployments.apps`).
        if LabelSyntax.problem(withSubdomain: resource) != nil {
            throw MetricsError(.badRequest, "invalid resource \"\(Self.quoted(resource))\"")
        }
        return resource
    }

    static func metricQuery(_ name: String, _ parameters: QueryParameters) throws(MetricsError) -> MetricQuery {
        guard !name.isEmpty, name.count <= 253, !name.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "\"" })
        else {
            throw MetricsError(.badRequest, "invalid metric name \"\(Self.quoted(name))\"")
        }
        return MetricQuery(name: name, selector: try parameters.metricLabelSelector())
    }

    /// The name as it may be echoed: at most 100 characters, control characters escaped.
    /// The longest `labelSelector` or `metricLabelSelector` accepted, in bytes after decoding.
    ///
    /// A Deployment's selector is a few labels; 4 KiB leaves room for long `in (...)` lists while keeping
    /// parsing and matching cost per request bounded.
    public static let maximumSelectorLength = 4096

    static func quoted(_ text: String) -> String {
        let shortened = text.count > 100 ? String(text.prefix(100)) + "…" : text
        return shortened.unicodeScalars.map { scalar in
            scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\"" || scalar == "\\"
                ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined()
    }
}

/// The query parameters this API reads, decoded (`+` is a space, then percent-decoding).
struct QueryParameters {
    private var values: [String: String] = [:]

    init(_ query: String) throws(MetricsError) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = PercentDecoding.decode(parts[0], plusIsSpace: true),
                let value = PercentDecoding.decode(parts.count > 1 ? parts[1] : "", plusIsSpace: true)
            else {
                throw MetricsError(.badRequest, "invalid percent-encoding in the query string")
            }
            guard key == "labelSelector" || key == "metricLabelSelector" else { continue }
            if values[key] != nil {
                throw MetricsError(.badRequest, "the query parameter \(key) is given more than once")
            }
            values[key] = value
        }
    }

    func labelSelector() throws(MetricsError) -> LabelSelector {
        try selector("labelSelector")
    }

    func metricLabelSelector() throws(MetricsError) -> LabelSelector {
        try selector("metricLabelSelector")
    }

    private func selector(_ key: String) throws(MetricsError) -> LabelSelector {
        guard let text = values[key] else { return .everything }
        guard text.utf8.count <= MetricsRequest.maximumSelectorLength else {
            throw MetricsError(
                .badRequest,
                "\(key) is \(text.utf8.count) bytes long; the limit is \(MetricsRequest.maximumSelectorLength)"
            )
        }
        do {
            return try LabelSelector(parsing: text)
        } catch {
            throw MetricsError(.badRequest, "invalid \(key) \"\(MetricsRequest.quoted(text))\": \(error.message)")
        }
    }
}
