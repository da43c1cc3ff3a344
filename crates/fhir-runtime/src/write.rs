//! The format-neutral writer that generated `write_fields` methods call.
//!
//! Generated code calls one method per element, in FHIR element order; the
//! writer turns that into FHIR JSON (and, alongside, FHIR XML).

use crate::comments::{CommentPlace, XmlComments};
use crate::element::{AnyResource, Choice, Element, FieldValue, Name};
use crate::primitive::{ExtensionList, JsonType, Primitive, PrimitiveValue};
use crate::tree::Node;

/// Options for writing.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Indent and break lines (two spaces per level). Compact by default.
    pub pretty: bool,
    /// XML only: start with `<?xml version="1.0" encoding="UTF-8"?>`.
    pub xml_declaration: bool,
}

impl WriteOptions {
    /// Compact output.
    pub fn compact() -> Self {
        WriteOptions {
            pretty: false,
            xml_declaration: false,
        }
    }
    /// Indented output.
    pub fn pretty() -> Self {
        WriteOptions {
            pretty: true,
            xml_declaration: false,
        }
    }
}

/// The writer that generated code drives. Created by [`write_json`] and
/// [`write_json_resource`].
pub struct Writer {
    out: String,
    pretty: bool,
    indent: usize,
    first: bool,
    /// Writing XML (else JSON).
    xml: bool,
    /// XML: a start tag is open (`<name attr="..."`), waiting for `>` or `/>`.
    tag_open: bool,
    /// Building a [`Node`] tree instead of text: the open nodes, innermost last
    /// (empty when writing JSON or XML).
    tree: Vec<Node>,
}

/// Writes a resource of any type (the generated `Resource` enum) as FHIR JSON.
pub fn write_json_resource<R: AnyResource>(res: &R, opts: &WriteOptions) -> String {
    write_json(res.as_element(), true, opts)
}

/// Writes `value` as FHIR JSON; with `is_resource`, `resourceType` comes first.
pub fn write_json(value: &dyn Element, is_resource: bool, opts: &WriteOptions) -> String {
    let mut w = Writer {
        out: String::with_capacity(4096),
        pretty: opts.pretty,
        indent: 0,
        first: true,
        xml: false,
        tag_open: false,
        tree: Vec::new(),
    };
    w.object(value, is_resource);
    if w.pretty {
        w.out.push('\n');
    }
    w.out
}

/// Whether `value` has nothing to write: no id, extension or other element.
pub fn is_empty_element(value: &dyn Element) -> bool {
    write_json(value, false, &WriteOptions::compact()) == "{}"
}

/// Writes a resource of any type (the generated `Resource` enum) as FHIR XML.
pub fn write_xml_resource<R: AnyResource>(res: &R, opts: &WriteOptions) -> String {
    write_xml(res.as_element(), opts)
}

/// Writes a resource as FHIR XML: `<Type xmlns="http://hl7.org/fhir">...</Type>`,
/// in FHIR element order, with the XML comments it carries where they stood.
pub fn write_xml(resource: &dyn Element, opts: &WriteOptions) -> String {
    let mut w = Writer {
        out: String::with_capacity(8192),
        pretty: opts.pretty,
        indent: 0,
        first: true,
        xml: true,
        tag_open: false,
        tree: Vec::new(),
    };
    if opts.xml_declaration {
        w.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    }
    let comments = resource.comments();
    w.xml_comments(comments, CommentPlace::Before);
    w.xml_line();
    w.out.push('<');
    w.out.push_str(resource.type_name());
    w.out.push_str(" xmlns=\"http://hl7.org/fhir\"");
    w.tag_open = true;
    w.xml_body(resource, Name::plain(resource.type_name()));
    w.xml_comments(comments, CommentPlace::After);
    if w.pretty {
        w.out.push('\n');
    }
    w.out
}

impl Writer {
    // ----- API for generated code ---------------------------------------

