import AsyncHTTPClient
import CustomMetricsAPI
import Foundation
import Logging
import MetricRules
import NIOCore
import ServiceLifecycle
import Synchronization

/// Every pod of the cluster in memory, kept current by list + watch, so requests never wait on the
/// Kubernetes API.
///
/// The loop follows client-go's reflector: list (paged), then watch from the list's resourceVersion
/// with bookmarks; an `ERROR` event with 410 (or an HTTP 410) means the version was compacted away, so
/// list again; a watch that ends or breaks resumes from the last version seen. While the API is
/// unreachable the last known pods keep being served; before the first list completes, requests get 503.
public final class PodCache: PodDirectory, Service, Sendable {
    private struct State {
        var pods: [String: [String: PodRecord]] = [:]
        var resourceVersion = ""
        var synced = false
        var lists = 0
        var watches = 0
        /// Counts every change; a namespace's generation is the count at its last change or the last list.
        var changes: UInt64 = 0
        var listedAt: UInt64 = 0
        var changedAt: [String: UInt64] = [:]
        /// Each namespace's pods sorted by name, built on first use after a change: requests share it.
        var sorted: [String: [PodRecord]] = [:]

        mutating func changed(_ namespace: String) {
            changes += 1
            changedAt[namespace] = changes
            sorted[namespace] = nil
        }

        mutating func sortedPods(_ namespace: String) -> [PodRecord] {
            if let kept = sorted[namespace] { return kept }
            // Only namespaces with pods are kept: a request cannot add entries by naming others.
            guard let byName = pods[namespace] else { return [] }
            let list = byName.values.sorted { $0.name < $1.name }
            sorted[namespace] = list
            return list
        }
    }

    private let client: KubernetesAPIClient
    private let logger: Logger
    private let state = Mutex(State())
    private let watchTimeoutSeconds: Int
    private let pageSize: Int

    /// - Parameters:
    ///   - client: The API client.
    ///   - logger: Logs relists and watch failures.
    ///   - watchTimeoutSeconds: How long one watch request may stay open before it is renewed.
    ///   - pageSize: Pods per list page.
    public init(client: KubernetesAPIClient, logger: Logger, watchTimeoutSeconds: Int = 300, pageSize: Int = 500) {
        self.client = client
        self.logger = logger
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.pageSize = pageSize
    }

    /// Whether the first list has completed.
    public var isSynced: Bool { state.withLock { $0.synced } }

    /// How many full lists and watch requests have been made (for tests and logs).
    public var counters: (lists: Int, watches: Int) { state.withLock { ($0.lists, $0.watches) } }

    public func pods(inNamespace namespace: String) async throws(MetricsError) -> [PodRecord] {
        let (synced, pods) = state.withLock { ($0.synced, $0.synced ? $0.sortedPods(namespace) : []) }
        guard synced else {
            throw MetricsError(.serviceUnavailable, "the pod cache has not synced with the Kubernetes API yet")
        }
        return pods
    }

    public func generation(ofNamespace namespace: String) -> UInt64? {
        state.withLock { $0.synced ? max($0.listedAt, $0.changedAt[namespace] ?? 0) : nil }
    }

    /// Lists and watches until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
    }

    private func loop() async {
        var backoff = Duration.milliseconds(250)
        var needList = true
        while !Task.isCancelled {
            do {
                if needList {
                    try await list()
                    needList = false
                }
                needList = try await watch()
                backoff = .milliseconds(250)
            } catch is CancellationError {
                return
            } catch {
                logger.info("pod list/watch failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
    }

    private func list() async throws {
        var continueToken: String?
        var fresh: [String: [String: PodRecord]] = [:]
        var resourceVersion = ""
        repeat {
            var path = "/api/v1/pods?limit=\(pageSize)"
            if let token = continueToken { path += "&continue=" + Self.queryEncode(token) }
            let (status, body) = try await client.get(path)
            if status == 410 {
                // The continue token expired mid-list: start over.
                continueToken = nil
                fresh = [:]
                continue
            }
            guard status == 200 else { throw PodCacheError("list pods: HTTP \(status): \(Self.statusMessage(body))") }
            let list = try JSONDecoder().decode(PodList.self, from: body)
            for pod in list.items {
                fresh[pod.metadata.namespace ?? "", default: [:]][pod.metadata.name] = pod.record
            }
            resourceVersion = list.metadata.resourceVersion ?? ""
            continueToken = list.metadata.continue.flatMap { $0.isEmpty ? nil : $0 }
        } while continueToken != nil && !Task.isCancelled
        let count = fresh.values.reduce(0) { $0 + $1.count }
        state.withLock {
            $0.pods = fresh
            $0.resourceVersion = resourceVersion
            $0.synced = true
            $0.lists += 1
            $0.changes += 1
            $0.listedAt = $0.changes
            $0.changedAt = [:]
            $0.sorted = [:]
        }
        logger.info("pods listed", metadata: ["pods": "\(count)", "resourceVersion": "\(resourceVersion)"])
    }

    /// Watches from the current version until the stream ends.
    ///
    /// - Returns: true when the version is gone (410) and a relist is needed.
    private func watch() async throws -> Bool {
        let version = state.withLock {
            $0.watches += 1
            return $0.resourceVersion
        }
        let path = "/api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=\(watchTimeoutSeconds)&resourceVersion="
            + Self.queryEncode(version)
        let response = try await client.stream(path, headTimeout: .seconds(Int64(watchTimeoutSeconds) + 60))
        if response.status.code == 410 { return true }
        guard response.status.code == 200 else {
            let body = try? await response.body.collect(upTo: 1 << 20)
            throw PodCacheError("watch pods: HTTP \(response.status.code): \(Self.statusMessage(body.map { Data($0.readableBytesView) } ?? Data()))")
        }
        var pending = Data()
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            guard pending.count <= 16 << 20 else { throw PodCacheError("watch event larger than 16 MiB") }
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
                if try apply(try JSONDecoder().decode(WatchEvent.self, from: line)) { return true }
            }
        }
        if !pending.isEmpty, try apply(try JSONDecoder().decode(WatchEvent.self, from: pending)) { return true }
        return false
    }

    /// Applies one event; returns true when it says the version expired.
    private func apply(_ event: WatchEvent) throws -> Bool {
        switch event {
        case .added(let pod), .modified(let pod):
            let namespace = pod.metadata.namespace ?? ""
            let record = pod.record
            state.withLock {
                // A status update that changes nothing the provider reads keeps the kept answers.
                if $0.pods[namespace]?[pod.metadata.name] != record { $0.changed(namespace) }
                $0.pods[namespace, default: [:]][pod.metadata.name] = record
                if let rv = pod.metadata.resourceVersion { $0.resourceVersion = rv }
            }
        case .deleted(let pod):
            let namespace = pod.metadata.namespace ?? ""
            state.withLock {
                if $0.pods[namespace]?.removeValue(forKey: pod.metadata.name) != nil { $0.changed(namespace) }
                if let rv = pod.metadata.resourceVersion { $0.resourceVersion = rv }
            }
        case .bookmark(let rv):
            state.withLock { $0.resourceVersion = rv }
        case .error(let code, let message):
            if code == 410 {
                logger.info("watch version expired; relisting", metadata: ["message": "\(message)"])
                return true
            }
            throw PodCacheError("watch error \(code): \(message)")
        }
        return false
    }

    static func queryEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? text
    }

    static func statusMessage(_ body: Data) -> String {
        (try? JSONDecoder().decode(StatusBody.self, from: body))?.message ?? "\(body.count) bytes"
    }
}

/// A list or watch failure.
struct PodCacheError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
