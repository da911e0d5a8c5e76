/// Fuzzes `MetricsRequest(path:query:)`: the input is a request target, path then an optional `?query`.
///
/// Invariants, on any bytes:
/// - parsing never traps; it fails only with 400 or 404, and with a bounded message free of raw control
///   characters;
/// - a path outside `/apis/custom.metrics.k8s.io` is a 404;
/// - a parsed request is what a router written again here reads from the segments (split at `/` bytes,
///   each percent-decoded on its own): namespaces are DNS-1123 labels, object names DNS-1123 subdomains
///   (apimachinery's rules), resources subdomains, metric names non-empty and at most 253 characters;
/// - printing the request back as a canonical path and query parses to the same request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let target = FuzzInput(data, size).text
    let (path, query) = PathChecks.split(target)
    let request: MetricsRequest
    do {
        request = try MetricsRequest(path: path, query: query)
    } catch {
        let context = "\(Invariant.excerpt(target)): \(error)"
        Invariant.require(error.code == .badRequest || error.code == .notFound, "\(context): neither 400 nor 404")
        if !PathChecks.isInsideAPI(path) {
            Invariant.require(error == .pathNotFound, "\(context): the path is outside the API, expected a 404")
        }
        Invariant.requireClientMessage(error.message, context)
        return 0
    }
    PathChecks.agreesWithRouter(request, path: path, target: target)
    PathChecks.roundTrips(request, target: target)
    return 0
}

enum PathChecks {
    /// Splits a request target at its first `?`.
    static func split(_ target: String) -> (path: String, query: String) {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (target, "") }
        return (String(target[..<mark]), String(target[target.utf8.index(after: mark)...]))
    }

    /// Whether the path is the API's prefix or below it, compared byte by byte as an HTTP router would.
    static func isInsideAPI(_ path: String) -> Bool {
        let bytes = Array(path.utf8), prefix = Array(MetricsRequest.prefix.utf8)
        return bytes == prefix || bytes.starts(with: prefix + [UInt8(ascii: "/")])
    }

    /// The segments after the prefix, split at `/` bytes and each decoded; the slash after the prefix and
    /// one trailing slash are not segments.
    static func segments(of path: String) -> [String]? {
        guard isInsideAPI(path) else { return nil }
        var raw = Array(path.utf8).dropFirst(MetricsRequest.prefix.utf8.count)
            .split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        raw.removeFirst()
        if raw.last?.isEmpty == true { raw.removeLast() }
        var decoded: [String] = []
        for segment in raw {
            guard let text = URLEncoding.decode(String(decoding: segment, as: UTF8.self)) else { return nil }
            decoded.append(text)
        }
        return decoded
    }

    static func agreesWithRouter(_ request: MetricsRequest, path: String, target: String) {
        let context = "\(Invariant.excerpt(target)) parsed as \(request)"
        guard let segments = segments(of: path) else {
            Invariant.require(false, "\(context): the path has no API segments")
            return
        }
        switch request {
        case .group:
            Invariant.require(segments.isEmpty, "\(context): segments \(segments)")
        case .discovery(let version):
            Invariant.require(segments == [version.rawValue], "\(context): segments \(segments)")
        case .object(let version, let key, let metric):
            let expected: [String] =
                if key.resource == "namespaces" && key.namespace == nil && segments.count == 5 {
                    [version.rawValue, "namespaces", key.name, "metrics", metric.name]
                } else if let namespace = key.namespace {
                    [version.rawValue, "namespaces", namespace, key.resource, key.name, metric.name]
                } else {
                    [version.rawValue, key.resource, key.name, metric.name]
                }
            Invariant.require(segments == expected, "\(context): segments \(segments)")
            Invariant.require(key.name != "*", "\(context): \"*\" is a selection, not a name")
            if let namespace = key.namespace {
                Invariant.require(KubernetesNames.isDNS1123Label(namespace), "\(context): invalid namespace")
            }
            let nameIsValid = key.resource == "namespaces"
                ? KubernetesNames.isDNS1123Label(key.name) : KubernetesNames.isDNS1123Subdomain(key.name)
            Invariant.require(nameIsValid, "\(context): invalid \(key.resource) name")
            checkResourceAndMetric(key.resource, metric, context)
        case .selection(let version, let resource, let namespace, _, let metric):
            let expected = namespace.map { [version.rawValue, "namespaces", $0, resource, "*", metric.name] }
                ?? [version.rawValue, resource, "*", metric.name]
            Invariant.require(segments == expected, "\(context): segments \(segments)")
            if let namespace {
                Invariant.require(KubernetesNames.isDNS1123Label(namespace), "\(context): invalid namespace")
            }
            checkResourceAndMetric(resource, metric, context)
        }
    }

    private static func checkResourceAndMetric(_ resource: String, _ metric: MetricQuery, _ context: String) {
        Invariant.require(KubernetesNames.isDNS1123Subdomain(resource), "\(context): invalid resource")
        Invariant.require(!metric.name.isEmpty && metric.name.count <= 253, "\(context): invalid metric name")
        Invariant.require(
            !metric.name.contains { $0.isWhitespace || $0 == "\"" }, "\(context): metric name with space or quote"
        )
    }

    /// Prints the request as a client would send it, every segment and selector percent-encoded.
    static func canonicalTarget(of request: MetricsRequest) -> (path: String, query: String) {
        func path(_ segments: [String]) -> String {
            ([MetricsRequest.prefix] + segments.map(URLEncoding.encode)).joined(separator: "/")
        }
        func query(_ pairs: [(String, LabelSelector)]) -> String {
            pairs.filter { !$0.1.isEmpty }.map { "\($0.0)=\(URLEncoding.encode($0.1.description))" }
                .joined(separator: "&")
        }
        switch request {
        case .group:
            return (MetricsRequest.prefix, "")
        case .discovery(let version):
            return (path([version.rawValue]), "")
        case .object(let version, let key, let metric):
            let segments: [String] =
                if key.resource == "namespaces" && key.namespace == nil {
                    [version.rawValue, "namespaces", key.name, "metrics", metric.name]
                } else if let namespace = key.namespace {
                    [version.rawValue, "namespaces", namespace, key.resource, key.name, metric.name]
                } else {
                    [version.rawValue, key.resource, key.name, metric.name]
                }
            return (path(segments), query([("metricLabelSelector", metric.selector)]))
        case .selection(let version, let resource, let namespace, let selector, let metric):
            let segments = namespace.map { [version.rawValue, "namespaces", $0, resource, "*", metric.name] }
                ?? [version.rawValue, resource, "*", metric.name]
            return (path(segments), query([("labelSelector", selector), ("metricLabelSelector", metric.selector)]))
        }
    }

    static func roundTrips(_ request: MetricsRequest, target: String) {
        let canonical = canonicalTarget(of: request)
        let context = "\(Invariant.excerpt(target)) parsed as \(request), printed as "
            + Invariant.excerpt(canonical.path + "?" + canonical.query)
        do {
            let reparsed = try MetricsRequest(path: canonical.path, query: canonical.query)
            Invariant.require(reparsed == request, "\(context): parses back as \(reparsed)")
        } catch {
            Invariant.require(false, "\(context): does not parse back: \(error)")
        }
    }
}
