//! FHIR STU3 primitive values that need more than a plain Rust scalar.
//!
//! Every value type here keeps the *exact text* it was read from, so that a
//! resource can be written back byte for byte (`1.50` stays `1.50`,
//! `2019-03` stays a month-precision date, base64 keeps its line breaks).
//! Typed views (`f64`, `chrono` dates and times, decoded bytes) are computed
//! on request.
//!
//! Each type offers two constructors:
//!
//! * `parse` checks the text against the STU3 lexical rule (the regular
//!   expression from the specification, implemented as a hand-written byte
//!   scanner) and allocates exactly once on success;
//! * `new_unchecked` keeps any text, for lenient readers that must not lose
//!   malformed input. `is_valid` tells whether such a value follows the rule,
//!   and every typed view returns `None` (or an error) for invalid text.
//!
//! Nothing in this module panics, whatever the input.
//!
//! Equality and hashing of all value types are *textual*: `1.5` and `1.50`
//! are different `DecimalValue`s, as are `2019-01-01T00:00:00Z` and
//! `2019-01-01T01:00:00+01:00`.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use chrono::{Datelike as _, Offset as _};

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// At most this many characters of an offending value are quoted in an
/// error message.
const SHOWN_MAX_CHARS: usize = 80;

/// Renders `text` for an error message: truncated to [`SHOWN_MAX_CHARS`]
/// characters, with control characters and whitespace other than the plain
/// space escaped so the message stays on one line.
fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(SHOWN_MAX_CHARS * 4) + 4);
    for (count, c) in text.chars().enumerate() {
        if count == SHOWN_MAX_CHARS {
            out.push('…');
            break;
        }
        if c == ' ' || !(c.is_control() || c.is_whitespace()) {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out
}

/// Builds the standard "`value` is not a valid type ..." message.
fn invalid(text: &str, type_name: &str, detail: &str) -> String {
    format!("`{}` is not a valid {}{}", shown(text), type_name, detail)
}

/// Implements the text-keeping boilerplate shared by all value newtypes:
/// `new_unchecked`, `as_str`, `into_string`, `Display`, `AsRef<str>` and,
/// when a `parse` exists, `FromStr`.
macro_rules! text_value {
    ($ty:ident, $what:literal) => {
        impl $ty {
            #[doc = concat!("Wraps `text` as ", $what, " without checking it.")]
            ///
            /// Meant for lenient readers that must keep malformed input;
            /// `is_valid` tells whether the text follows the rule, and
            /// typed views return `None` (or an error) when it does not.
            pub fn new_unchecked(text: impl Into<String>) -> Self {
                $ty(text.into())
            }

            /// The exact text of the value.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Gives back the exact text of the value, without copying.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                $ty::parse(text)
            }
        }
    };
}

/// A forward-only cursor over the bytes of a value, used by the scanners.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn at_end(&self) -> bool {
        self.at >= self.bytes.len()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `prefix` if the remaining input starts with it.
    fn eat_all(&mut self, prefix: &[u8]) -> bool {
        match self.bytes.get(self.at..) {
            Some(rest) if rest.starts_with(prefix) => {
                self.at += prefix.len();
                true
            }
            _ => false,
        }
    }

    /// Consumes one ASCII digit `[0-9]` and returns its value.
    fn digit(&mut self) -> Option<u32> {
        match self.peek() {
            Some(b @ b'0'..=b'9') => {
                self.at += 1;
                Some(u32::from(b - b'0'))
            }
            _ => None,
        }
    }

    /// Consumes exactly two ASCII digits and returns their value.
    fn two_digits(&mut self) -> Option<u32> {
        let tens = self.digit()?;
        let ones = self.digit()?;
        Some(tens * 10 + ones)
    }

    /// Consumes any number of ASCII digits; returns how many.
    fn skip_digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }
}

// ---------------------------------------------------------------------------
// String-like primitives
// ---------------------------------------------------------------------------

/// Which lexical rule a FHIR string-like primitive follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrKind {
    /// `string`: any text.
    String,
    /// `code`: no leading or trailing whitespace, no two whitespace
    /// characters in a row (`[^\s]+([\s]?[^\s]+)*`).
    Code,
    /// `id`: 1 to 64 characters from `A-Z a-z 0-9 - .`.
    Id,
    /// `uri`: no whitespace (`\S*`).
    Uri,
    /// `markdown`: any text.
    Markdown,
    /// `oid`: `urn:oid:` followed by a dotted OID (`urn:oid:[0-2](\.[1-9]\d*)+`).
    Oid,
    /// `uuid`: `urn:uuid:` followed by a lowercase UUID.
    Uuid,
}

