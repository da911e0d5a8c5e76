import NIOCore
import Synchronization

/// Channels admitted up to a capacity; when full, the oldest channel still marked *evictable* is closed
/// to make room, and only when none is evictable is the newcomer refused.
///
/// Used twice: for connections (evictable until their TLS handshake completes) and for requests being
/// received (evictable until their end arrives). A client that does its part promptly leaves the
/// evictable set within milliseconds, so strangers who open and stall cannot keep it out: they only
/// push out each other.
final class AdmissionTable: Sendable {
    private struct State {
        var admitted: Set<ObjectIdentifier> = []
        /// Oldest first; at most `capacity` long.
        var evictable: [(id: ObjectIdentifier, channel: any Channel)] = []
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Admits `channel` as evictable, closing the oldest evictable channel when the table is full.
    ///
    /// - Returns: false when the table is full and nothing can be evicted: the caller closes `channel`.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let (admitted, victim): (Bool, (any Channel)?) = state.withLock { state in
            if state.admitted.contains(id) { return (true, nil) }
            var victim: (any Channel)?
            if state.admitted.count >= capacity {
                guard !state.evictable.isEmpty else { return (false, nil) }
                let oldest = state.evictable.removeFirst()
                state.admitted.remove(oldest.id)
                victim = oldest.channel
            }
            state.admitted.insert(id)
            state.evictable.append((id, channel))
            return (true, victim)
        }
        victim?.close(promise: nil)
        return admitted
    }

    /// Marks `channel` as doing its part: it is no longer evicted to make room.
    func settle(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { state in
            state.evictable.removeAll { $0.id == id }
        }
    }

    /// Forgets `channel` (closed, or its request complete).
    func remove(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { state in
            state.admitted.remove(id)
            state.evictable.removeAll { $0.id == id }
        }
    }

    /// Channels admitted now.
    var count: Int { state.withLock { $0.admitted.count } }
}
