//! [proptest] strategies for the FHIR STU3 model (`fhir-stu3`).
//!
//! [`arbitrary::<T>()`](arbitrary) draws any value of a model type `T`: a
//! resource, a data type, or the [`Resource`](fhir_stu3::Resource) enum. Values
//! are valid FHIR — every primitive follows its lexical rule, every code of a
//! required binding is in its value set, no element is empty — and they are full
//! of the parts readers and writers get wrong:
//!
//! - primitives with extensions and no value, and lists of primitives where some
//!   items have only extensions (JSON's `_name` arrays with `null`s);
//! - decimals of up to 40 digits, with trailing zeros and exponents;
//! - partial dates and date-times (`2017`, `2017-03`), fractional seconds, offsets;
//! - nested Bundles and contained resources;
//! - narratives with entity and character references, markup and comments;
//! - strings with markup characters, quotes, line ends, tabs and non-BMP characters.
//!
//! # How values are drawn
//!
//! The generator (`cargo xtask codegen`) writes one [`Generate`] impl per
//! struct, choice and the `Resource` enum from the same StructureDefinitions as
//! the model: each lists the elements in FHIR order with their cardinality. They
//! draw from a [`Gen`], which reads choices from a byte string. The strategy is
//! proptest's byte-vector strategy mapped through `Generate`, so shrinking the
//! bytes shrinks the value: a zero byte, or the end of the bytes, always picks
//! the smallest choice (absent, no more items, the first type). This is how
//! Hypothesis shrinks; it keeps the generated code to plain functions (one
//! strategy combinator per type for ~800 mutually recursive types would build
//! enormous strategy trees and take long to compile).
//!
//! ```
//! use fhir_stu3::Resource;
//! use fhir_stu3_proptest::arbitrary;
//! use proptest::prelude::*;
//!
//! proptest!(ProptestConfig::with_cases(16), |(r in arbitrary::<Resource>())| {
//!     let json = r.to_json();
//!     prop_assert_eq!(Resource::from_json(json.as_bytes()).unwrap(), r);
//! });
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod generated;

use std::num::NonZeroU32;

use fhir_runtime::value::{
    Base64Value, DateTimeValue, DateValue, DecimalValue, InstantValue, TimeValue, XhtmlValue,
};
use fhir_runtime::PrimitiveExtras;
use fhir_stu3::datatypes::Extension;
use fhir_stu3::primitives::Primitive;
use fhir_stu3::Extensions;
use proptest::prelude::*;

/// How many bytes of choices a drawn value may use: enough for a value of a
/// few hundred elements.
pub const MAX_BYTES: usize = 6 * 1024;

/// How many optional elements and list items a value gets at most (required
/// elements are always drawn).
pub const DEFAULT_BUDGET: u32 = 160;

/// The strategy for any `T` of the model.
pub fn arbitrary<T: Generate + std::fmt::Debug>() -> BoxedStrategy<T> {
    proptest::collection::vec(any::<u8>(), 0..=MAX_BYTES)
        .prop_map(|bytes| T::generate(&mut Gen::new(&bytes)))
        .boxed()
}

/// A model type that can be drawn. Implemented by generated code for every
/// struct and choice enum of the model and for `Resource`.
pub trait Generate: Sized {
    /// Draws a value, taking choices from `g`.
    fn generate(g: &mut Gen<'_>) -> Self;
}

/// The source of choices: a byte string read front to back, then zeros, with
/// a budget of optional elements and the current depth.
pub struct Gen<'a> {
    bytes: &'a [u8],
    pos: usize,
    budget: u32,
    depth: u32,
}

/// Beyond this depth no optional element is drawn.
const MAX_DEPTH: u32 = 14;

impl<'a> Gen<'a> {
    /// Choices from `bytes`, with the default budget.
    pub fn new(bytes: &'a [u8]) -> Self {
        Gen::with_budget(bytes, DEFAULT_BUDGET)
    }

