import CustomMetricsAPI
import Foundation
import MetricRules
import Synchronization
import Yams

/// Pods from a file, for local runs without a cluster (`--pods-file`); re-read when the file changes.
///
/// ```yaml
/// pods:
///   - {namespace: team-a, name: triton-0, labels: {app: triton}}
///   - {namespace: team-a, name: triton-1, labels: {app: triton}, terminating: true}
/// ```
public final class PodsFile: PodDirectory, Sendable {
    private let path: String
    private let cache = Mutex<(modified: Date?, pods: [PodRecord])>((nil, []))

    /// Reads the file once, so a broken file fails at start.
    public init(path: String) throws(PodsFileError) {
        self.path = path
        _ = try load()
    }

    public func pods(inNamespace namespace: String) async throws(MetricsError) -> [PodRecord] {
        do {
            return try load().filter { $0.namespace == namespace }
        } catch {
            throw MetricsError(.serviceUnavailable, "the pods file cannot be read")
        }
    }

    private func load() throws(PodsFileError) -> [PodRecord] {
        let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        if let modified, let cached = cache.withLock({ $0.modified == modified ? $0.pods : nil }) { return cached }
        let pods = try Self.parse(path: path)
        cache.withLock { $0 = (modified, pods) }
        return pods
    }

    static func parse(path: String) throws(PodsFileError) -> [PodRecord] {
        let root: [String: Any]?
        do {
            root = try Yams.load(yaml: String(contentsOfFile: path, encoding: .utf8)) as? [String: Any]
        } catch {
            throw PodsFileError("cannot read pods file \(path): \(error)")
        }
        guard let list = root?["pods"] as? [[String: Any]] else {
            throw PodsFileError("pods file \(path) must hold a `pods:` list")
        }
        var pods: [PodRecord] = []
        for (index, item) in list.enumerated() {
            guard let namespace = item["namespace"] as? String, let name = item["name"] as? String else {
                throw PodsFileError("pods file \(path): pods[\(index)] needs namespace and name")
            }
            let labels = (item["labels"] as? [String: Any])?.mapValues { "\($0)" } ?? [:]
            let terminating = item["terminating"] as? Bool ?? (item["deletionTimestamp"] != nil)
            pods.append(PodRecord(namespace: namespace, name: name, labels: labels, isTerminating: terminating,
                                  phase: item["phase"] as? String ?? "Running"))
        }
        return pods
    }
}

public struct PodsFileError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
