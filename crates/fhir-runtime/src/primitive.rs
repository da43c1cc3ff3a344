//! FHIR primitive elements: a value plus the `id` and `extension` every FHIR
//! element may carry.

use std::borrow::Cow;
use std::num::NonZeroU32;

use crate::comments::XmlComments;
use crate::element::{Element, FieldValue, Name};
use crate::error::Result;
use crate::read::Reader;
use crate::value::{
    Base64Value, DateTimeValue, DateValue, DecimalValue, InstantValue, StrKind, TimeValue,
    XhtmlValue,
};
use crate::write::Writer;

/// How a primitive's value is written in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonType {
    /// `true` / `false`.
    Bool,
    /// A JSON number (integer and decimal types).
    Number,
    /// A JSON string (everything else).
    String,
}

/// The list type that holds a model's extensions (the model crate's
/// `Extensions`): a `Vec` of extensions behind a type of the model's own, so
/// that dropping one is an out-of-line call instead of drop code for every
/// data type repeated wherever an element is dropped.
pub trait ExtensionList: Default {
    /// The extension type.
    type Item: Element + FieldValue;
    /// The extensions.
    fn as_vec(&self) -> &Vec<Self::Item>;
    /// The extensions, for changing.
    fn as_vec_mut(&mut self) -> &mut Vec<Self::Item>;
}

/// The value type of a FHIR primitive: how it is parsed and written.
pub trait PrimitiveValue: Sized {
    /// The JSON type of the value.
    const JSON: JsonType;
    /// The FHIR type name, for messages (`date`). String-like types report their [`StrKind`].
    const TYPE: &'static str;

    /// Parses the lexical form; `kind` tells string-like values which rule applies.
    fn parse(text: &str, kind: StrKind) -> Result<Self, String>;

    /// Like [`PrimitiveValue::parse`], taking the text by value so that types that
    /// hold their text need not copy it. On failure gives back (message, text).
    fn parse_owned(text: String, kind: StrKind) -> Result<Self, (String, String)> {
        match Self::parse(&text, kind) {
            Ok(v) => Ok(v),
            Err(m) => Err((m, text)),
        }
    }

    /// What lenient reading keeps of a value that broke its rule, if it can hold it.
    fn parse_lenient(text: &str, kind: StrKind) -> Option<Self>;

    /// The lexical form, as written in XML attributes and (quoted or not, per
    /// [`PrimitiveValue::JSON`]) in JSON.
    fn lexical(&self) -> Cow<'_, str>;
}

/// A FHIR primitive element: an optional value, and the `id` and extensions
/// that FHIR allows on every element.
///
/// A primitive may have extensions and no value (a "value-less" primitive):
/// JSON writes it with only its `_name` half. The `id` and extensions are rare,
/// so they live behind one pointer ([`PrimitiveExtras`]): a string primitive
/// takes 32 bytes, not 72.
///
/// `==` compares the value, `id` and extensions. XML comments are not compared
/// (as everywhere in the model), so a primitive whose extras hold only comments
/// equals one without extras: what JSON reads back from an XML original.
#[derive(Clone, Debug)]
pub struct Primitive<T, L> {
    /// The value itself.
    pub value: Option<T>,
    /// `Element.id` and `Element.extension`, when the element has either.
    pub extras: Option<Box<PrimitiveExtras<L>>>,
}

/// The `id` and extensions of a [`Primitive`]. `==` ignores the comments.
#[derive(Clone, Debug)]
pub struct PrimitiveExtras<L> {
    /// `Element.id`: an id for the element, unique within the resource.
    pub id: Option<String>,
    /// `Element.extension`: additional content defined by implementations.
    pub extension: L,
    /// XML comments around or inside the element (not part of JSON's `_name`).
    pub comments: XmlComments,
}

impl<L: PartialEq> PartialEq for PrimitiveExtras<L> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.extension == other.extension
    }
}

impl<T: PartialEq, L: PartialEq + Default> PartialEq for Primitive<T, L> {
    fn eq(&self, other: &Self) -> bool {
        if self.value != other.value {
            return false;
        }
        match (&self.extras, &other.extras) {
            (Some(a), Some(b)) => a == b,
            (None, None) => true,
            (Some(e), None) | (None, Some(e)) => e.id.is_none() && e.extension == L::default(),
        }
    }
}

impl<T, L> Default for Primitive<T, L> {
    fn default() -> Self {
        Primitive {
            value: None,
            extras: None,
        }
    }
}

