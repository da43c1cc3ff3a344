//! What the generated code calls: reading values and sub-extensions out of an
//! [`Extension`] (collecting every problem) and writing them back. Kept here,
//! written once, so that each generated type is a few lines of data.

use fhir_runtime::Choice;
use fhir_stu3::datatypes::{
    Address, Age, Annotation, AnyValue, Attachment, CodeableConcept, Coding, ContactPoint, Count,
    Distance, Duration, Extension, HumanName, Identifier, Meta, Money, Period, Quantity, Range,
    Ratio, Reference, SampledData, Signature, Timing,
};
use fhir_stu3::primitives::{
    Base64Binary, Boolean, Code, Date, DateTime, Decimal, FhirString, Id, Instant, Integer,
    Markdown, Oid, PositiveInt, Time, UnsignedInt, Uri,
};

use crate::ExtensionError;

/// How values of one Rust type sit in `Extension.value[x]`.
pub(crate) struct Kind<T> {
    /// What the value should be, for messages: `valueBoolean`.
    pub expected: &'static str,
    /// The value, if `AnyValue` holds this kind.
    pub from: fn(&AnyValue) -> Option<T>,
    /// The value as `Extension.value[x]`.
    pub to: fn(&T) -> AnyValue,
}

macro_rules! primitive_kinds {
    ($($name:ident: $ty:ty = $variant:ident;)*) => {$(
        #[allow(dead_code)]
        pub(crate) const $name: Kind<$ty> = Kind {
            expected: concat!("value", stringify!($variant)),
            from: |v| match v {
                AnyValue::$variant(x) => Some(x.clone()),
                _ => None,
            },
            to: |x| AnyValue::$variant(x.clone()),
        };
    )*};
}

macro_rules! complex_kinds {
    ($($name:ident: $ty:ty = $variant:ident;)*) => {$(
        #[allow(dead_code)]
        pub(crate) const $name: Kind<$ty> = Kind {
            expected: concat!("value", stringify!($variant)),
            from: |v| match v {
                AnyValue::$variant(x) => Some((**x).clone()),
                _ => None,
            },
            to: |x| AnyValue::$variant(Box::new(x.clone())),
        };
    )*};
}

primitive_kinds! {
    BASE64_BINARY: Base64Binary = Base64Binary;
    BOOLEAN: Boolean = Boolean;
    CODE: Code = Code;
    DATE: Date = Date;
    DATE_TIME: DateTime = DateTime;
    DECIMAL: Decimal = Decimal;
    ID: Id = Id;
    INSTANT: Instant = Instant;
    INTEGER: Integer = Integer;
    MARKDOWN: Markdown = Markdown;
    OID: Oid = Oid;
    POSITIVE_INT: PositiveInt = PositiveInt;
    STRING: FhirString = String;
    TIME: Time = Time;
    UNSIGNED_INT: UnsignedInt = UnsignedInt;
    URI: Uri = Uri;
}

complex_kinds! {
    ADDRESS: Address = Address;
    AGE: Age = Age;
    ANNOTATION: Annotation = Annotation;
    ATTACHMENT: Attachment = Attachment;
    CODEABLE_CONCEPT: CodeableConcept = CodeableConcept;
    CODING: Coding = Coding;
    CONTACT_POINT: ContactPoint = ContactPoint;
    COUNT: Count = Count;
    DISTANCE: Distance = Distance;
    DURATION: Duration = Duration;
    HUMAN_NAME: HumanName = HumanName;
    IDENTIFIER: Identifier = Identifier;
    MONEY: Money = Money;
    PERIOD: Period = Period;
    QUANTITY: Quantity = Quantity;
    RANGE: Range = Range;
    RATIO: Ratio = Ratio;
    REFERENCE: Reference = Reference;
    SAMPLED_DATA: SampledData = SampledData;
    SIGNATURE: Signature = Signature;
    TIMING: Timing = Timing;
    META: Meta = Meta;
}

