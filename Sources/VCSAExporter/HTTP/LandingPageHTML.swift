import ApplianceAPI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A state's colour on the landing page.
enum Tone: String {
    case succeeded, running, failed, warning, none
}

/// One job as the landing page shows it. Every string is plain text (much of it from the
/// appliance): `html` escapes all of it, so nothing here can inject markup.
struct JobCard {
    var title: String
    var state: String
    var tone: Tone
    /// 0 to 1; nil: no bar.
    var progress: Double?
    /// Label and value rows; a detail goes under its value, smaller.
    var facts: [(label: String, value: String, detail: String?)] = []
    /// What went wrong with the job itself, as the appliance words it.
    var error: String?
    /// Remarks of the exporter's own (collector failed, API missing, ...).
    var notes: [String] = []

    init(_ title: String, state: String, tone: Tone, progress: Double? = nil) {
        self.title = title
        self.state = state
        self.tone = tone
        self.progress = progress
    }

    mutating func fact(_ label: String, _ value: String, detail: String? = nil) {
        facts.append((label, value, detail))
    }

    /// "3 minutes ago", with the time in UTC under it.
    mutating func time(_ label: String, _ date: Date?, now: Date) {
        if let date { fact(label, LandingHTML.ago(date, now: now), detail: LandingHTML.utc(date)) }
    }

    var html: String {
        var html = "<section class=\"job \(tone.rawValue)\"><h2>\(LandingHTML.escape(title))"
            + " <span class=\"state \(tone.rawValue)\">\(LandingHTML.escape(state))</span></h2>"
        if let progress {
            let percent = LandingHTML.percent(progress)
            html += "<div class=\"progress\"><div class=\"bar\" role=\"progressbar\" aria-valuemin=\"0\" aria-valuemax=\"100\""
                + " aria-valuenow=\"\(percent)\"><div class=\"fill \(tone.rawValue)\" style=\"width:\(percent)%\"></div></div>"
                + "<span class=\"percent\">\(percent)%</span></div>"
        }
        if let error {
            html += "<p class=\"error\"><b>Error:</b> \(LandingHTML.escape(error))</p>"
        }
        html += notes.map { "<p class=\"note\">\(LandingHTML.escape($0))</p>" }.joined()
        if !facts.isEmpty {
            html += "<table>" + facts.map { fact in
                "<tr><th>\(LandingHTML.escape(fact.label))</th><td>\(LandingHTML.escape(fact.value))"
                    + (fact.detail.map { "<br><small>\(LandingHTML.escape($0))</small>" } ?? "") + "</td></tr>"
            }.joined() + "</table>"
        }
        return html + "</section>\n"
    }
}

/// Escaping, and times, durations and sizes in words, for the landing page.
enum LandingHTML {
    /// Escapes by UTF-8 byte, never by Character: a prepend scalar (U+0600, ...) joins the `<` after it into one Character.
    static func escape(_ text: String) -> String {
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): escaped += "&amp;".utf8
            case UInt8(ascii: "<"): escaped += "&lt;".utf8
            case UInt8(ascii: ">"): escaped += "&gt;".utf8
            case UInt8(ascii: "\""): escaped += "&quot;".utf8
            case UInt8(ascii: "'"): escaped += "&#39;".utf8
            // NUL is an HTML parse error: browsers drop or replace it, libxml2 ends an attribute value there; all read U+FFFD alike.
            case 0: escaped += "\u{FFFD}".utf8
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    /// `2026-11-24 02:00:00 UTC`; years 1 to 9999 only, since past them Foundation prints another date in their place.
    static func utc(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        guard !seconds.isNaN else { return "an invalid date" }
        guard seconds >= -62_135_596_800 else { return "before the year 1" }  // 0001-01-01 00:00:00 UTC
        guard seconds < 253_402_300_800 else { return "after the year 9999" }  // 10000-01-01 00:00:00 UTC
        let iso = date.formatted(Date.ISO8601FormatStyle())  // 2026-11-24T02:00:00Z
        return String(iso.dropLast().map { $0 == "T" ? " " : $0 }) + " UTC"
    }