impl StrKind {
    /// FHIR type name: "string", "code", "id", "uri", "markdown", "oid", "uuid".
    pub fn type_name(self) -> &'static str {
        match self {
            StrKind::String => "string",
            StrKind::Code => "code",
            StrKind::Id => "id",
            StrKind::Uri => "uri",
            StrKind::Markdown => "markdown",
            StrKind::Oid => "oid",
            StrKind::Uuid => "uuid",
        }
    }

    /// Checks `text` against the STU3 rule of this kind; `Err(message)` says
    /// why, e.g. "`ab c ` is not a valid code: it has leading or trailing
    /// whitespace".
    ///
    /// `string` and `markdown` accept any text (whether a value may be
    /// empty is checked elsewhere). Whitespace means Unicode `White_Space`
    /// (as `\s` in the `regex` crate and [`char::is_whitespace`]); digits in
    /// `oid` are the ASCII digits `0-9`.
    pub fn check(self, text: &str) -> Result<(), String> {
        match self.problem(text) {
            None => Ok(()),
            Some(why) => Err(invalid(text, self.type_name(), &format!(": {why}"))),
        }
    }

    /// Whether `text` follows the STU3 rule of this kind; like
    /// [`check`](Self::check) but never allocates.
    pub fn is_valid(self, text: &str) -> bool {
        self.problem(text).is_none()
    }

    /// Why `text` breaks the rule of this kind, if it does.
    fn problem(self, text: &str) -> Option<&'static str> {
        match self {
            StrKind::String | StrKind::Markdown => None,
            StrKind::Code => code_problem(text),
            StrKind::Id => id_problem(text),
            StrKind::Uri => {
                let has_space = if text.is_ascii() {
                    text.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0B)
                } else {
                    text.chars().any(char::is_whitespace)
                };
                if has_space {
                    Some("it contains whitespace")
                } else {
                    None
                }
            }
            StrKind::Oid => oid_problem(text),
            StrKind::Uuid => uuid_problem(text),
        }
    }
}

/// `[^\s]+([\s]?[^\s]+)*`: non-empty, no whitespace at either end, never
/// two whitespace characters in a row.
fn code_problem(text: &str) -> Option<&'static str> {
    let mut chars = text.chars();
    let first = match chars.next() {
        None => return Some("it is empty"),
        Some(c) => c,
    };
    if first.is_whitespace() || text.chars().next_back().is_some_and(char::is_whitespace) {
        return Some("it has leading or trailing whitespace");
    }
    let mut previous_was_space = false;
    if text.is_ascii() {
        // The common case, byte by byte (`char::is_whitespace` on ASCII is these six).
        for b in text.bytes() {
            let space = matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
            if space && previous_was_space {
                return Some("it has two whitespace characters in a row");
            }
            previous_was_space = space;
        }
        return None;
    }
    for c in chars {
        let space = c.is_whitespace();
        if space && previous_was_space {
            return Some("it has two whitespace characters in a row");
        }
        previous_was_space = space;
    }
    None
}

/// `[A-Za-z0-9\-\.]{1,64}`.
fn id_problem(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        return Some("it is empty");
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Some("it may only contain the characters A-Z, a-z, 0-9, `-` and `.`");
    }
    if text.len() > 64 {
        return Some("it is longer than 64 characters");
    }
    None
}

/// `urn:oid:[0-2](\.[1-9][0-9]*)+`.
fn oid_problem(text: &str) -> Option<&'static str> {
    let mut c = Cursor::new(text);
    if !c.eat_all(b"urn:oid:") {
        return Some("it does not start with `urn:oid:`");
    }
    const SHAPE: &str = "after `urn:oid:` it must be 0, 1 or 2 followed by one or more \
                         `.N` parts, N a number without leading zeros (e.g. urn:oid:1.2.3)";
    if !matches!(c.peek(), Some(b'0'..=b'2')) {
        return Some(SHAPE);
    }
    c.at += 1;
    let mut parts = 0usize;
    while c.eat(b'.') {
        if !matches!(c.peek(), Some(b'1'..=b'9')) {
            return Some(SHAPE);
        }
        c.skip_digits();
        parts += 1;
    }
    if parts == 0 || !c.at_end() {
        return Some(SHAPE);
    }
    None
}