    /// Choices from `bytes`, with at most `budget` optional elements and items.
    pub fn with_budget(bytes: &'a [u8], budget: u32) -> Self {
        Gen {
            bytes,
            pos: 0,
            budget,
            depth: 0,
        }
    }

    /// The next byte; 0 once the bytes are used up.
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number below `n` (0 when `n` is 0 or 1); 0 for zero bytes.
    pub fn pick(&mut self, n: usize) -> usize {
        match n {
            0 | 1 => 0,
            2..=256 => self.byte() as usize % n,
            _ => (((self.byte() as usize) << 8) | self.byte() as usize) % n,
        }
    }

    /// True with probability `odds`/256; false for a zero byte.
    fn chance(&mut self, odds: u32) -> bool {
        255 - u32::from(self.byte()) < odds
    }

    /// A number in `lo..=hi`, `lo` for zero bytes.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        let span = u64::from(hi - lo) + 1;
        let raw = u64::from_be_bytes([
            0,
            0,
            0,
            0,
            self.byte(),
            self.byte(),
            self.byte(),
            self.byte(),
        ]);
        lo + (raw % span) as u32
    }

    /// How likely an optional element is at the current depth.
    fn odds(&self) -> u32 {
        match self.depth {
            0..=2 => 100,
            3..=5 => 60,
            6..=8 => 30,
            _ => 12,
        }
    }

    /// Whether one more optional element or item is drawn (it uses budget).
    fn more(&mut self, odds: u32) -> bool {
        if self.budget == 0 || self.depth > MAX_DEPTH || !self.chance(odds) {
            return false;
        }
        self.budget -= 1;
        true
    }

    /// An optional element (0..1): absent or drawn by `f`.
    pub fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        let odds = self.odds();
        if self.more(odds) {
            Some(f(self))
        } else {
            None
        }
    }

    /// A repeating element: `min` items, then up to 3 more while the budget lasts.
    pub fn list<T>(&mut self, min: u32, mut f: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let mut items: Vec<T> = (0..min).map(|_| f(self)).collect();
        let odds = self.odds();
        while items.len() < min as usize + 3 && self.more(odds) {
            items.push(f(self));
        }
        items
    }

    /// A child element of type `T`, one level deeper.
    pub fn child<T: Generate>(&mut self) -> T {
        self.depth += 1;
        let value = T::generate(self);
        self.depth -= 1;
        value
    }

    /// An `extension` or `modifierExtension` list: usually empty.
    pub fn extensions(&mut self) -> Extensions {
        let mut list = Vec::new();
        while list.len() < 2 && self.more(20) {
            list.push(self.child::<Extension>());
        }
        Extensions::from(list)
    }

    /// Which resource type to draw among `n`: a Bundle (index `bundle`) one time
    /// in four, so that Bundles in Bundles are common; otherwise any.
    pub fn pick_resource(&mut self, n: usize, bundle: usize) -> usize {
        if self.chance(64) {
            bundle
        } else {
            self.pick(n)
        }
    }

    /// A code of a required value set.
    pub fn code_of<T: Copy>(&mut self, all: &[T]) -> T {
        all[self.pick(all.len())]
    }

    /// A primitive element: usually a value alone; one time in eight a value
    /// with an id or extensions; one time in eight extensions (and maybe an id)
    /// and no value at all.
    pub fn primitive<T>(&mut self, value: impl FnOnce(&mut Self) -> T) -> Primitive<T> {
        match self.byte() % 16 {
            14 | 15 => {
                let id = if self.chance(64) {
                    Some(self.element_id())
                } else {
                    None
                };
                let mut extension = vec![self.child::<Extension>()];
                if self.chance(48) {
                    extension.push(self.child::<Extension>());
                }
                Primitive {
                    value: None,
                    extras: Some(Box::new(PrimitiveExtras {
                        id,
                        extension: Extensions::from(extension),
                        comments: Default::default(),
                    })),
                }
            }
            12 | 13 => {
                let v = value(self);
                let id = Some(self.element_id());
                let extension = self.extensions();
                Primitive {
                    value: Some(v),
                    extras: Some(Box::new(PrimitiveExtras {
                        id,
                        extension,
                        comments: Default::default(),
                    })),
                }
            }
            _ => Primitive {
                value: Some(value(self)),
                extras: None,
            },
        }
    }

    // ----- primitive values -------------------------------------------------

    /// Characters strings are made of, markup and escapes included; weighted
    /// towards letters by repetition.
    const TEXT: &'static [&'static str] = &[
        "a", "b", "e", "n", "s", "t", "Z", "0", "7", " ", "a", "e", "o", "r", "-", ".", "é", "ß",
        "Ω", "中", "😀", "<", ">", "&", "\"", "'", "\\", "/", ":", "\n", "\t", "\r", "]]>",
        "&amp;", "\u{a0}", "\u{2028}", "{", "}", "%", "#",
    ];

    fn text(&mut self, max: u32) -> String {
        let n = self.range(1, max);
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(Self::TEXT[self.pick(Self::TEXT.len())]);
        }
        s
    }

    /// A `string`: any text (not empty).
    pub fn string(&mut self) -> String {
        self.text(24)
    }

    /// A `markdown`: any text, some of it markdown.
    pub fn markdown(&mut self) -> String {
        let mut s = self.text(16);
        if self.chance(80) {
            s.push_str("\n\n* **bold** _it_ `code`\n");
        }
        s
    }

    fn chars_of(&mut self, set: &[u8], n: u32) -> String {
        (0..n).map(|_| set[self.pick(set.len())] as char).collect()
    }

    /// A `code`: tokens separated by single spaces.
    pub fn code(&mut self) -> String {
        const SET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCZ0123456789-_.:/|";
        let tokens = self.range(1, 2);
        let mut out = Vec::new();
        for _ in 0..tokens {
            let n = self.range(1, 10);
            out.push(self.chars_of(SET, n));
        }
        out.join(" ")
    }

    /// An `id`: 1 to 64 of `A-Z a-z 0-9 - .`.
    pub fn id(&mut self) -> String {
        const SET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.";
        let n = if self.chance(16) {
            64
        } else {
            self.range(1, 12)
        };
        self.chars_of(SET, n)
    }

    /// An element id (`Element.id`, an XML attribute).
    pub fn element_id(&mut self) -> String {
        self.id()
    }

    /// A `uri`: no whitespace, but markup characters and non-ASCII.
    pub fn uri(&mut self) -> String {
        const STARTS: &[&str] = &[
            "http://example.org/fhir/",
            "https://fhir.nhs.uk/STU3/StructureDefinition/",
            "urn:uuid:",
            "urn:oid:1.2.",
            "#",
            "Patient/",
            "",
        ];
        const SET: &[u8] = b"abcxyz019-._~:/?#[]@!$&'()*+,;=%<>\"";
        let start = STARTS[self.pick(STARTS.len())];
        let n = self.range(1, 16);
        let mut s = format!("{start}{}", self.chars_of(SET, n));
        if self.chance(24) {
            s.push('é');
        }
        s
    }

    /// An `oid`: `urn:oid:` and a dotted OID.
    pub fn oid(&mut self) -> String {
        let mut s = format!("urn:oid:{}", self.pick(3));
        for _ in 0..self.range(1, 6) {
            s.push_str(&format!(".{}", self.range(1, 99_999)));
        }
        s
    }

    /// A `uuid`: `urn:uuid:` and a lowercase UUID.
    pub fn uuid(&mut self) -> String {
        const HEX: &[u8] = b"0123456789abcdef";
        let parts: Vec<String> = [8, 4, 4, 4, 12]
            .iter()
            .map(|&n| self.chars_of(HEX, n))
            .collect();
        format!("urn:uuid:{}", parts.join("-"))
    }

    /// A `boolean`.
    pub fn boolean(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// An `integer`: often an edge value.
    pub fn integer(&mut self) -> i32 {
        const EDGES: &[i32] = &[0, 1, -1, i32::MAX, i32::MIN, 1000, -42];
        if self.chance(128) {
            EDGES[self.pick(EDGES.len())]
        } else {
            self.range(0, u32::MAX) as i32
        }
    }

    /// An `unsignedInt`: 0 to 2³¹−1.
    pub fn unsigned_int(&mut self) -> u32 {
        self.range(0, i32::MAX as u32)
    }

    /// A `positiveInt`: 1 to 2³¹−1.
    pub fn positive_int(&mut self) -> NonZeroU32 {
        NonZeroU32::new(self.range(1, i32::MAX as u32)).unwrap_or(NonZeroU32::MIN)
    }

    fn digits(&mut self, n: u32) -> String {
        self.chars_of(b"0123456789", n)
    }

    /// A `decimal`, as text: up to 40 digits, trailing zeros kept, sometimes an
    /// exponent (of one or two digits).
    pub fn decimal(&mut self) -> DecimalValue {
        let mut s = String::new();
        if self.chance(80) {
            s.push('-');
        }
        let long = self.chance(128);
        let int_len = if long {
            self.range(1, 24)
        } else {
            self.range(1, 4)
        };
        if int_len == 1 || self.chance(40) {
            s.push_str(&self.digits(1));
        } else {
            s.push_str(&self.chars_of(b"123456789", 1));
            s.push_str(&self.digits(int_len - 1));
        }
        if self.chance(160) {
            let frac = if long {
                self.range(1, 16)
            } else {
                self.range(1, 3)
            };
            s.push('.');
            s.push_str(&self.digits(frac));
            if self.chance(60) {
                s.push('0');
            }
        }
        if self.chance(24) {
            s.push(if self.boolean() { 'e' } else { 'E' });
            match self.pick(3) {
                0 => {}
                1 => s.push('+'),
                _ => s.push('-'),
            }
            // At most two digits: within a double's range, as FHIR asks.
            let n = self.range(1, 2);
            s.push_str(&self.digits(n));
        }
        DecimalValue::new_unchecked(s)
    }

    fn year(&mut self) -> u32 {
        if self.chance(24) {
            [1, 999, 1900, 2000, 9999][self.pick(5)]
        } else {
            self.range(1900, 2100)
        }
    }

    fn ymd(&mut self) -> (u32, u32, u32) {
        let y = self.year();
        let m = self.range(1, 12);
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let days = match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (y, m, self.range(1, days))
    }

    fn clock(&mut self, fraction: bool) -> String {
        let mut s = format!(
            "{:02}:{:02}:{:02}",
            self.range(0, 23),
            self.range(0, 59),
            self.range(0, 59)
        );
        if fraction && self.chance(80) {
            let n = self.range(1, 9);
            s.push('.');
            s.push_str(&self.digits(n));
        }
        s
    }

    fn zone(&mut self) -> String {
        match self.pick(4) {
            0 => "Z".to_owned(),
            1 => "+00:00".to_owned(),
            2 => format!("+{:02}:{:02}", self.range(0, 13), [0, 30, 45][self.pick(3)]),
            _ => format!("-{:02}:{:02}", self.range(0, 12), [0, 30][self.pick(2)]),
        }
    }

    fn date_text(&mut self) -> String {
        let (y, m, d) = self.ymd();
        match self.pick(4) {
            0 => format!("{y:04}"),
            1 => format!("{y:04}-{m:02}"),
            _ => format!("{y:04}-{m:02}-{d:02}"),
        }
    }

    /// A `date`: year, year and month, or a full date.
    pub fn date(&mut self) -> DateValue {
        let text = self.date_text();
        DateValue::parse(&text).unwrap_or_else(|e| panic!("drew an invalid date: {e}"))
    }

    /// A `dateTime`: a partial date, or a date and time with a zone.
    pub fn date_time(&mut self) -> DateTimeValue {
        let text = if self.boolean() {
            self.date_text()
        } else {
            let (y, m, d) = self.ymd();
            let clock = self.clock(true);
            let zone = self.zone();
            format!("{y:04}-{m:02}-{d:02}T{clock}{zone}")
        };
        DateTimeValue::parse(&text).unwrap_or_else(|e| panic!("drew an invalid dateTime: {e}"))
    }

    /// An `instant`: a full date and time with a zone.
    pub fn instant(&mut self) -> InstantValue {
        let (y, m, d) = self.ymd();
        let clock = self.clock(true);
        let zone = self.zone();
        let text = format!("{y:04}-{m:02}-{d:02}T{clock}{zone}");
        InstantValue::parse(&text).unwrap_or_else(|e| panic!("drew an invalid instant: {e}"))
    }

    /// A `time`.
    pub fn time(&mut self) -> TimeValue {
        let text = self.clock(true);
        TimeValue::parse(&text).unwrap_or_else(|e| panic!("drew an invalid time: {e}"))
    }

    /// A `base64Binary`: 1 to 48 bytes, encoded.
    pub fn base64_binary(&mut self) -> Base64Value {
        let n = self.range(1, 48);
        let bytes: Vec<u8> = (0..n).map(|_| self.byte()).collect();
        Base64Value::from_bytes(&bytes)
    }

    /// A narrative `div` (always a value: XHTML has no extensions): text with
    /// entity and character references, markup, attributes and comments.
    pub fn xhtml(&mut self) -> Primitive<XhtmlValue> {
        const PARTS: &[&str] = &[
            "Text",
            " and more text ",
            "a &amp; b",
            "1 &lt; 2 &gt; 0",
            "&quot;quoted&quot; &apos;",
            "&#160;",
            "&#x1F600;",
            "&#169; NHS",
            "é 中 😀",
            "<p>para</p>",
            "<b>bold</b>",
            "<br/>",
            "<a href=\"http://example.org/?a=1&amp;b=2\">link</a>",
            "<span title=\"&quot;t&quot; &lt;\">x</span>",
            "<ul><li>one</li><li>two &amp; three</li></ul>",
            "<table><tr><td>1</td></tr></table>",
            "<!-- a comment -->",
            "\n  ",
        ];
        let mut s = String::from("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
        for _ in 0..self.range(1, 6) {
            s.push_str(PARTS[self.pick(PARTS.len())]);
        }
        s.push_str("</div>");
        Primitive {
            value: Some(XhtmlValue::new(s)),
            extras: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhir_stu3::resources::Patient;
    use fhir_stu3::Resource;

    #[test]
    fn zero_bytes_draw_the_smallest_value() {
        let p = Patient::generate(&mut Gen::new(&[]));
        assert_eq!(p, Patient::default());
        // The first resource type, with nothing optional.
        let r = Resource::generate(&mut Gen::new(&[0; 64]));
        assert_eq!(r.resource_type(), "Account");
        assert_eq!(r.to_json(), r#"{"resourceType":"Account"}"#);
    }

    #[test]
    fn the_same_bytes_draw_the_same_value() {
        let bytes: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let a = Resource::generate(&mut Gen::new(&bytes));
        let b = Resource::generate(&mut Gen::new(&bytes));
        assert_eq!(a, b);
        assert_eq!(a.to_json(), b.to_json());
    }

    #[test]
    fn drawn_primitives_follow_their_lexical_rules() {
        use fhir_runtime::value::StrKind;
        let bytes: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut g = Gen::new(&bytes);
        for _ in 0..300 {
            assert!(StrKind::Code.is_valid(&g.code()));
            assert!(StrKind::Id.is_valid(&g.id()));
            assert!(StrKind::Uri.is_valid(&g.uri()));
            assert!(StrKind::Oid.is_valid(&g.oid()));
            assert!(StrKind::Uuid.is_valid(&g.uuid()));
            let d = g.decimal();
            assert!(d.is_valid(), "{}", d.as_str());
            let x = g.xhtml();
            fhir_runtime::primitive::check_xhtml_div(x.value.as_ref().unwrap().as_str()).unwrap();
            assert!(!g.string().is_empty());
        }
    }
}
