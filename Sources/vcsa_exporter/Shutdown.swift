import ApplianceAPI
import Logging
import MicroHTTPD
import Synchronization

/// Stops the exporter on SIGTERM or SIGINT: drain, log out of vCenter, close. A second signal
/// means "now": what is still held is answered 503 and the logout is not waited for.
final class Shutdown: Sendable {
    private let servers: [HTTPServer]
    private let client: ApplianceClient
    private let logger: Logger
    private let state = Mutex<(hurried: Bool, logout: Task<Void, Never>?)>((false, nil))

    init(servers: [HTTPServer], client: ApplianceClient, logger: Logger) {
        self.servers = servers
        self.client = client
        self.logger = logger
    }

    /// Waits for the first signal, then stops; returns when everything is closed.
    func run(drainTimeout: Duration) async {
        let signal = await ShutdownSignal.wait(onRepeat: { [self] signal in hurry(signal) })
        logger.info("Shutting down", metadata: ["signal": "\(signal)"])
        for server in servers { await server.shutdown(drainTimeout: drainTimeout) }
        let logout = Task { [client] in await client.logout(deadline: .now + .seconds(2)) }
        let hurried = state.withLock { state in
            state.logout = logout
            return state.hurried
        }
        if hurried { logout.cancel() }
        await logout.value
        await client.shutdown()
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
