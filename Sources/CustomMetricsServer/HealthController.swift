import CustomMetricsAPI
import Hummingbird

/// Health, OpenAPI and self-metrics endpoints: none depends on Prometheus.
///
/// Readiness must not follow the backend: an unready adapter makes the APIService unavailable, which
/// breaks discovery and namespace deletion for the whole cluster. It waits only for what no answer can do
/// without, once: the pod cache's first list (before it, every metric request is a 503). After that it
/// stays ready, Prometheus or the Kubernetes API up or down.
public struct HealthController<Context: RequestContext>: Sendable {
    /// Renders the adapter's own metrics in Prometheus text format.
    let metricsText: @Sendable () -> String
    /// Whether metric requests can be answered (the pod cache has synced once).
    let isReady: @Sendable () -> Bool

    public init(metricsText: @escaping @Sendable () -> String, isReady: @escaping @Sendable () -> Bool = { true }) {
        self.metricsText = metricsText
        self.isReady = isReady
    }

    /// The paths that answer without authorization, as kube-apiserver's `--authorization-always-allow-paths`.
    public static var healthPaths: [String] { ["/healthz", "/livez", "/readyz"] }

    public func addRoutes(to router: Router<Context>) {
        for path in Self.healthPaths {
            router.get(RouterPath(path), use: path == "/readyz" ? self.ready : self.ok)
        }
        router.get("/openapi/v2", use: self.noOpenAPI)
        router.get("/openapi/v3", use: self.noOpenAPI)
        router.get("/openapi/v3/**", use: self.noOpenAPI)
        router.get("/metrics", use: self.metrics)
    }

    @Sendable func ok(_ request: Request, context: Context) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        guard isReady() else {
            return Response(
                status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "not ready: the pod cache has not listed the pods of the Kubernetes API yet"))
            )
        }
        return try await ok(request, context: context)
    }

    /// The aggregator merges OpenAPI documents and treats a 404 as "none": a clean Status, not an error.
    @Sendable func noOpenAPI(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.status(MetricsError(.notFound, "this server does not publish an OpenAPI document"))
    }

    @Sendable func metrics(_ request: Request, context: Context) async throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: metricsText()))
        )
    }
}
