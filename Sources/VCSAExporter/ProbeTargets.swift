import ApplianceAPI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Synchronization

/// The targets `/probe` may reach (`--config.file`) and the ones in use. A target gets its client
/// and session on its first probe and loses them once idle for its module's `session_idle_timeout`,
/// so memory and connections follow the targets in use, never the number of probes.
/// A reload swaps the allow-list; targets it removes or changes are logged out.
public final class ProbeTargets: Sendable {
    public let path: String
    private let logger: Logger
    private let offset: Duration
    private let state: Mutex<State>

    private struct State {
        var config: ExporterConfig
        /// In use, by target name.
        var active: [String: ApplianceTarget] = [:]
        var lastReloadSuccessful = true
        var lastSuccess = Date()
        var closed = false
    }

    /// How often idle targets are looked for.
    static let sweepInterval: Duration = .seconds(1)

    /// Loads the file; an error here stops start-up. `offset` is `--timeout-offset`.
    public init(path: String, offset: Duration, logger: Logger) throws(ConfigFileError) {
        self.path = path
        self.offset = offset
        self.logger = logger
        state = Mutex(State(config: try ExporterConfig(path: path)))
        // Holds the registry only while it sweeps; ends once the registry is closed or gone.
        Task { [weak self] in
            while true {
                try? await Task.sleep(for: Self.sweepInterval)
                guard let self, await self.sweep() else { return }
            }
        }
    }

    public var config: ExporterConfig { state.withLock { $0.config } }

    /// Why a probe cannot run: the answer's status and text.
    enum Refusal: Error, CustomStringConvertible {
        case noTarget
        case unknownTarget(String)
        case unknownModule(String)
        /// A module other than the target's own: it would send that module's credentials to this target.
        case otherModule(target: String, requested: String, configured: String)
        /// The module's files could be read at load but no longer can.
        case unusable(String)
        case closed

        var status: Int {
            switch self {
            case .noTarget, .unknownTarget, .unknownModule, .otherModule: 400
            case .unusable: 500
            case .closed: 503
            }
        }

        var description: String {
            switch self {
            case .noTarget: "the target parameter is missing (GET /probe?target=NAME[&module=MODULE])"
            case .unknownTarget(let name): "unknown target \"\(name)\": /probe only reaches the targets listed in --config.file"
            case .unknownModule(let name): "unknown module \"\(name)\": not in --config.file's modules"
            case .otherModule(let target, let requested, let configured):
                "target \"\(target)\" uses module \"\(configured)\", not \"\(requested)\": another module's credentials are never sent to it "
                    + "(list the appliance again as another target with that module)"
            case .unusable(let reason): reason
            case .closed: "the exporter is shutting down"
            }
        }
    }

    /// The target to probe for `name`, started on first use. `module`, if given, must be the target's
    /// own: the allow-list pairs each appliance with the credentials it may be sent.
    func target(named name: String?, module requested: String?) throws(Refusal) -> ApplianceTarget {
        guard let name, !name.isEmpty else { throw .noTarget }
        let (target, created): (ApplianceTarget, Bool) = try state.withLock { state throws(Refusal) in
            guard !state.closed else { throw .closed }
            guard let entry = state.config.targets[name] else { throw .unknownTarget(name) }
            if let requested, requested != entry.module {
                guard state.config.modules[requested] != nil else { throw .unknownModule(requested) }
                throw .otherModule(target: name, requested: requested, configured: entry.module)
            }
            if let active = state.active[name] { return (active, false) }
            guard let module = state.config.modules[entry.module] else { throw .unknownModule(entry.module) }
            let target = try makeTarget(name: name, url: entry.url, moduleName: entry.module, module: module)
            state.active[name] = target
            return (target, true)
        }
        if created { logger.info("Probing a new target", metadata: ["target": "\(name)", "url": "\(target.client.configuration.baseURL)"]) }
        return target
    }

    /// A client for the target. Its files were read when the config loaded; one that has become
    /// unreadable since fails the probe (500, and logged) rather than logging in with a wrong secret.
    private func makeTarget(name: String, url: String, moduleName: String, module: ExporterConfig.Module) throws(Refusal) -> ApplianceTarget {
        let logger = self.logger.with(target: name)
        let stats = APICallStats()
        let client: ApplianceClient
        do {
            let password = try PasswordSource.file(module.passwordFile)
            let configuration = ApplianceConfiguration(baseURL: url, credentials: Credentials(username: module.username, password: password),
                                                       caFile: module.caFile, insecureSkipVerify: module.insecureSkipVerify)
            client = try ApplianceClient(configuration: configuration, logger: logger, observer: { stats.record($0) })
        } catch {
            let reason = "module \"\(moduleName)\": \(error)"
            logger.error("Cannot probe the target", metadata: ["error": "\(reason)"])
            throw .unusable(reason)
        }
        return ApplianceTarget(name: name, client: client, stats: stats, collectors: module.collectors,
                               deadline: ScrapeDeadline(timeout: module.timeout, offset: offset), logger: logger)
    }