    /// Writes an element that XML holds as an attribute (`Element.id`, `Extension.url`).
    pub fn attr(&mut self, name: &'static str, value: &Option<String>) {
        if let Some(v) = value {
            if !self.tree.is_empty() {
                let mut node = Node::new(name, if name == "url" { "uri" } else { "string" });
                node.value = Some(v.clone());
                self.tree_add(node);
                return;
            }
            if self.xml {
                self.xml_attr(name, v);
                return;
            }
            self.key(Name::plain(name), false);
            self.string(v);
        }
    }

    /// Writes a single-valued element, if present.
    pub fn field<V: FieldValue>(&mut self, name: &'static str, value: &Option<V>) {
        if let Some(v) = value {
            v.write_value(Name::plain(name), self);
        }
    }

    /// Writes a repeating element, if it has items.
    pub fn list<V: FieldValue>(&mut self, name: &'static str, items: &[V]) {
        if !items.is_empty() {
            V::write_list(items, Name::plain(name), self);
        }
    }

    /// Writes a choice element, if present, under `prefix` + its type.
    pub fn choice<C: Choice>(&mut self, prefix: &'static str, value: &Option<C>) {
        if let Some(v) = value {
            v.write_choice(prefix, self);
        }
    }

    /// Writes a complex value under `name`.
    pub fn complex(&mut self, name: Name, value: &dyn Element) {
        if !self.tree.is_empty() {
            self.tree_element(name, value, false);
            return;
        }
        if self.xml {
            self.xml_element(name, value);
            return;
        }
        self.key(name, false);
        self.object(value, false);
    }

    /// Writes a repeating complex element.
    pub fn complex_list<T: Element>(&mut self, name: Name, items: &[T]) {
        if !self.tree.is_empty() {
            for item in items {
                self.tree_element(name, item, false);
            }
            return;
        }
        if self.xml {
            for item in items {
                self.xml_element(name, item);
            }
            return;
        }
        self.key(name, false);
        self.begin(b'[');
        for item in items {
            self.item();
            self.object(item, false);
        }
        self.end(b']');
    }

    /// Writes a single resource-valued element, if present.
    pub fn resource_field<R: AnyResource>(&mut self, name: &'static str, value: &Option<R>) {
        if let Some(v) = value {
            if !self.tree.is_empty() {
                self.tree_element(Name::plain(name), v.as_element(), true);
                return;
            }
            if self.xml {
                self.xml_wrapped_resource(name, v.as_element());
                return;
            }
            self.resource(Name::plain(name), v.as_element());
        }
    }

    /// Writes a repeating resource-valued element, if it has items.
    pub fn resource_list<R: AnyResource>(&mut self, name: &'static str, items: &[R]) {
        if items.is_empty() {
            return;
        }
        if !self.tree.is_empty() {
            for item in items {
                self.tree_element(Name::plain(name), item.as_element(), true);
            }
            return;
        }
        if self.xml {
            for item in items {
                self.xml_wrapped_resource(name, item.as_element());
            }
            return;
        }
        self.key(Name::plain(name), false);
        self.begin(b'[');
        for item in items {
            self.item();
            self.object(item.as_element(), true);
        }
        self.end(b']');
    }

    /// Writes a resource under `name` (`contained`, `resource`).
    pub fn resource(&mut self, name: Name, value: &dyn Element) {
        if !self.tree.is_empty() {
            self.tree_element(name, value, true);
            return;
        }
        if self.xml {
            self.xml_wrapped_resource(name.prefix, value);
            return;
        }
        self.key(name, false);
        self.object(value, true);
    }

    /// Writes a primitive element: its value and, if it has any, its `id` and extensions.
    pub fn primitive<T: PrimitiveValue, L: ExtensionList>(
        &mut self,
        name: Name,
        p: &Primitive<T, L>,
    ) {
        if !self.tree.is_empty() {
            self.tree_primitive(name, p);
            return;
        }
        if self.xml {
            self.xml_primitive(name, p);
            return;
        }
        if let Some(v) = &p.value {
            self.key(name, false);
            self.value(v);
        }
        if p.has_extras() {
            self.key(name, true);
            self.object(p, false);
        }
    }

