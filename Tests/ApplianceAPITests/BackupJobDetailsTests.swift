import ApplianceAPI
import Testing

/// `BackupJobDetails.locationScheme`: only an RFC 3986 scheme leaves the location, never its user, host or path.
@Suite struct BackupJobDetailsTests {
    static func scheme(_ location: String) -> String {
        BackupJobDetails(location: location, type: "MANUAL", description: LocalizableMessage(id: "d", defaultMessage: "d"), status: .running).locationScheme
    }

    @Test func schemesAreReadAndLowercased() {
        #expect(Self.scheme("sftp://user@host/path") == "sftp" && Self.scheme("NFS://host/p") == "nfs" && Self.scheme("svn+ssh.1-x://h") == "svn+ssh.1-x")
        #expect(Self.scheme("no scheme") == "" && Self.scheme(":x") == "" && Self.scheme("a b://x") == "" && Self.scheme("1ftp://x") == "")
    }

    /// A prepend scalar (U+0D4E is also a letter) joins the `@` or `/` after it into one Character that passes `isLetter`.
    @Test func prependScalarsCannotSmuggleTheUserOrPathIntoTheScheme() {
        #expect(Self.scheme("user\u{0D4E}@secret-host\u{0D4E}/backups:22") == "")
        #expect(Self.scheme("sftp\u{0600}://user@host/path") == "")
        #expect(Self.scheme("ftp\u{0301}://host") == "", "a combining mark makes no scheme letter")
        #expect(Self.scheme("\u{212A}://host") == "", "the Kelvin sign is canonically equivalent to K, but it is not ASCII")
        #expect(Self.scheme("h\u{0131}ttp://host") == "" && Self.scheme("ſftp://host") == "", "letters that lowercase or uppercase into ASCII")
    }
}