impl<T, L> Primitive<T, L> {
    /// A primitive holding `value` and nothing else.
    pub fn new(value: impl Into<T>) -> Self {
        Primitive {
            value: Some(value.into()),
            extras: None,
        }
    }

    /// The value, if any.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// `Element.id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.extras.as_ref().and_then(|e| e.id.as_deref())
    }

    /// Sets `Element.id`.
    pub fn set_id(&mut self, id: Option<String>)
    where
        L: ExtensionList,
    {
        self.extras_mut().id = id;
        self.tidy();
    }

    /// The extensions (empty when there are none).
    pub fn extension(&self) -> &[L::Item]
    where
        L: ExtensionList,
    {
        self.extras.as_ref().map_or(&[], |e| e.extension.as_vec())
    }

    /// The extensions, for adding or changing them.
    pub fn extension_mut(&mut self) -> &mut Vec<L::Item>
    where
        L: ExtensionList,
    {
        self.extras_mut().extension.as_vec_mut()
    }

    /// Adds an extension and returns `self`, for building.
    pub fn with_extension(mut self, extension: L::Item) -> Self
    where
        L: ExtensionList,
    {
        self.extension_mut().push(extension);
        self
    }

    fn extras_mut(&mut self) -> &mut PrimitiveExtras<L>
    where
        L: ExtensionList,
    {
        self.extras.get_or_insert_with(|| {
            Box::new(PrimitiveExtras {
                id: None,
                extension: L::default(),
                comments: XmlComments::new(),
            })
        })
    }

    /// Drops an empty extras box, so that equal content compares equal.
    fn tidy(&mut self)
    where
        L: ExtensionList,
    {
        if self.extras.as_ref().is_some_and(|e| {
            e.id.is_none() && e.extension.as_vec().is_empty() && e.comments.is_empty()
        }) {
            self.extras = None;
        }
    }

    /// True when the element has an `id` or extensions (the JSON `_name` half).
    pub fn has_extras(&self) -> bool
    where
        L: ExtensionList,
    {
        self.extras
            .as_ref()
            .is_some_and(|e| e.id.is_some() || !e.extension.as_vec().is_empty())
    }

    /// True when there is neither a value nor an id nor an extension.
    pub fn is_empty(&self) -> bool
    where
        L: ExtensionList,
    {
        self.value.is_none() && !self.has_extras()
    }
}

impl<T, L> From<T> for Primitive<T, L> {
    fn from(value: T) -> Self {
        Primitive::new(value)
    }
}

impl<L> From<&str> for Primitive<String, L> {
    fn from(value: &str) -> Self {
        Primitive::new(value.to_owned())
    }
}

/// The `_name` half of a primitive: its `id` and extensions, read and written
/// like a complex element.
struct ExtrasView<'p, T, L>(&'p mut Primitive<T, L>);

impl<T: PrimitiveValue, L: ExtensionList> Element for ExtrasView<'_, T, L> {
    fn type_name(&self) -> &'static str {
        T::TYPE
    }
    fn read_field(&mut self, name: &str, r: &mut Reader<'_>) -> Result<Option<u16>> {
        match name {
            "id" => r.attr(&mut self.0.extras_mut().id).map(|()| Some(0)),
            "extension" => r
                .list(self.0.extras_mut().extension.as_vec_mut())
                .map(|()| Some(1)),
            _ => Ok(None),
        }
    }
    fn write_fields(&self, w: &mut Writer) {
        self.0.write_fields(w)
    }
    fn comments_mut(&mut self) -> Option<&mut XmlComments> {
        Some(&mut self.0.extras_mut().comments)
    }
}

impl<T, L> Primitive<T, L> {
    /// Reads the `id` and extensions (the JSON `_name` object, or XML attributes
    /// and children) through `f`, then drops an empty extras box.
    pub fn read_extras(&mut self, f: impl FnOnce(&mut dyn Element) -> Result<()>) -> Result<()>
    where
        T: PrimitiveValue,
        L: ExtensionList,
    {
        let r = f(&mut ExtrasView(self));
        self.tidy();
        r
    }
}

impl<T: PrimitiveValue, L: ExtensionList> Element for Primitive<T, L> {
    fn type_name(&self) -> &'static str {
        T::TYPE
    }
    fn read_field(&mut self, name: &str, r: &mut Reader<'_>) -> Result<Option<u16>> {
        ExtrasView(self).read_field(name, r)
    }
    fn write_fields(&self, w: &mut Writer) {
        if let Some(e) = &self.extras {
            w.attr("id", &e.id);
            w.list("extension", e.extension.as_vec());
        }
    }
    fn comments(&self) -> Option<&XmlComments> {
        self.extras.as_ref().map(|e| &e.comments)
    }
    fn comments_mut(&mut self) -> Option<&mut XmlComments> {
        Some(&mut self.extras_mut().comments)
    }
}

