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
use quick_xml::NsReader;

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
    pub(crate) reader: NsReader<&'a [u8]>,
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

/// What a start tag's namespace resolved to.
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
        let mut reader = NsReader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        let mut r = Reader::new(text, opts);
        r.xml = Some(Box::new(XmlIn {
            reader,
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

    /// Reads the next event, returning it with the offset where it starts.
    fn next_event(&mut self) -> Result<(Option<Ns>, Event<'a>, usize)> {
        let at = self.pos();
        let res = self.x().reader.read_resolved_event();
        match res {
            Ok((ns, ev)) => {
                let ns = match &ev {
                    Event::Start(_) | Event::Empty(_) => Some(resolve_ns(&ns)),
                    _ => None,
                };
                Ok((ns, ev, at))
            }
            Err(e) => Err(self.xml_error(e, at)),
        }
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
            let (unqualified, local) = match name.split_once(':') {
                None => (true, name),
                Some((_, local)) => {
                    let (ns, _) = self
                        .xml
                        .as_ref()
                        .map(|x| {
                            x.reader
                                .resolver()
                                .resolve_attribute(quick_xml::name::QName(name.as_bytes()))
                        })
                        .unzip();
                    let bound = matches!(ns, Some(ResolveResult::Unbound));
                    (bound, local)
                }
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
        Ok(())
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
                    let is_div = matches!(ns, Some(Ns::Xhtml)) && name == "div";
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
        let kind = self.kind;
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
            let res = self
                .x()
                .reader
                .read_to_end(quick_xml::name::QName(qname.as_bytes()));
            if let Err(e) = res {
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
