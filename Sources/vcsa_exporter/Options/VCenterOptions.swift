import ArgumentParser
import ExporterToolkit

/// The appliance the metrics path collects, and how long a scrape waits for it.
struct VCenterOptions: ParsableArguments {
    @Option(name: .customLong("vcenter.url"), help: "Base URL of the appliance, e.g. https://vcsa.example.com.")
    var vcenterURL: String?

    @Option(name: .customLong("vcenter.username"), help: "vCenter user (an SSO administrator); falls back to VCSA_USERNAME.")
    var username: String?

    @Option(name: .customLong("vcenter.password-file"), help: "File holding the vCenter password; falls back to VCSA_PASSWORD.")
    var passwordFile: String?

    @Option(name: .customLong("vcenter.timeout"), help: "Longest time a scrape waits for the appliance (Go duration).")
    var timeout = "10s"

    @Option(name: .customLong("vcenter.tls.ca-file"), help: "PEM file of CAs to trust for the appliance's certificate.")
    var caFile: String?

    @Flag(name: .customLong("vcenter.tls.insecure-skip-verify"), help: "Do not verify the appliance's certificate (unsafe).")
    var insecureSkipVerify = false

    @Option(name: .customLong("timeout-offset"), help: "Seconds subtracted from Prometheus' scrape timeout to get the appliance deadline.")
    var timeoutOffset = 0.5

    func validate() throws {
        _ = try scrapeTimeout()
        guard timeoutOffset.isFinite, (0...3600).contains(timeoutOffset) else {
            throw StartupError("--timeout-offset: \(timeoutOffset) must be a number of seconds from 0 to 3600")
        }
    }

    /// `--vcenter.timeout` as a duration, from just above 0 to 1h.
    func scrapeTimeout() throws(StartupError) -> Duration {
        let parsed: Duration
        do { parsed = try GoDuration.parse(timeout) } catch { throw StartupError("--vcenter.timeout: \(error)") }
        guard parsed > .zero, parsed <= .seconds(3600) else {
            throw StartupError("--vcenter.timeout: \"\(timeout)\" must be greater than 0 and at most 1h")
        }
        return parsed
    }
}