impl<T: PrimitiveValue, L: ExtensionList> FieldValue for Primitive<T, L> {
    fn read_into(&mut self, r: &mut Reader<'_>) -> Result<()> {
        r.primitive(self)
    }
    fn read_more(&mut self, r: &mut Reader<'_>) -> Result<()> {
        r.primitive(self)
    }
    fn read_list(items: &mut Vec<Self>, r: &mut Reader<'_>) -> Result<()> {
        r.primitive_list(items)
    }
    fn write_value(&self, name: Name, w: &mut Writer) {
        w.primitive(name, self)
    }
    fn write_list(items: &[Self], name: Name, w: &mut Writer) {
        w.primitive_list(name, items)
    }
}

impl PrimitiveValue for bool {
    const JSON: JsonType = JsonType::Bool;
    const TYPE: &'static str = "boolean";
    fn parse(text: &str, _: StrKind) -> Result<Self, String> {
        match text {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("`{text}` is not a valid boolean (true or false)")),
        }
    }
    fn parse_lenient(text: &str, _: StrKind) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
}

impl PrimitiveValue for i32 {
    const JSON: JsonType = JsonType::Number;
    const TYPE: &'static str = "integer";
    fn parse(text: &str, _: StrKind) -> Result<Self, String> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && text != "-0";
        if !canonical {
            return Err(format!("`{text}` is not a valid integer"));
        }
        text.parse()
            .map_err(|_| format!("`{text}` is outside the range of a FHIR integer (32-bit)"))
    }
    fn parse_lenient(text: &str, _: StrKind) -> Option<Self> {
        text.trim().parse().ok()
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl PrimitiveValue for u32 {
    const JSON: JsonType = JsonType::Number;
    const TYPE: &'static str = "unsignedInt";
    fn parse(text: &str, kind: StrKind) -> Result<Self, String> {
        let v =
            i32::parse(text, kind).map_err(|_| format!("`{text}` is not a valid unsignedInt"))?;
        u32::try_from(v).map_err(|_| format!("`{text}` is not a valid unsignedInt (negative)"))
    }
    fn parse_lenient(text: &str, _: StrKind) -> Option<Self> {
        text.trim().parse().ok()
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl PrimitiveValue for NonZeroU32 {
    const JSON: JsonType = JsonType::Number;
    const TYPE: &'static str = "positiveInt";
    fn parse(text: &str, kind: StrKind) -> Result<Self, String> {
        let v =
            i32::parse(text, kind).map_err(|_| format!("`{text}` is not a valid positiveInt"))?;
        u32::try_from(v)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| format!("`{text}` is not a valid positiveInt (must be 1 or more)"))
    }
    fn parse_lenient(text: &str, _: StrKind) -> Option<Self> {
        text.trim().parse().ok()
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl PrimitiveValue for String {
    const JSON: JsonType = JsonType::String;
    const TYPE: &'static str = "string";
    fn parse(text: &str, kind: StrKind) -> Result<Self, String> {
        kind.check(text)?;
        Ok(text.to_owned())
    }
    fn parse_owned(text: String, kind: StrKind) -> Result<Self, (String, String)> {
        match kind.check(&text) {
            Ok(()) => Ok(text),
            Err(m) => Err((m, text)),
        }
    }
    fn parse_lenient(text: &str, _: StrKind) -> Option<Self> {
        Some(text.to_owned())
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

macro_rules! checked_text_value {
    ($ty:ty, $name:literal, $json:expr) => {
        impl PrimitiveValue for $ty {
            const JSON: JsonType = $json;
            const TYPE: &'static str = $name;
            fn parse(text: &str, _: StrKind) -> Result<Self, String> {
                <$ty>::parse(text)
            }
            fn parse_lenient(text: &str, _: StrKind) -> Option<Self> {
                Some(<$ty>::new_unchecked(text))
            }
            fn lexical(&self) -> Cow<'_, str> {
                Cow::Borrowed(self.as_str())
            }
        }
    };
}

checked_text_value!(DecimalValue, "decimal", JsonType::Number);
checked_text_value!(DateValue, "date", JsonType::String);
checked_text_value!(DateTimeValue, "dateTime", JsonType::String);
checked_text_value!(InstantValue, "instant", JsonType::String);
checked_text_value!(TimeValue, "time", JsonType::String);
impl PrimitiveValue for Base64Value {
    const JSON: JsonType = JsonType::String;
    const TYPE: &'static str = "base64Binary";
    fn parse(text: &str, _: StrKind) -> Result<Self, String> {
        Base64Value::parse(text)
    }
    fn parse_owned(text: String, _: StrKind) -> Result<Self, (String, String)> {
        // Attachments are the largest values: check in place, never copy.
        Base64Value::parse_owned(text)
    }
    fn parse_lenient(text: &str, _: StrKind) -> Option<Self> {
        Some(Base64Value::new_unchecked(text))
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.as_str())
    }
}

impl PrimitiveValue for XhtmlValue {
    const JSON: JsonType = JsonType::String;
    const TYPE: &'static str = "xhtml";
    fn parse(text: &str, _: StrKind) -> Result<Self, String> {
        check_xhtml_div(text)?;
        Ok(XhtmlValue::new(text))
    }
    fn parse_owned(text: String, _: StrKind) -> Result<Self, (String, String)> {
        // Narratives are long: check in place, never copy.
        match check_xhtml_div(&text) {
            Ok(()) => Ok(XhtmlValue::new(text)),
            Err(m) => Err((m, text)),
        }
    }
    fn parse_lenient(text: &str, _: StrKind) -> Option<Self> {
        // Kept when it could still be written into FHIR XML; dropped when not
        // (it would make the XML written from the model unreadable).
        check_xhtml_embeddable(text)
            .is_ok()
            .then(|| XhtmlValue::new(text))
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.as_str())
    }
}

/// Checks that `text` is one well-formed `<div>` element in the XHTML namespace,
/// with no DOCTYPE, processing instruction or entity other than XML's own (a
/// narrative must be safe to embed in FHIR XML as it is).
///
/// A single pass over the text: matched tags, well-formed attributes (quoted, no
/// duplicates, no `<`), valid entity and character references, well-formed
/// comments and CDATA sections, nothing but whitespace outside the root.
pub fn check_xhtml_div(text: &str) -> Result<(), String> {
    XhtmlScan {
        b: text.as_bytes(),
        text,
        i: 0,
        namespace: true,
    }
    .run()
}

/// Like [`check_xhtml_div`] but without the namespace rule: whether `text` can
/// be embedded in FHIR XML and read back as it is. Lenient reading keeps a
/// narrative that passes this and drops one that does not.
pub fn check_xhtml_embeddable(text: &str) -> Result<(), String> {
    XhtmlScan {
        b: text.as_bytes(),
        text,
        i: 0,
        namespace: false,
    }
    .run()
}

/// Decodes the reference at the start of `s` (`&amp;`, `&#10;`, `&#x1F600;`):
/// the character and the reference's length in bytes.
pub(crate) fn decode_reference(s: &str) -> std::result::Result<(char, usize), String> {
    let Some(len) = s.bytes().take(12).position(|c| c == b';') else {
        return Err("`&` must start an entity or character reference".to_owned());
    };
    let name = &s[1..len];
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => match name.strip_prefix('#') {
            Some(hex) if hex.starts_with('x') => u32::from_str_radix(&hex[1..], 16)
                .ok()
                .and_then(char::from_u32),
            Some(dec) => dec.parse::<u32>().ok().and_then(char::from_u32),
            None => return Err(format!("unknown entity `&{name};`")),
        },
    };
    match c {
        Some(c) if c != '\0' => Ok((c, len + 1)),
        _ => Err(format!("`&{name};` is not a valid character reference")),
    }
}

struct XhtmlScan<'t> {
    b: &'t [u8],
    text: &'t str,
    i: usize,
    /// Whether the root must declare the XHTML namespace.
    namespace: bool,
}

/// Bytes that may appear in an XML name (non-ASCII bytes are let through as
/// parts of multi-byte characters), as a table: names are scanned per byte.
static NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-' | b'.') || b >= 0x80;
        c += 1;
    }
    t
};

