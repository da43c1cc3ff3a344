//! The format-neutral reader that generated `read_field` methods call.
//!
//! Generated code sees one API; the format (JSON today, XML alongside) is the
//! reader's business. Paths are kept in one `String` that grows and shrinks as
//! the reader descends, so locating an error costs nothing until it happens.

use std::borrow::Cow;

use crate::element::{AnyResource, Choice, Element, FieldValue};
use crate::error::{Error, ErrorKind, Location, Result};
use crate::json::lexer::{LexError, Lexer, Peek, SkipError};
use crate::primitive::{ExtensionList, JsonType, Primitive, PrimitiveValue};
use crate::value::StrKind;

mod xml;
mod xml_ns;
use xml::XmlIn;
pub use xml::{read_xml, read_xml_resource};

/// How strictly to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Every departure from FHIR is an error (the default).
    #[default]
    Strict,
    /// Departures become warnings with the same locations; reading goes on, and
    /// whatever the model can hold is kept. What it cannot hold is reported.
    Lenient,
}

/// Options for reading.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Strict (default) or lenient.
    pub mode: Mode,
    /// The deepest nesting of objects and arrays accepted (default 256). Deeper
    /// input is always an error, in both modes, so that no input can exhaust the stack.
    pub max_depth: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            mode: Mode::Strict,
            max_depth: 256,
        }
    }
}

impl ReadOptions {
    /// Strict reading with default limits.
    pub fn strict() -> Self {
        ReadOptions::default()
    }
    /// Lenient reading with default limits.
    pub fn lenient() -> Self {
        ReadOptions {
            mode: Mode::Lenient,
            ..ReadOptions::default()
        }
    }
}

/// A value read, with the warnings lenient reading collected (always empty in strict mode).
#[derive(Clone, Debug)]
pub struct Parsed<T> {
    /// The value.
    pub value: T,
    /// Problems accepted by lenient reading, each located.
    pub warnings: Vec<Error>,
}

/// Which half of a JSON primitive is being read: the value (`name`) or the
/// `id`/extensions (`_name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Value,
    Companion,
}

/// A `null` item in an array of primitives, waiting for its `_name` companion.
struct PendingNull {
    list_path: String,
    item_path: String,
    depth: usize,
    offset: usize,
}

/// The reader that generated code drives. Created by the entry points
/// ([`read_json`], [`read_json_resource`]); never by users directly.
pub struct Reader<'a> {
    lex: Lexer<'a>,
    opts: ReadOptions,
    path: String,
    warnings: Vec<Error>,
    depth: usize,
    part: Part,
    kind: StrKind,

    pending_nulls: Vec<PendingNull>,
    /// Set when lenient reading gave up on the value just read, so that the
    /// caller does not store an empty placeholder.
    dropped: bool,
    /// Set while reading the value of a duplicate key already reported.
    dup_reported: bool,
    /// Byte spans of the keys of the objects being read, innermost last
    /// (one buffer for all objects, so reading an object allocates nothing).
    keys: Vec<(usize, usize)>,
    /// XML input state; `None` when reading JSON.
    xml: Option<Box<XmlIn<'a>>>,
}

/// Reads a resource of any type (the generated `Resource` enum) from FHIR JSON.
pub fn read_json_resource<R: AnyResource>(bytes: &[u8], opts: &ReadOptions) -> Result<Parsed<R>> {
    let mut r = Reader::json(bytes, opts)?;
    let value = match r.json_resource::<R>(true)? {
        Some(v) => v,
        None => {
            // Lenient reading reported why the root could not be read; there is no value.
            let first = r.warnings.remove(0);
            return Err(Error::new(
                first.kind(),
                first.location().clone(),
                first.message().to_owned(),
            ));
        }
    };
    r.finish()?;
    Ok(Parsed {
        value,
        warnings: r.warnings,
    })
}

