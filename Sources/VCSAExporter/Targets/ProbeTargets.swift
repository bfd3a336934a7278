import ApplianceAPI
import Dispatch
import ExporterToolkit
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
public final class ProbeTargets: MetricsSource {
    public typealias Clock = @Sendable () -> ContinuousClock.Instant

    public let path: String
    private let logger: Logger
    private let offset: Duration
    /// What "idle" is measured with; tests move it instead of sleeping.
    private let now: Clock
    private let state: Mutex<State>
    /// Reads files (a config file, a target's password and CA files) away from the HTTP thread and
    /// from the registry's lock: a hung mount then holds only the requests that need that file.
    private let files = DispatchQueue(label: "ProbeTargets.files", attributes: .concurrent)
    /// Reloads run here, one at a time.
    private let reloads = DispatchQueue(label: "ProbeTargets.reload")

    private struct State {
        var config: ExporterConfig
        /// In use, by target name.
        var active: [String: ApplianceTarget] = [:]
        /// Targets whose client is being made, with the probes waiting for it.
        var opening: [String: [@Sendable (Result<ApplianceTarget, Refusal>) -> Void]] = [:]
        var lastReloadSuccessful = true
        var lastSuccess = Date()
        var closed = false
        /// Reload requests so far and the ones a finished read covers; each waits for a read that started after it.
        var reloadsRequested: UInt64 = 0
        var reloading = false
        var reloadWaiters: [(ticket: UInt64, done: @Sendable (ConfigFileError?) -> Void)] = []
    }

    /// How often idle targets are looked for.
    public static let sweepInterval: Duration = .seconds(1)