    /// Writes a repeating primitive element: the values, then (if any item has
    /// them) the ids and extensions, aligned with `null`s.
    pub fn primitive_list<T: PrimitiveValue, L: ExtensionList>(
        &mut self,
        name: Name,
        items: &[Primitive<T, L>],
    ) {
        if !self.tree.is_empty() {
            for p in items {
                self.tree_primitive(name, p);
            }
            return;
        }
        if self.xml {
            for p in items {
                self.xml_primitive(name, p);
            }
            return;
        }
        if items.iter().any(|p| p.value.is_some()) {
            self.key(name, false);
            self.begin(b'[');
            for p in items {
                self.item();
                match &p.value {
                    Some(v) => self.value(v),
                    None => self.out.push_str("null"),
                }
            }
            self.end(b']');
        }
        if items.iter().any(|p| p.has_extras()) {
            self.key(name, true);
            self.begin(b'[');
            for p in items {
                self.item();
                if p.has_extras() {
                    self.object(p, false);
                } else {
                    self.out.push_str("null");
                }
            }
            self.end(b']');
        }
    }

    // ----- tree mechanics -----------------------------------------------

    /// A writer that builds the children of `root` (see [`crate::tree::to_tree`]).
    pub(crate) fn tree(root: Node) -> Self {
        Writer {
            out: String::new(),
            pretty: false,
            indent: 0,
            first: true,
            xml: false,
            tag_open: false,
            tree: vec![root],
        }
    }

    /// The finished tree.
    pub(crate) fn into_tree(mut self) -> Node {
        self.tree.pop().expect("the root node is never closed")
    }

    fn tree_add(&mut self, node: Node) {
        if let Some(parent) = self.tree.last_mut() {
            parent.children.push(node);
        }
    }

    fn tree_element(&mut self, name: Name, value: &dyn Element, is_resource: bool) {
        let mut node = Node::new(name.prefix, value.type_name());
        node.choice_type = name.suffix;
        node.is_resource = is_resource;
        self.tree.push(node);
        value.write_fields(self);
        if let Some(node) = self.tree.pop() {
            self.tree_add(node);
        }
    }

    fn tree_primitive<T: PrimitiveValue, L: ExtensionList>(
        &mut self,
        name: Name,
        p: &Primitive<T, L>,
    ) {
        let mut node = Node::new(name.prefix, T::TYPE);
        node.choice_type = name.suffix;
        node.value = p.value.as_ref().map(|v| v.lexical().into_owned());
        self.tree.push(node);
        p.write_fields(self);
        if let Some(node) = self.tree.pop() {
            self.tree_add(node);
        }
    }

    // ----- XML mechanics ------------------------------------------------

    fn xml_line(&mut self) {
        if self.pretty && !self.out.is_empty() {
            self.newline();
        }
    }

    /// Ends an open start tag with `>` (there is content to come).
    fn xml_close_start(&mut self) {
        if self.tag_open {
            self.out.push('>');
            self.tag_open = false;
        }
    }

    fn xml_attr(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape_xml(&mut self.out, value, true);
        self.out.push('"');
    }

    fn xml_comments(&mut self, comments: Option<&XmlComments>, place: CommentPlace) {
        let Some(c) = comments else { return };
        for text in c.at(place) {
            self.xml_close_start();
            self.xml_line();
            self.out.push_str("<!--");
            self.out.push_str(text);
            self.out.push_str("-->");
        }
    }

    /// Writes the children of an element whose start tag is open, then closes it.
    fn xml_body(&mut self, value: &dyn Element, name: Name) {
        self.indent += 1;
        value.write_fields(self);
        self.xml_comments(value.comments(), CommentPlace::End);
        self.indent -= 1;
        self.xml_end(name);
    }

    /// Closes the current element: `/>` if its start tag is still open, else `</name>`.
    fn xml_end(&mut self, name: Name) {
        if self.tag_open {
            self.out.push_str("/>");
            self.tag_open = false;
        } else {
            self.xml_line();
            self.out.push_str("</");
            self.out.push_str(name.prefix);
            self.out.push_str(name.suffix);
            self.out.push('>');
        }
    }

    fn xml_start(&mut self, name: Name) {
        self.xml_close_start();
        self.xml_line();
        self.out.push('<');
        self.out.push_str(name.prefix);
        self.out.push_str(name.suffix);
        self.tag_open = true;
    }

