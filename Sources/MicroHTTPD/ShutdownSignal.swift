import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGTERM or SIGINT, so that a server can drain and clean up before it exits.
public enum ShutdownSignal {
    /// Returns the name of the first signal received; each later one calls `onRepeat`, so that an
    /// operator who signals again can cut a drain short (it is never ignored).
    public static func wait(onRepeat: @escaping @Sendable (String) -> Void = { _ in }) async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let queue = DispatchQueue(label: "MicroHTTPD.ShutdownSignal")
            let receiver = SignalReceiver(continuation: continuation, onRepeat: onRepeat)
            for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { receiver.receive(name) }
                source.resume()
                SignalReceiver.keep(source)
            }
        }
    }
}

/// Resumes the continuation for the first signal; hands later ones to `onRepeat`.
private final class SignalReceiver: Sendable {
    private let continuation: Mutex<CheckedContinuation<String, Never>?>
    private let onRepeat: @Sendable (String) -> Void
    /// Signal sources must stay alive for the process' lifetime; `wait` is called once, at start-up.
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    init(continuation: CheckedContinuation<String, Never>, onRepeat: @escaping @Sendable (String) -> Void) {
        self.continuation = Mutex(continuation)
        self.onRepeat = onRepeat
    }

    func receive(_ name: String) {
        if let first = continuation.withLock({ $0.take() }) {
            first.resume(returning: name)
        } else {
            onRepeat(name)
        }
    }

    static func keep(_ source: DispatchSourceSignal) {
        sources.append(source)
    }
}
