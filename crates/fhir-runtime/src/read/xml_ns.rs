//! Namespace scopes for the XML reader: what quick-xml's `NsReader` does, at a
//! fraction of the cost on start tags with large attribute values.
//!
//! `NsReader` walks every start tag's attributes byte by byte to find `xmlns`
//! declarations, including a multi-megabyte base64 `value`. Here a tag's
//! attributes are only walked when the text `xmlns` occurs in them (one SIMD
//! search); the walk then follows quick-xml's attribute rules exactly, with
//! `memchr` across the values, so that the same declarations are found — and
//! the same errors raised — as `NsReader` finds and raises.
//!
//! The semantics are those of quick-xml 0.41's `NamespaceResolver`: the `xml`
//! and `xmlns` prefixes are bound from the start, an empty value undeclares
//! (`xmlns=""` returns unprefixed names to no namespace; `xmlns:p=""` makes `p`
//! unknown), declarations apply to the element that makes them and its
//! descendants, and binding the reserved prefixes or namespaces otherwise is an
//! error.

use memchr::memmem;
use quick_xml::name::{Namespace, NamespaceError, ResolveResult};

/// The `xml` prefix's namespace, bound by definition.
const XML_NS: &[u8] = b"http://www.w3.org/XML/1998/namespace";
/// The `xmlns` prefix's namespace, bound by definition.
const XMLNS_NS: &[u8] = b"http://www.w3.org/2000/xmlns/";
/// The most declarations one start tag may make (quick-xml's default limit).
const MAX_DECLARATIONS_PER_ELEMENT: usize = 256;

/// One binding in scope: a prefix (empty for the default namespace) and its
/// namespace (empty when undeclared), as ranges of [`NsScopes::buffer`].
struct Binding {
    start: usize,
    prefix_len: usize,
    value_len: usize,
    /// The nesting level of the element that declared it (0: predefined).
    level: usize,
}

/// The namespace bindings in scope while reading, innermost last.
pub(crate) struct NsScopes {
    /// Prefixes and namespaces of [`Self::bindings`], back to back.
    buffer: Vec<u8>,
    bindings: Vec<Binding>,
    /// Elements open, counting the one whose scope is still pending removal.
    level: usize,
    /// The last event was an empty element or an end tag: its scope goes
    /// before the next event is read (so it still applies while the event is
    /// being handled).
    pending_pop: bool,
    finder: memmem::Finder<'static>,
}

impl Default for NsScopes {
    fn default() -> Self {
        let mut s = NsScopes {
            buffer: Vec::new(),
            bindings: Vec::new(),
            level: 0,
            pending_pop: false,
            finder: memmem::Finder::new(b"xmlns"),
        };
        s.bind(b"xml", XML_NS);
        s.bind(b"xmlns", XMLNS_NS);
        s
    }
}

impl NsScopes {
    fn bind(&mut self, prefix: &[u8], namespace: &[u8]) {
        let start = self.buffer.len();
        self.buffer.extend_from_slice(prefix);
        self.buffer.extend_from_slice(namespace);
        self.bindings.push(Binding {
            start,
            prefix_len: prefix.len(),
            value_len: namespace.len(),
            level: self.level,
        });
    }

    /// Drops the scope of the last empty element or end tag, if that is still
    /// to do. Called before each event is read.
    pub(crate) fn pop_pending(&mut self) {
        if std::mem::take(&mut self.pending_pop) {
            self.pop();
        }
    }

    /// Drops the scope at the next [`Self::pop_pending`].
    pub(crate) fn pop_later(&mut self) {
        self.pending_pop = true;
    }

    /// Drops the innermost scope now.
    pub(crate) fn pop(&mut self) {
        self.level = self.level.saturating_sub(1);
        while self.bindings.last().is_some_and(|b| b.level > self.level) {
            let b = self.bindings.pop().expect("a binding");
            self.buffer.truncate(b.start);
        }
    }

    /// Opens the scope of a start tag whose attributes (the text after its
    /// name) are `attrs`, with the declarations among them.
    pub(crate) fn push(&mut self, attrs: &[u8]) -> Result<(), NamespaceError> {
        self.level += 1;
        if self.finder.find(attrs).is_none() {
            // No attribute name can start with `xmlns`: nothing is declared.
            return Ok(());
        }
        let mut count = 0;
        let declarations = XmlAttributes { b: attrs, i: 0 };
        for (key, value) in declarations {
            let Some(prefix) = key.strip_prefix(b"xmlns") else {
                continue;
            };
            let prefix = match prefix {
                [] => None,
                [b':', p @ ..] => Some(p),
                _ => continue,
            };
            if count >= MAX_DECLARATIONS_PER_ELEMENT {
                return Err(NamespaceError::TooManyDeclarations(
                    MAX_DECLARATIONS_PER_ELEMENT,
                ));
            }
            count += 1;
            self.declare(prefix, value)?;
        }
        Ok(())
    }