/// `urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`.
fn uuid_problem(text: &str) -> Option<&'static str> {
    let rest = match text.as_bytes().strip_prefix(b"urn:uuid:") {
        None => return Some("it does not start with `urn:uuid:`"),
        Some(rest) => rest,
    };
    let shaped = rest.len() == 36
        && rest.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        });
    if shaped {
        None
    } else {
        Some(
            "after `urn:uuid:` it must be a UUID in lowercase hex digits, \
             grouped 8-4-4-4-12 and separated by `-`",
        )
    }
}

// ---------------------------------------------------------------------------
// decimal
// ---------------------------------------------------------------------------

/// A FHIR `decimal`, kept as its exact text (`1.50` stays `1.50`), with a numeric view.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DecimalValue(String);

text_value!(DecimalValue, "a decimal");

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(crate) fn is_decimal(text: &str) -> bool {
    let mut c = Cursor::new(text);
    c.eat(b'-');
    match c.peek() {
        Some(b'0') => c.at += 1,
        Some(b'1'..=b'9') => {
            c.skip_digits();
        }
        _ => return false,
    }
    if c.eat(b'.') && c.skip_digits() == 0 {
        return false;
    }
    if c.eat(b'e') || c.eat(b'E') {
        if !c.eat(b'+') {
            c.eat(b'-');
        }
        if c.skip_digits() == 0 {
            return false;
        }
    }
    c.at_end()
}