    fn xml_element(&mut self, name: Name, value: &dyn Element) {
        self.xml_comments(value.comments(), CommentPlace::Before);
        self.xml_start(name);
        self.xml_body(value, name);
    }

    fn xml_wrapped_resource(&mut self, wrapper: &'static str, value: &dyn Element) {
        let comments = value.comments();
        self.xml_comments(comments, CommentPlace::BeforeWrapper);
        self.xml_start(Name::plain(wrapper));
        self.xml_close_start();
        self.indent += 1;
        self.xml_comments(comments, CommentPlace::Before);
        self.xml_start(Name::plain(value.type_name()));
        self.xml_body(value, Name::plain(value.type_name()));
        self.xml_comments(comments, CommentPlace::After);
        self.indent -= 1;
        self.xml_end(Name::plain(wrapper));
    }

    fn xml_primitive<T: PrimitiveValue, L: ExtensionList>(
        &mut self,
        name: Name,
        p: &Primitive<T, L>,
    ) {
        let comments = p.extras.as_ref().map(|e| &e.comments);
        self.xml_comments(comments, CommentPlace::Before);
        if T::TYPE == "xhtml" {
            // The narrative div is XHTML, written exactly as it was read.
            if let Some(v) = &p.value {
                self.xml_close_start();
                self.xml_line();
                self.out.push_str(&v.lexical());
            }
            return;
        }
        self.xml_start(name);
        if let Some(id) = p.id() {
            self.xml_attr("id", id);
        }
        if let Some(v) = &p.value {
            let text = v.lexical();
            self.xml_attr("value", &text);
        }
        self.indent += 1;
        self.list("extension", p.extension());
        self.xml_comments(comments, CommentPlace::End);
        self.indent -= 1;
        self.xml_end(name);
    }

    // ----- JSON mechanics -----------------------------------------------

    fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    fn key(&mut self, name: Name, companion: bool) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        if self.pretty {
            self.newline();
        }
        self.out.push('"');
        if companion {
            self.out.push('_');
        }
        self.out.push_str(name.prefix);
        self.out.push_str(name.suffix);
        self.out.push_str(if self.pretty { "\": " } else { "\":" });
    }

    fn item(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        if self.pretty {
            self.newline();
        }
    }

    fn begin(&mut self, open: u8) {
        self.out.push(open as char);
        self.indent += 1;
        self.first = true;
    }

    fn end(&mut self, close: u8) {
        self.indent -= 1;
        if self.pretty && !self.first {
            self.newline();
        }
        self.out.push(close as char);
        self.first = false;
    }

    fn object(&mut self, value: &dyn Element, is_resource: bool) {
        self.begin(b'{');
        if is_resource {
            self.key(Name::plain("resourceType"), false);
            self.string(value.type_name());
        }
        value.write_fields(self);
        self.end(b'}');
    }

    fn value<T: PrimitiveValue>(&mut self, v: &T) {
        let text = v.lexical();
        match T::JSON {
            JsonType::String => self.string(&text),
            JsonType::Bool => self.out.push_str(&text),
            // FHIR's decimal rule is JSON's number rule. Text kept by lenient
            // reading that breaks it is written as a string, so that the JSON
            // stays JSON (and reads back, leniently, to the same text).
            // Only a decimal holds text; integers are always numbers (and
            // `T::TYPE` is a constant, so they pay nothing for the check).
            JsonType::Number if T::TYPE != "decimal" || crate::value::is_decimal(&text) => {
                self.out.push_str(&text)
            }
            JsonType::Number => self.string(&text),
        }
    }

    fn string(&mut self, s: &str) {
        write_json_string(&mut self.out, s);
    }
}

/// `Debug` for generated types: the element's type and its compact FHIR JSON,
/// e.g. `HumanName {"family":"Chalmers","given":["Peter"]}`. One function for
/// every type keeps `Debug` out of the model's compile time.
pub fn debug_element(value: &dyn Element, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let json = write_json(value, false, &WriteOptions::compact());
    write!(f, "{} {json}", value.type_name())
}