fn is_name_byte(c: u8) -> bool {
    NAME_BYTE[c as usize]
}

impl<'t> XhtmlScan<'t> {
    fn err<T>(&self, why: &str) -> Result<T, String> {
        Err(format!(
            "the narrative div is not well-formed XHTML at character {}: {why}",
            self.text[..self.i.min(self.text.len())].chars().count() + 1
        ))
    }

    fn name(&mut self) -> Result<&'t str, String> {
        let start = self.i;
        while self.i < self.b.len() && is_name_byte(self.b[self.i]) {
            self.i += 1;
        }
        if self.i == start || self.b[start].is_ascii_digit() || matches!(self.b[start], b'-' | b'.')
        {
            return self.err("expected a name");
        }
        Ok(&self.text[start..self.i])
    }

    fn skip_ws(&mut self) -> bool {
        let start = self.i;
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
        self.i > start
    }

    /// An entity or character reference (cursor on `&`).
    fn reference(&mut self) -> Result<(), String> {
        match decode_reference(&self.text[self.i..]) {
            Ok((_, len)) => {
                self.i += len;
                Ok(())
            }
            Err(why) => self.err(&why),
        }
    }

    fn find(&mut self, what: &str, why: &str) -> Result<usize, String> {
        match self.text[self.i..].find(what) {
            Some(at) => Ok(self.i + at),
            None => self.err(why),
        }
    }

    /// A start tag (cursor on `<`): its name, attributes (quoted, no duplicates,
    /// valid references), the XHTML namespace on the root `<div>`.
    fn start_tag(&mut self, stack: &mut Vec<&'t str>, seen_root: &mut bool) -> Result<(), String> {
        self.i += 1;
        let name = self.name()?;
        let is_root = stack.is_empty();
        if is_root {
            if *seen_root {
                return self.err("the narrative must be a single <div> element");
            }
            if name != "div" {
                return self.err("the narrative must be a <div> element");
            }
            *seen_root = true;
        }
        // Attribute names seen on this tag, for the duplicate check (no allocation).
        let mut seen: [&str; 16] = [""; 16];
        let mut seen_count = 0usize;
        let mut xhtml = false;
        loop {
            let had_ws = self.skip_ws();
            match self.b.get(self.i) {
                Some(b'>') => {
                    self.i += 1;
                    stack.push(name);
                    break;
                }
                Some(b'/') if self.b.get(self.i + 1) == Some(&b'>') => {
                    self.i += 2;
                    break;
                }
                Some(_) if had_ws => {
                    let attr = self.name()?;
                    if seen[..seen_count.min(16)].contains(&attr) {
                        return self.err(&format!("attribute `{attr}` given twice"));
                    }
                    if seen_count < 16 {
                        seen[seen_count] = attr;
                    }
                    seen_count += 1;
                    self.skip_ws();
                    if self.b.get(self.i) != Some(&b'=') {
                        return self.err("expected `=` after an attribute name");
                    }
                    self.i += 1;
                    self.skip_ws();
                    let Some(&q) = self.b.get(self.i).filter(|&&q| q == b'"' || q == b'\'') else {
                        return self.err("attribute values must be quoted");
                    };
                    self.i += 1;
                    let value_start = self.i;
                    loop {
                        match self.b.get(self.i) {
                            None => return self.err("unterminated attribute value"),
                            Some(&x) if x == q => break,
                            Some(b'<') => {
                                return self.err("`<` is not allowed in an attribute value")
                            }
                            Some(b'&') => self.reference()?,
                            Some(_) => self.i += 1,
                        }
                    }
                    if attr == "xmlns"
                        && &self.text[value_start..self.i] == "http://www.w3.org/1999/xhtml"
                    {
                        xhtml = true;
                    }
                    self.i += 1;
                }
                _ => return self.err("malformed start tag"),
            }
        }
        if is_root && !xhtml && self.namespace {
            return self
                .err("the narrative <div> must declare xmlns=\"http://www.w3.org/1999/xhtml\"");
        }
        if stack.len() > 256 {
            return self.err("nested deeper than 256 levels");
        }
        Ok(())
    }

    fn run(mut self) -> Result<(), String> {
        let mut stack: Vec<&str> = Vec::with_capacity(16);
        let mut seen_root = false;
        let n = self.b.len();
        while self.i < n {
            let c = self.b[self.i];
            match c {
                b'&' => {
                    if stack.is_empty() {
                        return self.err("text outside the <div>");
                    }
                    self.reference()?;
                }
                b'<' if !matches!(self.b.get(self.i + 1), Some(b'!' | b'?' | b'/')) => {
                    self.start_tag(&mut stack, &mut seen_root)?;
                }
                b'<' if self.b.get(self.i + 1) == Some(&b'/') => {
                    // An end tag: most close the innermost open element, so compare
                    // with it directly before scanning a name.
                    self.i += 2;
                    if let Some(&open) = stack.last() {
                        let end = self.i + open.len();
                        if self.b.get(self.i..end) == Some(open.as_bytes())
                            && self.b.get(end) == Some(&b'>')
                        {
                            self.i = end + 1;
                            stack.pop();
                            continue;
                        }
                    }
                    let name = self.name()?;
                    self.skip_ws();
                    if self.b.get(self.i) != Some(&b'>') {
                        return self.err("expected `>`");
                    }
                    self.i += 1;
                    match stack.pop() {
                        Some(open) if open == name => {}
                        Some(open) => return self.err(&format!("</{name}> closes <{open}>")),
                        None => return self.err(&format!("</{name}> closes nothing")),
                    }
                }
                b'<' => {
                    let rest = &self.b[self.i + 1..];
                    if rest.starts_with(b"!--") {
                        let start = self.i + 4;
                        self.i = start;
                        let end = self.find("-->", "unterminated comment")?;
                        if self.text[start..end].contains("--")
                            || self.text[start..end].ends_with('-')
                        {
                            return self.err("`--` is not allowed inside a comment");
                        }
                        self.i = end + 3;
                    } else if rest.starts_with(b"![CDATA[") {
                        if stack.is_empty() {
                            return self.err("CDATA outside the <div>");
                        }
                        self.i += 9;
                        self.i = self.find("]]>", "unterminated CDATA section")? + 3;
                    } else {
                        // `<!` other than a comment or CDATA, or `<?`.
                        return self.err(
                            "DOCTYPEs and processing instructions are not allowed in a narrative",
                        );
                    }
                }
                _ => {
                    // Text: inside the root, anything up to the next markup; outside, whitespace only.
                    let start = self.i;
                    // Runs between tags are mostly short (indentation): look at a
                    // few bytes before paying for a memchr call.
                    let near = (start + 16).min(n);
                    self.i = match self.b[start..near]
                        .iter()
                        .position(|&c| c == b'<' || c == b'&')
                    {
                        Some(p) => start + p,
                        None => {
                            memchr::memchr2(b'<', b'&', &self.b[near..]).map_or(n, |p| near + p)
                        }
                    };
                    if stack.is_empty() && !self.text[start..self.i].trim().is_empty() {
                        self.i = start;
                        return self.err("text outside the <div>");
                    }
                }
            }
        }
        if let Some(open) = stack.last() {
            return self.err(&format!("<{open}> is not closed"));
        }
        if !seen_root {
            return self.err("the narrative must be a <div> element");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check_xhtml_div;

    #[test]
    fn narrative_divs_must_be_well_formed_xhtml() {
        let ok = [
            r#"<div xmlns="http://www.w3.org/1999/xhtml">a &amp; b &#39; &#x1F600; <b>x</b><br/><!-- c --></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"/>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><b>x</b ><i>y</i
></div>"#,
            "<div xmlns='http://www.w3.org/1999/xhtml' class=\"x\">\n<p>1 > 0</p><![CDATA[<raw>]]></div>\n",
        ];
        for t in ok {
            assert_eq!(check_xhtml_div(t), Ok(()), "{t}");
        }
        let bad = [
            ("<div>no namespace</div>", "must declare xmlns"),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml"><b>x</bb></div>"#,
                "</bb> closes <b>",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml"><b>x</b"#,
                "expected `>`",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml"><b>x</div>"#,
                "</div> closes <b>",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml">a & b</div>"#,
                "entity",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml">&nbsp;</div>"#,
                "&nbsp;",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml"><p a=1>x</p></div>"#,
                "quoted",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml"><p a="1" a="2">x</p></div>"#,
                "twice",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml"></div><div xmlns="http://www.w3.org/1999/xhtml"/>"#,
                "single",
            ),
            (r#"<p xmlns="http://www.w3.org/1999/xhtml">x</p>"#, "<div>"),
            (
                r#"<!DOCTYPE x><div xmlns="http://www.w3.org/1999/xhtml"/>"#,
                "DOCTYPE",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml"><?pi x?></div>"#,
                "processing",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml"><b>"#,
                "not closed",
            ),
            (
                r#"text<div xmlns="http://www.w3.org/1999/xhtml"/>"#,
                "outside",
            ),
            (
                r#"<div xmlns="http://www.w3.org/1999/xhtml"><!-- a -- b --></div>"#,
                "comment",
            ),
        ];
        for (t, why) in bad {
            let e = check_xhtml_div(t).expect_err(t);
            assert!(e.contains(why), "{t}: {e}");
        }
    }
}