impl DecimalValue {
    /// Checks `text` against the STU3 decimal rule
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` and keeps it as is.
    pub fn parse(text: &str) -> Result<Self, String> {
        if is_decimal(text) {
            Ok(DecimalValue(text.to_owned()))
        } else {
            Err(invalid(
                text,
                "decimal",
                " (an optional `-`, digits without leading zeros, an optional \
                 fraction and exponent, e.g. 1, -0.5, 1.50 or 1e3)",
            ))
        }
    }

    /// Whether the text follows the STU3 decimal rule.
    pub fn is_valid(&self) -> bool {
        is_decimal(&self.0)
    }

    /// The nearest `f64`, or `None` when the text is not a valid decimal or
    /// its magnitude is too large for an `f64` (e.g. `1e400`).
    ///
    /// Very small magnitudes round to zero (`1e-400` gives `0.0`).
    pub fn to_f64(&self) -> Option<f64> {
        if !self.is_valid() {
            return None;
        }
        self.0.parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

impl From<i64> for DecimalValue {
    fn from(value: i64) -> Self {
        DecimalValue(value.to_string())
    }
}

impl From<i32> for DecimalValue {
    fn from(value: i32) -> Self {
        DecimalValue(value.to_string())
    }
}

/// Converts a finite `f64` to the shortest decimal text that reads back as
/// the same `f64`.
///
/// Integral values are written without a fraction (`1.0` gives `1`), `-0.0`
/// gives `-0`, and `0.1` gives `0.1`. Magnitudes of `1e21` and above, or
/// below `1e-6`, use exponent notation (`1e21`, `1.5e-7`) instead of long
/// runs of zeros. NaN and the infinities are rejected.
impl TryFrom<f64> for DecimalValue {
    type Error = String;

    fn try_from(value: f64) -> Result<Self, String> {
        if !value.is_finite() {
            return Err(format!(
                "`{value}` is not a finite number and has no FHIR decimal form"
            ));
        }
        let magnitude = value.abs();
        let text = if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
            format!("{value:e}")
        } else {
            format!("{value}")
        };
        Ok(DecimalValue(text))
    }
}

// ---------------------------------------------------------------------------
// date, dateTime, instant, time
// ---------------------------------------------------------------------------

/// How much of a date or date-time is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DatePrecision {
    /// Only the year: `YYYY`.
    Year,
    /// Year and month: `YYYY-MM`.
    Month,
    /// A full date: `YYYY-MM-DD`.
    Day,
    /// A date-time with seconds (with or without a fraction) and a zone.
    Second,
}

/// A time of day as scanned: `hh:mm:ss(.f+)?`.
#[derive(Clone, Copy)]
struct TimeParts {
    hour: u32,
    minute: u32,
    second: u32,
    /// The fraction in nanoseconds; digits after the ninth are dropped.
    nanos: u32,
}

/// A date or date-time as scanned by [`scan_date_time`].
#[derive(Clone, Copy)]
struct DateTimeParts {
    year: i32,
    month: Option<u32>,
    /// Present only with `month`.
    day: Option<u32>,
    /// Present only with `day`; the zone offset is in seconds east of UTC.
    time: Option<(TimeParts, i32)>,
}

impl DateTimeParts {
    fn precision(&self) -> DatePrecision {
        if self.time.is_some() {
            DatePrecision::Second
        } else if self.day.is_some() {
            DatePrecision::Day
        } else if self.month.is_some() {
            DatePrecision::Month
        } else {
            DatePrecision::Year
        }
    }

    /// The calendar date, when the day is given and exists.
    fn naive_date(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::from_ymd_opt(self.year, self.month?, self.day?)
    }

    /// The instant, when a time is given and the date exists.
    fn date_time(&self) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        let (time, offset) = self.time?;
        let local =
            self.naive_date()?
                .and_hms_nano_opt(time.hour, time.minute, time.second, time.nanos)?;
        let zone = chrono::FixedOffset::east_opt(offset)?;
        chrono::TimeZone::from_local_datetime(&zone, &local).single()
    }
}

/// Scans `hh:mm:ss(\.[0-9]+)?` with `hh` 00-23 and `mm`, `ss` 00-59.
fn scan_time(c: &mut Cursor<'_>) -> Option<TimeParts> {
    let hour = c.two_digits().filter(|h| *h <= 23)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = c.two_digits().filter(|m| *m <= 59)?;
    if !c.eat(b':') {
        return None;
    }
    let second = c.two_digits().filter(|s| *s <= 59)?;
    let mut nanos = 0u32;
    if c.eat(b'.') {
        let mut kept = 0u32;
        let mut any = false;
        while let Some(d) = c.digit() {
            any = true;
            if kept < 9 {
                nanos = nanos * 10 + d;
                kept += 1;
            }
        }
        if !any {
            return None;
        }
        nanos *= 10u32.pow(9 - kept);
    }
    Some(TimeParts {
        hour,
        minute,
        second,
        nanos,
    })
}

/// Scans `Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)`; returns the offset in
/// seconds east of UTC.
fn scan_zone(c: &mut Cursor<'_>) -> Option<i32> {
    if c.eat(b'Z') {
        return Some(0);
    }
    let sign = if c.eat(b'+') {
        1
    } else if c.eat(b'-') {
        -1
    } else {
        return None;
    };
    let hours = c.two_digits()?;
    if !c.eat(b':') {
        return None;
    }
    let minutes = c.two_digits()?;
    let allowed = (hours <= 13 && minutes <= 59) || (hours == 14 && minutes == 0);
    if !allowed {
        return None;
    }
    // At most 14 * 3600 = 50_400, which fits an i32.
    let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Some(sign * seconds)
}

/// Scans the STU3 `dateTime` rule, whose prefixes are the `date` rule and
/// whose full form is the `instant` rule:
///
/// `-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1])(T` time zone `)?)?)?`
///
/// Every optional group is followed only by the end of the text, so a
/// group that starts but does not complete means no match; no backtracking
/// is needed.
fn scan_date_time(text: &str) -> Option<DateTimeParts> {
    let mut c = Cursor::new(text);
    let negative = c.eat(b'-');
    let high = c.two_digits()?;
    let low = c.two_digits()?;
    // At most 9999, which fits an i32.
    let magnitude = i32::try_from(high * 100 + low).ok()?;
    let mut parts = DateTimeParts {
        year: if negative { -magnitude } else { magnitude },
        month: None,
        day: None,
        time: None,
    };
    if c.eat(b'-') {
        parts.month = Some(c.two_digits().filter(|m| (1..=12).contains(m))?);
        if c.eat(b'-') {
            parts.day = Some(c.two_digits().filter(|d| *d <= 31)?);
            if c.eat(b'T') {
                let time = scan_time(&mut c)?;
                let zone = scan_zone(&mut c)?;
                parts.time = Some((time, zone));
            }
        }
    }
    if c.at_end() {
        Some(parts)
    } else {
        None
    }
}

/// Scans the STU3 `date` rule.
fn scan_date(text: &str) -> Option<DateTimeParts> {
    scan_date_time(text).filter(|p| p.time.is_none())
}

/// Scans the STU3 `instant` rule.
fn scan_instant(text: &str) -> Option<DateTimeParts> {
    scan_date_time(text).filter(|p| p.time.is_some())
}

/// Scans the STU3 `time` rule `([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?`.
fn scan_time_value(text: &str) -> Option<TimeParts> {
    let mut c = Cursor::new(text);
    let time = scan_time(&mut c)?;
    if c.at_end() {
        Some(time)
    } else {
        None
    }
}

/// Appends a year as `YYYY` or `-YYYY` (more digits if it has them).
fn push_year(out: &mut String, year: i32) {
    // Writing to a String cannot fail.
    let _ = if year < 0 {
        write!(out, "-{:04}", year.unsigned_abs())
    } else {
        write!(out, "{year:04}")
    };
}

/// Appends `-MM-DD` or any other two-digit field with its separator.
fn push_two(out: &mut String, separator: char, value: u32) {
    let _ = write!(out, "{separator}{value:02}");
}

fn push_date(out: &mut String, date: chrono::NaiveDate) {
    push_year(out, date.year());
    push_two(out, '-', date.month());
    push_two(out, '-', date.day());
}

/// Appends `hh:mm:ss` and, when the fraction is not zero, `.fff`, `.ffffff`
/// or `.fffffffff` (the shortest of these that is exact). A chrono leap
/// second (nanoseconds of a second ≥ 1e9) is written as `59.999999999`,
/// since FHIR has no second 60.
fn push_time(out: &mut String, time: &impl chrono::Timelike) {
    let _ = write!(out, "{:02}", time.hour());
    push_two(out, ':', time.minute());
    push_two(out, ':', time.second());
    let nanos = time.nanosecond().min(999_999_999);
    let _ = if nanos == 0 {
        Ok(())
    } else if nanos % 1_000_000 == 0 {
        write!(out, ".{:03}", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        write!(out, ".{:06}", nanos / 1_000)
    } else {
        write!(out, ".{nanos:09}")
    };
}

/// RFC 3339 text within the FHIR rule: the date-time in its own offset when
/// FHIR can express that offset (whole minutes, at most 14:00 either way),
/// otherwise converted to UTC; `Z` for offset zero.
fn format_date_time<Tz: chrono::TimeZone>(dt: &chrono::DateTime<Tz>) -> String {
    let fixed = dt.offset().fix();
    let offset = fixed.local_minus_utc();
    let utc = dt.naive_utc();
    // `checked_add_offset` rather than `naive_local`, which panics at the
    // edges of chrono's range.
    let local = if offset % 60 == 0 && offset.abs() <= 14 * 3600 {
        utc.checked_add_offset(fixed)
    } else {
        None
    };
    let (local, offset) = match local {
        Some(local) => (local, offset),
        None => (utc, 0),
    };
    let mut out = String::with_capacity(35);
    push_date(&mut out, local.date());
    out.push('T');
    push_time(&mut out, &local.time());
    if offset == 0 {
        out.push('Z');
    } else {
        out.push(if offset < 0 { '-' } else { '+' });
        let minutes = offset.unsigned_abs() / 60;
        let _ = write!(out, "{:02}", minutes / 60);
        push_two(&mut out, ':', minutes % 60);
    }
    out
}

const DATE_FORMS: &str = " (YYYY, YYYY-MM or YYYY-MM-DD)";
const DATE_TIME_FORMS: &str = " (YYYY, YYYY-MM, YYYY-MM-DD or \
                               YYYY-MM-DDThh:mm:ss[.fff] followed by Z, +hh:mm or -hh:mm)";
const INSTANT_FORMS: &str = " (YYYY-MM-DDThh:mm:ss[.fff] followed by Z, +hh:mm or -hh:mm)";
const TIME_FORMS: &str = " (hh:mm:ss or hh:mm:ss.fff)";

/// A FHIR `date`, kept as its exact text: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
///
/// The rule is the STU3 regular expression
/// `-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1]))?)?`, quirks
/// included: day `00` and dates such as `2019-02-30` pass `parse`, and only
/// [`to_naive_date`](Self::to_naive_date) rejects them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DateValue(String);

text_value!(DateValue, "a date");

impl DateValue {
    /// Checks `text` against the STU3 date rule and keeps it as is.
    pub fn parse(text: &str) -> Result<Self, String> {
        match scan_date(text) {
            Some(_) => Ok(DateValue(text.to_owned())),
            None => Err(invalid(text, "date", DATE_FORMS)),
        }
    }

    /// Whether the text follows the STU3 date rule.
    pub fn is_valid(&self) -> bool {
        scan_date(&self.0).is_some()
    }

    /// Year, month or day precision; `None` when the text is not valid.
    pub fn precision(&self) -> Option<DatePrecision> {
        scan_date(&self.0).map(|p| p.precision())
    }

    /// The year (negative for `-YYYY`); `None` when the text is not valid.
    pub fn year(&self) -> Option<i32> {
        scan_date(&self.0).map(|p| p.year)
    }

    /// The calendar date, only for full dates (`YYYY-MM-DD`) that exist:
    /// `2019-02-30` and day `00` give `None`.
    pub fn to_naive_date(&self) -> Option<chrono::NaiveDate> {
        scan_date(&self.0)?.naive_date()
    }

    /// The full date `YYYY-MM-DD`. Years outside `-9999..=9999` have no
    /// FHIR form; they are written with more digits and the result is not
    /// [`is_valid`](Self::is_valid).
    pub fn from_naive_date(d: chrono::NaiveDate) -> Self {
        let mut out = String::with_capacity(11);
        push_date(&mut out, d);
        DateValue(out)
    }

    /// The year-precision date `YYYY` (`-YYYY` for negative years). Years
    /// outside `-9999..=9999` have no FHIR form; they are written with more
    /// digits and the result is not [`is_valid`](Self::is_valid).
    pub fn from_year(y: i32) -> Self {
        let mut out = String::with_capacity(5);
        push_year(&mut out, y);
        DateValue(out)
    }

    /// The month-precision date `YYYY-MM`; `None` when `m` is not 1 to 12
    /// or `y` is outside `-9999..=9999`.
    pub fn from_year_month(y: i32, m: u32) -> Option<Self> {
        if !(1..=12).contains(&m) || !(-9999..=9999).contains(&y) {
            return None;
        }
        let mut out = String::with_capacity(8);
        push_year(&mut out, y);
        push_two(&mut out, '-', m);
        Some(DateValue(out))
    }
}

/// A FHIR `dateTime`, kept as its exact text: a `date` (year, month or day
/// precision) or a full date-time with seconds and a zone.
///
/// The rule is the STU3 regular expression
/// `-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?`;
/// as for [`DateValue`], impossible calendar dates pass `parse` and are
/// rejected only by the chrono conversions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DateTimeValue(String);

text_value!(DateTimeValue, "a dateTime");

impl DateTimeValue {
    /// Checks `text` against the STU3 dateTime rule and keeps it as is.
    pub fn parse(text: &str) -> Result<Self, String> {
        match scan_date_time(text) {
            Some(_) => Ok(DateTimeValue(text.to_owned())),
            None => Err(invalid(text, "dateTime", DATE_TIME_FORMS)),
        }
    }

    /// Whether the text follows the STU3 dateTime rule.
    pub fn is_valid(&self) -> bool {
        scan_date_time(&self.0).is_some()
    }

    /// Year, month, day or second precision; `None` when the text is not valid.
    pub fn precision(&self) -> Option<DatePrecision> {
        scan_date_time(&self.0).map(|p| p.precision())
    }

    /// The year (negative for `-YYYY`); `None` when the text is not valid.
    pub fn year(&self) -> Option<i32> {
        scan_date_time(&self.0).map(|p| p.year)
    }

    /// The calendar date as written (not converted to UTC), when at least
    /// day precision is given and the date exists.
    pub fn to_naive_date(&self) -> Option<chrono::NaiveDate> {
        scan_date_time(&self.0)?.naive_date()
    }

    /// The instant with its written offset, only for a full date-time with
    /// zone whose date exists. Fraction digits after the ninth are dropped.
    pub fn to_datetime(&self) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        scan_date_time(&self.0)?.date_time()
    }

    /// RFC 3339 text: seconds precision, plus `.fff`, `.ffffff` or
    /// `.fffffffff` when the sub-second part is not zero; `Z` for offset
    /// zero. Offsets FHIR cannot express (not whole minutes, or beyond
    /// ±14:00) are converted to UTC. Years outside `-9999..=9999` give a
    /// value that is not [`is_valid`](Self::is_valid).
    pub fn from_datetime<Tz: chrono::TimeZone>(dt: &chrono::DateTime<Tz>) -> Self
    where
        Tz::Offset: fmt::Display,
    {
        DateTimeValue(format_date_time(dt))
    }

    /// The same text as a dateTime (every valid date is a valid dateTime).
    pub fn from_date(d: DateValue) -> Self {
        DateTimeValue(d.0)
    }
}

impl From<DateValue> for DateTimeValue {
    fn from(d: DateValue) -> Self {
        DateTimeValue::from_date(d)
    }
}

impl From<InstantValue> for DateTimeValue {
    fn from(i: InstantValue) -> Self {
        DateTimeValue(i.0)
    }
}

/// A FHIR `instant`, kept as its exact text: a full date-time with seconds
/// and a zone.
///
/// The rule is the STU3 regular expression
/// `-?[0-9]{4}-(0[1-9]|1[0-2])-(0[0-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InstantValue(String);

text_value!(InstantValue, "an instant");

impl InstantValue {
    /// Checks `text` against the STU3 instant rule and keeps it as is.
    pub fn parse(text: &str) -> Result<Self, String> {
        match scan_instant(text) {
            Some(_) => Ok(InstantValue(text.to_owned())),
            None => Err(invalid(text, "instant", INSTANT_FORMS)),
        }
    }

    /// Whether the text follows the STU3 instant rule.
    pub fn is_valid(&self) -> bool {
        scan_instant(&self.0).is_some()
    }

    /// The instant with its written offset; `None` when the text is not
    /// valid or its date does not exist. Fraction digits after the ninth
    /// are dropped.
    pub fn to_datetime(&self) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        scan_instant(&self.0)?.date_time()
    }

    /// RFC 3339 text, as [`DateTimeValue::from_datetime`].
    pub fn from_datetime<Tz: chrono::TimeZone>(dt: &chrono::DateTime<Tz>) -> Self
    where
        Tz::Offset: fmt::Display,
    {
        InstantValue(format_date_time(dt))
    }
}

/// A FHIR `time` of day, kept as its exact text: `hh:mm:ss` with an
/// optional fraction (STU3 rule
/// `([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimeValue(String);

text_value!(TimeValue, "a time");

impl TimeValue {
    /// Checks `text` against the STU3 time rule and keeps it as is.
    pub fn parse(text: &str) -> Result<Self, String> {
        match scan_time_value(text) {
            Some(_) => Ok(TimeValue(text.to_owned())),
            None => Err(invalid(text, "time", TIME_FORMS)),
        }
    }

    /// Whether the text follows the STU3 time rule.
    pub fn is_valid(&self) -> bool {
        scan_time_value(&self.0).is_some()
    }

    /// The time of day; `None` when the text is not valid. Fraction digits
    /// after the ninth are dropped.
    pub fn to_naive_time(&self) -> Option<chrono::NaiveTime> {
        let t = scan_time_value(&self.0)?;
        chrono::NaiveTime::from_hms_nano_opt(t.hour, t.minute, t.second, t.nanos)
    }

    /// `hh:mm:ss`, plus `.fff`, `.ffffff` or `.fffffffff` when the
    /// sub-second part is not zero. A leap second is written as
    /// `hh:mm:59.999999999`.
    pub fn from_naive_time(t: chrono::NaiveTime) -> Self {
        let mut out = String::with_capacity(18);
        push_time(&mut out, &t);
        TimeValue(out)
    }
}

// ---------------------------------------------------------------------------
// base64Binary
// ---------------------------------------------------------------------------

/// Whitespace tolerated anywhere in base64 text.
fn is_base64_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The 6-bit value of a standard-alphabet base64 symbol.
fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Why `text` is not valid base64, if it is not. Besides the alphabet,
/// length and padding rules, the symbol before the padding must not carry
/// bits the padding declares unused (as in XML Schema's `base64Binary`).
/// Byte classes for base64 checking: 1 = alphabet symbol, 2 = whitespace, 3 = `=`, 0 = invalid.
const BASE64_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => 1,
            b' ' | b'\t' | b'\r' | b'\n' => 2,
            b'=' => 3,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// Branch-free alphabet test (`A-Z a-z 0-9 + /`), for vectorised scanning.
#[inline(always)]
fn is_base64_symbol(b: u8) -> bool {
    // `+` is 0x2B, `/` is 0x2F, `0`-`9` follow at 0x30: so `+`..`9` minus `,` `-` `.`.
    let lower = b | 0x20;
    (lower.wrapping_sub(b'a') < 26) | (b.wrapping_sub(b'/') < 11) | (b == b'+')
}

fn base64_problem(text: &str) -> Option<&'static str> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut symbols = 0usize;
    let mut padding = 0usize;
    let mut last = 0u8;
    let mut i = 0;
    // Bulk: 32-byte chunks of symbols and whitespace only, counted with range
    // tests the compiler vectorises. The rest (padding, faults, the tail) is
    // checked byte by byte below.
    while let Some(chunk) = bytes.get(i..i + 32) {
        let mut bad = 0u8;
        let mut count = 0u8;
        for &b in chunk {
            let sym = is_base64_symbol(b);
            let space = (b == b' ') | (b == b'\n') | (b == b'\r') | (b == b'\t');
            bad |= u8::from(!(sym | space));
            count += u8::from(sym);
        }
        if bad != 0 {
            break;
        }
        symbols += usize::from(count);
        i += 32;
    }
    if let Some(&b) = bytes[..i]
        .iter()
        .rev()
        .find(|&&b| BASE64_CLASS[b as usize] == 1)
    {
        last = sextet(b).unwrap_or(0);
    }
    while i < n {
        // A run of alphabet symbols.
        let run_start = i;
        while i < n && BASE64_CLASS[bytes[i] as usize] == 1 {
            i += 1;
        }
        if i > run_start {
            if padding > 0 {
                return Some("`=` padding may only appear at the end");
            }
            symbols += i - run_start;
            last = sextet(bytes[i - 1]).unwrap_or(0);
        }
        if i == n {
            break;
        }
        match BASE64_CLASS[bytes[i] as usize] {
            2 => {}
            3 => {
                padding += 1;
                if padding > 2 {
                    return Some("it has more than two `=` padding characters");
                }
                symbols += 1;
            }
            _ => {
                return Some(
                    "it may only contain A-Z, a-z, 0-9, `+`, `/`, `=` padding \
                     and whitespace",
                )
            }
        }
        i += 1;
    }
    if symbols % 4 != 0 {
        return Some("its length without whitespace is not a multiple of 4");
    }
    let unused_bits = match padding {
        1 => last & 0b11,
        2 => last & 0b1111,
        _ => 0,
    };
    if unused_bits != 0 {
        return Some(
            "the character before the `=` padding sets bits that the padding marks unused",
        );
    }
    None
}

