import Synchronization

/// A bounded cache of review answers, with separate lifetimes for positive and negative answers so a
/// revoked permission or a new token takes effect within a known time.
final class ReviewCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[Key: Entry]>([:])
    private let capacity: Int
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameters:
    ///   - capacity: Entries kept at most; when full, expired entries go first, then arbitrary ones.
    ///   - now: The clock (injected for tests).
    init(capacity: Int, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.capacity = capacity
        self.now = now
    }

    func value(for key: Key) -> Value? {
        let instant = now()
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            if entry.expires <= instant {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    func store(_ value: Value, for key: Key, ttl: Duration) {
        guard ttl > .zero, capacity > 0 else { return }
        let instant = now()
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil {
                entries = entries.filter { $0.value.expires > instant }
                while entries.count >= capacity, let victim = entries.keys.first { entries[victim] = nil }
            }
            entries[key] = Entry(value: value, expires: instant + ttl)
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