/// Which bytes [`escape_xml`] replaces, in text (`[0]`) and in attribute values
/// (`[1]`). A table lookup per byte keeps the scan of a long value (a base64
/// attachment of several MB) cheap.
static XML_SPECIAL: [[bool; 256]; 2] = {
    let mut t = [[false; 256]; 2];
    let mut i = 0;
    while i < 2 {
        t[i][b'&' as usize] = true;
        t[i][b'<' as usize] = true;
        t[i][b'>' as usize] = true;
        t[i][b'\r' as usize] = true;
        i += 1;
    }
    t[1][b'"' as usize] = true;
    t[1][b'\n' as usize] = true;
    t[1][b'\t' as usize] = true;
    t
};

/// Appends `s` to `out` escaped for XML: `&`, `<`, `>` always; in attribute
/// values also `"` and the whitespace characters that attribute-value
/// normalisation would otherwise turn into spaces.
pub fn escape_xml(out: &mut String, s: &str, attribute: bool) {
    let bytes = s.as_bytes();
    // The common case, and the only one for base64: nothing to escape. memchr's
    // vector search settles it in a fraction of the per-byte scan below.
    let clean = memchr::memchr3(b'&', b'<', b'>', bytes).is_none()
        && memchr::memchr(b'\r', bytes).is_none()
        && (!attribute || memchr::memchr3(b'"', b'\n', b'\t', bytes).is_none());
    if clean {
        out.push_str(s);
        return;
    }
    let special = &XML_SPECIAL[usize::from(attribute)];
    out.reserve(s.len());
    let mut start = 0;
    while let Some(offset) = bytes[start..].iter().position(|&b| special[usize::from(b)]) {
        let i = start + offset;
        out.push_str(&s[start..i]);
        out.push_str(match bytes[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\n' => "&#10;",
            b'\r' => "&#13;",
            _ => "&#9;",
        });
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Appends `s` to `out` as a JSON string literal.
pub fn write_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    // Long strings (base64 above all) seldom need escaping: memchr finds quotes and
    // backslashes with vector instructions, and the branch-free fold over the
    // control characters vectorises too. Most FHIR strings are short, where one
    // pass with a table beats setting those up.
    let clean = if bytes.len() >= 128 {
        memchr::memchr2(b'"', b'\\', bytes).is_none()
            && !bytes.iter().fold(false, |any, &b| any | (b < 0x20))
    } else {
        !bytes.iter().any(|&b| NEEDS_ESCAPE[b as usize])
    };
    if clean {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    while let Some(offset) = bytes[start..]
        .iter()
        .position(|&b| NEEDS_ESCAPE[b as usize])
    {
        let i = start + offset;
        let b = bytes[i];
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            _ => "",
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            use std::fmt::Write;
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The bytes a JSON string must escape: control characters, `"` and `\`.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

#[cfg(test)]
mod tests {
    use super::{escape_xml, write_json_string};

    fn xml(s: &str, attribute: bool) -> String {
        let mut out = String::from(">");
        escape_xml(&mut out, s, attribute);
        out
    }

    #[test]
    fn xml_escaping_in_text_and_attributes() {
        assert_eq!(xml("QUJD+/==", true), ">QUJD+/==");
        assert_eq!(xml("a&b<c>d", false), ">a&amp;b&lt;c&gt;d");
        assert_eq!(xml("\"q\"\n\t\r", false), ">\"q\"\n\t&#13;");
        assert_eq!(xml("\"q\"\n\t\r", true), ">&quot;q&quot;&#10;&#9;&#13;");
        assert_eq!(xml("é &", true), ">é &amp;");
        // A special at the very start and end, and many in a row.
        assert_eq!(xml("<<x>>", true), ">&lt;&lt;x&gt;&gt;");
    }

    fn json(s: &str) -> String {
        let mut out = String::new();
        write_json_string(&mut out, s);
        out
    }

    #[test]
    fn json_escaping() {
        assert_eq!(json("QUJD+/=="), "\"QUJD+/==\"");
        assert_eq!(json("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(
            json("\n\r\t\u{8}\u{c}\u{1}é"),
            "\"\\n\\r\\t\\b\\f\\u0001é\""
        );
        assert_eq!(json("\u{1f}x"), "\"\\u001fx\"");
    }
}