/// Reads FHIR JSON into `target`, a resource of type `resource_type` (or, when
/// `resource_type` is `None`, a data type such as `HumanName` without `resourceType`).
pub fn read_json(
    bytes: &[u8],
    target: &mut dyn Element,
    resource_type: Option<&str>,
    opts: &ReadOptions,
) -> Result<Vec<Error>> {
    let mut r = Reader::json(bytes, opts)?;
    r.path.push_str(resource_type.unwrap_or(target.type_name()));
    if r.lex.peek() != Peek::Object {
        let what = r.lex.peek().describe();
        return Err(r.error(
            ErrorKind::WrongType,
            format!("expected an object, found {what}"),
        ));
    }
    if let Some(expected) = resource_type {
        match r.json_peek_resource_type()? {
            None => {
                return Err(r.error(
                    ErrorKind::MissingResourceType,
                    "the resource has no `resourceType`",
                ))
            }
            Some((found, at)) if found != expected => {
                return Err(r.error_at(
                    ErrorKind::UnknownResourceType,
                    at,
                    format!("expected a {expected} resource, found `resourceType` {found:?}"),
                ))
            }
            Some(_) => {}
        }
    }
    r.json_object(target, resource_type.is_some())?;
    r.finish()?;
    Ok(r.warnings)
}

/// The input as text: a leading byte-order mark dropped, UTF-8 checked once.
fn decode_utf8(bytes: &[u8]) -> Result<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::Syntax,
            Location::at_offset(bytes, e.valid_up_to(), ""),
            "the input is not valid UTF-8",
        )
    })
}

impl<'a> Reader<'a> {
    fn json(bytes: &'a [u8], opts: &ReadOptions) -> Result<Self> {
        Ok(Reader::new(decode_utf8(bytes)?, opts))
    }

    /// A reader over checked text (JSON until an XML state is added).
    fn new(text: &'a str, opts: &ReadOptions) -> Self {
        Reader {
            lex: Lexer::new(text),
            opts: opts.clone(),
            path: String::with_capacity(128),
            warnings: Vec::new(),
            depth: 0,
            part: Part::Value,
            kind: StrKind::String,
            pending_nulls: Vec::new(),
            dropped: false,
            dup_reported: false,
            keys: Vec::with_capacity(32),
            xml: None,
        }
    }

    fn finish(&mut self) -> Result<()> {
        if self.lex.peek() != Peek::End {
            return Err(self.error(
                ErrorKind::Syntax,
                "unexpected characters after the end of the resource",
            ));
        }
        Ok(())
    }

    // ----- error helpers -------------------------------------------------

    /// True in lenient mode.
    pub fn is_lenient(&self) -> bool {
        self.opts.mode == Mode::Lenient
    }

    #[cold]
    fn error_at(&self, kind: ErrorKind, offset: usize, message: impl Into<String>) -> Error {
        Error::new(
            kind,
            Location::at_offset(self.lex.text.as_bytes(), offset, self.path.clone()),
            message,
        )
    }

    #[cold]
    fn error(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        self.error_at(kind, self.here(), message)
    }

    /// Where the reader is: the JSON cursor, or the start of the current XML element.
    fn here(&self) -> usize {
        match &self.xml {
            Some(x) => x.cur.start,
            None => self.lex.pos,
        }
    }

    #[cold]
    fn lex_error(&self, e: LexError) -> Error {
        self.error_at(ErrorKind::Syntax, e.offset, e.message)
    }

    fn skip_error(&self, e: SkipError) -> Error {
        match e {
            SkipError::Lex(e) => self.lex_error(e),
            SkipError::TooDeep(at) => self.error_at(
                ErrorKind::TooDeep,
                at,
                format!("nesting deeper than {} levels", self.opts.max_depth),
            ),
        }
    }

    /// Reports a departure from FHIR: an error in strict mode, a warning (and
    /// `Ok`) in lenient mode. `consequence` says what lenient reading does about it.
    #[cold]
    fn fault(
        &mut self,
        kind: ErrorKind,
        offset: usize,
        message: String,
        consequence: &str,
    ) -> Result<()> {
        if self.opts.mode == Mode::Strict {
            Err(self.error_at(kind, offset, message))
        } else {
            let msg = if consequence.is_empty() {
                message
            } else {
                format!("{message} ({consequence})")
            };
            let w = self.error_at(kind, offset, msg).into_warning();
            self.warnings.push(w);
            Ok(())
        }
    }

    fn lex<T>(&self, r: Result<T, LexError>) -> Result<T> {
        r.map_err(|e| self.lex_error(e))
    }

