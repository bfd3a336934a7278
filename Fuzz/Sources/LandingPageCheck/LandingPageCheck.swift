import FuzzSupport
@testable import VCSAExporter

/// The landing page's invariant: rendering never traps, and an HTML parser finds in it exactly the
/// elements and attributes of the page's own template, so that no text (from the appliance, the
/// config or the flags) became markup.
public enum LandingPageCheck {
    /// Every element and attribute the template writes.
    static let allowed: [String: Set<String>] = [
        "html": ["lang"], "head": [], "meta": ["charset", "name", "content"], "title": [], "style": [], "body": [],
        "h1": [], "h2": [], "p": ["class"], "nav": [], "a": ["href"], "section": ["class"], "span": ["class"], "b": [],
        "div": ["class", "role", "aria-valuemin", "aria-valuemax", "aria-valuenow", "style"],
        "table": [], "tr": [], "th": [], "td": ["colspan"], "br": [], "small": [], "ul": [], "li": [],
    ]

    /// Renders the page from `inputs`, parses it with libxml2, and aborts unless its elements are the
    /// allowed ones and the same, in order, as those of the page rendered from neutral text.
    public static func check(_ inputs: LandingPageInputs) {
        let html = page(inputs).html
        let elements = HTMLOutline.elements(of: html)
        for element in elements {
            let allowed = Self.allowed[element.name]
            invariant(allowed != nil && element.attributes.allSatisfy { allowed!.contains($0.name) },
                      "\(element) is not the template's, in \(html)")
        }
        let template = HTMLOutline.elements(of: page(inputs.neutral).html).map(withoutLinks)
        let found = elements.map(withoutLinks)
        guard found != template else { return }
        let index = (0..<min(found.count, template.count)).first { found[$0] != template[$0] } ?? min(found.count, template.count)
        invariant(false, "element \(index) of \(found.count) is \(index < found.count ? "\(found[index])" : "missing"), where the template's "
                  + "\(template.count) have \(index < template.count ? "\(template[index])" : "none"), in \(html)")
    }

    static func page(_ inputs: LandingPageInputs) -> LandingPage {
        LandingPage(options: inputs.options, snapshot: inputs.snapshot, unsupported: inputs.unsupported, adminEnabled: inputs.adminEnabled,
                    probeTargets: inputs.probeTargets.map { .init(name: $0.name, url: $0.url, module: $0.module, up: $0.up) }, now: inputs.now)
    }

    /// Links hold text (the metrics path, a target's name); every other attribute value is the template's own.
    static func withoutLinks(_ element: HTMLElement) -> HTMLElement {
        var element = element
        element.attributes = element.attributes.map { (name: $0.name, value: $0.name == "href" ? "" : $0.value) }
        return element
    }
}
