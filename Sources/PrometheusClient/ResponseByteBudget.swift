import Synchronization

/// The bytes of Prometheus answers held in memory at once, across concurrent queries.
///
/// Each answer reserves its bytes as they arrive and gives them back once decoded; a reservation that
/// does not fit fails the query as overloaded. Eight concurrent 64 MiB answers would otherwise exceed a
/// 128 MiB container.
final class ResponseByteBudget: Sendable {
    let limit: Int
    private let reserved = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Reserves `count` bytes; false (nothing reserved) when they do not fit.
    func reserve(_ count: Int) -> Bool {
        reserved.withLock { total in
            guard count <= limit - total else { return false }
            total += count
            return true
        }
    }

    func release(_ count: Int) {
        reserved.withLock { $0 -= count }
    }

    /// The bytes reserved now.
    var inUse: Int { reserved.withLock { $0 } }
}

extension ResponseByteBudget {
    /// The bytes one answer holds, given back to the budget when the reservation is released (it is
    /// dropped), so no path (a timeout, a cancellation, an error) can leak them.
    final class Reservation: Sendable {
        private let budget: ResponseByteBudget
        private let bytes = Mutex(0)

        init(budget: ResponseByteBudget) {
            self.budget = budget
        }

        /// Adds `count` bytes; false (nothing added) when the budget has no room.
        func add(_ count: Int) -> Bool {
            guard budget.reserve(count) else { return false }
            bytes.withLock { $0 += count }
            return true
        }

        deinit {
            budget.release(bytes.withLock { $0 })
        }
    }
}
