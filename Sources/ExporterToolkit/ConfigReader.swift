#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads typed values out of a YAML tree the way Go's strict YAML decoding does for exporter-toolkit:
/// unknown keys and wrong types are errors, a null value is "not set". Errors name the key path.
public struct ConfigReader {
    let flag: String
    let path: String

    /// `flag` is the option that names the file (`--config.file`, say): errors start with it.
    public init(flag: String, path: String) {
        self.flag = flag
        self.path = path
    }

    /// The error for `key` ("" for the file as a whole).
    public func fail(_ key: String, _ reason: String) -> ConfigFileError {
        ConfigFileError(flag: flag, path: path, key: key, reason: reason)
    }

    /// The file's YAML tree (nil when empty); at most 1 MiB, as a configuration has no reason to be larger.
    public func root() throws(ConfigFileError) -> YAMLNode? {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("", "cannot be read") }
        guard data.count <= 1 << 20 else { throw fail("", "is larger than 1 MiB") }
        do { return try YAMLNode.parse(String(decoding: data, as: UTF8.self)) } catch { throw fail("", "is not valid YAML: \(error)") }
    }

    /// A file named in the config: a relative path is relative to the config file's directory, as
    /// Prometheus and exporter-toolkit resolve them.
    public func file(_ node: YAMLNode?, at key: String) throws(ConfigFileError) -> String? {
        guard let name = try string(node, at: key), !name.isEmpty else { return nil }
        return resolve(name)
    }

    /// A file name as the config file means it: a relative one is relative to the file's directory.
    public func resolve(_ name: String) -> String {
        if name.hasPrefix("/") { return name }
        return URL(fileURLWithPath: path).deletingLastPathComponent().path + "/" + name
    }

    /// A Go duration ("30s", "1m30s").
    public func duration(_ node: YAMLNode?, at path: String) throws(ConfigFileError) -> Duration? {
        guard let text = try string(node, at: path) else { return nil }
        do { return try GoDuration.parse(text) } catch { throw fail(path, "\(error)") }
    }

    /// The pairs of a mapping, each key one of `known` (nil: any key); nil for a null or missing node.
    public func mapping(_ node: YAMLNode?, at path: String, known: [String]?) throws(ConfigFileError) -> [(key: String, value: YAMLNode)]? {
        guard let node, !node.isNull else { return nil }
        guard case .mapping(let pairs) = node.kind else { throw fail(path, "line \(node.line): expected a mapping") }
        for (key, _) in pairs where !(known?.contains(key) ?? true) {
            throw fail(join(path, key), "unknown key (expected one of \(known?.joined(separator: ", ") ?? ""))")
        }
        return pairs
    }

    /// Any mapping of strings to strings (header values, users), in file order.
    func stringMap(_ node: YAMLNode?, at path: String) throws(ConfigFileError) -> [(key: String, value: String)] {
        guard let node, !node.isNull else { return [] }
        guard case .mapping(let pairs) = node.kind else { throw fail(path, "line \(node.line): expected a mapping") }
        var result: [(key: String, value: String)] = []
        for (key, value) in pairs {
            result.append((key, try string(value, at: join(path, key)) ?? ""))
        }
        return result
    }

    /// A scalar as text (Go decodes numbers and booleans into string fields as written).
    public func string(_ node: YAMLNode?, at path: String) throws(ConfigFileError) -> String? {
        guard let node, !node.isNull else { return nil }
        guard case .scalar(let text, _) = node.kind else { throw fail(path, "line \(node.line): expected a string") }
        return text
    }

    /// YAML 1.1 booleans, as Go's YAML decoder reads them (`yes`, `on` and `true` alike); quoted text is not a boolean.
    public func bool(_ node: YAMLNode?, at path: String) throws(ConfigFileError) -> Bool? {
        guard let node, !node.isNull else { return nil }
        if case .scalar(let text, plain: true) = node.kind {
            if ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"].contains(text) { return true }
            if ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"].contains(text) { return false }
        }
        throw fail(path, "line \(node.line): expected true or false")
    }

    /// A list of strings.
    public func strings(_ node: YAMLNode?, at path: String) throws(ConfigFileError) -> [String]? {
        guard let node, !node.isNull else { return nil }
        guard case .sequence(let items) = node.kind else { throw fail(path, "line \(node.line): expected a list") }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            result.append(try string(item, at: "\(path)[\(index)]") ?? "")
        }
        return result
    }

    func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }
}
