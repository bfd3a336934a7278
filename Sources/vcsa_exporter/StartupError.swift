/// A configuration problem found at start-up: one line naming the flag or file, then exit code 2.
struct StartupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
