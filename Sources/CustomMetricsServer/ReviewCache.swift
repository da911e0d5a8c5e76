import Synchronization

/// A bounded cache of review answers, with separate lifetimes for positive and negative answers so a
/// revoked permission or a new token takes effect within a known time, and one review for concurrent
/// identical lookups (kube-apiserver's token cache does the same).
///
/// Bounded twice: by entries and by bytes. Keys are meant to be small constants (a SHA-256 digest), so
/// what a client chooses (a path, a token) never sits in memory at its own length; `cost` sizes each
/// value, and `entryOverhead` stands for the key, expiry and dictionary slot.
final class ReviewCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var expires: ContinuousClock.Instant
        var cost: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var inFlight: [Key: Task<Value, any Error>] = [:]
    }

    /// What one entry costs beyond its value: a 32-byte key, the expiry, and the dictionary's slot.
    static var entryOverhead: Int { 128 }

    private let state = Mutex(State())
    private let capacity: Int
    private let maximumBytes: Int
    private let cost: @Sendable (Value) -> Int
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameters:
    ///   - capacity: Entries kept at most.
    ///   - maximumBytes: Bytes kept at most, counted as `entryOverhead` plus `cost` per entry. When either
    ///     bound is reached, expired entries go first, then arbitrary ones.
    ///   - cost: The bytes a value holds.
    ///   - now: The clock (injected for tests).
    init(
        capacity: Int,
        maximumBytes: Int = .max,
        cost: @escaping @Sendable (Value) -> Int = { _ in 0 },
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.capacity = capacity
        self.maximumBytes = maximumBytes
        self.cost = cost
        self.now = now
    }

    func value(for key: Key) -> Value? {
        let instant = now()
        return state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            if entry.expires <= instant {
                state.bytes -= entry.cost
                state.entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    func store(_ value: Value, for key: Key, ttl: Duration) {
        let entryCost = Self.entryOverhead + cost(value)
        guard ttl > .zero, capacity > 0, entryCost <= maximumBytes else { return }
        let instant = now()
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.cost }
            if state.entries.count >= capacity || state.bytes + entryCost > maximumBytes {
                for (victim, entry) in state.entries where entry.expires <= instant {
                    state.bytes -= entry.cost
                    state.entries[victim] = nil
                }
            }
            // Each pass removes one entry: at most `entries.count` passes.
            while state.entries.count >= capacity || state.bytes + entryCost > maximumBytes,
                let victim = state.entries.first
            {
                state.bytes -= victim.value.cost
                state.entries[victim.key] = nil
            }
            state.entries[key] = Entry(value: value, expires: instant + ttl, cost: entryCost)
            state.bytes += entryCost
        }
    }

    /// The cached value for `key`, or the result of `review`, shared by every caller asking for `key`
    /// while it runs, and stored for `ttl(value)`.
    ///
    /// The review runs in its own task, so one caller's cancellation does not fail the others.
    func value(for key: Key, ttl: @escaping @Sendable (Value) -> Duration, review: @escaping @Sendable () async throws -> Value) async throws -> Value {
        if let cached = value(for: key) { return cached }
        let task = state.withLock { state in
            if let running = state.inFlight[key] { return running }
            let task = Task { [self] in
                let value = try await review()
                store(value, for: key, ttl: ttl(value))
                return value
            }
            state.inFlight[key] = task
            return task
        }
        defer {
            state.withLock { state in
                if state.inFlight[key] == task { state.inFlight[key] = nil }
            }
        }
        return try await task.value
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// The bytes held, as counted against `maximumBytes`.
    var bytes: Int { state.withLock { $0.bytes } }
}
