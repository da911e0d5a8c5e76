import Foundation
import MetricRules

/// The fields of a core/v1 Pod the cache keeps.
struct PodObject: Decodable {
    struct Metadata: Decodable {
        var name: String
        var namespace: String?
        var labels: [String: String]?
        var resourceVersion: String?
        var deletionTimestamp: String?
    }
    struct PodStatus: Decodable {
        var phase: String?
    }
    var metadata: Metadata
    var status: PodStatus?

    var record: PodRecord {
        PodRecord(
            namespace: metadata.namespace ?? "",
            name: metadata.name,
            labels: metadata.labels ?? [:],
            isTerminating: metadata.deletionTimestamp != nil,
            phase: status?.phase ?? "Unknown"
        )
    }
}

struct PodList: Decodable {
    struct ListMeta: Decodable {
        var resourceVersion: String?
        var `continue`: String?
    }
    var metadata: ListMeta
    var items: [PodObject]
}

struct StatusBody: Decodable {
    var message: String?
    var reason: String?
    var code: Int?
}

/// One line of a watch stream: `{"type": ..., "object": ...}`, the object a Pod or, for `ERROR`, a Status.
enum WatchEvent: Decodable {
    case added(PodObject)
    case modified(PodObject)
    case deleted(PodObject)
    case bookmark(resourceVersion: String)
    case error(code: Int, message: String)

    private enum CodingKeys: String, CodingKey { case type, object }

    private struct BookmarkObject: Decodable {
        struct Metadata: Decodable { var resourceVersion: String? }
        var metadata: Metadata
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ADDED": self = .added(try container.decode(PodObject.self, forKey: .object))
        case "MODIFIED": self = .modified(try container.decode(PodObject.self, forKey: .object))
        case "DELETED": self = .deleted(try container.decode(PodObject.self, forKey: .object))
        case "BOOKMARK":
            let object = try container.decode(BookmarkObject.self, forKey: .object)
            self = .bookmark(resourceVersion: object.metadata.resourceVersion ?? "")
        case "ERROR":
            let status = try container.decode(StatusBody.self, forKey: .object)
            self = .error(code: status.code ?? 0, message: status.message ?? "")
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown watch event type \(type)")
        }
    }
}
