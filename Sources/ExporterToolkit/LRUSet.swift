/// A set that keeps at most `capacity` members, forgetting the least recently used first.
/// Small capacities only: making room looks at every member.
struct LRUSet<Member: Hashable & Sendable>: Sendable {
    let capacity: Int
    /// Each member with the tick of its last use.
    private var lastUse: [Member: UInt64] = [:]
    private var tick: UInt64 = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { lastUse.count }

    /// Whether `member` is here; if it is, it becomes the most recently used.
    mutating func use(_ member: Member) -> Bool {
        guard lastUse[member] != nil else { return false }
        tick += 1
        lastUse[member] = tick
        return true
    }

    /// Adds `member` as the most recently used, forgetting the least recently used if the set is full.
    mutating func insert(_ member: Member) {
        guard capacity > 0 else { return }
        if lastUse[member] == nil, lastUse.count >= capacity, let oldest = lastUse.min(by: { $0.value < $1.value })?.key {
            lastUse.removeValue(forKey: oldest)
        }
        tick += 1
        lastUse[member] = tick
    }
}