/// Any type of value (the open type `*`).
#[allow(dead_code)]
pub(crate) const ANY: Kind<AnyValue> = Kind {
    expected: "a value",
    from: |v| Some(v.clone()),
    to: |v| v.clone(),
};

/// The decoder of a nested (complex) sub-extension type.
pub(crate) type Decode<T> = fn(&Extension, &str, &mut Vec<ExtensionError>) -> Option<T>;

fn err(errors: &mut Vec<ExtensionError>, path: String, message: String) {
    errors.push(ExtensionError { path, message });
}

/// `valueString`, for messages.
fn found(v: &AnyValue) -> String {
    format!("value{}", v.type_suffix())
}

/// Checks `Extension.url`, then decodes; `Ok` only when nothing was wrong.
pub(crate) fn decode_top<T>(
    ext: &Extension,
    url: &str,
    decode: Decode<T>,
) -> Result<T, Vec<ExtensionError>> {
    let mut errors = Vec::new();
    match ext.url.as_deref() {
        Some(u) if u == url => {}
        Some(u) => err(
            &mut errors,
            "Extension.url".to_owned(),
            format!("expected `{url}`, found `{u}`"),
        ),
        None => err(
            &mut errors,
            "Extension.url".to_owned(),
            format!("missing; expected `{url}`"),
        ),
    }
    let value = decode(ext, "Extension", &mut errors);
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(errors),
    }
}

/// The value of a simple extension or sub-extension at `path`.
pub(crate) fn value<T>(
    ext: &Extension,
    path: &str,
    kind: &Kind<T>,
    errors: &mut Vec<ExtensionError>,
) -> Option<T> {
    if !ext.extension.is_empty() {
        err(
            errors,
            format!("{path}.extension"),
            format!(
                "found {} sub-extension(s); this extension has a value ({}) and no sub-extensions",
                ext.extension.len(),
                kind.expected
            ),
        );
    }
    match &ext.value {
        None => {
            err(
                errors,
                format!("{path}.value"),
                format!("missing; expected {}", kind.expected),
            );
            None
        }
        Some(v) => {
            let typed = (kind.from)(v);
            if typed.is_none() {
                err(
                    errors,
                    format!("{path}.value"),
                    format!("expected {}, found {}", kind.expected, found(v)),
                );
            }
            typed
        }
    }
}

/// One named sub-extension of a complex extension: its `url` and cardinality.
pub(crate) struct Slice {
    pub url: &'static str,
    pub min: u32,
    /// `u32::MAX` for `*`.
    pub max: u32,
}

fn cardinality(s: &Slice) -> String {
    if s.max == u32::MAX {
        format!("{}..*", s.min)
    } else {
        format!("{}..{}", s.min, s.max)
    }
}

/// Reads the sub-extensions of a complex extension, slice by slice.
pub(crate) struct Complex<'a, 'e> {
    ext: &'a Extension,
    path: String,
    slices: &'static [Slice],
    errors: &'e mut Vec<ExtensionError>,
}

impl<'a, 'e> Complex<'a, 'e> {
    /// Checks what can be checked at once: no value, every slice's count, urls present.
    pub fn new(
        ext: &'a Extension,
        path: &str,
        slices: &'static [Slice],
        errors: &'e mut Vec<ExtensionError>,
    ) -> Self {
        if let Some(v) = &ext.value {
            err(
                errors,
                format!("{path}.value"),
                format!(
                    "found {}; a complex extension has sub-extensions and no value",
                    found(v)
                ),
            );
        }
        for (i, e) in ext.extension.iter().enumerate() {
            if e.url.is_none() {
                err(
                    errors,
                    format!("{path}.extension[{i}].url"),
                    "missing; every sub-extension needs a url".to_owned(),
                );
            }
        }
        for s in slices {
            let n = ext
                .extension
                .iter()
                .filter(|e| e.url.as_deref() == Some(s.url))
                .count();
            let at = format!("{path}.extension('{}')", s.url);
            if s.max == 0 && n > 0 {
                err(
                    errors,
                    at,
                    format!("sub-extension `{}` is not allowed (0..0)", s.url),
                );
            } else if n == 0 && s.min > 0 {
                err(
                    errors,
                    at,
                    format!(
                        "required sub-extension `{}` is missing ({})",
                        s.url,
                        cardinality(s)
                    ),
                );
            } else if (n as u64) < u64::from(s.min) {
                err(
                    errors,
                    at,
                    format!(
                        "sub-extension `{}` occurs {n} time(s), at least {} required ({})",
                        s.url,
                        s.min,
                        cardinality(s)
                    ),
                );
            } else if (n as u64) > u64::from(s.max) {
                err(
                    errors,
                    at,
                    format!(
                        "sub-extension `{}` occurs {n} times, at most {} allowed ({})",
                        s.url,
                        s.max,
                        cardinality(s)
                    ),
                );
            }
        }
        Complex {
            ext,
            path: path.to_owned(),
            slices,
            errors,
        }
    }