/// Decoding is lenient where `parse` is strict: padding may be missing and
/// unused trailing bits may be set.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A FHIR `base64Binary`, kept as its exact text (line breaks and all) and decoded on request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Base64Value(String);

text_value!(Base64Value, "a base64Binary");

impl Base64Value {
    /// Checks `text` as standard base64 (`A-Z a-z 0-9 + /`, `=` padding),
    /// tolerating ASCII whitespace (space, tab, CR, LF) anywhere, and keeps
    /// it as is. Without whitespace the length must be a multiple of 4,
    /// padding may only come at the end, and the symbol before the padding
    /// must not set unused bits (`QQ==` is valid, `QR==` is not). The empty
    /// text is valid (no bytes).
    pub fn parse(text: &str) -> Result<Self, String> {
        match base64_problem(text) {
            None => Ok(Base64Value(text.to_owned())),
            Some(why) => Err(invalid(text, "base64Binary", &format!(": {why}"))),
        }
    }

    /// Like [`parse`](Self::parse), taking the text by value (no copy). On
    /// failure gives back (message, text).
    pub fn parse_owned(text: String) -> Result<Self, (String, String)> {
        match base64_problem(&text) {
            None => Ok(Base64Value(text)),
            Some(why) => Err((invalid(&text, "base64Binary", &format!(": {why}")), text)),
        }
    }

