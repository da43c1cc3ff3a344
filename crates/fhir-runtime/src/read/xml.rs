//! FHIR XML input for the [`Reader`]: the same API generated code drives for
//! JSON, over a streaming quick-xml reader (no DOM of the document).
//!
//! The reader keeps the "current element" — the start tag generated code is
//! asked to read — and walks its children itself, asking the parent's
//! `read_field` for each child's name. Element order is checked against the
//! positions `read_field` returns. Comments are attached where they stood.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::xml_ns::NsScopes;
use super::{Parsed, ReadOptions, Reader};
use crate::comments::CommentPlace;
use crate::element::{AnyResource, Element};
use crate::error::{Error, ErrorKind, Result};
use crate::primitive::{decode_reference, ExtensionList, Primitive, PrimitiveValue};
use crate::value::StrKind;

/// The FHIR namespace.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The XHTML namespace of narrative `div`s.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// An attribute of the current element, borrowed from the input where it can be.
pub(crate) struct XmlAttr<'a> {
    /// The name as written (with any prefix), for the duplicate check.
    pub(crate) raw_name: Cow<'a, str>,
    pub(crate) name: Cow<'a, str>,
    pub(crate) value: Cow<'a, str>,
    /// In no namespace (FHIR attributes never are).
    pub(crate) unqualified: bool,
}

/// The start tag generated code is reading.
#[derive(Default)]
pub(crate) struct CurrentElement<'a> {
    /// Local name.
    pub(crate) name: Cow<'a, str>,
    /// Qualified name as written (for finding the matching end tag).
    pub(crate) qname: Cow<'a, str>,
    /// Byte offset of `<`.
    pub(crate) start: usize,
    /// Byte offset just after the start tag's `>`.
    pub(crate) after_start: usize,
    /// `<x/>`.
    pub(crate) empty: bool,
}

/// XML state of a [`Reader`].
pub(crate) struct XmlIn<'a> {
    pub(crate) reader: quick_xml::Reader<&'a [u8]>,
    /// The namespace bindings in scope (kept here rather than by quick-xml's
    /// `NsReader`, which walks every attribute of every start tag byte by byte).
    pub(crate) ns: NsScopes,
    pub(crate) cur: CurrentElement<'a>,
    /// The current element's attributes other than namespace declarations
    /// (one buffer, reused for every element).
    pub(crate) attrs: Vec<XmlAttr<'a>>,
    /// In attribute mode: the value of the attribute being read.
    pub(crate) attr_value: Option<Cow<'a, str>>,
    /// Comments read but not yet attached.
    pub(crate) pending: Vec<String>,
    /// The index a repeating element's reader gave the item it just read (for locations).
    pub(crate) last_index: Option<usize>,
}

impl XmlIn<'_> {
    /// Reads past the end tag named `qname` of the element just started,
    /// whatever it holds, and closes the element's namespace scope.
    fn read_to_end(&mut self, qname: &[u8]) -> quick_xml::Result<()> {
        self.reader.read_to_end(quick_xml::name::QName(qname))?;
        self.ns.pop();
        Ok(())
    }
}

/// What a start tag's namespace resolved to.
#[cfg_attr(test, derive(Debug, PartialEq))]
enum Ns {
    Fhir,
    Xhtml,
    Other(String),
}