    /// Reads the file again. A bad file changes nothing but the reload metrics, and is logged once
    /// here; targets removed or changed are logged out. Returns the error for `POST /-/reload`.
    @discardableResult
    public func reload() -> ConfigFileError? {
        let config: ExporterConfig
        do throws(ConfigFileError) {
            config = try ExporterConfig(path: path)
        } catch {
            state.withLock { $0.lastReloadSuccessful = false }
            logger.error("Config reload failed; keeping the last good configuration", metadata: ["error": "\(error)"])
            return error
        }
        let retired = state.withLock { state -> [ApplianceTarget] in
            state.lastReloadSuccessful = true
            state.lastSuccess = Date()
            let old = state.config
            state.config = config
            var retired: [ApplianceTarget] = []
            for (name, target) in state.active {
                // Kept only if its URL, its module's name and that module's settings are all as they were.
                let kept = config.targets[name].map { after in after == old.targets[name] && config.modules[after.module] == old.modules[after.module] } ?? false
                if !kept {
                    retired.append(target)
                    state.active[name] = nil
                }
            }
            return retired
        }
        logger.info("Config reloaded", metadata: ["file": "\(path)", "targets": "\(config.targets.count)", "modules": "\(config.modules.count)",
                                                  "logged_out": "\(retired.count)"])
        Self.close(retired, deadline: .now + .seconds(2))
        return nil
    }

    /// Logs out targets idle too long; false once closed, to end the sweeping.
    private func sweep() async -> Bool {
        let now = ContinuousClock.now
        let idle = state.withLock { state -> [ApplianceTarget]? in
            guard !state.closed else { return nil }
            var idle: [ApplianceTarget] = []
            for (name, target) in state.active {
                // Never while a round may still run: it lasts at most the module's timeout.
                let module = state.config.targets[name].flatMap { state.config.modules[$0.module] }
                let timeout = max(module?.sessionIdleTimeout ?? .zero, module?.timeout ?? .zero)
                if now - target.lastScrape > timeout {
                    idle.append(target)
                    state.active[name] = nil
                }
            }
            return idle
        }
        guard let idle else { return false }
        for target in idle { logger.info("Target idle; logging out", metadata: ["target": "\(target.name)"]) }
        Self.close(idle, deadline: .now + .seconds(2))
        return true
    }

    /// Stops probing and logs every target out, in parallel, by `deadline`.
    public func close(deadline: ContinuousClock.Instant) async {
        let active = state.withLock { state in
            state.closed = true
            defer { state.active = [:] }
            return Array(state.active.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for target in active { group.addTask { await target.close(deadline: deadline) } }
        }
    }

    private static func close(_ targets: [ApplianceTarget], deadline: ContinuousClock.Instant) {
        for target in targets { Task { await target.close(deadline: deadline) } }
    }

    /// Each configured target and how its last probe went (nil: not probed since it was last idle), for the landing page.
    var summaries: [LandingPage.ProbeTarget] {
        state.withLock { state in
            state.config.targets.keys.sorted().map { name in
                let entry = state.config.targets[name]!
                let up = state.active[name]?.snapshot?.up
                return LandingPage.ProbeTarget(name: name, url: entry.url, module: entry.module, up: up)
            }
        }
    }

    func writeMetrics(to writer: inout ExpositionWriter) {
        let (successful, lastSuccess, configured, active) = state.withLock {
            ($0.lastReloadSuccessful, $0.lastSuccess, $0.config.targets.count, $0.active.count)
        }
        writer.single("vcsa_exporter_config_last_reload_successful", .gauge, help: "Whether the last load of --config.file worked (the last good one is in use otherwise).", successful ? 1 : 0)
        writer.single("vcsa_exporter_config_last_reload_success_timestamp_seconds", .gauge, help: "When --config.file was last loaded successfully, as a Unix timestamp.", lastSuccess.timeIntervalSince1970)
        writer.single("vcsa_exporter_probe_targets", .gauge, help: "Targets /probe may reach (the allow-list in --config.file).", Double(configured))
        writer.single("vcsa_exporter_probe_targets_active", .gauge, help: "Targets probed recently enough to keep their client and session.", Double(active))
    }
}

extension Logger {
    /// The logger with `target` in every line's metadata.
    func with(target: String) -> Logger {
        var logger = self
        logger[metadataKey: "target"] = "\(target)"
        return logger
    }
}
