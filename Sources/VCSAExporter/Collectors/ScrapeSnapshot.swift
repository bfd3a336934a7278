#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One round of upstream calls, shared by every scrape that arrived while it ran.
public struct ScrapeSnapshot: Sendable {
    /// What each collector recorded, by the keys its file uses (typed accessors live beside the collector).
    var slots: [String: any Sendable] = [:]
    /// How long each collector's calls took.
    public var durations: [CollectorName: Duration] = [:]
    public var duration: Duration = .zero
    public var finishedAt: Date = Date()
    /// The optional APIs known missing at the round's end (the landing page says so).
    public var unsupported: Set<CollectorName> = []

    public init() {}

    /// True when every enabled collector succeeded.
    public var up: Bool {
        Collectors.all.allSatisfy { $0.succeeded(in: self) ?? true }
    }

    /// Records whether a collector's API is known to be missing.
    mutating func mark(_ collector: CollectorName, unsupported: Bool) {
        if unsupported { self.unsupported.insert(collector) } else { self.unsupported.remove(collector) }
    }

    subscript<Value: Sendable>(slot key: String, as type: Value.Type = Value.self) -> Value? {
        get { slots[key] as? Value }
        set { slots[key] = newValue }
    }
}