fn resolve_ns(r: &ResolveResult<'_>) -> Ns {
    match r {
        ResolveResult::Bound(ns) if ns.as_ref() == FHIR_NS.as_bytes() => Ns::Fhir,
        ResolveResult::Bound(ns) if ns.as_ref() == XHTML_NS.as_bytes() => Ns::Xhtml,
        ResolveResult::Bound(ns) => Ns::Other(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        ResolveResult::Unbound => Ns::Other("no namespace".to_owned()),
        ResolveResult::Unknown(p) => {
            Ns::Other(format!("unknown prefix `{}`", String::from_utf8_lossy(p)))
        }
    }
}

/// Reads a resource of any type (the generated `Resource` enum) from FHIR XML.
pub fn read_xml_resource<R: AnyResource>(bytes: &[u8], opts: &ReadOptions) -> Result<Parsed<R>> {
    let mut r = Reader::xml(bytes, opts)?;
    let value = r.xml_root::<R>()?;
    Ok(Parsed {
        value,
        warnings: r.warnings,
    })
}

/// Reads FHIR XML into `target`, a resource of type `resource_type`.
pub fn read_xml(
    bytes: &[u8],
    target: &mut dyn Element,
    resource_type: &str,
    opts: &ReadOptions,
) -> Result<Vec<Error>> {
    struct One<'t>(&'t mut dyn Element, &'t str);
    let mut r = Reader::xml(bytes, opts)?;
    let one = One(target, resource_type);
    r.xml_document(&mut |r, name, at| {
        if name != one.1 {
            return Err(r.error_at(
                ErrorKind::UnknownResourceType,
                at,
                format!("expected a {} resource, found <{name}>", one.1),
            ));
        }
        r.path.push_str(one.1);
        r.xml_element_body(one.0, true)
    })?;
    Ok(r.warnings)
}

impl<'a> Reader<'a> {
    fn xml(bytes: &'a [u8], opts: &ReadOptions) -> Result<Self> {
        let text = super::decode_utf8(bytes)?;
        let mut reader = quick_xml::Reader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        let mut r = Reader::new(text, opts);
        r.xml = Some(Box::new(XmlIn {
            reader,
            ns: NsScopes::default(),
            cur: CurrentElement::default(),
            attrs: Vec::new(),
            attr_value: None,
            pending: Vec::new(),
            last_index: None,
        }));
        Ok(r)
    }

    fn x(&mut self) -> &mut XmlIn<'a> {
        // Only called on XML paths, where `xml` is always set.
        self.xml.as_mut().expect("XML reader state")
    }

    fn pos(&mut self) -> usize {
        self.x().reader.buffer_position() as usize
    }

    #[cold]
    fn xml_error(&self, e: quick_xml::Error, at: usize) -> Error {
        let pos = self
            .xml
            .as_ref()
            .map_or(at, |x| x.reader.error_position() as usize);
        let message = match &e {
            quick_xml::Error::Syntax(s) => format!("malformed XML: {s}"),
            quick_xml::Error::IllFormed(s) => format!("malformed XML: {s}"),
            quick_xml::Error::Escape(s) => format!("bad entity or character reference: {s}"),
            other => format!("malformed XML: {other}"),
        };
        self.error_at(ErrorKind::Syntax, pos.max(at), message)
    }

    /// Reads the next event, returning it with the offset where it starts and,
    /// for a start tag, the namespace of its element. A start tag opens a
    /// namespace scope (with the declarations it makes), closed at its end tag;
    /// the scope of an empty element or an end tag lasts until the next event.
    fn next_event(&mut self) -> Result<(Option<Ns>, Event<'a>, usize)> {
        let at = self.pos();
        let x = self.x();
        x.ns.pop_pending();
        let ev = match x.reader.read_event() {
            Ok(ev) => ev,
            Err(e) => return Err(self.xml_error(e, at)),
        };
        let x = self.x();
        let ns = match &ev {
            Event::Start(e) | Event::Empty(e) => {
                if let Err(e) = x.ns.push(e.attributes_raw()) {
                    return Err(self.xml_error(quick_xml::Error::Namespace(e), at));
                }
                if matches!(ev, Event::Empty(_)) {
                    x.ns.pop_later();
                }
                Some(resolve_ns(&x.ns.resolve_element(e.name().as_ref())))
            }
            Event::End(_) => {
                x.ns.pop_later();
                None
            }
            _ => None,
        };
        Ok((ns, ev, at))
    }

    /// `bytes` as a slice of the input, when it is one (names and attribute
    /// values of a document read from a `&str` always are).
    fn in_input(&self, bytes: &[u8]) -> Option<&'a str> {
        let text: &'a str = self.lex.text;
        let start = (bytes.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
        let slice = text.get(start..start + bytes.len())?;
        // Same address and length inside the input: the same bytes (no need to compare them).
        (slice.as_ptr() == bytes.as_ptr()).then_some(slice)
    }

    fn str_of(&self, bytes: &[u8]) -> Cow<'a, str> {
        match self.in_input(bytes) {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    /// Makes `e` (starting at `at`) the current element (its name; the
    /// attributes come from [`Self::read_attributes`]).
    fn set_current(&mut self, e: &BytesStart<'_>, at: usize, empty: bool) {
        let name = self.str_of(e.local_name().as_ref());
        let qname = self.str_of(e.name().as_ref());
        let after_start = self.pos();
        self.x().cur = CurrentElement {
            name,
            qname,
            start: at,
            after_start,
            empty,
        };
    }

    /// Collects the attributes of the current element `e` into the reusable buffer.
    fn read_attributes(&mut self, e: &BytesStart<'_>) -> Result<()> {
        let at = self.x().cur.start;
        let mut attrs = std::mem::take(&mut self.x().attrs);
        attrs.clear();
        let raw = e.attributes_raw();
        let result = match self.in_input(raw) {
            Some(raw) => self.parse_attributes(raw, at, &mut attrs),
            // Not a slice of the input (never for `&str` input): parse a copy.
            None => {
                let copy = String::from_utf8_lossy(raw).into_owned();
                let r = self.parse_attributes(&copy, at, &mut attrs);
                for a in attrs.iter_mut() {
                    a.name = Cow::Owned(a.name.to_string());
                    a.value = Cow::Owned(a.value.to_string());
                }
                r
            }
        };
        self.x().attrs = attrs;
        result
    }

    /// Parses the attributes of a start tag (the text after its name) into
    /// `attrs`, checking XML's rules for them: quoted values without `<`, no name
    /// twice, only XML's own entities and character references.
    fn parse_attributes(&self, raw: &str, at: usize, attrs: &mut Vec<XmlAttr<'a>>) -> Result<()> {
        let b = raw.as_bytes();
        let n = b.len();
        let mut i = 0;
        let bad = |why: String| {
            Err(self.error_at(ErrorKind::Syntax, at, format!("malformed attribute: {why}")))
        };
        loop {
            while i < n && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= n || b[i] == b'/' {
                return Ok(());
            }
            let name_start = i;
            while i < n && !b[i].is_ascii_whitespace() && b[i] != b'=' {
                i += 1;
            }
            let name = &raw[name_start..i];
            while i < n && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if b.get(i) != Some(&b'=') {
                return bad(format!("`{name}` has no value"));
            }
            i += 1;
            while i < n && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let quote = match b.get(i) {
                Some(&q @ (b'"' | b'\'')) => q,
                _ => return bad(format!("the value of `{name}` is not quoted")),
            };
            i += 1;
            let Some(len) = memchr::memchr(quote, &b[i..]) else {
                return bad(format!("the value of `{name}` is not closed"));
            };
            let value_raw = &raw[i..i + len];
            i += len + 1;
            if memchr::memchr(b'<', value_raw.as_bytes()).is_some() {
                return bad(format!("`<` in the value of `{name}`"));
            }
            if attrs.iter().any(|x| x.raw_name == name) {
                return bad(format!("`{name}` is given twice"));
            }
            if name == "xmlns" || name.starts_with("xmlns:") {
                continue;
            }
            let value = match normalize_attribute(value_raw) {
                Ok(None) => self.borrowed(value_raw),
                Ok(Some(v)) => Cow::Owned(v),
                Err(why) => {
                    return Err(self.error_at(
                        ErrorKind::Forbidden,
                        at,
                        format!("attribute `{name}`: {why} (only XML's own entities and character references are allowed)"),
                    ))
                }
            };
            // A prefixed name is in the namespace its prefix is bound to, or has
            // an unknown prefix: either way it is not in no namespace (only an
            // unprefixed attribute name is).
            let (unqualified, local) = match name.split_once(':') {
                None => (true, name),
                Some((_, local)) => (false, local),
            };
            attrs.push(XmlAttr {
                raw_name: self.borrowed(name),
                name: self.borrowed(local),
                value,
                unqualified,
            });
        }
    }

    /// A slice of a text that is itself a slice of the input, with the input's lifetime.
    fn borrowed(&self, s: &str) -> Cow<'a, str> {
        self.str_of(s.as_bytes())
    }

    /// The whole document: prolog, the root element (handed to `root`), epilog.
    fn xml_document(
        &mut self,
        root: &mut dyn FnMut(&mut Self, &str, usize) -> Result<()>,
    ) -> Result<()> {
        let mut seen_root = false;
        let mut first = true;
        loop {
            let (ns, ev, at) = self.next_event()?;
            match ev {
                Event::Decl(_) if first => {}
                Event::Start(e) | Event::Empty(e) if !seen_root => {
                    let empty = self.last_was_empty(at);
                    let found = match ns {
                        Some(Ns::Fhir) => None,
                        Some(Ns::Xhtml) => Some(XHTML_NS.to_owned()),
                        Some(Ns::Other(s)) => Some(s),
                        None => Some("no namespace".to_owned()),
                    };
                    if let Some(found) = found {
                        return Err(self.error_at(
                            ErrorKind::Namespace,
                            at,
                            format!("the root element must be in the FHIR namespace {FHIR_NS}, not {found}"),
                        ));
                    }
                    self.set_current(&e, at, empty);
                    self.read_attributes(&e)?;
                    let name = self.x().cur.name.clone();
                    root(self, &name, at)?;
                    seen_root = true;
                }
                Event::Start(_) | Event::Empty(_) => {
                    return Err(self.error_at(
                        ErrorKind::Syntax,
                        at,
                        "only one root element is allowed",
                    ))
                }
                Event::Comment(c) => {
                    let text = String::from_utf8_lossy(&c).into_owned();
                    self.x().pending.push(text);
                }
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Eof if seen_root => return Ok(()),
                Event::Eof => {
                    return Err(self.error_at(
                        ErrorKind::Syntax,
                        at,
                        "the document has no root element",
                    ))
                }
                ev @ (Event::Decl(_) | Event::DocType(_) | Event::PI(_)) => {
                    return Err(self.xml_refused(&ev, at))
                }
                _ => {
                    return Err(self.error_at(
                        ErrorKind::Syntax,
                        at,
                        "unexpected content outside the root element",
                    ))
                }
            }
            first = false;
        }
    }

    fn last_was_empty(&self, at: usize) -> bool {
        // An empty-element tag ends with `/>`.
        let end = self
            .xml
            .as_ref()
            .map_or(at, |x| x.reader.buffer_position() as usize);
        self.lex.text.as_bytes()[..end].ends_with(b"/>")
    }

    /// The error for an event no place inside FHIR XML allows: a DOCTYPE or a
    /// processing instruction (refused, never processed), an XML declaration
    /// after the start, or the end of the input inside an element.
    #[cold]
    fn xml_refused(&self, ev: &Event<'_>, at: usize) -> Error {
        match ev {
            Event::DocType(_) => self.error_at(
                ErrorKind::Forbidden,
                at,
                "a DOCTYPE is not allowed in FHIR XML (no DTDs, no entity declarations)",
            ),
            Event::PI(_) => self.error_at(
                ErrorKind::Forbidden,
                at,
                "processing instructions are not allowed in FHIR XML",
            ),
            Event::Decl(_) => self.error_at(
                ErrorKind::Syntax,
                at,
                "an XML declaration is only allowed at the start",
            ),
            _ => self.error_at(
                ErrorKind::Syntax,
                at,
                "unexpected end of the document: an element is not closed",
            ),
        }
    }

    pub(crate) fn xml_root<R: AnyResource>(&mut self) -> Result<R> {
        let mut out: Option<R> = None;
        self.xml_document(&mut |r, name, at| {
            let Some(mut res) = R::new_of_type(name) else {
                return Err(r.error_at(
                    ErrorKind::UnknownResourceType,
                    at,
                    format!("<{name}> is not an STU3 resource type"),
                ));
            };
            r.path.push_str(res.resource_type());
            r.xml_element_body(res.as_element_mut(), true)?;
            out = Some(res);
            Ok(())
        })?;
        // Comments after the root element.
        let after = std::mem::take(&mut self.x().pending);
        let mut res = out.ok_or_else(|| self.error_at(ErrorKind::Syntax, 0, "no root element"))?;
        if let Some(c) = res.as_element_mut().comments_mut() {
            for t in after {
                c.push(CommentPlace::After, t);
            }
        }
        Ok(res)
    }

    fn attach_pending(&mut self, target: &mut dyn Element, place: CommentPlace) {
        let pending = std::mem::take(&mut self.x().pending);
        if pending.is_empty() {
            return;
        }
        if let Some(c) = target.comments_mut() {
            for t in pending {
                c.push(place, t);
            }
        }
    }

    /// Reads the current element's attributes and children into `target`.
    pub(crate) fn xml_element_body(
        &mut self,
        target: &mut dyn Element,
        is_resource: bool,
    ) -> Result<()> {
        self.enter()?;
        self.attach_pending(target, CommentPlace::Before);
        let mut attrs = std::mem::take(&mut self.x().attrs);
        let start = self.x().cur.start;
        let empty = self.x().cur.empty;
        let mut content = !attrs.is_empty();
        let warnings_before = self.warnings.len();
        let mut result = Ok(());
        for a in attrs.drain(..) {
            result =
                self.xml_attribute(target, &a.name, a.value, a.unqualified, start, is_resource);
            if result.is_err() {
                break;
            }
        }
        attrs.clear();
        self.x().attrs = attrs;
        result?;
        if !empty {
            content |= self.xml_children(target)?;
        }
        self.leave();
        if !content && !is_resource {
            self.dropped = true;
            return self.fault(
                ErrorKind::Empty,
                start,
                "the element has neither attributes nor children".to_owned(),
                "ignored",
            );
        }
        self.drop_if_emptied(target, is_resource, warnings_before, start)
    }

    fn xml_attribute(
        &mut self,
        target: &mut dyn Element,
        name: &str,
        value: Cow<'a, str>,
        unqualified: bool,
        at: usize,
        is_resource: bool,
    ) -> Result<()> {
        let mark = self.path.len();
        self.path.push('.');
        self.path.push_str(name);
        let r = (|| {
            if !unqualified {
                return self.fault(
                    ErrorKind::Namespace,
                    at,
                    format!("attribute `{name}` must not be in a namespace"),
                    "ignored",
                );
            }
            if is_resource {
                return self.fault(
                    ErrorKind::UnknownElement,
                    at,
                    format!("a resource element has no attribute `{name}`"),
                    "ignored",
                );
            }
            self.x().attr_value = Some(value);
            let found = target.read_field(name, self)?;
            let leftover = self.x().attr_value.take();
            if found.is_none() || leftover.is_some() {
                let tn = target.type_name();
                return self.fault(
                    ErrorKind::UnknownElement,
                    at,
                    format!("`{name}` is not an attribute of {tn}"),
                    "ignored",
                );
            }
            Ok(())
        })();
        self.path.truncate(mark);
        r
    }

    /// Reads child elements into `target` until the current element's end tag.
    /// Returns whether there was any child element.
    pub(crate) fn xml_children(&mut self, target: &mut dyn Element) -> Result<bool> {
        let mut last_order: Option<u16> = None;
        let mut any = false;
        loop {
            let (ns, ev, at) = self.next_event()?;
            match ev {
                Event::End(_) => {
                    self.attach_pending(target, CommentPlace::End);
                    return Ok(any);
                }
                Event::Start(e) | Event::Empty(e) => {
                    any = true;
                    let empty = self.last_was_empty(at);
                    self.set_current(&e, at, empty);
                    let name = self.x().cur.name.clone();
                    let mark = self.path.len();
                    self.path.push('.');
                    self.path.push_str(&name);
                    self.read_attributes(&e)?;
                    self.x().last_index = None;
                    let mut is_div = matches!(ns, Some(Ns::Xhtml)) && name == "div";
                    if !is_div
                        && name == "div"
                        && target.type_name() == "Narrative"
                        && !matches!(ns, Some(Ns::Fhir))
                    {
                        // A narrative div in another namespace (or none) is still
                        // the narrative: reported, and kept as written when lenient.
                        let found = match &ns {
                            Some(Ns::Other(s)) => s.clone(),
                            _ => "no namespace".to_owned(),
                        };
                        self.fault(
                            ErrorKind::Namespace,
                            at,
                            format!("the narrative <div> must be in the XHTML namespace {XHTML_NS}, not {found}"),
                            "kept as written",
                        )?;
                        is_div = true;
                    }
                    let ns_ok = matches!(ns, Some(Ns::Fhir)) || is_div;
                    if !ns_ok {
                        let found = match ns {
                            Some(Ns::Other(s)) => s,
                            _ => XHTML_NS.to_owned(),
                        };
                        self.fault(
                            ErrorKind::Namespace,
                            at,
                            format!(
                                "<{name}> must be in the FHIR namespace {FHIR_NS}, not {found}"
                            ),
                            "skipped",
                        )?;
                        self.xml_skip_current()?;
                    } else {
                        match target.read_field(&name, self)? {
                            Some(order) => {
                                if last_order.is_some_and(|l| order < l) {
                                    let tn = target.type_name();
                                    if let Some(i) = self.x().last_index {
                                        use std::fmt::Write;
                                        let _ = write!(self.path, "[{i}]");
                                    }
                                    self.fault(
                                        ErrorKind::Order,
                                        at,
                                        format!("<{name}> is out of order in {tn} (FHIR XML element order is fixed)"),
                                        "accepted; written back in canonical order",
                                    )?;
                                } else {
                                    last_order = Some(order);
                                }
                            }
                            None => {
                                let tn = target.type_name();
                                self.fault(
                                    ErrorKind::UnknownElement,
                                    at,
                                    format!("<{name}> is not an element of {tn}"),
                                    "dropped",
                                )?;
                                self.xml_skip_current()?;
                            }
                        }
                    }
                    self.path.truncate(mark);
                }
                Event::Comment(c) => {
                    let text = String::from_utf8_lossy(&c).into_owned();
                    self.x().pending.push(text);
                }
                Event::Text(t) => {
                    if !t.iter().all(u8::is_ascii_whitespace) {
                        any = true;
                        let tn = target.type_name();
                        self.fault(
                            ErrorKind::UnknownElement,
                            at,
                            format!("text content is not allowed in {tn} (FHIR XML puts values in `value` attributes)"),
                            "dropped",
                        )?;
                    }
                }
                Event::GeneralRef(_) | Event::CData(_) => {
                    any = true;
                    let tn = target.type_name();
                    self.fault(
                        ErrorKind::UnknownElement,
                        at,
                        format!("text content is not allowed in {tn}"),
                        "dropped",
                    )?;
                }
                ev @ (Event::DocType(_) | Event::PI(_) | Event::Decl(_) | Event::Eof) => {
                    return Err(self.xml_refused(&ev, at))
                }
            }
        }
    }

    /// Skips the current element (already started) and everything inside it.
    pub(crate) fn xml_skip_current(&mut self) -> Result<()> {
        if self.x().cur.empty {
            return Ok(());
        }
        if self.depth + 1 > self.opts.max_depth {
            return Err(self.error(
                ErrorKind::TooDeep,
                format!("nesting deeper than {} levels", self.opts.max_depth),
            ));
        }
        let mut depth = 0usize;
        loop {
            let (_, ev, at) = self.next_event()?;
            match ev {
                Event::Start(_) => {
                    depth += 1;
                    // The skipped element is one level below the reader's; its children deeper.
                    if self.depth + 1 + depth > self.opts.max_depth {
                        return Err(self.error_at(
                            ErrorKind::TooDeep,
                            at,
                            format!("nesting deeper than {} levels", self.opts.max_depth),
                        ));
                    }
                }
                Event::End(_) if depth == 0 => return Ok(()),
                Event::End(_) => depth -= 1,
                ev @ (Event::Eof | Event::DocType(_) | Event::PI(_)) => {
                    return Err(self.xml_refused(&ev, at))
                }
                _ => {}
            }
        }
    }

    // ----- the XML halves of the generated-code API ----------------------

    /// In attribute mode, anything but `attr` is a misplaced element.
    pub(crate) fn xml_in_attr_mode(&self) -> bool {
        self.xml.as_ref().is_some_and(|x| x.attr_value.is_some())
    }

    pub(crate) fn xml_attr(&mut self, slot: &mut Option<String>) -> Result<()> {
        let at = self.x().cur.start;
        match self.x().attr_value.take() {
            Some(v) => {
                if v.is_empty() {
                    return self.fault(
                        ErrorKind::Empty,
                        at,
                        "empty attribute value".to_owned(),
                        "ignored",
                    );
                }
                *slot = Some(v.into_owned());
                Ok(())
            }
            None => {
                self.fault(
                    ErrorKind::UnknownElement,
                    at,
                    "this element is written as an XML attribute, not as a child element"
                        .to_owned(),
                    "dropped",
                )?;
                self.xml_skip_current()
            }
        }
    }

    pub(crate) fn xml_primitive<T: PrimitiveValue, L: ExtensionList>(
        &mut self,
        p: &mut Primitive<T, L>,
    ) -> Result<()> {
        if T::TYPE == "xhtml" {
            return self.xml_xhtml(p);
        }
        self.enter()?;
        let start = self.x().cur.start;
        if p.value.is_some() || p.has_extras() {
            self.fault(
                ErrorKind::Duplicate,
                start,
                "the element is given twice (at most one is allowed)".to_owned(),
                "the later value was kept",
            )?;
            *p = Primitive::default();
        }
        let pending = std::mem::take(&mut self.x().pending);
        let mut attrs = std::mem::take(&mut self.x().attrs);
        let empty = self.x().cur.empty;
        // The value attribute is of the primitive's kind; the extensions inside are not.
        let kind = std::mem::replace(&mut self.kind, StrKind::String);
        let mut id = None;
        let mut had_value = false;
        let mut result = Ok(());
        for a in attrs.drain(..) {
            let r = match (a.name.as_ref(), a.unqualified) {
                (_, false) => {
                    let mark = self.path.len();
                    self.path.push('.');
                    self.path.push_str(&a.name);
                    let r = self.fault(
                        ErrorKind::Namespace,
                        start,
                        format!("attribute `{}` must not be in a namespace", a.name),
                        "ignored",
                    );
                    self.path.truncate(mark);
                    r
                }
                ("value", true) => {
                    had_value = true;
                    if a.value.is_empty() {
                        self.fault(
                            ErrorKind::Empty,
                            start,
                            "empty `value` attribute".to_owned(),
                            "ignored",
                        )
                    } else {
                        let parsed = match a.value {
                            Cow::Owned(text) => T::parse_owned(text, kind),
                            Cow::Borrowed(text) => {
                                T::parse(text, kind).map_err(|m| (m, text.to_owned()))
                            }
                        };
                        match parsed {
                            Ok(v) => {
                                p.value = Some(v);
                                Ok(())
                            }
                            Err((msg, text)) => {
                                let kept = T::parse_lenient(&text, kind);
                                let consequence = if kept.is_some() {
                                    "kept as written"
                                } else {
                                    "dropped: the model cannot hold it"
                                };
                                let r =
                                    self.fault(ErrorKind::InvalidValue, start, msg, consequence);
                                p.value = kept;
                                r
                            }
                        }
                    }
                }
                ("id", true) => {
                    id = Some(a.value);
                    Ok(())
                }
                (other, true) => {
                    let mark = self.path.len();
                    self.path.push('.');
                    self.path.push_str(other);
                    let r = self.fault(
                        ErrorKind::UnknownElement,
                        start,
                        format!("`{other}` is not an attribute of a {}", T::TYPE),
                        "ignored",
                    );
                    self.path.truncate(mark);
                    r
                }
            };
            if r.is_err() {
                result = r;
                break;
            }
        }
        attrs.clear();
        self.x().attrs = attrs;
        result?;
        let had_id = id.is_some();
        let mut had_children = false;
        let r = p.read_extras(|t| {
            if !pending.is_empty() {
                if let Some(c) = t.comments_mut() {
                    for text in pending {
                        c.push(CommentPlace::Before, text);
                    }
                }
            }
            if let Some(id) = id {
                self.x().attr_value = Some(id);
                let mark = self.path.len();
                self.path.push_str(".id");
                let r = t.read_field("id", self);
                self.path.truncate(mark);
                self.x().attr_value = None;
                r?;
            }
            if !empty {
                had_children = self.xml_children(t)?;
            }
            Ok(())
        });
        r?;
        self.leave();
        if !had_value && !had_id && !had_children {
            self.fault(
                ErrorKind::Empty,
                start,
                "the element has neither a value nor children".to_owned(),
                "ignored",
            )?;
        }
        if p.is_empty() {
            self.dropped = true;
        }
        Ok(())
    }

    /// The narrative `div`: kept exactly as written, from `<div` to `</div>`.
    fn xml_xhtml<T: PrimitiveValue, L: ExtensionList>(
        &mut self,
        p: &mut Primitive<T, L>,
    ) -> Result<()> {
        let start = self.x().cur.start;
        let after_start = self.x().cur.after_start;
        let pending = std::mem::take(&mut self.x().pending);
        let end = if self.x().cur.empty {
            after_start
        } else {
            let qname = self.x().cur.qname.clone();
            if let Err(e) = self.x().read_to_end(qname.as_bytes()) {
                return Err(self.xml_error(e, start));
            }
            self.pos()
        };
        let raw = &self.lex.text[start..end];
        if p.value.is_some() {
            self.fault(
                ErrorKind::Duplicate,
                start,
                "the narrative has two <div>s".to_owned(),
                "the later one was kept",
            )?;
        }
        match T::parse(raw, StrKind::String) {
            Ok(v) => p.value = Some(v),
            Err(msg) => {
                self.fault(ErrorKind::InvalidValue, start, msg, "kept as written")?;
                p.value = T::parse_lenient(raw, StrKind::String);
            }
        }
        if !pending.is_empty() {
            p.read_extras(|t| {
                if let Some(c) = t.comments_mut() {
                    for text in pending {
                        c.push(CommentPlace::Before, text);
                    }
                }
                Ok(())
            })?;
        }
        // A div lenient reading could not keep leaves nothing (comments before it
        // go with it).
        self.dropped = p.is_empty();
        Ok(())
    }

    /// A resource in its wrapper element (`<resource>`, `<contained>`).
    pub(crate) fn xml_wrapped_resource<R: AnyResource>(&mut self) -> Result<Option<R>> {
        let start = self.x().cur.start;
        let mut before_wrapper = std::mem::take(&mut self.x().pending);
        if let Some(name) = self.x().attrs.first().map(|a| a.name.to_string()) {
            self.fault(
                ErrorKind::UnknownElement,
                start,
                format!("a resource wrapper element has no attribute `{name}`"),
                "ignored",
            )?;
        }
        if self.x().cur.empty {
            self.fault(
                ErrorKind::Empty,
                start,
                "the element should contain a resource".to_owned(),
                "ignored",
            )?;
            self.dropped = true;
            return Ok(None);
        }
        self.enter()?;
        let mut out: Option<R> = None;
        let mut saw_element = false;
        loop {
            let (ns, ev, at) = self.next_event()?;
            match ev {
                Event::End(_) => break,
                Event::Start(e) | Event::Empty(e) => {
                    saw_element = true;
                    let empty = self.last_was_empty(at);
                    self.set_current(&e, at, empty);
                    self.read_attributes(&e)?;
                    let name = self.x().cur.name.clone();
                    if !matches!(ns, Some(Ns::Fhir)) {
                        self.fault(
                            ErrorKind::Namespace,
                            at,
                            format!("<{name}> must be in the FHIR namespace {FHIR_NS}"),
                            "skipped",
                        )?;
                        self.xml_skip_current()?;
                        continue;
                    }
                    if out.is_some() {
                        self.fault(
                            ErrorKind::Duplicate,
                            at,
                            "a resource wrapper holds exactly one resource".to_owned(),
                            "the extra one was dropped",
                        )?;
                        self.xml_skip_current()?;
                        continue;
                    }
                    let Some(mut res) = R::new_of_type(&name) else {
                        self.fault(
                            ErrorKind::UnknownResourceType,
                            at,
                            format!("<{name}> is not an STU3 resource type"),
                            "dropped",
                        )?;
                        self.xml_skip_current()?;
                        continue;
                    };
                    let mark = self.path.len();
                    self.path.push_str(".ofType(");
                    self.path.push_str(res.resource_type());
                    self.path.push(')');
                    let r = self.xml_element_body(res.as_element_mut(), true);
                    self.path.truncate(mark);
                    r?;
                    if let Some(c) = res.as_element_mut().comments_mut() {
                        for t in before_wrapper.drain(..) {
                            c.push(CommentPlace::BeforeWrapper, t);
                        }
                    }
                    out = Some(res);
                }
                Event::Comment(c) => {
                    let text = String::from_utf8_lossy(&c).into_owned();
                    self.x().pending.push(text);
                }
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                ev @ (Event::Eof | Event::DocType(_) | Event::PI(_)) => {
                    return Err(self.xml_refused(&ev, at))
                }
                _ => {
                    self.fault(
                        ErrorKind::UnknownElement,
                        at,
                        "text content is not allowed around a resource".to_owned(),
                        "dropped",
                    )?;
                }
            }
        }
        // Comments after the resource, inside the wrapper.
        let trailing = std::mem::take(&mut self.x().pending);
        if let Some(res) = out.as_mut() {
            if let Some(c) = res.as_element_mut().comments_mut() {
                for t in trailing {
                    c.push(CommentPlace::After, t);
                }
            }
        }
        self.leave();
        if out.is_none() {
            if !saw_element {
                self.fault(
                    ErrorKind::Empty,
                    start,
                    "the element should contain a resource".to_owned(),
                    "ignored",
                )?;
            }
            self.dropped = true;
        }
        Ok(out)
    }
}