    /// `2026-11-24 02:00:00 UTC (3 minutes ago)`.
    static func utc(_ date: Date, now: Date) -> String {
        "\(utc(date)) (\(ago(date, now: now)))"
    }

    static func ago(_ date: Date, now: Date) -> String {
        let seconds = now.timeIntervalSince(date)
        guard !seconds.isNaN else { return "at an unknown time" }
        return seconds >= 0 ? "\(words(seconds)) ago" : "in \(words(-seconds))"
    }

    /// Durations longer than this many days are not counted out: an appliance may send Int64.max seconds, past Int's range.
    static let maxDays = 100_000

    /// `42 seconds`, `3 minutes 20 seconds`, `2 hours 5 minutes`, `3 days 4 hours`: the two largest units.
    static func words(_ seconds: Double) -> String {
        guard !seconds.isNaN else { return "an unknown time" }
        guard seconds <= Double(maxDays * 86_400) else { return "more than \(maxDays) days" }
        let total = Int(max(0, seconds).rounded())
        func unit(_ count: Int, _ name: String) -> String { "\(count) \(name)\(count == 1 ? "" : "s")" }
        func pair(_ major: Int, _ majorName: String, _ minor: Int, _ minorName: String) -> String {
            minor == 0 ? unit(major, majorName) : "\(unit(major, majorName)) \(unit(minor, minorName))"
        }
        switch total {
        case ..<60: return unit(total, "second")
        case ..<3600: return pair(total / 60, "minute", total % 60, "second")
        case ..<86_400: return pair(total / 3600, "hour", total % 3600 / 60, "minute")
        default: return pair(total / 86_400, "day", total % 86_400 / 3600, "hour")
        }
    }

    /// A ratio as a whole percent, 0 to 100.
    static func percent(_ ratio: Double) -> Int {
        ratio.isFinite ? Int((min(1, max(0, ratio)) * 100).rounded()) : 0
    }

    /// `1.5 GB` (decimal units; the appliance does not say what unit a backup's size is in, bytes are assumed).
    static func bytes(_ count: Int64) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = Double(count)
        var index = 0
        while value >= 1000 && index < units.count - 1 {
            value /= 1000
            index += 1
        }
        guard index > 0 else { return "\(count) bytes" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[index])"
    }

    /// The text of an `error` field: a vAPI error object's first message, or a plain string.
    static func message(of error: JSONValue?) -> String? {
        switch error {
        case .string(let text): return text.isEmpty ? nil : text
        case .object(let fields):
            if case .string(let text)? = fields["default_message"] { return text }
            if case .array(let messages)? = fields["messages"], let first = messages.first { return message(of: first) }
            return nil
        default: return nil
        }
    }

    static let css = """
    body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#1f2328;background:#f6f8fa}
    h1{margin:0 0 4px;font-size:26px}h2{font-size:18px;margin:0 0 12px}nav a{margin-right:16px}
    .succeeded{--c:#1a7f37}.running{--c:#0969da}.failed{--c:#cf222e}.warning{--c:#9a6700}.none{--c:#6e7781}
    .summary{font-size:16px;padding:10px 14px;border-radius:6px;background:#fff;border-left:6px solid var(--c);margin:14px 0}
    .jobs{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:16px}
    .job{background:#fff;border:1px solid #d0d7de;border-top:6px solid var(--c);border-radius:6px;padding:14px 16px}
    .state{display:inline-block;color:#fff;background:var(--c);border-radius:12px;padding:2px 12px;font-size:15px;margin-left:6px}
    .progress{display:flex;align-items:center;gap:10px;margin:6px 0 12px}
    .bar{flex:1;height:18px;background:#e6e9ed;border-radius:9px;overflow:hidden}.fill{height:100%;background:var(--c)}
    .percent{font-size:20px;font-weight:600;min-width:56px;text-align:right}
    table{border-collapse:collapse;font-size:14px}td{padding:2px 0}
    th{text-align:left;font-weight:normal;color:#57606a;padding:2px 12px 2px 0;vertical-align:top;white-space:nowrap}
    .error{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:8px 10px;margin:8px 0;color:#82071e}
    .note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 10px;margin:8px 0}
    .config{margin-top:24px;font-size:14px;color:#57606a}
    """
}
