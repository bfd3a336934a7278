/// A configuration file that cannot be used: which flag named it, which file, which key, and why.
public struct ConfigFileError: Error, CustomStringConvertible {
    /// `--web.config.file` or `--config.file`.
    public var flag: String
    public var path: String
    /// Dotted path of the key, "" for the file as a whole.
    public var key: String
    public var reason: String

    public init(flag: String, path: String, key: String, reason: String) {
        self.flag = flag
        self.path = path
        self.key = key
        self.reason = reason
    }

    public var description: String { key.isEmpty ? "\(flag): \(path) \(reason)" : "\(flag): \(path): \(key): \(reason)" }
}