/// Decodes an attribute value as XML requires: references replaced (without a
/// DTD only XML's five entities and character references exist), and literal
/// line ends (`\r\n`, `\r`, `\n`) and tabs turned into single spaces.
/// `Ok(None)` when there is neither (the common case: the value is borrowed).
fn normalize_attribute(v: &str) -> std::result::Result<Option<String>, String> {
    let b = v.as_bytes();
    if memchr::memchr(b'&', b).is_none() {
        if memchr::memchr3(b'\t', b'\n', b'\r', b).is_none() {
            return Ok(None);
        }
        return Ok(Some(normalize_attribute_whitespace(v)));
    }
    let mut out = String::with_capacity(v.len());
    let mut start = 0;
    let mut i = 0;
    let tabs = memchr::memchr(b'\t', b).is_some();
    loop {
        // Next reference or literal whitespace; tabs are rare, so they are looked
        // for separately only when the value has any.
        let next = memchr::memchr3(b'&', b'\n', b'\r', &b[i..]).map(|p| i + p);
        let next_tab = if tabs {
            memchr::memchr(b'\t', &b[i..]).map(|p| i + p)
        } else {
            None
        };
        let p = match (next, next_tab) {
            (Some(a), Some(t)) => a.min(t),
            (Some(a), None) => a,
            (None, Some(t)) => t,
            (None, None) => break,
        };
        out.push_str(&v[start..p]);
        if b[p] == b'&' {
            let (c, len) = decode_reference(&v[p..])?;
            out.push(c);
            i = p + len;
        } else {
            out.push(' ');
            i = p + 1;
            if b[p] == b'\r' && b.get(i) == Some(&b'\n') {
                i += 1;
            }
        }
        start = i;
    }
    out.push_str(&v[start..]);
    Ok(Some(out))
}

