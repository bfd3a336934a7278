import CLibXML2

/// An element as an HTML parser saw it: its name and its attributes (name and value), in order.
public struct HTMLElement: Equatable, CustomStringConvertible {
    public var name: String
    public var attributes: [(name: String, value: String)]

    public static func == (a: HTMLElement, b: HTMLElement) -> Bool {
        a.name == b.name && a.attributes.elementsEqual(b.attributes) { $0.name == $1.name && $0.value == $1.value }
    }

    public var description: String {
        "<\(name)" + attributes.map { " \($0.name)=\($0.value.debugDescription)" }.joined() + ">"
    }
}

/// The elements of an HTML document in document order, as libxml2's HTML parser builds them:
/// a parser other than the page's own template, so that markup slipped into text shows up as elements.
public enum HTMLOutline {
    public static func elements(of html: String) -> [HTMLElement] {
        let bytes = Array(html.utf8)
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue)
        let document = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                htmlReadMemory($0, Int32(buffer.count), "landing.html", "UTF-8", options)
            }
        }
        guard let document else { return [] }
        defer { xmlFreeDoc(document) }
        var elements: [HTMLElement] = []
        collect(document.pointee.children, into: &elements)
        return elements
    }

    private static func collect(_ first: xmlNodePtr?, into elements: inout [HTMLElement]) {
        var node = first
        while let current = node {
            if current.pointee.type == XML_ELEMENT_NODE {
                var attributes: [(name: String, value: String)] = []
                var attribute = current.pointee.properties
                while let property = attribute {
                    attributes.append((text(property.pointee.name), value(of: property.pointee.children)))
                    attribute = property.pointee.next
                }
                elements.append(HTMLElement(name: text(current.pointee.name), attributes: attributes))
                collect(current.pointee.children, into: &elements)
            }
            node = current.pointee.next
        }
    }

    /// An attribute's value: the text of its child nodes (entities are already replaced by the parser).
    private static func value(of first: xmlNodePtr?) -> String {
        var value = ""
        var node = first
        while let current = node {
            if let content = current.pointee.content { value += text(content) }
            node = current.pointee.next
        }
        return value
    }

    private static func text(_ characters: UnsafePointer<xmlChar>?) -> String {
        guard let characters else { return "" }
        return String(cString: characters)
    }
}
