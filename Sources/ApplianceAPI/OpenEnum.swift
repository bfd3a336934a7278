/// An enumeration the appliance may extend in a later release: a value this client does not know
/// decodes as `.unknown` instead of failing the whole answer.
public protocol OpenEnum: RawRepresentable, Decodable, CaseIterable where RawValue == String {
    static var unknown: Self { get }
}

extension OpenEnum {
    public init(from decoder: Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        self = Self(rawValue: raw) ?? .unknown
    }
}