/// XML attribute-value normalisation for a value without references: line
/// ends (`\r\n`, `\r`, `\n`) and tabs become single spaces.
fn normalize_attribute_whitespace(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = String::with_capacity(v.len());
    let mut start = 0;
    // Copy the runs between line ends and tabs whole (they are most of a base64 value).
    for i in memchr::memchr3_iter(b'\t', b'\n', b'\r', b) {
        if i < start {
            continue; // the LF of a CR LF, already written as one space
        }
        out.push_str(&v[start..i]);
        out.push(' ');
        start = i + 1;
        if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            start += 1;
        }
    }
    out.push_str(&v[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::normalize_attribute;
    use super::{read_xml, resolve_ns, FHIR_NS};
    use crate::element::Element;
    use crate::error::Result;
    use crate::primitive::{ExtensionList, Primitive};
    use crate::read::{ReadOptions, Reader};
    use crate::value::XhtmlValue;
    use crate::write::Writer;
    use quick_xml::events::Event;
    use quick_xml::name::QName;
    use quick_xml::NsReader;

    /// Reads `doc` with the reader's own namespace scopes and with quick-xml's
    /// `NsReader` side by side: the same events, the same namespace for every
    /// element and every prefixed attribute, the same error. A `div` start tag
    /// is read to its end, as the narrative is.
    fn same_as_ns_reader(doc: &str) {
        let mut ours = Reader::xml(doc.as_bytes(), &ReadOptions::strict()).unwrap();
        let mut theirs = NsReader::from_str(doc);
        let config = theirs.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        loop {
            let at = theirs.buffer_position() as usize;
            let expected = theirs.read_resolved_event();
            let found = ours.next_event();
            let (ns, ev, expected_ns, expected_ev) = match (found, expected) {
                (Ok((ns, ev, _)), Ok((rns, rev))) => {
                    let rns = match &rev {
                        Event::Start(_) | Event::Empty(_) => Some(resolve_ns(&rns)),
                        _ => None,
                    };
                    (ns, ev, rns, rev)
                }
                (Err(e), Err(re)) => {
                    let re = ours.xml_error(re, at);
                    assert_eq!(e.message(), re.message(), "{doc}");
                    assert_eq!(e.location(), re.location(), "{doc}");
                    assert!(e.message().contains("namespace"), "{doc}: {e}");
                    return;
                }
                (found, expected) => panic!(
                    "{doc}: found {:?}, expected {:?}",
                    found.map(|(ns, ev, _)| (ns, ev)),
                    expected.map(|(ns, ev)| (format!("{ns:?}"), ev))
                ),
            };
            assert_eq!(ev, expected_ev, "{doc}");
            assert_eq!(ns, expected_ns, "{doc}: {ev:?}");
            match &ev {
                Event::Start(e) | Event::Empty(e) => {
                    for a in e.attributes().with_checks(false) {
                        let Ok(a) = a else { break };
                        let key = a.key.as_ref();
                        assert_eq!(
                            ours.x().ns.resolve_attribute(key),
                            theirs.resolver().resolve_attribute(QName(key)).0,
                            "{doc}: attribute {}",
                            String::from_utf8_lossy(key)
                        );
                    }
                    if matches!(ev, Event::Start(_)) && e.local_name().as_ref() == b"div" {
                        let r = ours.x().read_to_end(e.name().as_ref());
                        let rr = theirs.read_to_end(e.name());
                        assert_eq!(r.is_ok(), rr.is_ok(), "{doc}");
                    }
                }
                Event::Eof => return,
                _ => {}
            }
        }
    }

    #[test]
    fn namespaces_resolve_as_quick_xml_resolves_them() {
        let many = |n: usize| {
            let decls: String = (0..n).map(|i| format!(" xmlns:p{i}='urn:{i}'")).collect();
            format!("<Patient xmlns='{FHIR_NS}'{decls}><p1:a/></Patient>")
        };
        let docs = [
            // Prefixed FHIR elements, the prefix declared on the root.
            r#"<f:Patient xmlns:f="http://hl7.org/fhir"><f:id value="1"/><id/></f:Patient>"#.to_owned(),
            // The default namespace redeclared, undeclared, and back in scope
            // after an empty element and after an end tag.
            r#"<Patient xmlns="http://hl7.org/fhir"><name xmlns="urn:other"><given/></name>
               <name xmlns=""><family/></name><a xmlns="urn:e"/><active/></Patient>"#.to_owned(),
            // The narrative: xhtml inside, FHIR again after it.
            r#"<Patient xmlns="http://hl7.org/fhir"><text><status value="x"/><div xmlns="http://www.w3.org/1999/xhtml"><p xmlns="urn:z"><b/></p></div></text><active/></Patient>"#.to_owned(),
            r#"<Patient xmlns="http://hl7.org/fhir"><text><div xmlns="http://www.w3.org/1999/xhtml"/><x/></text></Patient>"#.to_owned(),
            r#"<Patient xmlns="http://hl7.org/fhir"><text><h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:p/></h:div></text></Patient>"#.to_owned(),
            // Unknown prefixes, on the root, inside, and a prefix undeclared.
            r#"<f:Patient><id/></f:Patient>"#.to_owned(),
            r#"<Patient xmlns="http://hl7.org/fhir"><x:foo/><y:bar></y:bar></Patient>"#.to_owned(),
            r#"<f:Patient xmlns:f="http://hl7.org/fhir"><f:a xmlns:f=""><f:b/></f:a><f:c/></f:Patient>"#.to_owned(),
            // `xmlns` text inside another attribute's value declares nothing.
            r#"<Patient xmlns="http://hl7.org/fhir"><id value=' xmlns="urn:evil" xmlns:f="urn:x"'/><f:x/><y a="xmlns:f='urn:q'" /></Patient>"#.to_owned(),
            r#"<Patient xmlns="http://hl7.org/fhir"><id value="xmlns" xmlns:f='urn:"q"'><f:x/></id></Patient>"#.to_owned(),
            // Attributes with bound, unknown and reserved prefixes.
            r#"<Patient xmlns="http://hl7.org/fhir" xmlns:p="urn:p"><id p:value="1" q:x="2" xml:lang="en" value="3"/></Patient>"#.to_owned(),
            // Names that only look like declarations, odd spacing, the empty prefix.
            "<Patient xmlnsx=\"urn:a\" xmlns\t=\r\n'http://hl7.org/fhir'  xmlns:a = \"urn:a\"><a:b xmlns:=\"urn:e\"><c/></a:b><d/></Patient>".to_owned(),
            r#"<Patient xmlns="http://hl7.org/fhir&amp;"/>"#.to_owned(),
            r#"<xml:Patient/>"#.to_owned(),
            r#"<xmlns:Patient/>"#.to_owned(),
            r#"<Patient xmlns="http://www.w3.org/XML/1998/namespace"/>"#.to_owned(),
            r#"<Patient xmlns:xml="http://www.w3.org/XML/1998/namespace" xmlns="http://hl7.org/fhir"><xml:a/></Patient>"#.to_owned(),
            // A malformed attribute ends the search for declarations (the
            // attribute itself is reported later, by the attribute parser).
            r#"<Patient xmlns="http://hl7.org/fhir" a xmlns:xml="urn:bad"/>"#.to_owned(),
            r#"<Patient xmlns="http://hl7.org/fhir" a=b xmlns:f="urn:f"><f:x/></Patient>"#.to_owned(),
            r#"<Patient a="1"xmlns="http://hl7.org/fhir"><x/></Patient>"#.to_owned(),
            // Reserved prefixes and namespaces: errors.
            r#"<Patient xmlns:xml="urn:bad"/>"#.to_owned(),
            r#"<Patient xmlns="http://hl7.org/fhir"><a><b xmlns:xmlns="urn:bad"/></a></Patient>"#.to_owned(),
            r#"<Patient xmlns:p="http://www.w3.org/XML/1998/namespace"/>"#.to_owned(),
            r#"<Patient xmlns:p="http://www.w3.org/2000/xmlns/"/>"#.to_owned(),
            r#"<Patient xmlns:="http://www.w3.org/2000/xmlns/"/>"#.to_owned(),
            // The limit on declarations in one start tag.
            many(256),
            many(257),
        ];
        for doc in &docs {
            same_as_ns_reader(doc);
        }
    }

    // ----- a small model, to read whole documents --------------------------

    // `Box` is what makes an element a `FieldValue` (an extension type) here.
    #[allow(clippy::vec_box)]
    #[derive(Default)]
    struct NoExtensions(Vec<Box<Res>>);

    impl ExtensionList for NoExtensions {
        type Item = Box<Res>;
        fn as_vec(&self) -> &Vec<Box<Res>> {
            &self.0
        }
        fn as_vec_mut(&mut self) -> &mut Vec<Box<Res>> {
            &mut self.0
        }
    }

    #[derive(Default)]
    struct Res {
        name: Option<Primitive<String, NoExtensions>>,
        text: Option<Box<Narrative>>,
        child: Option<Box<Res>>,
    }

    impl Element for Res {
        fn type_name(&self) -> &'static str {
            "Res"
        }
        fn read_field(&mut self, name: &str, r: &mut Reader<'_>) -> Result<Option<u16>> {
            let (order, result) = match name {
                "name" => (1, r.field(&mut self.name)),
                "text" => (2, r.field(&mut self.text)),
                "child" => (3, r.field(&mut self.child)),
                _ => return Ok(None),
            };
            result.map(|()| Some(order))
        }
        fn write_fields(&self, w: &mut Writer) {
            w.field("name", &self.name);
            w.field("text", &self.text);
            w.field("child", &self.child);
        }
    }

    #[derive(Default)]
    struct Narrative {
        div: Option<Primitive<XhtmlValue, NoExtensions>>,
    }

    impl Element for Narrative {
        fn type_name(&self) -> &'static str {
            "Narrative"
        }
        fn read_field(&mut self, name: &str, r: &mut Reader<'_>) -> Result<Option<u16>> {
            match name {
                "div" => r.field(&mut self.div).map(|()| Some(1)),
                _ => Ok(None),
            }
        }
        fn write_fields(&self, w: &mut Writer) {
            w.field("div", &self.div);
        }
    }

    fn read(doc: &str, opts: &ReadOptions) -> Result<(Res, Vec<String>)> {
        let mut res = Res::default();
        let warnings = read_xml(doc.as_bytes(), &mut res, "Res", opts)?;
        let warnings = warnings
            .iter()
            .map(|w| format!("{}:{} {}: {}", w.line(), w.column(), w.path(), w.message()))
            .collect();
        Ok((res, warnings))
    }

    fn read_error(doc: &str) -> String {
        let e = read(doc, &ReadOptions::strict()).err().expect(doc);
        format!("{}:{} {}: {}", e.line(), e.column(), e.path(), e.message())
    }

    fn name(res: &Res) -> Option<&str> {
        res.name.as_ref()?.value.as_deref()
    }

    #[test]
    fn fhir_elements_may_be_prefixed() {
        let doc = "<f:Res xmlns:f=\"http://hl7.org/fhir\">\n  <f:child><f:name value=\"a\"/></f:child>\n</f:Res>";
        let (res, warnings) = read(doc, &ReadOptions::strict()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(name(res.child.as_deref().unwrap()), Some("a"));
        // Declared on the element itself.
        let doc = "<Res xmlns=\"http://hl7.org/fhir\"><g:name xmlns:g=\"http://hl7.org/fhir\" value=\"b\"/></Res>";
        assert_eq!(
            name(&read(doc, &ReadOptions::strict()).unwrap().0),
            Some("b")
        );
    }

    #[test]
    fn a_default_namespace_redeclared_inside_applies_to_its_element_only() {
        let doc = "<Res xmlns=\"http://hl7.org/fhir\">\n  <child xmlns=\"urn:other\"><name value=\"a\"/></child>\n  <child><name value=\"b\"/></child>\n</Res>";
        assert_eq!(
            read_error(doc),
            "2:3 Res.child: <child> must be in the FHIR namespace http://hl7.org/fhir, not urn:other"
        );
        let (res, warnings) = read(doc, &ReadOptions::lenient()).unwrap();
        assert_eq!(
            warnings,
            ["2:3 Res.child: <child> must be in the FHIR namespace http://hl7.org/fhir, not urn:other (skipped)"]
        );
        assert_eq!(name(res.child.as_deref().unwrap()), Some("b"));
        // Undeclared: in no namespace.
        let doc = "<Res xmlns=\"http://hl7.org/fhir\">\n  <child xmlns=\"\"/>\n</Res>";
        assert_eq!(
            read_error(doc),
            "2:3 Res.child: <child> must be in the FHIR namespace http://hl7.org/fhir, not no namespace"
        );
        // Back in scope after an empty element that redeclared it.
        let doc = "<Res xmlns=\"http://hl7.org/fhir\"><name xmlns=\"urn:x\"/><child><name value=\"c\"/></child></Res>";
        let (res, warnings) = read(doc, &ReadOptions::lenient()).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(name(res.child.as_deref().unwrap()), Some("c"));
    }

    #[test]
    fn the_narrative_div_is_xhtml_and_fhir_resumes_after_it() {
        let div =
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p xmlns="urn:z">x <b>y</b></p></div>"#;
        let doc = format!(
            "<Res xmlns=\"http://hl7.org/fhir\"><text>{div}</text><child><name value=\"a\"/></child></Res>"
        );
        let (res, warnings) = read(&doc, &ReadOptions::strict()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let text = res.text.as_deref().unwrap();
        assert_eq!(
            text.div.as_ref().unwrap().value.as_ref().unwrap().as_ref(),
            div
        );
        assert_eq!(name(res.child.as_deref().unwrap()), Some("a"));
        // A `div` in the FHIR namespace is not the narrative.
        let doc = "<Res xmlns=\"http://hl7.org/fhir\"><text><p xmlns=\"http://www.w3.org/1999/xhtml\"/></text></Res>";
        assert_eq!(
            read_error(doc),
            "1:40 Res.text.p: <p> must be in the FHIR namespace http://hl7.org/fhir, not http://www.w3.org/1999/xhtml"
        );
    }

    #[test]
    fn unknown_prefixes_are_reported() {
        assert_eq!(
            read_error("<f:Res>\n</f:Res>"),
            "1:1 : the root element must be in the FHIR namespace http://hl7.org/fhir, not unknown prefix `f`"
        );
        let doc = "<Res xmlns=\"http://hl7.org/fhir\">\n  <x:name value=\"a\"/>\n</Res>";
        assert_eq!(
            read_error(doc),
            "2:3 Res.name: <name> must be in the FHIR namespace http://hl7.org/fhir, not unknown prefix `x`"
        );
        // A prefix undeclared with `xmlns:f=""` is unknown again.
        let doc = "<f:Res xmlns:f=\"http://hl7.org/fhir\">\n  <f:child xmlns:f=\"\"/>\n</f:Res>";
        assert_eq!(
            read_error(doc),
            "2:3 Res.child: <child> must be in the FHIR namespace http://hl7.org/fhir, not unknown prefix `f`"
        );
        // Binding a reserved prefix is malformed XML.
        let doc = "<Res xmlns=\"http://hl7.org/fhir\">\n  <name xmlns:xml=\"urn:x\" value=\"a\"/>\n</Res>";
        let e = read_error(doc);
        assert!(e.starts_with("2:3 Res: malformed XML: "), "{e}");
    }

    #[test]
    fn xmlns_inside_another_attribute_value_declares_nothing() {
        let doc = "<Res xmlns=\"http://hl7.org/fhir\"><name value='a xmlns=\"urn:x\" xmlns:f=\"http://hl7.org/fhir\"'/><child/></Res>";
        let (res, warnings) = read(doc, &ReadOptions::lenient()).unwrap();
        assert_eq!(
            name(&res),
            Some(r#"a xmlns="urn:x" xmlns:f="http://hl7.org/fhir""#)
        );
        // `child` is still FHIR (only empty), and `f` is not declared.
        assert_eq!(
            warnings,
            ["1:95 Res.child: the element has neither attributes nor children (ignored)"]
        );
        let doc = "<Res xmlns=\"http://hl7.org/fhir\"><name value='xmlns:f=\"http://hl7.org/fhir\"'/><f:child/></Res>";
        assert_eq!(
            read_error(doc),
            "1:79 Res.child: <child> must be in the FHIR namespace http://hl7.org/fhir, not unknown prefix `f`"
        );
    }

    #[test]
    fn prefixed_attributes_are_in_a_namespace() {
        let doc = "<Res xmlns=\"http://hl7.org/fhir\" xmlns:p=\"urn:p\">\n  <name p:value=\"a\" value=\"b\"/>\n</Res>";
        assert_eq!(
            read_error(doc),
            "2:3 Res.name.value: attribute `value` must not be in a namespace"
        );
        let (res, warnings) = read(doc, &ReadOptions::lenient()).unwrap();
        assert_eq!(
            warnings,
            ["2:3 Res.name.value: attribute `value` must not be in a namespace (ignored)"]
        );
        assert_eq!(name(&res), Some("b"));
        // The same for an unknown prefix and for `xml:`, and on a complex element.
        let doc = "<Res xmlns=\"http://hl7.org/fhir\">\n  <child q:name=\"a\" xml:lang=\"en\"><name value=\"b\"/></child>\n</Res>";
        let (_, warnings) = read(doc, &ReadOptions::lenient()).unwrap();
        assert_eq!(
            warnings,
            [
                "2:3 Res.child.name: attribute `name` must not be in a namespace (ignored)",
                "2:3 Res.child.lang: attribute `lang` must not be in a namespace (ignored)"
            ]
        );
    }

    #[test]
    fn attribute_values_are_normalised_as_xml_requires() {
        assert_eq!(normalize_attribute("plain value"), Ok(None));
        let n = |v: &str| normalize_attribute(v).unwrap().unwrap();
        // Literal line ends and tabs become single spaces (CR LF is one line end).
        assert_eq!(n("a\nb\r\nc\rd\te"), "a b c d e");
        // References are decoded; referenced whitespace is kept as it is.
        assert_eq!(
            n("a&amp;b &lt;&gt;&quot;&apos; &#10;&#x9;&#128512;"),
            "a&b <>\"' \n\t\u{1F600}"
        );
        assert_eq!(n("x&#9;\ty\r\n&amp;"), "x\t y &");
        assert!(normalize_attribute("a &xxe; b")
            .unwrap_err()
            .contains("unknown entity"));
        assert!(normalize_attribute("a & b").is_err());
        assert!(normalize_attribute("&#0;").is_err());
        assert!(normalize_attribute("&#xD800;").is_err());
    }
}
