#if canImport(Glibc)
import Glibc
#endif

/// Hands the heap's free pages back to the kernel every few seconds, as Go's scavenger does for Go
/// exporters. glibc keeps what a burst freed (a hundred probes at once, say) mapped in its arenas
/// for good, so RSS would show the largest burst ever seen instead of what the process holds.
enum MemoryTrim {
    static let interval: Duration = .seconds(10)

    /// glibc's `malloc_trim`, looked up at run time: <malloc.h> is not in Swift's Glibc module,
    /// and another C library (musl) simply has none.
    private typealias Trim = @convention(c) (Int) -> Int32

    static func start() {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        let trim = unsafeBitCast(symbol, to: Trim.self)
        // At the default priority: a background one would have the runtime start threads for it alone.
        Task {
            while true {
                try? await Task.sleep(for: interval)
                _ = trim(0)
            }
        }
        #endif
    }
}
