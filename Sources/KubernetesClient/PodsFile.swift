import CustomMetricsAPI
import Foundation
import MetricRules
import Synchronization
import Yams

/// Pods from a file, for local runs without a cluster (`--pods-file`); re-read when its content changes.
///
/// The cache is keyed on the file's content, not on its attributes: mounted from a ConfigMap, the path
/// is kubelet's `pods.yaml -> ..data/pods.yaml` symlink, whose own attributes never change on an update
/// (kubelet swaps `..data`). The file is small and read on each request of a local run, so comparing its
/// bytes costs little and cannot miss an update.
///
/// ```yaml
/// pods:
///   - {namespace: team-a, name: triton-0, labels: {app: triton}}
///   - {namespace: team-a, name: triton-1, labels: {app: triton}, terminating: true}
/// ```
public final class PodsFile: PodDirectory, Sendable {
    private let path: String
    private let cache = Mutex<(content: Data?, pods: [PodRecord])>((nil, []))

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
        guard let content = FileManager.default.contents(atPath: path) else {
            throw PodsFileError("cannot read pods file \(path)")
        }
        if let cached = cache.withLock({ $0.content == content ? $0.pods : nil }) { return cached }
        let pods = try Self.parse(content, path: path)
        cache.withLock { $0 = (content, pods) }
        return pods
    }

    static func parse(_ content: Data, path: String) throws(PodsFileError) -> [PodRecord] {
        let root: [String: Any]?
        do {
            guard let text = String(data: content, encoding: .utf8) else {
                throw PodsFileError("pods file \(path) is not UTF-8")
            }
            root = try Yams.load(yaml: text) as? [String: Any]
        } catch let error as PodsFileError {
            throw error
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