    /// Loads the file; an error here stops start-up. `offset` is `--timeout-offset`. Idle targets
    /// are looked for every `sweepInterval` (nil: only when `sweep()` is called, for tests).
    public init(path: String, offset: Duration, logger: Logger, clock: @escaping Clock = { .now },
                sweepInterval: Duration? = ProbeTargets.sweepInterval) throws(ConfigFileError) {
        self.path = path
        self.offset = offset
        self.logger = logger
        self.now = clock
        state = Mutex(State(config: try ExporterConfig(path: path)))
        guard let sweepInterval else { return }
        // Holds the registry only while it sweeps; ends once the registry is closed or gone.
        Task { [weak self] in
            while true {
                try? await Task.sleep(for: sweepInterval)
                guard let self, self.sweep() else { return }
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
        /// The module's files could be read at load but no longer can; the reason (with file paths) is logged, not answered.
        case unusable(module: String)
        /// A reload changed the target while its client was being made.
        case changed(String)
        case closed

        var status: Int {
            switch self {
            case .noTarget, .unknownTarget, .unknownModule, .otherModule: 400
            case .unusable: 500
            case .changed, .closed: 503
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
            case .unusable(let module): "module \"\(module)\" cannot be used: its files cannot be read now (the exporter's log says which)"
            case .changed(let name): "target \"\(name)\" changed in a reload while it was being opened; probe again"
            case .closed: "the exporter is shutting down"
            }
        }
    }

    /// Hands `completion` the target to probe for `name`: at once when it is in use, else once its
    /// client is made (off this thread). `module`, if given, must be the target's own: the
    /// allow-list pairs each appliance with the credentials it may be sent.
    func target(named name: String?, module requested: String?, _ completion: @escaping @Sendable (Result<ApplianceTarget, Refusal>) -> Void) {
        guard let name, !name.isEmpty else { return completion(.failure(.noTarget)) }
        enum Next { case answer(Result<ApplianceTarget, Refusal>), wait, open(ExporterConfig.Target, ExporterConfig.Module) }
        let next: Next = state.withLock { state in
            guard !state.closed else { return .answer(.failure(.closed)) }
            guard let entry = state.config.targets[name] else { return .answer(.failure(.unknownTarget(name))) }
            if let requested, requested != entry.module {
                guard state.config.modules[requested] != nil else { return .answer(.failure(.unknownModule(requested))) }
                return .answer(.failure(.otherModule(target: name, requested: requested, configured: entry.module)))
            }
            if let active = state.active[name] {
                // Under the lock: the idle sweep and a reload must not take a target handed out now.
                active.markUsed(at: now())
                return .answer(.success(active))
            }
            guard let module = state.config.modules[entry.module] else { return .answer(.failure(.unknownModule(entry.module))) }
            if state.opening[name] != nil {
                state.opening[name]!.append(completion)
                return .wait
            }
            state.opening[name] = [completion]
            return .open(entry, module)
        }
        switch next {
        case .answer(let result): completion(result)
        case .wait: break
        case .open(let entry, let module): files.async { [self] in open(name, entry: entry, module: module) }
        }
    }

    /// Makes a target's client (reading its module's files) and hands it to the probes waiting for it.
    private func open(_ name: String, entry: ExporterConfig.Target, module: ExporterConfig.Module) {
        let made = makeTarget(name: name, url: entry.url, moduleName: entry.module, module: module)
        let (waiting, result): ([@Sendable (Result<ApplianceTarget, Refusal>) -> Void], Result<ApplianceTarget, Refusal>) = state.withLock { state in
            let waiting = state.opening.removeValue(forKey: name) ?? []
            guard case .success(let target) = made else { return (waiting, made) }
            guard !state.closed else { return (waiting, .failure(.closed)) }
            guard state.config.targets[name] == entry, state.config.modules[entry.module] == module else { return (waiting, .failure(.changed(name))) }
            target.markUsed(at: now())
            state.active[name] = target
            return (waiting, .success(target))
        }
        if case .success(let target) = made {
            guard case .success = result else {
                Self.close([target], deadline: .now + .seconds(2))
                return waiting.forEach { $0(result) }
            }
            logger.info("Probing a new target", metadata: ["target": "\(name)", "url": "\(target.client.configuration.baseURL)"])
        }
        waiting.forEach { $0(result) }
    }

    /// A client for the target. Its files were read when the config loaded; one that has become
    /// unreadable since fails the probe (500, and logged) rather than logging in with a wrong secret.
    private func makeTarget(name: String, url: String, moduleName: String, module: ExporterConfig.Module) -> Result<ApplianceTarget, Refusal> {
        let logger = self.logger.with(target: name)
        let stats = APICallStats()
        let client: ApplianceClient
        do {
            let password = try PasswordSource.file(module.passwordFile)
            let configuration = ApplianceConfiguration(baseURL: url, credentials: Credentials(username: module.username, password: password),
                                                       caFile: module.caFile, insecureSkipVerify: module.insecureSkipVerify)
            client = try ApplianceClient(configuration: configuration, logger: logger, observer: { stats.record($0) })
        } catch {
            logger.error("Cannot probe the target", metadata: ["module": "\(moduleName)", "error": "\(error)"])
            return .failure(.unusable(module: moduleName))
        }
        return .success(ApplianceTarget(name: name, client: client, stats: stats, collectors: module.collectors,
                                        scrapeTimeout: ScrapeTimeout(timeout: module.timeout, offset: offset), logger: logger))
    }

    /// Reads the file again, off the caller's thread, and calls `completion` with the error (nil:
    /// reloaded). Reloads run one at a time, in order; requests made while one runs are answered
    /// together by one more read, which starts after all of them.
    public func reload(completion: @escaping @Sendable (ConfigFileError?) -> Void = { _ in }) {
        let starts = state.withLock { state in
            state.reloadsRequested += 1
            state.reloadWaiters.append((state.reloadsRequested, completion))
            defer { state.reloading = true }
            return !state.reloading
        }
        if starts { reloads.async { [self] in runReloads() } }
    }

    private func runReloads() {
        while true {
            let covered = state.withLock { $0.reloadsRequested }
            let error = reloadOnce()
            let (answered, more) = state.withLock { state in
                let answered = state.reloadWaiters.filter { $0.ticket <= covered }.map(\.done)
                state.reloadWaiters.removeAll { $0.ticket <= covered }
                state.reloading = state.reloadsRequested > covered
                return (answered, state.reloading)
            }
            answered.forEach { $0(error) }
            if !more { return }
        }
    }

    /// One read of the file. A bad file changes nothing but the reload metrics, and is logged once
    /// here; targets removed or changed are logged out.
    private func reloadOnce() -> ConfigFileError? {
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
    func sweep() -> Bool {
        let now = now()
        let idle = state.withLock { state -> [ApplianceTarget]? in
            guard !state.closed else { return nil }
            var idle: [ApplianceTarget] = []
            for (name, target) in state.active {
                // Never while a round may still run: it lasts at most the module's timeout.
                let module = state.config.targets[name].flatMap { state.config.modules[$0.module] }
                let timeout = max(module?.sessionIdleTimeout ?? .zero, module?.timeout ?? .zero)
                if let used = target.lastScrape, now - used > timeout {
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

    /// One configured target as the registry knows it: plain data, for whoever shows it.
    struct Summary: Sendable {
        var name: String
        var url: String
        var module: String
        /// How its last probe went; nil when it has not been probed lately.
        var up: Bool?
    }

    /// Each configured target and how its last probe went (nil: not probed since it was last idle).
    var summaries: [Summary] {
        state.withLock { state in
            state.config.targets.keys.sorted().map { name in
                let entry = state.config.targets[name]!
                let up = state.active[name]?.snapshot?.up
                return Summary(name: name, url: entry.url, module: entry.module, up: up)
            }
        }
    }

    public func writeMetrics(to writer: inout ExpositionWriter) {
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
