import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGTERM or SIGINT, so that a server can drain and clean up before it exits.
public enum ShutdownSignal {
    /// Returns the name of the first signal received.
    public static func wait() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let queue = DispatchQueue(label: "MicroHTTPD.ShutdownSignal")
            let resumed = SignalOnce(continuation: continuation)
            for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { resumed.resume(name) }
                source.resume()
                SignalOnce.keep(source)
            }
        }
    }
}

/// Resumes the continuation for the first signal only; later signals are ignored.
private final class SignalOnce: @unchecked Sendable {
    private var continuation: CheckedContinuation<String, Never>?
    /// Signal sources must stay alive for the process' lifetime.
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    init(continuation: CheckedContinuation<String, Never>) {
        self.continuation = continuation
    }

    /// Called on the one serial signal queue only.
    func resume(_ name: String) {
        continuation?.resume(returning: name)
        continuation = nil
    }

    static func keep(_ source: DispatchSourceSignal) {
        sources.append(source)
    }
}