    fn skip(&mut self) -> Result<()> {
        if self.xml.is_some() {
            return self.xml_skip_current();
        }
        let depth = self.depth;
        let max = self.opts.max_depth;
        self.lex
            .skip_value(depth, max)
            .map_err(|e| self.skip_error(e))
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > self.opts.max_depth {
            return Err(self.error(
                ErrorKind::TooDeep,
                format!("nesting deeper than {} levels", self.opts.max_depth),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn push_index(&mut self, i: usize) -> usize {
        let mark = self.path.len();
        // Digits by hand: `write!` costs a formatter call per list item.
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = i;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.path.push('[');
        for &d in &digits[at..] {
            self.path.push(d as char);
        }
        self.path.push(']');
        mark
    }

    // ----- API for generated code ---------------------------------------

    /// Sets the lexical rule for the next string-like value (`code`, `id`, `uri`, ...).
    /// Generated code chains it: `r.kind(StrKind::Code).field(&mut self.status)`.
    pub fn kind(&mut self, kind: StrKind) -> &mut Self {
        self.kind = kind;
        self
    }

    /// Reads a single-valued element into `slot`. Returns the order `n` given, for
    /// generated code to pass through as `read_field`'s result.
    pub fn field<V: FieldValue>(&mut self, slot: &mut Option<V>) -> Result<()> {
        if self.xml_in_attr_mode() {
            // An element given as an attribute: left for the caller to report.
            return Ok(());
        }
        self.dropped = false;
        let res = match slot {
            // Read in place: no copy of a large struct on its way into the slot.
            None => slot.insert(V::default()).read_into(self),
            // A later duplicate replaces the value.
            Some(v) => v.read_more(self),
        };
        // Nothing of what was read could be kept: nothing is left.
        if std::mem::take(&mut self.dropped) {
            *slot = None;
        }
        self.kind = StrKind::String;
        res
    }

    /// Reads a repeating element into `items` (all of a JSON array at once).
    pub fn list<V: FieldValue>(&mut self, items: &mut Vec<V>) -> Result<()> {
        if self.xml_in_attr_mode() {
            return Ok(());
        }
        let res = V::read_list(items, self);
        self.kind = StrKind::String;
        res
    }

    /// Reads one variant of a choice element. Generated `Choice::read_variant`
    /// arms call this with the variant's constructor and destructor.
    pub fn choice<E, P: FieldValue>(
        &mut self,
        slot: &mut Option<E>,
        wrap: fn(P) -> E,
        unwrap: fn(E) -> std::result::Result<P, E>,
    ) -> Result<()> {
        if self.xml_in_attr_mode() {
            return Ok(());
        }
        let res = match slot.take() {
            None => {
                self.dropped = false;
                let mut p = P::default();
                p.read_into(self).map(|()| {
                    if !std::mem::take(&mut self.dropped) {
                        *slot = Some(wrap(p));
                    }
                })
            }
            Some(e) => match unwrap(e) {
                Ok(mut p) => {
                    self.dropped = false;
                    let r = p.read_more(self);
                    if !std::mem::take(&mut self.dropped) {
                        *slot = Some(wrap(p));
                    }
                    r
                }
                Err(other) => {
                    *slot = Some(other);
                    let at = self.here();
                    self.fault(
                        ErrorKind::ChoiceConflict,
                        at,
                        "a choice element may have only one type, and another was given before"
                            .to_owned(),
                        "this one was dropped",
                    )
                    .and_then(|()| self.skip())
                }
            },
        };
        self.kind = StrKind::String;
        res
    }

    /// Reads a choice element given by its full name: when `name` starts with
    /// `prefix`, the rest selects the variant. Returns `true` when it matched.
    pub fn choice_field<C: Choice>(
        &mut self,
        name: &str,
        prefix: &str,
        slot: &mut Option<C>,
    ) -> Result<bool> {
        match name.strip_prefix(prefix) {
            Some(suffix) if !suffix.is_empty() => C::read_variant(slot, suffix, self),
            _ => Ok(false),
        }
    }

    /// Reads an element that XML holds as an attribute (`Element.id`, `Extension.url`).
    pub fn attr(&mut self, slot: &mut Option<String>) -> Result<()> {
        if self.xml.is_some() {
            return self.xml_attr(slot);
        }
        let start = self.lex.peek();
        let at = self.lex.pos;
        if self.part == Part::Companion {
            return self.not_primitive();
        }
        if start != Peek::String {
            self.fault(
                ErrorKind::WrongType,
                at,
                format!("expected a string, found {}", start.describe()),
                "dropped",
            )?;
            return self.skip();
        }
        let s = self.lex.string();
        let s = self.lex(s)?;
        if s.is_empty() {
            return self.fault(ErrorKind::Empty, at, "empty string".to_owned(), "dropped");
        }
        if slot.is_some() && !self.dup_reported {
            self.fault(
                ErrorKind::Duplicate,
                at,
                "the element is given twice".to_owned(),
                "the later value was kept",
            )?;
        }
        *slot = Some(s.into_owned());
        Ok(())
    }

    #[cold]
    fn not_primitive(&mut self) -> Result<()> {
        let at = self.lex.pos;
        self.fault(
            ErrorKind::NotPrimitive,
            at,
            "a `_name` property is only allowed for primitive elements".to_owned(),
            "dropped",
        )?;
        self.skip()
    }

    /// Called by [`FieldValue::read_more`] for values that cannot merge: the
    /// element occurs twice.
    pub fn repeated_value(&mut self) -> Result<()> {
        if let Some(x) = &self.xml {
            let at = x.cur.start;
            return self.fault(
                ErrorKind::Duplicate,
                at,
                "the element is given twice (at most one is allowed)".to_owned(),
                "the later value was kept",
            );
        }
        // In JSON a duplicate key has already been reported by the object reader.
        Ok(())
    }

    /// Reads a complex value (an object) into `target`.
    pub fn complex(&mut self, target: &mut dyn Element) -> Result<()> {
        if self.xml.is_some() {
            return self.xml_element_body(target, false);
        }
        if self.part == Part::Companion {
            return self.not_primitive();
        }
        let p = self.lex.peek();
        if p == Peek::Null {
            self.dropped = true;
            return self.null_value();
        }
        if p != Peek::Object {
            let at = self.lex.pos;
            self.fault(
                ErrorKind::WrongType,
                at,
                format!("expected an object, found {}", p.describe()),
                "dropped",
            )?;
            self.dropped = true;
            return self.skip();
        }
        self.json_object(target, false)
    }

    /// Reports and consumes a `null` where FHIR JSON allows none.
    #[cold]
    fn null_value(&mut self) -> Result<()> {
        let at = self.lex.pos;
        self.fault(
            ErrorKind::Null,
            at,
            "null is only allowed as an item of an array of primitives".to_owned(),
            "ignored",
        )?;
        let r = self.lex.literal("null");
        self.lex(r)
    }

    /// Records, for locating element-order faults, the index of the XML item just read.
    fn xml_item_read(&mut self, index: usize) {
        if let Some(x) = self.xml.as_mut() {
            x.last_index = Some(index);
        }
    }

    /// Reads one more item onto the end of `items`, in place; lenient reading
    /// removes it again when it gave up on it.
    fn read_item<V: FieldValue>(&mut self, items: &mut Vec<V>) -> Result<()> {
        self.dropped = false;
        // Most FHIR lists hold one or two items, and the model's structs are
        // large: grow 1, 2, 4, 8... rather than `Vec`'s first step of four,
        // which puts even one `Identifier` in an allocation too large for the
        // allocator's fast path.
        if items.len() == items.capacity() {
            items.reserve_exact(items.len().max(1));
        }
        items.push(V::default());
        let res = match items.last_mut() {
            Some(item) => item.read_into(self),
            None => Ok(()),
        };
        if std::mem::take(&mut self.dropped) {
            items.pop();
        }
        res
    }

    /// Reads a resource (`contained`, `Bundle.entry.resource`, `Parameters.parameter.resource`).
    /// Returns `None` only in lenient mode, when the resource could not be read
    /// (the reason is in the warnings).
    pub fn resource<R: AnyResource>(&mut self) -> Result<Option<R>> {
        if self.xml.is_some() {
            return self.xml_wrapped_resource();
        }
        if self.part == Part::Companion {
            self.not_primitive()?;
            return Ok(None);
        }
        self.json_resource(false)
    }

    /// Reads a single resource-valued element (`Bundle.entry.resource`).
    pub fn resource_field<R: AnyResource>(&mut self, slot: &mut Option<R>) -> Result<()> {
        if self.xml_in_attr_mode() {
            return Ok(());
        }
        if slot.is_some() {
            self.repeated_value()?;
        }
        if let Some(res) = self.resource::<R>()? {
            *slot = Some(res);
        }
        // A resource that could not be read leaves the slot empty; nothing to drop above.
        self.dropped = false;
        Ok(())
    }

    /// Reads a repeating resource-valued element (`contained`).
    pub fn resource_list<R: AnyResource>(&mut self, items: &mut Vec<R>) -> Result<()> {
        if self.xml_in_attr_mode() {
            return Ok(());
        }
        if self.xml.is_some() {
            let index = items.len();
            let mark = self.push_index(index);
            let r = self.resource::<R>();
            self.path.truncate(mark);
            self.xml_item_read(index);
            self.dropped = false;
            items.extend(r?);
            return Ok(());
        }
        if self.part == Part::Companion {
            return self.not_primitive();
        }
        self.json_array(|r, _| {
            let res = r.resource::<R>()?;
            items.extend(res);
            Ok(())
        })?;
        Ok(())
    }

    /// Reads the items of a repeating non-primitive element.
    pub fn read_list_items<V: FieldValue>(&mut self, items: &mut Vec<V>) -> Result<()> {
        if self.xml.is_some() {
            return self.xml_list_item(items);
        }
        if self.part == Part::Companion {
            return self.not_primitive();
        }
        self.json_array(|r, _| {
            if r.lex.peek() == Peek::Null {
                r.null_value()
            } else {
                r.read_item(items)
            }
        })?;
        Ok(())
    }

    /// XML: one more item of a repeating element (each is its own element).
    fn xml_list_item<V: FieldValue>(&mut self, items: &mut Vec<V>) -> Result<()> {
        let index = items.len();
        let mark = self.push_index(index);
        let r = self.read_item(items);
        self.path.truncate(mark);
        self.xml_item_read(index);
        r
    }

    /// Reads the JSON array at the cursor, calling `item` with each item's index
    /// (its `[index]` pushed on the path). A `null` in place of the array is
    /// reported; any other non-array is reported and read as a one-item array.
    /// Returns the array's offset and item count when it was a real, non-empty array.
    fn json_array(
        &mut self,
        mut item: impl FnMut(&mut Self, usize) -> Result<()>,
    ) -> Result<Option<(usize, usize)>> {
        let at = self.lex.pos;
        match self.lex.peek() {
            Peek::Array => {}
            Peek::Null => {
                self.null_value()?;
                return Ok(None);
            }
            other => {
                self.fault(
                    ErrorKind::WrongType,
                    at,
                    format!("expected an array, found {}", other.describe()),
                    "read as a one-item array",
                )?;
                let mark = self.push_index(0);
                let r = item(self, 0);
                self.path.truncate(mark);
                r?;
                return Ok(None);
            }
        }
        self.enter()?;
        self.lex.pos += 1;
        if self.lex.eat(b']') {
            self.leave();
            self.fault(ErrorKind::Empty, at, "empty array".to_owned(), "ignored")?;
            return Ok(None);
        }
        let mut index = 0;
        loop {
            let mark = self.push_index(index);
            let r = item(self, index);
            self.path.truncate(mark);
            r?;
            index += 1;
            let n = self.lex.next_or_close(b']');
            if !self.lex(n)? {
                break;
            }
        }
        self.leave();
        Ok(Some((at, index)))
    }

    /// Reads (one half of) a primitive element.
    pub fn primitive<T: PrimitiveValue, L: ExtensionList>(
        &mut self,
        p: &mut Primitive<T, L>,
    ) -> Result<()> {
        if self.xml.is_some() {
            return self.xml_primitive(p);
        }
        match self.part {
            Part::Value => {
                if p.value.is_some() && !self.dup_reported {
                    let at = self.lex.pos;
                    self.fault(
                        ErrorKind::Duplicate,
                        at,
                        "the value is given twice".to_owned(),
                        "the later value was kept",
                    )?;
                }
                if self.lex.peek() == Peek::Null {
                    let at = self.lex.pos;
                    self.fault(
                        ErrorKind::Null,
                        at,
                        "null is only allowed in arrays of primitives".to_owned(),
                        "ignored",
                    )?;
                    let r = self.lex.literal("null");
                    self.dropped = p.is_empty();
                    return self.lex(r);
                }
                match self.primitive_value::<T>()? {
                    Some(v) => p.value = Some(v),
                    None => self.dropped = p.is_empty(),
                }
                Ok(())
            }
            Part::Companion => {
                if p.has_extras() && !self.dup_reported {
                    let at = self.lex.pos;
                    self.fault(
                        ErrorKind::Duplicate,
                        at,
                        "the `_name` half is given twice".to_owned(),
                        "merged",
                    )?;
                }
                // The id and extensions inside are not of the primitive's kind.
                let kind = std::mem::replace(&mut self.kind, StrKind::String);
                let r = p.read_extras(|target| self.companion_object(target));
                self.kind = kind;
                // A `_name` half that could not be read leaves nothing.
                self.dropped = p.is_empty();
                r
            }
        }
    }

    fn companion_object(&mut self, target: &mut dyn Element) -> Result<()> {
        let p = self.lex.peek();
        if p != Peek::Object {
            let at = self.lex.pos;
            self.fault(
                ErrorKind::WrongType,
                at,
                format!(
                    "expected an object with `id` or `extension`, found {}",
                    p.describe()
                ),
                "dropped",
            )?;
            return self.skip();
        }
        self.part = Part::Value;
        let r = self.json_object(target, false);
        self.part = Part::Companion;
        r
    }

    /// Reads a primitive value token; `None` when lenient reading could not keep it.
    fn primitive_value<T: PrimitiveValue>(&mut self) -> Result<Option<T>> {
        let at = self.lex.pos;
        let peek = self.lex.peek();
        let (text, right_type): (Cow<'a, str>, bool) = match peek {
            Peek::String => {
                let s = self.lex.string();
                (self.lex(s)?, T::JSON == JsonType::String)
            }
            Peek::Number => {
                let s = self.lex.number();
                (Cow::Borrowed(self.lex(s)?), T::JSON == JsonType::Number)
            }
            Peek::True | Peek::False => {
                let word = if peek == Peek::True { "true" } else { "false" };
                let r = self.lex.literal(word);
                self.lex(r)?;
                (Cow::Borrowed(word), T::JSON == JsonType::Bool)
            }
            Peek::Object | Peek::Array => {
                let expected = json_type_name(T::JSON);
                self.fault(
                    ErrorKind::WrongType,
                    at,
                    format!(
                        "expected {expected} for a {}, found {}",
                        T::TYPE,
                        peek.describe()
                    ),
                    "dropped",
                )?;
                self.skip()?;
                return Ok(None);
            }
            _ => {
                let r = self.lex.unexpected::<()>("a JSON value");
                self.lex(r)?;
                return Ok(None);
            }
        };
        let kind = self.kind;
        if !right_type {
            let expected = json_type_name(T::JSON);
            let kept = T::parse_lenient(&text, kind);
            let consequence = if kept.is_some() {
                "converted"
            } else {
                "dropped"
            };
            self.fault(
                ErrorKind::WrongType,
                at,
                format!(
                    "expected {expected} for a {}, found {} `{text}`",
                    type_label::<T>(kind),
                    peek.describe()
                ),
                consequence,
            )?;
            return Ok(kept);
        }
        if text.is_empty() {
            self.fault(ErrorKind::Empty, at, "empty string".to_owned(), "dropped")?;
            return Ok(None);
        }
        // Unescaped text is already owned: types that hold their text take it as is.
        let parsed = match text {
            Cow::Borrowed(t) => T::parse(t, kind).map_err(|m| (m, Cow::Borrowed(t))),
            Cow::Owned(t) => T::parse_owned(t, kind).map_err(|(m, t)| (m, Cow::Owned(t))),
        };
        match parsed {
            Ok(v) => Ok(Some(v)),
            Err((msg, text)) => {
                let kept = T::parse_lenient(&text, kind);
                let consequence = if kept.is_some() {
                    "kept as written"
                } else {
                    "dropped: the model cannot hold it"
                };
                self.fault(ErrorKind::InvalidValue, at, msg, consequence)?;
                Ok(kept)
            }
        }
    }

    /// Reads (one half of) a repeating primitive element: a JSON array whose
    /// items may be `null` where the other half holds the content.
    pub fn primitive_list<T: PrimitiveValue, L: ExtensionList>(
        &mut self,
        items: &mut Vec<Primitive<T, L>>,
    ) -> Result<()> {
        if self.xml.is_some() {
            return self.xml_list_item(items);
        }
        let merging = !items.is_empty();
        let mut nulls: Vec<(String, usize)> = Vec::new();
        let read = self.json_array(|r, i| {
            if i == items.len() {
                if merging {
                    let at = r.lex.pos;
                    r.fault(
                        ErrorKind::InvalidValue,
                        at,
                        "the array and its `_name` companion have different lengths".to_owned(),
                        "extra items kept",
                    )?;
                }
                items.push(Primitive::default());
            }
            if r.lex.peek() == Peek::Null {
                nulls.push((r.path.clone(), r.lex.pos));
                let n = r.lex.literal("null");
                r.lex(n)
            } else {
                r.primitive(&mut items[i])?;
                r.dropped = false;
                Ok(())
            }
        })?;
        let Some((at, i)) = read else {
            return Ok(());
        };
        if merging {
            if i < items.len() {
                self.fault(
                    ErrorKind::InvalidValue,
                    at,
                    "the array and its `_name` companion have different lengths".to_owned(),
                    "kept",
                )?;
            }
            let path = self.path.clone();
            self.pending_nulls
                .retain(|p| !(p.depth == self.depth && p.list_path == path));
            for (j, item) in items.iter().enumerate() {
                if item.is_empty() {
                    let mark = self.push_index(j);
                    let r = self.fault(
                        ErrorKind::Null,
                        at,
                        "an item is null both in the array and in its `_name` companion".to_owned(),
                        "dropped",
                    );
                    self.path.truncate(mark);
                    r?;
                }
            }
        } else {
            for (item_path, offset) in nulls {
                self.pending_nulls.push(PendingNull {
                    list_path: self.path.clone(),
                    item_path,
                    depth: self.depth,
                    offset,
                });
            }
        }
        Ok(())
    }

    // ----- JSON structure -----------------------------------------------

    /// Looks ahead in the object at the cursor for `resourceType`, without moving.
    fn json_peek_resource_type(&mut self) -> Result<Option<(String, usize)>> {
        let save = self.lex.pos;
        let res = self.json_scan_resource_type();
        self.lex.pos = save;
        res
    }

    fn json_scan_resource_type(&mut self) -> Result<Option<(String, usize)>> {
        let r = self.lex.expect(b'{', "`{`");
        self.lex(r)?;
        if self.lex.eat(b'}') {
            return Ok(None);
        }
        loop {
            let k = self.lex.string();
            let key = self.lex(k)?;
            let r = self.lex.expect(b':', "`:`");
            self.lex(r)?;
            if key == "resourceType" {
                self.lex.skip_ws();
                let at = self.lex.pos;
                if self.lex.peek() != Peek::String {
                    return Err(self.error(ErrorKind::WrongType, "`resourceType` must be a string"));
                }
                let s = self.lex.string();
                let s = self.lex(s)?;
                return Ok(Some((s.into_owned(), at)));
            }
            // Skip the value; nesting is bounded by the limit.
            let depth = self.depth + 1;
            let max = self.opts.max_depth;
            self.lex
                .skip_value(depth, max)
                .map_err(|e| self.skip_error(e))?;
            let n = self.lex.next_or_close(b'}');
            if !self.lex(n)? {
                return Ok(None);
            }
        }
    }

    fn json_resource<R: AnyResource>(&mut self, root: bool) -> Result<Option<R>> {
        let p = self.lex.peek();
        let at = self.lex.pos;
        if matches!(p, Peek::End | Peek::Other(_)) {
            let r = self.lex.unexpected::<()>("a resource (a JSON object)");
            return Err(self.lex(r).unwrap_err());
        }
        if p == Peek::Null && !root {
            self.null_value()?;
            return Ok(None);
        }
        if p != Peek::Object {
            self.fault(
                ErrorKind::WrongType,
                at,
                format!("expected a resource (an object), found {}", p.describe()),
                "dropped",
            )?;
            self.skip()?;
            return Ok(None);
        }
        let (name, name_at) = match self.json_peek_resource_type()? {
            Some(found) => found,
            None => {
                self.fault(
                    ErrorKind::MissingResourceType,
                    at,
                    "the resource has no `resourceType`".to_owned(),
                    "dropped: without a type it cannot be read",
                )?;
                self.skip()?;
                return Ok(None);
            }
        };
        let Some(mut res) = R::new_of_type(&name) else {
            self.fault(
                ErrorKind::UnknownResourceType,
                name_at,
                format!("`{name}` is not an STU3 resource type"),
                "dropped",
            )?;
            self.skip()?;
            return Ok(None);
        };
        let mark = self.path.len();
        if root {
            self.path.push_str(res.resource_type());
        } else {
            self.path.push_str(".ofType(");
            self.path.push_str(res.resource_type());
            self.path.push(')');
        }
        let r = self.json_object(res.as_element_mut(), true);
        self.path.truncate(mark);
        r?;
        Ok(Some(res))
    }

    /// Reads the object at the cursor into `target`.
    fn json_object(&mut self, target: &mut dyn Element, is_resource: bool) -> Result<()> {
        let start = self.lex.pos;
        self.enter()?;
        self.lex.pos += 1; // '{' (checked by the caller)
        if self.lex.eat(b'}') {
            self.leave();
            self.dropped = true;
            return self.fault(
                ErrorKind::Empty,
                start,
                "empty object".to_owned(),
                "ignored",
            );
        }
        let keys_base = self.keys.len();
        let depth = self.depth;
        let warnings_before = self.warnings.len();
        loop {
            self.lex.skip_ws();
            let key_at = self.lex.pos;
            let k = self.lex.key();
            let key = self.lex(k)?;
            let key_span = (key_at + 1, self.lex.pos - 1);
            let r = self.lex.expect(b':', "`:`");
            self.lex(r)?;
            self.lex.skip_ws();
            self.dup_reported = false;
            let text = self.lex.text.as_bytes();
            let raw = &text[key_span.0..key_span.1];
            if self.keys[keys_base..]
                .iter()
                .any(|&(a, b)| &text[a..b] == raw)
            {
                let mark = self.path.len();
                self.path.push('.');
                self.path.push_str(key.strip_prefix('_').unwrap_or(&key));
                let r = self.fault(
                    ErrorKind::Duplicate,
                    key_at,
                    format!("the property `{key}` appears twice"),
                    "the later value was kept",
                );
                self.path.truncate(mark);
                r?;
                self.dup_reported = true;
            } else {
                self.keys.push(key_span);
            }
            if key == "resourceType" && is_resource {
                // Read ahead of time; its value is skipped.
                self.skip()?;
            } else {
                let (name, part) = match key.strip_prefix('_') {
                    Some(n) => (n, Part::Companion),
                    None => (&*key, Part::Value),
                };
                let mark = self.path.len();
                self.path.push('.');
                self.path.push_str(name);
                self.part = part;
                let found = target.read_field(name, self);
                self.part = Part::Value;
                self.dup_reported = false;
                match found {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        let tn = target.type_name();
                        // (`Claim.payee` has an element called `resourceType`.)
                        let message = if key == "resourceType" {
                            "`resourceType` is only allowed on resources".to_owned()
                        } else {
                            format!("`{key}` is not an element of {tn}")
                        };
                        self.fault(ErrorKind::UnknownElement, key_at, message, "dropped")?;
                        self.skip()?;
                    }
                    Err(e) => return Err(e),
                }
                self.path.truncate(mark);
            }
            let n = self.lex.next_or_close(b'}');
            if !self.lex(n)? {
                break;
            }
        }
        // Arrays with nulls whose `_name` companion never came.
        if self.pending_nulls.iter().any(|p| p.depth == depth) {
            let pending: Vec<PendingNull> = {
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending_nulls)
                    .into_iter()
                    .partition(|p| p.depth == depth);
                self.pending_nulls = rest;
                mine
            };
            for p in pending {
                let saved = std::mem::replace(&mut self.path, p.item_path);
                let r = self.fault(
                    ErrorKind::Null,
                    p.offset,
                    "null items in an array of primitives need a `_name` companion that gives them content"
                        .to_owned(),
                    "dropped",
                );
                self.path = saved;
                r?;
            }
        }
        self.keys.truncate(keys_base);
        self.leave();
        self.dropped = false;
        self.drop_if_emptied(target, is_resource, warnings_before, start)
    }

    /// After lenient reading dropped parts of an element (warnings were added
    /// since `warnings_before`): an element left with nothing in it is dropped
    /// too, with a warning, as an empty one would have been. FHIR has no empty
    /// elements, and one written back could not be read back.
    fn drop_if_emptied(
        &mut self,
        target: &mut dyn Element,
        is_resource: bool,
        warnings_before: usize,
        at: usize,
    ) -> Result<()> {
        if self.warnings.len() == warnings_before {
            return Ok(());
        }
        // Items of repeating primitives left with nothing go first.
        target.drop_empty_items();
        if is_resource || !crate::write::is_empty_element(target) {
            return Ok(());
        }
        self.dropped = true;
        self.fault(
            ErrorKind::Empty,
            at,
            "nothing is left of the element once its faulty parts are dropped".to_owned(),
            "dropped",
        )
    }
}

fn json_type_name(t: JsonType) -> &'static str {
    match t {
        JsonType::Bool => "a boolean",
        JsonType::Number => "a number",
        JsonType::String => "a string",
    }
}

fn type_label<T: PrimitiveValue>(kind: StrKind) -> &'static str {
    if T::TYPE == "string" {
        kind.type_name()
    } else {
        T::TYPE
    }
}
