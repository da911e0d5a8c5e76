import Foundation
import HorizontalScaling

/// What the HPA controller makes of an adapter's answer to `pods/*`: the items as milli-values, or why
/// there are none (`hpa-controller` reads the adapter exactly this way).
public struct MetricValueListReading: Sendable, Equatable {
    public var metric: MetricReading
    public var values: [PodMetricValue]
    /// Why there is no value, for the decision line; nil when there are values.
    public var error: String?

    /// Reads one HTTP answer.
    ///
    /// An empty list is an error to the HPA ("no metrics returned"): it holds the replica count. An item
    /// without a name or with a value that is no quantity is skipped, as the controller cannot use it.
    public init(status: UInt, body: Data) {
        let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
        guard status == 200, let items = object?["items"] as? [[String: Any]] else {
            let message = object?["message"] as? String ?? String(decoding: body.prefix(200), as: UTF8.self)
            self.init(metric: .unavailable(reason: message), values: [], error: "HTTP \(status): \(message)")
            return
        }
        var values: [PodMetricValue] = []
        for item in items {
            guard let name = (item["describedObject"] as? [String: Any])?["name"] as? String,
                let text = item["value"] as? String, let quantity = try? MilliQuantity(parsing: text)
            else { continue }
            values.append(PodMetricValue(podName: name, milliValue: quantity.milliValue))
        }
        if values.isEmpty {
            self.init(metric: .unavailable(reason: "no metrics returned"), values: [], error: "no metrics returned")
        } else {
            self.init(metric: .pods(values), values: values, error: nil)
        }
    }

    /// A request that got no answer.
    public init(failure: String) {
        self.init(metric: .unavailable(reason: failure), values: [], error: "request failed: \(failure)")
    }

    init(metric: MetricReading, values: [PodMetricValue], error: String?) {
        self.metric = metric
        self.values = values
        self.error = error
    }
}
