// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "custom-metrics-adapter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "custom-metrics-adapter", targets: ["custom-metrics-adapter"]),
        .executable(name: "bench-baseline", targets: ["bench-baseline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Wire types, quantities, selectors, request paths and the provider protocol: no I/O.
        .target(
            name: "CustomMetricsAPI",
            swiftSettings: swiftSettings
        ),
        // The Prometheus-backed domain: rules, PromQL, the provider.
        .target(
            name: "MetricRules",
            dependencies: [
                "CustomMetricsAPI",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Go's text/template and regexp as prometheus-adapter's configs use them: no dependencies.
        .target(
            name: "GoTemplate",
            swiftSettings: swiftSettings
        ),
        // prometheus-adapter's config file (rules, externalRules), series discovery and its PromQL; the
        // configuration file in either format and the rule source every command reads.
        .target(
            name: "PrometheusAdapterConfig",
            dependencies: [
                "GoTemplate",
                "MetricRules",
                "CustomMetricsAPI",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Files mounted from Secrets and ConfigMaps, read through kubelet's links and compared by content.
        .target(
            name: "MountedFiles",
            swiftSettings: swiftSettings
        ),
        // HTTPS serving of custom.metrics.k8s.io for any provider.
        .target(
            name: "CustomMetricsServer",
            dependencies: [
                "CustomMetricsAPI",
                "MountedFiles",
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Prometheus HTTP API client.
        .target(
            name: "PrometheusClient",
            dependencies: [
                "MetricRules",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Kubernetes configuration and the pod list+watch cache.
        .target(
            name: "KubernetesClient",
            dependencies: [
                "CustomMetricsAPI",
                "MetricRules",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Kubernetes HPA controller's replica calculation, as a pure library: no dependencies.
        .target(
            name: "HorizontalScaling",
            swiftSettings: swiftSettings
        ),
        // The wiring: flags shared by every command, their validation, and `buildAdapter`.
        .target(
            name: "AdapterWiring",
            dependencies: [
                "CustomMetricsAPI",
                "HorizontalScaling",
                "PrometheusAdapterConfig",
                "CustomMetricsServer",
                "MetricRules",
                "PrometheusClient",
                "KubernetesClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "custom-metrics-adapter",
            dependencies: [
                "AdapterWiring",
                "CustomMetricsAPI",
                "HorizontalScaling",
                "MetricRules",
                "PrometheusClient",
                "KubernetesClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmark's bare-Hummingbird baseline (scripts/bench.py): one file's bytes over the adapter's TLS.
        .executableTarget(
            name: "bench-baseline",
            dependencies: [
                "CustomMetricsServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "bench/BaselineServer",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GoTemplateTests",
            dependencies: ["GoTemplate"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdapterWiringTests",
            dependencies: [
                "AdapterWiring", "CustomMetricsAPI", "MetricRules", "PrometheusAdapterConfig", "HorizontalScaling", "PrometheusClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PrometheusAdapterConfigTests",
            dependencies: ["PrometheusAdapterConfig", "MetricRules", "CustomMetricsAPI", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HorizontalScalingTests",
            dependencies: ["HorizontalScaling", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CustomMetricsAPITests",
            dependencies: ["CustomMetricsAPI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MetricRulesTests",
            dependencies: ["MetricRules", "CustomMetricsAPI"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CustomMetricsServerTests",
            dependencies: [
                "CustomMetricsServer",
                "CustomMetricsAPI",
                "MountedFiles",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Golden")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PrometheusClientTests",
            dependencies: [
                "PrometheusClient",
                "MetricRules",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubernetesClientTests",
            dependencies: [
                "KubernetesClient", "CustomMetricsAPI", "MetricRules",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