    /// `xmlns="value"` (`prefix` `None`) or `xmlns:prefix="value"`, with the
    /// checks on the reserved prefixes and namespaces.
    fn declare(&mut self, prefix: Option<&[u8]>, value: &[u8]) -> Result<(), NamespaceError> {
        match prefix {
            None => self.bind(b"", value),
            Some(b"xml") => {
                if value != XML_NS {
                    return Err(NamespaceError::InvalidXmlPrefixBind(value.to_vec()));
                }
                // Already bound, by definition.
            }
            Some(b"xmlns") => return Err(NamespaceError::InvalidXmlnsPrefixBind(value.to_vec())),
            Some(p) => {
                if value == XML_NS {
                    return Err(NamespaceError::InvalidPrefixForXml(p.to_vec()));
                }
                if value == XMLNS_NS {
                    return Err(NamespaceError::InvalidPrefixForXmlns(p.to_vec()));
                }
                // An empty prefix (`xmlns:=`) declares the default namespace,
                // as quick-xml has it.
                self.bind(p, value);
            }
        }
        Ok(())
    }

    /// The namespace of an element named `qname`.
    pub(crate) fn resolve_element(&self, qname: &[u8]) -> ResolveResult<'_> {
        match memchr::memchr(b':', qname) {
            None => match self.bindings.iter().rev().find(|b| b.prefix_len == 0) {
                Some(b) => self.namespace(b),
                None => ResolveResult::Unbound,
            },
            Some(i) => self.resolve_prefix(&qname[..i]),
        }
    }

    /// The namespace of an attribute named `qname` (an unprefixed attribute is
    /// in no namespace).
    #[cfg(test)]
    pub(crate) fn resolve_attribute(&self, qname: &[u8]) -> ResolveResult<'_> {
        match memchr::memchr(b':', qname) {
            None => ResolveResult::Unbound,
            Some(i) => self.resolve_prefix(&qname[..i]),
        }
    }

    fn resolve_prefix(&self, prefix: &[u8]) -> ResolveResult<'_> {
        let found =
            self.bindings.iter().rev().find(|b| {
                b.prefix_len != 0 && &self.buffer[b.start..b.start + b.prefix_len] == prefix
            });
        match found {
            Some(b) if b.value_len != 0 => self.namespace(b),
            // Never declared, or undeclared (`xmlns:p=""`).
            _ => ResolveResult::Unknown(prefix.to_vec()),
        }
    }

    fn namespace(&self, b: &Binding) -> ResolveResult<'_> {
        if b.value_len == 0 {
            return ResolveResult::Unbound;
        }
        let at = b.start + b.prefix_len;
        ResolveResult::Bound(Namespace(&self.buffer[at..at + b.value_len]))
    }
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

/// The attributes of a start tag as quick-xml reads them for its namespace
/// resolver (XML rules, no duplicate check): `(name, raw value)` pairs, up to
/// the first malformed attribute, where the walk stops.
struct XmlAttributes<'b> {
    b: &'b [u8],
    i: usize,
}

impl<'b> Iterator for XmlAttributes<'b> {
    type Item = (&'b [u8], &'b [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let n = b.len();
        let mut i = self.i;
        // Stop for good unless an attribute is read whole.
        self.i = n;
        while i < n && is_whitespace(b[i]) {
            i += 1;
        }
        if i >= n {
            return None;
        }
        // The name: at least one byte, up to `=` or whitespace.
        let key_start = i;
        i += 1;
        while i < n && b[i] != b'=' && !is_whitespace(b[i]) {
            i += 1;
        }
        let key = &b[key_start..i];
        while i < n && is_whitespace(b[i]) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while i < n && is_whitespace(b[i]) {
            i += 1;
        }
        let quote = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return None,
        };
        i += 1;
        let len = memchr::memchr(quote, &b[i..])?;
        let value = &b[i..i + len];
        self.i = i + len + 1;
        Some((key, value))
    }
}
