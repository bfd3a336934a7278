import Foundation

/// Fixture bodies under Tests/ApplianceAPITests/Fixtures, read straight from the source tree.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try data(name))
    }
}
