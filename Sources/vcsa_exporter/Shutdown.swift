import ApplianceAPI
import Logging
import MicroHTTPD
import Synchronization
import VCSAExporter

/// Stops the exporter on SIGTERM or SIGINT: drain, log out of vCenter, close. A second signal
/// means "now": what is still held is answered 503 and the logout is not waited for.
final class Shutdown: Sendable {
    private let servers: [HTTPServer]
    private let client: ApplianceClient?
    private let probes: ProbeTargets?
    private let logger: Logger
    private let state = Mutex<(hurried: Bool, logout: Task<Void, Never>?)>((false, nil))

    init(servers: [HTTPServer], client: ApplianceClient?, probes: ProbeTargets?, logger: Logger) {
        self.servers = servers
        self.client = client
        self.probes = probes
        self.logger = logger
    }

    /// Waits for the first signal, then stops; returns when everything is closed.
    func run(drainTimeout: Duration) async {
        let signal = await ShutdownSignal.wait(onRepeat: { [self] signal in hurry(signal) })
        logger.info("Shutting down", metadata: ["signal": "\(signal)"])
        // No listener accepts while another drains; then all drain together, within one drain timeout.
        for server in servers { server.stopAccepting() }
        await withTaskGroup(of: Void.self) { group in
            for server in servers { group.addTask { await server.shutdown(drainTimeout: drainTimeout) } }
        }
        // Every session at once, the `--vcenter.url` one and each probed target's.
        let logout = Task { [client, probes] in
            let deadline = ContinuousClock.now + .seconds(2)
            async let probed: Void = probes?.close(deadline: deadline) ?? ()
            await client?.logout(deadline: deadline)
            await probed
        }
        let hurried = state.withLock { state in
            state.logout = logout
            return state.hurried
        }
        if hurried { logout.cancel() }
        await logout.value
        await client?.shutdown()
        logger.info("Stopped")
    }

    private func hurry(_ signal: String) {
        logger.warning("Signal received again: answering what is left with 503 and not waiting for the logout", metadata: ["signal": "\(signal)"])
        let logout = state.withLock { state in
            state.hurried = true
            return state.logout
        }
        for server in servers { server.abandonDrain() }
        logout?.cancel()
    }
}
