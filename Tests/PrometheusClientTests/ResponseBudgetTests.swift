import MetricRules
@testable import PrometheusClient
import Testing

/// The bytes of concurrent Prometheus answers are bounded together, not only one by one.
@Suite("Prometheus answers: a total byte budget across concurrent queries", .timeLimit(.minutes(1)))
struct ResponseBudgetTests {
    @Test func reservationsShareOneBudgetAndGiveItBackWhenDropped() {
        let budget = ResponseByteBudget(limit: 100)
        var first: ResponseByteBudget.Reservation? = ResponseByteBudget.Reservation(budget: budget)
        let second = ResponseByteBudget.Reservation(budget: budget)
        #expect(first?.add(60) == true)
        #expect(second.add(60) == false)
        #expect(second.add(40) == true)
        #expect(budget.inUse == 100)
        first = nil
        #expect(budget.inUse == 40)
        #expect(second.add(60) == true)
    }

    @Test(.timeLimit(.minutes(1)))
    func anAnswerBeyondTheTotalFailsAsOverloadedAndLeavesNothingReserved() async throws {
        let padding = String(repeating: " ", count: 200_000)
        let body = #"{"status":"success","data":{"resultType":"vector","result":[]}}"# + padding
        let prometheus = ScriptedPrometheus(body: body)
        try await prometheus.run { port in
            let client = try PrometheusHTTPClientTests.client(port: port) { $0.maxTotalResponseBytes = 100_000 }
            var kinds: [PrometheusQueryError.Kind] = []
            for _ in 0..<2 {
                do throws(PrometheusQueryError) {
                    _ = try await client.instantQuery("up")
                } catch {
                    kinds.append(error.kind)
                }
            }
            #expect(kinds == [.overloaded, .overloaded])
            try await client.shutdown()
            let roomy = try PrometheusHTTPClientTests.client(port: port) { $0.maxTotalResponseBytes = 1 << 20 }
            let answer = try? await roomy.instantQuery("up")
            try await roomy.shutdown()
            #expect(answer?.isEmpty == true)
        }
    }
}
