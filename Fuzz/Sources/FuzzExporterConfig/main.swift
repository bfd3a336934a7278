import Foundation
import FuzzSupport
import VCSAExporter

/// `ExporterConfig(path:)` loads `--config.file`, the allow-list `/probe` reaches. Each input is
/// written to `config.yml` in a directory of this process that also holds `password` and `ca.pem`,
/// so that a module naming them by a relative path gets past the file checks.
/// Invariants: what loads is what the exporter can use safely (every target's URL is a bare
/// scheme://host[:port] that normalises to itself, its module exists, names hold only the allowed
/// characters, timeouts are within the flags' bounds); errors name `--config.file` and the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExporterConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let path = Scratch.configPath
    invariant(FileManager.default.createFile(atPath: path, contents: Data(fuzzBytes(data, size))), "cannot write \(path)")
    do {
        let config = try ExporterConfig(path: path)
        // Bytes: as Characters, the Kelvin sign U+212A equals "K".
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-".utf8)
        for (name, target) in config.targets {
            invariant(!name.isEmpty && name.utf8.allSatisfy(allowed.contains), "target name \(name) accepted")
            invariant(ApplianceURL.normalized(target.url) == target.url, "target \(name): \(target.url) does not normalise to itself")
            invariant(target.url.hasPrefix("https://") || target.url.hasPrefix("http://"), "target \(name): scheme of \(target.url)")
            invariant(!target.url.dropFirst(8).contains("/") && !target.url.contains("?") && !target.url.contains("@"), "target \(name): \(target.url) has a path, query or user")
            invariant(config.modules[target.module] != nil, "target \(name) names the missing module \(target.module)")
        }
        for (name, module) in config.modules {
            invariant(!name.isEmpty && name.utf8.allSatisfy(allowed.contains), "module name \(name) accepted")
            invariant(module.timeout > .zero && module.timeout <= .seconds(3600), "module \(name): timeout \(module.timeout)")
            invariant(module.sessionIdleTimeout >= .seconds(1) && module.sessionIdleTimeout <= .seconds(86_400), "module \(name): idle \(module.sessionIdleTimeout)")
            invariant(!module.collectors.isEmpty && !module.username.isEmpty, "module \(name): no collector or user")
            invariant(module.passwordFile.hasPrefix("/"), "module \(name): password file \(module.passwordFile) not made absolute")
        }
    } catch {
        invariant(error.flag == "--config.file" && error.path == path && error.description.hasPrefix("--config.file: \(path)"),
                  "the error does not name the flag and the file: \(error)")
    }
    return 0
}

/// A directory of this process: the config file, and the files a module may name.
private enum Scratch {
    static let configPath: String = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-exporterconfig-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: directory + "/password", contents: Data("secret\n".utf8))
        FileManager.default.createFile(atPath: directory + "/ca.pem", contents: Data("not checked at load\n".utf8))
        return directory + "/config.yml"
    }()
}
