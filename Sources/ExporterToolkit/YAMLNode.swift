import CYAML

/// A YAML document as a tree, read with libyaml: what a configuration file needs, bounded in depth
/// and size (aliases let a small file describe an exponentially large tree).
public struct YAMLNode: Sendable {
    enum Kind: Sendable {
        /// `plain` is false for quoted scalars, which are always strings ("true" quoted is not a bool).
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        /// Keys in file order; a repeated key is a parse error, as in Go's strict YAML.
        case mapping([(key: String, value: YAMLNode)])
    }

    var kind: Kind
    /// 1-based, for error messages.
    var line: Int

    static let maxDepth = 64
    static let maxNodes = 100_000

    /// The document's root, or nil for an empty document.
    static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLError(line: 0, reason: "libyaml could not start") }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        var document = yaml_document_t()
        let loaded = bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return yaml_parser_load(&parser, &document)
        }
        guard loaded == 1 else {
            let reason = parser.problem.map { String(cString: $0) } ?? "not valid YAML"
            throw YAMLError(line: Int(parser.problem_mark.line) + 1, reason: reason)
        }
        defer { yaml_document_delete(&document) }
        guard let root = yaml_document_get_root_node(&document) else { return nil }
        var budget = maxNodes
        return try convert(root, in: &document, depth: 0, budget: &budget)
    }

    private static func convert(_ node: UnsafeMutablePointer<yaml_node_t>, in document: inout yaml_document_t,
                                depth: Int, budget: inout Int) throws(YAMLError) -> YAMLNode {
        let line = Int(node.pointee.start_mark.line) + 1
        budget -= 1
        guard depth < maxDepth, budget >= 0 else { throw YAMLError(line: line, reason: "nested too deeply or too large") }
        switch node.pointee.type {
        case YAML_SCALAR_NODE:
            let scalar = node.pointee.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            return YAMLNode(kind: .scalar(text, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE), line: line)
        case YAML_SEQUENCE_NODE:
            var items: [YAMLNode] = []
            var item = node.pointee.data.sequence.items.start
            while let current = item, current != node.pointee.data.sequence.items.top {
                guard let child = yaml_document_get_node(&document, current.pointee) else { break }
                items.append(try convert(child, in: &document, depth: depth + 1, budget: &budget))
                item = current + 1
            }
            return YAMLNode(kind: .sequence(items), line: line)
        case YAML_MAPPING_NODE:
            var pairs: [(key: String, value: YAMLNode)] = []
            var seen: Set<String> = []
            var pair = node.pointee.data.mapping.pairs.start
            while let current = pair, current != node.pointee.data.mapping.pairs.top {
                guard let keyNode = yaml_document_get_node(&document, current.pointee.key),
                      let valueNode = yaml_document_get_node(&document, current.pointee.value) else { break }
                let key = try convert(keyNode, in: &document, depth: depth + 1, budget: &budget)
                guard case .scalar(let name, _) = key.kind else { throw YAMLError(line: key.line, reason: "a mapping key must be a string") }
                guard seen.insert(name).inserted else { throw YAMLError(line: key.line, reason: "key \"\(name)\" already set") }
                pairs.append((name, try convert(valueNode, in: &document, depth: depth + 1, budget: &budget)))
                pair = current + 1
            }
            return YAMLNode(kind: .mapping(pairs), line: line)
        default:
            return YAMLNode(kind: .scalar("", plain: true), line: line)
        }
    }

    /// A plain `~`, `null` or empty scalar: YAML's null, which Go treats as "not set".
    var isNull: Bool {
        guard case .scalar(let text, plain: true) = kind else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }
}

public struct YAMLError: Error, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}
