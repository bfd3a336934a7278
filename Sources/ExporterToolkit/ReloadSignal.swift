import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP, as every Prometheus component reads it: reload the configuration file.
/// Installed first thing at start-up, since SIGHUP's default action would end the process.
public final class ReloadSignal: Sendable {
    private let action = Mutex<(@Sendable () -> Void)?>(nil)
    /// Kept alive for the process' lifetime; set up once and never touched again.
    nonisolated(unsafe) private let source: DispatchSourceSignal

    private init(source: DispatchSourceSignal) {
        self.source = source
    }

    public static func install() -> ReloadSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "ExporterToolkit.ReloadSignal"))
        let reload = ReloadSignal(source: source)
        source.setEventHandler { reload.action.withLock { $0 }?() }
        source.resume()
        return reload
    }

    /// What a SIGHUP does from now on; one received before this is ignored.
    public func onSignal(_ action: @escaping @Sendable () -> Void) {
        self.action.withLock { $0 = action }
    }
}