    fn occurrences(&self, i: usize) -> impl Iterator<Item = (String, &'a Extension)> + '_ {
        let ext: &'a Extension = self.ext;
        let s = &self.slices[i];
        let many = s.max > 1;
        ext.extension
            .iter()
            .filter(move |e| e.url.as_deref() == Some(s.url))
            .enumerate()
            .map(move |(k, e)| {
                let path = if many {
                    format!("{}.extension('{}')[{k}]", self.path, s.url)
                } else {
                    format!("{}.extension('{}')", self.path, s.url)
                };
                (path, e)
            })
    }

    /// The value of the first occurrence of slice `i`.
    pub fn first<T>(&mut self, i: usize, kind: &Kind<T>) -> Option<T> {
        let (path, e) = self.occurrences(i).next()?;
        value(e, &path, kind, self.errors)
    }

    /// The values of every occurrence of slice `i`.
    pub fn all<T>(&mut self, i: usize, kind: &Kind<T>) -> Vec<T> {
        let found: Vec<_> = self.occurrences(i).collect();
        found
            .into_iter()
            .filter_map(|(path, e)| value(e, &path, kind, self.errors))
            .collect()
    }

    /// The first occurrence of slice `i`, itself complex (no 0..1 complex slice
    /// in today's packages).
    #[allow(dead_code)]
    pub fn first_nested<T>(&mut self, i: usize, decode: Decode<T>) -> Option<T> {
        let (path, e) = self.occurrences(i).next()?;
        decode(e, &path, self.errors)
    }

    /// Every occurrence of slice `i`, itself complex.
    pub fn all_nested<T>(&mut self, i: usize, decode: Decode<T>) -> Vec<T> {
        let found: Vec<_> = self.occurrences(i).collect();
        found
            .into_iter()
            .filter_map(|(path, e)| decode(e, &path, self.errors))
            .collect()
    }

    /// Sub-extensions no slice claims (the slicing is open), in their order.
    pub fn others(&self) -> Vec<Extension> {
        self.ext
            .extension
            .iter()
            .filter(|e| {
                e.url.is_some() && !self.slices.iter().any(|s| e.url.as_deref() == Some(s.url))
            })
            .cloned()
            .collect()
    }
}

/// A sub-extension holding one value.
pub(crate) fn sub<T>(url: &str, kind: &Kind<T>, v: &T) -> Extension {
    Extension {
        url: Some(url.to_owned()),
        value: Some((kind.to)(v)),
        ..Default::default()
    }
}

/// A simple extension.
pub(crate) fn simple<T>(id: &Option<String>, url: &str, kind: &Kind<T>, v: &T) -> Extension {
    Extension {
        id: id.clone(),
        url: Some(url.to_owned()),
        value: Some((kind.to)(v)),
        ..Default::default()
    }
}

/// A complex extension.
pub(crate) fn complex(id: &Option<String>, url: &str, list: Vec<Extension>) -> Extension {
    Extension {
        id: id.clone(),
        url: Some(url.to_owned()),
        extension: list.into(),
        ..Default::default()
    }
}
