import ApplianceAPI
import ExporterToolkit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The exporter's configuration file (`--config.file`), in blackbox_exporter's shape: `modules`
/// say how to log in and what to collect, `targets` is the allow-list `/probe` may reach.
/// A target is named, never given as a URL in the request: an open `target` would let anyone aim
/// the exporter's vCenter credentials at a server of their choosing.
public struct ExporterConfig: Sendable, Equatable {
    public struct Module: Sendable, Equatable {
        public var username: String
        /// Read at every login, so a rotated password needs no reload.
        public var passwordFile: String
        public var caFile: String?
        public var insecureSkipVerify = false
        /// The longest a probe waits for the appliance, as `--vcenter.timeout`.
        public var timeout: Duration = .seconds(10)
        public var collectors: Set<CollectorName> = Set(CollectorName.allCases)
        /// A target not probed for this long is logged out and forgotten.
        public var sessionIdleTimeout: Duration = .seconds(600)
    }

    public struct Target: Sendable, Equatable {
        /// Normalised by `ApplianceURL`.
        public var url: String
        public var module: String
    }

    public var modules: [String: Module] = [:]
    public var targets: [String: Target] = [:]

    static let flag = "--config.file"
    static let maxTargets = 10_000
    static let maxModules = 1_000
    /// What a target or module name may hold: it travels in URLs and becomes the `instance` label.
    /// Bytes, not Characters: the Kelvin sign U+212A is canonically equivalent to "K" and equal to it as a Character.
    static let nameBytes = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-".utf8)

    public init() {}

    /// Loads and validates the file; errors name the file and the key. Password and CA files are
    /// read now, so that a typo fails the load instead of the first probe; relative paths are
    /// relative to the file's directory.
    public init(path: String) throws(ConfigFileError) {
        let reader = ConfigReader(flag: Self.flag, path: path)
        let sections = try reader.mapping(try reader.root(), at: "", known: ["modules", "targets"]) ?? []
        let section = { (name: String) in sections.first { $0.key == name }?.value }
        let modules = try reader.mapping(section("modules"), at: "modules", known: nil) ?? []
        guard modules.count <= Self.maxModules else { throw reader.fail("modules", "more than \(Self.maxModules) modules") }
        for (name, node) in modules {
            try Self.check(name: name, at: "modules", reader: reader)
            self.modules[name] = try Self.module(node, at: "modules.\(name)", reader: reader)
        }
        let targets = try reader.mapping(section("targets"), at: "targets", known: nil) ?? []
        guard targets.count <= Self.maxTargets else { throw reader.fail("targets", "more than \(Self.maxTargets) targets") }
        for (name, node) in targets {
            try Self.check(name: name, at: "targets", reader: reader)
            let at = "targets.\(name)"
            let fields = try reader.mapping(node, at: at, known: ["url", "module"]) ?? []
            let field = { (key: String) in fields.first { $0.key == key }?.value }
            guard let text = try reader.string(field("url"), at: "\(at).url") else { throw reader.fail("\(at).url", "is required") }
            guard let url = ApplianceURL.normalized(text) else { throw reader.fail("\(at).url", "\"\(text)\" is not \(ApplianceURL.expected)") }
            let module = try reader.string(field("module"), at: "\(at).module") ?? "default"
            guard self.modules[module] != nil else {
                throw reader.fail("\(at).module", "no module named \"\(module)\" (modules: \(self.modules.keys.sorted().joined(separator: ", ")))")
            }
            self.targets[name] = Target(url: url, module: module)
        }
    }

    private static func check(name: String, at path: String, reader: ConfigReader) throws(ConfigFileError) {
        guard !name.isEmpty, name.utf8.count <= 253, name.utf8.allSatisfy(nameBytes.contains) else {
            throw reader.fail(path, "name \"\(name)\" must be 1 to 253 letters, digits, '.', '_', ':' or '-'")
        }
    }

    private static func module(_ node: YAMLNode, at path: String, reader: ConfigReader) throws(ConfigFileError) -> Module {
        let known = ["username", "password_file", "ca_file", "insecure_skip_verify", "timeout", "collectors", "session_idle_timeout"]
        let fields = try reader.mapping(node, at: path, known: known) ?? []
        let field = { (key: String) in fields.first { $0.key == key }?.value }
        guard let username = try reader.string(field("username"), at: "\(path).username"), !username.isEmpty else {
            throw reader.fail("\(path).username", "is required")
        }
        // Secrets come from files: a password in this file would end up in backups, diffs and tickets.
        guard let passwordFile = try reader.file(field("password_file"), at: "\(path).password_file") else {
            throw reader.fail("\(path).password_file", "is required (a file holding the password)")
        }
        do { _ = try SecretFile.read(passwordFile) } catch { throw reader.fail("\(path).password_file", "\(error)") }
        var module = Module(username: username, passwordFile: passwordFile)
        if let caFile = try reader.file(field("ca_file"), at: "\(path).ca_file") {
            guard FileManager.default.isReadableFile(atPath: caFile) else { throw reader.fail("\(path).ca_file", "\(caFile) cannot be read") }
            module.caFile = caFile
        }
        module.insecureSkipVerify = try reader.bool(field("insecure_skip_verify"), at: "\(path).insecure_skip_verify") ?? false
        if let timeout = try reader.duration(field("timeout"), at: "\(path).timeout") {
            guard timeout > .zero, timeout <= .seconds(3600) else { throw reader.fail("\(path).timeout", "must be greater than 0 and at most 1h") }
            module.timeout = timeout
        }
        if let idle = try reader.duration(field("session_idle_timeout"), at: "\(path).session_idle_timeout") {
            guard idle >= .seconds(1), idle <= .seconds(86_400) else {
                throw reader.fail("\(path).session_idle_timeout", "must be from 1s to 24h")
            }
            module.sessionIdleTimeout = idle
        }
        if let names = try reader.strings(field("collectors"), at: "\(path).collectors") {
            var collectors: Set<CollectorName> = []
            for name in names {
                guard let collector = CollectorName(rawValue: name) else {
                    throw reader.fail("\(path).collectors", "unknown collector \"\(name)\" (expected \(CollectorName.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                collectors.insert(collector)
            }
            guard !collectors.isEmpty else { throw reader.fail("\(path).collectors", "lists no collector; leave it out to collect everything") }
            module.collectors = collectors
        }
        return module
    }

    /// What the file configures, for `--config.check` and the start-up log.
    public var summary: [String] {
        var lines = modules.keys.sorted().map { name in
            let module = modules[name]!
            return "module \(name): user \(module.username), timeout \(module.timeout.seconds)s, collectors \(module.collectors.map(\.rawValue).sorted().joined(separator: ",")), "
                + "idle logout after \(module.sessionIdleTimeout.seconds)s\(module.insecureSkipVerify ? ", TLS verification OFF" : "")"
        }
        lines.append("targets: \(targets.count)")
        return lines
    }
}