    /// Encodes `bytes` in the standard alphabet, padded, without line breaks.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Base64Value(STANDARD.encode(bytes))
    }

    /// The decoded bytes. Whitespace is ignored; decoding is a little more
    /// lenient than [`parse`](Self::parse) (missing padding and set unused
    /// bits are accepted), so every valid value decodes.
    pub fn decode(&self) -> Result<Vec<u8>, String> {
        let bytes = self.0.as_bytes();
        let result = if bytes.iter().copied().any(is_base64_space) {
            let compact: Vec<u8> = bytes
                .iter()
                .copied()
                .filter(|b| !is_base64_space(*b))
                .collect();
            LENIENT_BASE64.decode(compact)
        } else {
            LENIENT_BASE64.decode(bytes)
        };
        result.map_err(|e| invalid(&self.0, "base64Binary", &format!(": {e}")))
    }

    /// The number of bytes [`decode`](Self::decode) gives: exact for valid
    /// values, an estimate otherwise. Scans the text, without decoding.
    pub fn decoded_len_estimate(&self) -> usize {
        let symbols = self
            .0
            .bytes()
            .filter(|b| !is_base64_space(*b) && *b != b'=')
            .count();
        symbols / 4 * 3 + (symbols % 4) * 3 / 4
    }

    /// Whether the text follows the rules of [`parse`](Self::parse).
    pub fn is_valid(&self) -> bool {
        base64_problem(&self.0).is_none()
    }
}

// ---------------------------------------------------------------------------
// xhtml
// ---------------------------------------------------------------------------

/// The XHTML of a narrative `div`, kept exactly as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct XhtmlValue(String);

impl XhtmlValue {
    /// Wraps the XHTML text as is; it is not checked.
    pub fn new(text: impl Into<String>) -> Self {
        XhtmlValue(text.into())
    }

    /// The exact XHTML text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Gives back the exact XHTML text, without copying.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for XhtmlValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for XhtmlValue {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
