/// Reads typed values out of a YAML tree the way Go's strict YAML decoding does for exporter-toolkit:
/// unknown keys and wrong types are errors, a null value is "not set". Errors name the key path.
struct ConfigReader {
    let fail: (_ key: String, _ reason: String) -> WebConfigError

    /// The pairs of a mapping, each key one of `known`; nil for a null or missing node.
    func mapping(_ node: YAMLNode?, at path: String, known: [String]) throws(WebConfigError) -> [(key: String, value: YAMLNode)]? {
        guard let node, !node.isNull else { return nil }
        guard case .mapping(let pairs) = node.kind else { throw fail(path, "line \(node.line): expected a mapping") }
        for (key, _) in pairs where !known.contains(key) {
            throw fail(join(path, key), "unknown key (expected one of \(known.joined(separator: ", ")))")
        }
        return pairs
    }

    /// Any mapping of strings to strings (header values, users), in file order.
    func stringMap(_ node: YAMLNode?, at path: String) throws(WebConfigError) -> [(key: String, value: String)] {
        guard let node, !node.isNull else { return [] }
        guard case .mapping(let pairs) = node.kind else { throw fail(path, "line \(node.line): expected a mapping") }
        var result: [(key: String, value: String)] = []
        for (key, value) in pairs {
            result.append((key, try string(value, at: join(path, key)) ?? ""))
        }
        return result
    }

    /// A scalar as text (Go decodes numbers and booleans into string fields as written).
    func string(_ node: YAMLNode?, at path: String) throws(WebConfigError) -> String? {
        guard let node, !node.isNull else { return nil }
        guard case .scalar(let text, _) = node.kind else { throw fail(path, "line \(node.line): expected a string") }
        return text
    }

    /// YAML 1.1 booleans, as Go's YAML decoder reads them (`yes`, `on` and `true` alike); quoted text is not a boolean.
    func bool(_ node: YAMLNode?, at path: String) throws(WebConfigError) -> Bool? {
        guard let node, !node.isNull else { return nil }
        if case .scalar(let text, plain: true) = node.kind {
            if ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"].contains(text) { return true }
            if ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"].contains(text) { return false }
        }
        throw fail(path, "line \(node.line): expected true or false")
    }

    /// A list of strings.
    func strings(_ node: YAMLNode?, at path: String) throws(WebConfigError) -> [String]? {
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
