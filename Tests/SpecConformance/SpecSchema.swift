import ApplianceAPI
import Foundation

/// The vSphere swagger extract, used to check that fixtures and simulator bodies are what the spec says.
///
/// A small validator for the subset the extract uses: `$ref`, `type`, `enum`, `required`, `properties`,
/// `items`, `additionalProperties` and `format: date-time`. Unknown properties are reported too, so that
/// a misspelt field in a fixture cannot pass.
public struct SpecSchema: Sendable {
    /// The extract vendored in the repository: `<repo>/spec/vsphere/recovery-api.json`.
    public static let defaultPath: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("spec/vsphere/recovery-api.json").path
    }()

    /// Fields whose wire type differs from the swagger on purpose (see the extract's notes).
    /// Both are vAPI `AnyError` (an error object) on the wire, which the swagger converter types as string;
    /// VMware's own reference shows `"error": {}` for backup job details.
    static let wireExceptions: Set<String> = ["ApplianceRecoveryReconciliationJobInfo.error", "ApplianceRecoveryBackupJobDetailsInfo.error"]

    private let root: [String: JSONValue]

    public init(path: String = SpecSchema.defaultPath) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard case .object(let root) = try JSONDecoder().decode(JSONValue.self, from: data) else {
            throw SpecError("\(path) is not a JSON object")
        }
        self.root = root
    }

    /// The schema of a response: e.g. ("/api/appliance/recovery/reconciliation/job", "get", 200).
    public func responseSchema(path: String, method: String, status: Int) throws -> JSONValue {
        guard case .object(let paths)? = root["paths"], case .object(let operations)? = paths[path],
              case .object(let operation)? = operations[method], case .object(let responses)? = operation["responses"],
              case .object(let response)? = responses[String(status)], let schema = response["schema"] else {
            throw SpecError("the spec has no \(method.uppercased()) \(path) response \(status) with a body")
        }
        return schema
    }

    /// Problems found in `body` against `schema`; empty when it conforms.
    public func problems(_ body: Data, against schema: JSONValue) -> [String] {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: body) else { return ["(root): not JSON"] }
        var problems: [String] = []
        check(value, schema, at: "(root)", owner: nil, into: &problems)
        return problems
    }

    public func problems(_ body: Data, path: String, method: String, status: Int) throws -> [String] {
        problems(body, against: try responseSchema(path: path, method: method, status: status))
    }

    private func check(_ value: JSONValue, _ schema: JSONValue, at location: String, owner: String?, into problems: inout [String]) {
        guard case .object(var schema) = schema else { return }
        var owner = owner
        if case .string(let reference)? = schema["$ref"] {
            let name = String(reference.split(separator: "/").last ?? "")
            guard case .object(let definitions)? = root["definitions"], let resolved = definitions[name], case .object(let object) = resolved else {
                problems.append("\(location): unresolvable \(reference)")
                return
            }
            schema = object
            owner = name
        }
        if case .array(let allowed)? = schema["enum"], !allowed.contains(value) {
            problems.append("\(location): \(value) is not one of the enum values")
        }
        guard case .string(let type)? = schema["type"] else { return }
        switch (type, value) {
        case ("object", .object(let object)):
            if case .array(let required)? = schema["required"] {
                for case .string(let key) in required where object[key] == nil {
                    problems.append("\(location): missing required field \(key)")
                }
            }
            let properties: [String: JSONValue]
            if case .object(let declared)? = schema["properties"] { properties = declared } else { properties = [:] }
            for (key, child) in object.sorted(by: { $0.key < $1.key }) {
                if let owner, Self.wireExceptions.contains("\(owner).\(key)") { continue }
                if case .null = child { problems.append("\(location).\(key): null (unset fields must be omitted)"); continue }
                if let property = properties[key] {
                    check(child, property, at: "\(location).\(key)", owner: owner, into: &problems)
                } else if let additional = schema["additionalProperties"] {
                    check(child, additional, at: "\(location).\(key)", owner: owner, into: &problems)
                } else if !properties.isEmpty {
                    problems.append("\(location).\(key): not a field of \(owner ?? "this object")")
                }
            }
        case ("array", .array(let items)):
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() {
                    check(item, itemSchema, at: "\(location)[\(index)]", owner: owner, into: &problems)
                }
            }
        case ("string", .string(let text)):
            if case .string("date-time")? = schema["format"], APITimestamp.parse(text) == nil {
                problems.append("\(location): \"\(text)\" is not an RFC 3339 date-time")
            }
        case ("integer", .number(let number)) where number == number.rounded():
            break
        case ("number", .number), ("boolean", .bool):
            break
        default:
            problems.append("\(location): expected \(type), got \(value)")
        }
    }
}

public struct SpecError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
