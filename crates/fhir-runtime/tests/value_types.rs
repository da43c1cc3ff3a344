//! Tests for `fhir_runtime::value`: the hand-written lexical checks are
//! compared with the `regex` crate compiled from the exact STU3 regular
//! expressions over hand-picked edge cases and thousands of deterministic
//! mutations; the typed views (precision, chrono, f64, base64) are tested
//! directly.

use std::collections::BTreeSet;

use base64::Engine as _;
use chrono::{Datelike as _, FixedOffset, NaiveDate, NaiveTime, TimeZone as _, Timelike as _, Utc};
use fhir_runtime::value::*;
use regex::Regex;

// ---------------------------------------------------------------------------
// Deterministic case generation
// ---------------------------------------------------------------------------

/// SplitMix64: small, deterministic, good enough to shuffle test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Mutations per type.
const MUTATIONS: usize = 4000;
/// Purely random strings per type.
const RANDOM: usize = 600;

/// Hand-picked cases, plus `MUTATIONS` strings made by applying one to four
/// insert / delete / replace / truncate / duplicate operations (characters
/// from `alphabet`) to a random hand-picked case, plus `RANDOM` strings of
/// alphabet characters. Duplicates are removed.
fn corpus(seed: u64, cases: &[&str], alphabet: &str) -> BTreeSet<String> {
    let alphabet: Vec<char> = alphabet.chars().collect();
    let mut rng = Rng(seed);
    let mut out: BTreeSet<String> = cases.iter().map(|s| s.to_string()).collect();
    for _ in 0..MUTATIONS {
        let mut chars: Vec<char> = rng.pick(cases).chars().collect();
        // One operation half of the time, up to four otherwise.
        let operations = if rng.below(2) == 0 {
            1
        } else {
            1 + rng.below(4)
        };
        for _ in 0..operations {
            match rng.below(6) {
                0 | 1 => {
                    let at = rng.below(chars.len() + 1);
                    chars.insert(at, *rng.pick(&alphabet));
                }
                2 if !chars.is_empty() => {
                    let at = rng.below(chars.len());
                    chars.remove(at);
                }
                3 if !chars.is_empty() => {
                    let at = rng.below(chars.len());
                    chars[at] = *rng.pick(&alphabet);
                }
                4 if !chars.is_empty() => {
                    let at = rng.below(chars.len());
                    chars.truncate(at);
                }
                _ if !chars.is_empty() => {
                    let from = rng.below(chars.len());
                    let to = from + rng.below(chars.len() - from) + 1;
                    let piece: Vec<char> = chars[from..to].to_vec();
                    let at = rng.below(chars.len() + 1);
                    chars.splice(at..at, piece);
                }
                _ => chars.push(*rng.pick(&alphabet)),
            }
        }
        out.insert(chars.into_iter().collect());
    }
    for _ in 0..RANDOM {
        let len = rng.below(14);
        let s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
        out.insert(s);
    }
    out
}

/// Grammar-guided cases per type, near the lexical rules.
const GENERATED: usize = 2000;

/// Two digits whose tens digit is at most `max_tens` (so fields land on
/// both sides of their limits), or now and then a single digit.
fn field(rng: &mut Rng, max_tens: usize) -> String {
    if rng.below(40) == 0 {
        return rng.below(10).to_string();
    }
    format!("{}{}", rng.below(max_tens + 1), rng.below(10))
}

/// `hh:mm:ss` with an optional fraction, fields often out of range.
fn time_like(rng: &mut Rng) -> String {
    let mut s = format!("{}:{}:{}", field(rng, 2), field(rng, 6), field(rng, 6));
    if rng.below(3) == 0 {
        s.push('.');
        for _ in 0..rng.below(12) {
            s.push(char::from(b'0' + rng.below(10) as u8));
        }
    }
    s
}

/// A date, date-time or instant shape, fields often out of range.
fn date_like(rng: &mut Rng) -> String {
    let mut s = String::new();
    if rng.below(10) == 0 {
        s.push('-');
    }
    let year_digits = [4, 4, 4, 4, 4, 4, 4, 4, 3, 5][rng.below(10)];
    for _ in 0..year_digits {
        s.push(char::from(b'0' + rng.below(10) as u8));
    }
    if rng.below(5) == 0 {
        return s;
    }
    s = format!("{s}-{}", field(rng, 1));
    if rng.below(5) == 0 {
        return s;
    }
    s = format!("{s}-{}", field(rng, 3));
    if rng.below(4) == 0 {
        return s;
    }
    s = format!("{s}T{}", time_like(rng));
    match rng.below(8) {
        0 => {}
        1 => s.push('z'),
        2 | 3 => s.push('Z'),
        _ => {
            s.push(if rng.below(2) == 0 { '+' } else { '-' });
            s = format!("{s}{}:{}", field(rng, 1), field(rng, 6));
        }
    }
    s
}

/// `urn:uuid:` and 36 characters, mostly lowercase hex with dashes in place.
fn uuid_like(rng: &mut Rng) -> String {
    let mut s = String::from(if rng.below(20) == 0 {
        "urn:uuid"
    } else {
        "urn:uuid:"
    });
    let len = [36, 36, 36, 36, 36, 36, 35, 37][rng.below(8)];
    for i in 0..len {
        let c = if rng.below(60) == 0 {
            *rng.pick(&['A', 'F', 'g', '-', ' ', '0'])
        } else if matches!(i, 8 | 13 | 18 | 23) {
            '-'
        } else {
            *rng.pick(&"0123456789abcdef".chars().collect::<Vec<_>>())
        };
        s.push(c);
    }
    s
}

/// `urn:oid:` and dotted numbers, sometimes with leading zeros or empty parts.
fn oid_like(rng: &mut Rng) -> String {
    let mut s = String::from("urn:oid:");
    s.push(char::from(b'0' + rng.below(4) as u8));
    for _ in 0..rng.below(5) {
        s.push('.');
        for _ in 0..rng.below(4) {
            s.push(char::from(b'0' + rng.below(10) as u8));
        }
    }
    s
}

/// Adds `GENERATED` strings from `make` to `cases`.
fn with_generated(
    mut cases: BTreeSet<String>,
    seed: u64,
    make: fn(&mut Rng) -> String,
) -> BTreeSet<String> {
    let mut rng = Rng(seed);
    for _ in 0..GENERATED {
        cases.insert(make(&mut rng));
    }
    cases
}

/// Compares `check` with the anchored `pattern` on every case; returns how
/// many cases were compared. Also makes sure the corpus has plenty of both
/// accepted and rejected strings.
fn compare_with_regex(
    name: &str,
    pattern: &str,
    cases: &BTreeSet<String>,
    check: impl Fn(&str) -> bool,
) -> usize {
    let re = Regex::new(&format!("^(?:{pattern})$")).expect("spec regex compiles");
    let mut accepted = 0usize;
    let mut mismatches = Vec::new();
    for case in cases {
        let expected = re.is_match(case);
        let actual = check(case);
        if expected != actual {
            mismatches.push(format!("{case:?}: regex {expected}, check {actual}"));
        }
        accepted += usize::from(expected);
    }
    assert!(
        mismatches.is_empty(),
        "{name}: {} mismatches, e.g.\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let rejected = cases.len() - accepted;
    assert!(
        accepted >= 50 && rejected >= 50,
        "{name}: corpus too one-sided ({accepted} accepted, {rejected} rejected)"
    );
    println!(
        "{name}: {} cases compared with the regex ({accepted} valid, {rejected} invalid)",
        cases.len()
    );
    cases.len()
}

// ---------------------------------------------------------------------------
// The STU3 regular expressions, verbatim
// ---------------------------------------------------------------------------

const DATE_RE: &str = r"-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1]))?)?";
const DATE_TIME_RE: &str = r"-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?";
const INSTANT_RE: &str = r"-?[0-9]{4}-(0[1-9]|1[0-2])-(0[0-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))";
const TIME_RE: &str = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?";
const DECIMAL_RE: &str = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?";
const CODE_RE: &str = r"[^\s]+([\s]?[^\s]+)*";
const ID_RE: &str = r"[A-Za-z0-9\-\.]{1,64}";
const URI_RE: &str = r"\S*";
const OID_RE: &str = r"urn:oid:[0-2](\.[1-9]\d*)+";
const UUID_RE: &str = r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/// `\d` in the `regex` crate is Unicode `Nd`; the OID check deliberately
/// takes `\d` as ASCII `0-9` (OIDs are ASCII), so the comparison uses the
/// ASCII reading of the spec regex. See `oid_digits_are_ascii`.
fn oid_re_ascii() -> String {
    OID_RE.replace(r"\d", "[0-9]")
}

const DATE_TIME_ALPHABET: &str = "0123456789012345678901239-:T.Z+ zt\u{e9}\u{663}";

const DATE_TIME_CASES: &[&str] = &[
    "",
    "2019",
    "0000",
    "9999",
    "-0001",
    "-2019-03",
    "20190",
    "201",
    "2019-",
    "2019-1",
    "2019-00",
    "2019-01",
    "2019-09",
    "2019-10",
    "2019-12",
    "2019-13",
    "2019-20",
    "2019-1-01",
    "2019-01-00",
    "2019-01-01",
    "2019-02-29",
    "2019-02-30",
    "2019-01-09",
    "2019-01-10",
    "2019-01-19",
    "2019-01-20",
    "2019-01-29",
    "2019-01-30",
    "2019-01-31",
    "2019-01-32",
    "2019-01-40",
    "2019-01-1",
    "2019-01-011",
    "2019-01-01T",
    "2019-01-01T10:00:00",
    "2019-01-01T10:00:00Z",
    "2019-01-01T10:00Z",
    "2019-01-01T00:00:00Z",
    "2019-01-01T19:59:59Z",
    "2019-01-01T20:00:00Z",
    "2019-01-01T23:59:59Z",
    "2019-01-01T24:00:00Z",
    "2019-01-01T23:60:00Z",
    "2019-01-01T23:00:60Z",
    "2019-01-01T10:00:00.Z",
    "2019-01-01T10:00:00.1Z",
    "2019-01-01T10:00:00.123456789012Z",
    "2019-01-01T10:00:00+00:00",
    "2019-01-01T10:00:00-00:00",
    "2019-01-01T10:00:00+05:30",
    "2019-01-01T10:00:00+09:59",
    "2019-01-01T10:00:00+13:59",
    "2019-01-01T10:00:00-13:59",
    "2019-01-01T10:00:00+14:00",
    "2019-01-01T10:00:00-14:00",
    "2019-01-01T10:00:00+14:01",
    "2019-01-01T10:00:00+15:00",
    "2019-01-01T10:00:00+1400",
    "2019-01-01T10:00:00+05",
    "2019-01-01T10:00:00+05:60",
    "2019-01-01T10:00:00z",
    "2019-01-01t10:00:00Z",
    "2019-01-01 10:00:00Z",
    "2019-01-01T10:00:00ZZ",
    "-2019-01-01T10:00:00.5-03:00",
    "--2019",
    "+2019",
    " 2019",
    "2019 ",
    "2019-01-01T1:00:00Z",
];

const TIME_CASES: &[&str] = &[
    "",
    "00:00:00",
    "09:59:59",
    "10:00:00",
    "19:00:00",
    "20:00:00",
    "23:59:59",
    "24:00:00",
    "30:00:00",
    "23:60:00",
    "23:00:60",
    "12:00",
    "12:00:00.",
    "12:00:00.0",
    "12:00:00.123456789",
    "12:00:00.1234567891234",
    "12:00:00Z",
    "12:00:00+01:00",
    "1:00:00",
    "12:0:00",
    "12:00:0",
    "12-00-00",
    "T12:00:00",
];

const DECIMAL_CASES: &[&str] = &[
    "",
    "0",
    "-0",
    "00",
    "01",
    "1",
    "-1",
    "+1",
    "10",
    "1234567890",
    "1.5",
    "1.50",
    "0.010",
    "-0.0",
    "1.",
    ".5",
    "-.5",
    "1e3",
    "1E3",
    "1e+3",
    "1e-3",
    "1e",
    "1e+",
    "1.5e10",
    "1.5E-10",
    "0e0",
    "0.0e00",
    "-",
    "--1",
    "1-",
    "1..5",
    "1.5.5",
    "1e3e3",
    "1 ",
    " 1",
    "NaN",
    "inf",
    "0x10",
    "1_000",
    "123456789012345678901234567890.123456789012345678901234567890",
];

const CODE_CASES: &[&str] = &[
    "",
    "a",
    "abc",
    "a b",
    "a b c",
    "a  b",
    " a",
    "a ",
    "ab c ",
    "a\tb",
    "a\nb",
    "a\t\nb",
    "a\u{a0}b",
    "\u{a0}a",
    "a\u{3000}",
    "a\u{200b}b",
    "\u{200b}",
    "\u{feff}a",
    "a\u{85}b",
    "a\u{1680}\u{2003}b",
    "a\u{180e}b",
    "http://loinc.org",
    " ",
    "\t",
];

const WHITESPACE_ALPHABET: &str =
    "ab c  \t\n\r\u{b}\u{c}\u{a0}\u{85}\u{2003}\u{2028}\u{3000}\u{1680}\u{200b}\u{feff}\u{180e}\u{e9}:/";

const ID_CASES: &[&str] = &[
    "",
    "a",
    "A-1.b",
    "example",
    "-",
    ".",
    "a_b",
    "a b",
    "a/b",
    "\u{e9}",
    "123456789012345678901234567890123456789012345678901234567890123",
    "1234567890123456789012345678901234567890123456789012345678901234",
    "12345678901234567890123456789012345678901234567890123456789012345",
];

const OID_CASES: &[&str] = &[
    "",
    "urn:oid:",
    "urn:oid:1",
    "urn:oid:1.",
    "urn:oid:1.2",
    "urn:oid:0.1",
    "urn:oid:2.16.840.1.113883",
    "urn:oid:3.1",
    "urn:oid:1.0",
    "urn:oid:1.02",
    "urn:oid:1.20",
    "urn:oid:1..2",
    "urn:oid:01.2",
    "urn:oid:1.2.",
    "URN:OID:1.2",
    "urn:oid:1.2 ",
    "1.2.3",
];

const UUID_CASES: &[&str] = &[
    "",
    "urn:uuid:",
    "urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
    "urn:uuid:00000000-0000-0000-0000-000000000000",
    "urn:uuid:C757873D-EC9A-4326-A141-556F43239520",
    "urn:uuid:c757873dec9a4326a141556f43239520",
    "urn:uuid:c757873d-ec9a-4326-a141-556f4323952",
    "urn:uuid:c757873d-ec9a-4326-a141-556f432395200",
    "urn:uuid:c757873d-ec9a-4326-a141-556f4323952g",
    "urn:uuid:{c757873d-ec9a-4326-a141-556f43239520}",
    "c757873d-ec9a-4326-a141-556f43239520",
    "urn:uuid:c757873-dec9a-4326-a141-556f43239520",
];

const URI_CASES: &[&str] = &[
    "",
    "http://hl7.org/fhir",
    "urn:oid:1.2.3",
    "a b",
    " ",
    "x\u{a0}",
    "x\u{200b}y",
    "\u{feff}",
    "http://example.org/\u{e9}",
];

// ---------------------------------------------------------------------------
// Hand-written checks versus the regex crate
// ---------------------------------------------------------------------------

#[test]
fn date_matches_spec_regex() {
    let cases = with_generated(
        corpus(1, DATE_TIME_CASES, DATE_TIME_ALPHABET),
        101,
        date_like,
    );
    compare_with_regex("date", DATE_RE, &cases, |s| {
        let ok = DateValue::parse(s).is_ok();
        assert_eq!(ok, DateValue::new_unchecked(s).is_valid(), "{s:?}");
        assert_eq!(ok, s.parse::<DateValue>().is_ok(), "{s:?}");
        assert_eq!(
            ok,
            DateValue::new_unchecked(s).precision().is_some(),
            "{s:?}"
        );
        ok
    });
}

#[test]
fn date_time_matches_spec_regex() {
    let cases = with_generated(
        corpus(2, DATE_TIME_CASES, DATE_TIME_ALPHABET),
        102,
        date_like,
    );
    compare_with_regex("dateTime", DATE_TIME_RE, &cases, |s| {
        let ok = DateTimeValue::parse(s).is_ok();
        let value = DateTimeValue::new_unchecked(s);
        assert_eq!(ok, value.is_valid(), "{s:?}");
        assert_eq!(ok, value.precision().is_some(), "{s:?}");
        if value.to_datetime().is_some() {
            assert_eq!(value.precision(), Some(DatePrecision::Second), "{s:?}");
        }
        ok
    });
}

#[test]
fn instant_matches_spec_regex() {
    // Seeds with a time part, so that enough mutations stay valid.
    let mut seeds: Vec<&str> = DATE_TIME_CASES
        .iter()
        .copied()
        .filter(|s| s.contains('T'))
        .collect();
    seeds.extend(["2019", "2019-01-01", "0001-12-31T00:00:00.0Z"]);
    let cases = with_generated(corpus(3, &seeds, DATE_TIME_ALPHABET), 103, date_like);
    compare_with_regex("instant", INSTANT_RE, &cases, |s| {
        let ok = InstantValue::parse(s).is_ok();
        assert_eq!(ok, InstantValue::new_unchecked(s).is_valid(), "{s:?}");
        ok
    });
}

#[test]
fn time_matches_spec_regex() {
    let cases = with_generated(
        corpus(4, TIME_CASES, "0123456789012345:.Z+ "),
        104,
        time_like,
    );
    compare_with_regex("time", TIME_RE, &cases, |s| {
        let ok = TimeValue::parse(s).is_ok();
        let value = TimeValue::new_unchecked(s);
        assert_eq!(ok, value.is_valid(), "{s:?}");
        // Every valid time is a real time of day (no second 60).
        assert_eq!(ok, value.to_naive_time().is_some(), "{s:?}");
        ok
    });
}

#[test]
fn decimal_matches_spec_regex() {
    let cases = corpus(5, DECIMAL_CASES, "0123456789-+.eE x\u{663}");
    compare_with_regex("decimal", DECIMAL_RE, &cases, |s| {
        let ok = DecimalValue::parse(s).is_ok();
        let value = DecimalValue::new_unchecked(s);
        assert_eq!(ok, value.is_valid(), "{s:?}");
        if !ok {
            assert_eq!(value.to_f64(), None, "{s:?}");
        }
        ok
    });
}

/// Compares one `StrKind` with its regex, also checking that `check` and
/// `is_valid` agree.
fn compare_kind(kind: StrKind, pattern: &str, corpus: &BTreeSet<String>) -> usize {
    compare_with_regex(kind.type_name(), pattern, corpus, |s| {
        let ok = kind.check(s).is_ok();
        assert_eq!(ok, kind.is_valid(s), "{s:?}");
        ok
    })
}

#[test]
fn code_matches_spec_regex() {
    let cases = corpus(6, CODE_CASES, WHITESPACE_ALPHABET);
    compare_kind(StrKind::Code, CODE_RE, &cases);
}

#[test]
fn id_matches_spec_regex() {
    let cases = corpus(7, ID_CASES, "aZ09-._ /\u{e9}");
    compare_kind(StrKind::Id, ID_RE, &cases);
}

#[test]
fn uri_matches_spec_regex() {
    let cases = corpus(8, URI_CASES, WHITESPACE_ALPHABET);
    compare_kind(StrKind::Uri, URI_RE, &cases);
}

#[test]
fn oid_matches_spec_regex() {
    let cases = corpus(9, OID_CASES, "urn:oid:0123456789.....x \u{663}");
    let cases = with_generated(cases, 109, oid_like);
    compare_kind(StrKind::Oid, &oid_re_ascii(), &cases);
}

#[test]
fn uuid_matches_spec_regex() {
    let alphabet = "0123456789abcdef0123456789abcdef0123456789abcdef--ABCFgurn:id{ ";
    let cases = with_generated(corpus(10, UUID_CASES, alphabet), 110, uuid_like);
    compare_kind(StrKind::Uuid, UUID_RE, &cases);
}

#[test]
fn oid_digits_are_ascii() {
    // U+0663 ARABIC-INDIC DIGIT THREE is `\d` for the regex crate (Unicode
    // Nd), but not an OID digit.
    let text = "urn:oid:1.2\u{663}";
    assert!(Regex::new(&format!("^(?:{OID_RE})$"))
        .unwrap()
        .is_match(text));
    assert!(StrKind::Oid.check(text).is_err());
}

#[test]
fn string_and_markdown_accept_anything() {
    for text in ["", " ", "a  b", "\n", "**bold**\n\n  * item", "\u{0}"] {
        assert_eq!(StrKind::String.check(text), Ok(()));
        assert_eq!(StrKind::Markdown.check(text), Ok(()));
    }
}

#[test]
fn type_names() {
    let all = [
        (StrKind::String, "string"),
        (StrKind::Code, "code"),
        (StrKind::Id, "id"),
        (StrKind::Uri, "uri"),
        (StrKind::Markdown, "markdown"),
        (StrKind::Oid, "oid"),
        (StrKind::Uuid, "uuid"),
    ];
    for (kind, name) in all {
        assert_eq!(kind.type_name(), name);
    }
}

#[test]
fn error_messages_name_value_and_type() {
    assert_eq!(
        StrKind::Code.check("ab c ").unwrap_err(),
        "`ab c ` is not a valid code: it has leading or trailing whitespace"
    );
    assert_eq!(
        DateValue::parse("2019-13-01").unwrap_err(),
        "`2019-13-01` is not a valid date (YYYY, YYYY-MM or YYYY-MM-DD)"
    );
    let e = StrKind::Code.check("a  b").unwrap_err();
    assert!(e.contains("two whitespace characters in a row"), "{e}");
    let e = StrKind::Id.check("a_b").unwrap_err();
    assert!(e.starts_with("`a_b` is not a valid id: "), "{e}");
    let e = DateTimeValue::parse("2019-01-01T10:00").unwrap_err();
    assert!(
        e.starts_with("`2019-01-01T10:00` is not a valid dateTime"),
        "{e}"
    );
    let e = InstantValue::parse("2019").unwrap_err();
    assert!(e.starts_with("`2019` is not a valid instant"), "{e}");
    let e = TimeValue::parse("24:00:00").unwrap_err();
    assert!(e.starts_with("`24:00:00` is not a valid time"), "{e}");
    let e = DecimalValue::parse("01").unwrap_err();
    assert!(e.starts_with("`01` is not a valid decimal"), "{e}");
    let e = Base64Value::parse("QQ=").unwrap_err();
    assert!(e.starts_with("`QQ=` is not a valid base64Binary: "), "{e}");
    // Control characters are escaped and long values are shortened.
    let e = StrKind::Code.check("a\n\nb").unwrap_err();
    assert!(e.starts_with("`a\\n\\nb` is not a valid code"), "{e}");
    assert!(!e.contains('\n'));
    let long = "x ".repeat(1000);
    let e = StrKind::Code.check(&long).unwrap_err();
    assert!(e.len() < 300, "{e}");
    assert!(e.contains('…'));
}

// ---------------------------------------------------------------------------
// Dates and times
// ---------------------------------------------------------------------------

#[test]
fn precision() {
    let date = |s: &str| DateValue::parse(s).unwrap().precision();
    assert_eq!(date("2019"), Some(DatePrecision::Year));
    assert_eq!(date("2019-03"), Some(DatePrecision::Month));
    assert_eq!(date("2019-03-04"), Some(DatePrecision::Day));
    assert_eq!(DateValue::new_unchecked("2019-3").precision(), None);

    let date_time = |s: &str| DateTimeValue::parse(s).unwrap().precision();
    assert_eq!(date_time("-0044"), Some(DatePrecision::Year));
    assert_eq!(date_time("2019-03"), Some(DatePrecision::Month));
    assert_eq!(date_time("2019-03-04"), Some(DatePrecision::Day));
    assert_eq!(
        date_time("2019-03-04T10:11:12Z"),
        Some(DatePrecision::Second)
    );
    assert_eq!(
        date_time("2019-03-04T10:11:12.5+01:00"),
        Some(DatePrecision::Second)
    );
    assert_eq!(
        DateTimeValue::new_unchecked("2019-03-04T10:11").precision(),
        None
    );

    assert!(DatePrecision::Year < DatePrecision::Month);
    assert!(DatePrecision::Month < DatePrecision::Day);
    assert!(DatePrecision::Day < DatePrecision::Second);
}

#[test]
fn years() {
    assert_eq!(DateValue::parse("2019-03").unwrap().year(), Some(2019));
    assert_eq!(DateValue::parse("-0044").unwrap().year(), Some(-44));
    assert_eq!(DateValue::parse("0000").unwrap().year(), Some(0));
    assert_eq!(DateValue::new_unchecked("19").year(), None);
    assert_eq!(
        DateTimeValue::parse("1999-12-31T23:59:59Z").unwrap().year(),
        Some(1999)
    );
}

#[test]
fn date_chrono_conversions() {
    let d = |s: &str| DateValue::parse(s).unwrap().to_naive_date();
    assert_eq!(d("2019-03-04"), NaiveDate::from_ymd_opt(2019, 3, 4));
    assert_eq!(d("2020-02-29"), NaiveDate::from_ymd_opt(2020, 2, 29));
    assert_eq!(d("-0044-03-15"), NaiveDate::from_ymd_opt(-44, 3, 15));
    // The regex accepts these, chrono does not.
    assert_eq!(d("2019-02-30"), None);
    assert_eq!(d("2019-02-29"), None);
    assert_eq!(d("2019-04-31"), None);
    assert_eq!(d("2019-01-00"), None);
    // Partial dates have no calendar date.
    assert_eq!(d("2019"), None);
    assert_eq!(d("2019-03"), None);

    let date = NaiveDate::from_ymd_opt(2019, 3, 4).unwrap();
    let value = DateValue::from_naive_date(date);
    assert_eq!(value.as_str(), "2019-03-04");
    assert!(value.is_valid());
    assert_eq!(value.to_naive_date(), Some(date));
    let ancient = NaiveDate::from_ymd_opt(-44, 3, 15).unwrap();
    assert_eq!(DateValue::from_naive_date(ancient).as_str(), "-0044-03-15");
    let far = NaiveDate::from_ymd_opt(12019, 1, 1).unwrap();
    assert!(!DateValue::from_naive_date(far).is_valid());

    assert_eq!(DateValue::from_year(2019).as_str(), "2019");
    assert_eq!(DateValue::from_year(5).as_str(), "0005");
    assert_eq!(DateValue::from_year(-44).as_str(), "-0044");
    assert!(DateValue::from_year(-44).is_valid());
    assert!(!DateValue::from_year(10000).is_valid());
    assert!(!DateValue::from_year(i32::MIN).is_valid());
    assert_eq!(
        DateValue::from_year_month(2019, 3).unwrap().as_str(),
        "2019-03"
    );
    assert_eq!(
        DateValue::from_year_month(2019, 12).unwrap().as_str(),
        "2019-12"
    );
    assert_eq!(DateValue::from_year_month(2019, 0), None);
    assert_eq!(DateValue::from_year_month(2019, 13), None);
    assert_eq!(DateValue::from_year_month(10000, 1), None);
}

#[test]
fn date_time_chrono_conversions() {
    let v = DateTimeValue::parse("2019-03-04T10:11:12.5+05:30").unwrap();
    let dt = v.to_datetime().unwrap();
    assert_eq!(dt.offset().local_minus_utc(), 5 * 3600 + 30 * 60);
    assert_eq!((dt.year(), dt.month(), dt.day()), (2019, 3, 4));
    assert_eq!((dt.hour(), dt.minute(), dt.second()), (10, 11, 12));
    assert_eq!(dt.nanosecond(), 500_000_000);
    assert_eq!(v.to_naive_date(), NaiveDate::from_ymd_opt(2019, 3, 4));

    // Digits beyond nanoseconds are dropped.
    let v = DateTimeValue::parse("2019-03-04T10:11:12.1234567899Z").unwrap();
    assert_eq!(v.to_datetime().unwrap().nanosecond(), 123_456_789);

    // The local date, not the UTC one.
    let v = DateTimeValue::parse("2019-03-04T23:30:00-05:00").unwrap();
    assert_eq!(v.to_naive_date(), NaiveDate::from_ymd_opt(2019, 3, 4));
    assert_eq!(
        v.to_datetime().unwrap().naive_utc().date(),
        NaiveDate::from_ymd_opt(2019, 3, 5).unwrap()
    );

    // Partial precision: a date but no instant.
    let v = DateTimeValue::parse("2019-03-04").unwrap();
    assert_eq!(v.to_naive_date(), NaiveDate::from_ymd_opt(2019, 3, 4));
    assert_eq!(v.to_datetime(), None);
    assert_eq!(
        DateTimeValue::parse("2019-03").unwrap().to_naive_date(),
        None
    );

    // Impossible calendar dates parse but do not convert.
    let v = DateTimeValue::parse("2019-02-30T00:00:00Z").unwrap();
    assert_eq!(v.to_datetime(), None);
    assert_eq!(v.to_naive_date(), None);
    assert_eq!(
        DateTimeValue::parse("2019-02-30").unwrap().to_naive_date(),
        None
    );

    // from_datetime.
    let utc = Utc.with_ymd_and_hms(2019, 3, 4, 10, 11, 12).unwrap();
    assert_eq!(
        DateTimeValue::from_datetime(&utc).as_str(),
        "2019-03-04T10:11:12Z"
    );
    let plus = FixedOffset::east_opt(5 * 3600 + 30 * 60).unwrap();
    let local = plus.with_ymd_and_hms(2019, 3, 4, 10, 11, 12).unwrap();
    let v = DateTimeValue::from_datetime(&local);
    assert_eq!(v.as_str(), "2019-03-04T10:11:12+05:30");
    assert_eq!(v.to_datetime(), Some(local));
    let minus = FixedOffset::west_opt(14 * 3600).unwrap();
    let local = minus.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(
        DateTimeValue::from_datetime(&local).as_str(),
        "0001-01-01T00:00:00-14:00"
    );

    let with_nanos = |n: u32| {
        let dt = utc.with_nanosecond(n).unwrap();
        let v = DateTimeValue::from_datetime(&dt);
        assert!(v.is_valid(), "{v}");
        assert_eq!(v.to_datetime(), Some(dt.fixed_offset()));
        v.into_string()
    };
    assert_eq!(with_nanos(500_000_000), "2019-03-04T10:11:12.500Z");
    assert_eq!(with_nanos(123_456_000), "2019-03-04T10:11:12.123456Z");
    assert_eq!(with_nanos(1), "2019-03-04T10:11:12.000000001Z");

    // Offsets FHIR cannot write are converted to UTC, keeping the instant.
    for seconds in [30, 15 * 3600, -(14 * 3600 + 60)] {
        let odd = FixedOffset::east_opt(seconds).unwrap();
        let dt = odd.with_ymd_and_hms(2019, 3, 4, 10, 11, 12).unwrap();
        let v = DateTimeValue::from_datetime(&dt);
        assert!(v.is_valid(), "{v}");
        assert!(v.as_str().ends_with('Z'), "{v}");
        assert_eq!(v.to_datetime().unwrap(), dt);
    }

    let date = DateValue::parse("2019-03").unwrap();
    let v = DateTimeValue::from_date(date.clone());
    assert_eq!(v.as_str(), "2019-03");
    assert_eq!(DateTimeValue::from(date), v);
}

#[test]
fn instant_chrono_conversions() {
    let v = InstantValue::parse("2019-03-04T10:11:12.000+01:00").unwrap();
    let dt = v.to_datetime().unwrap();
    assert_eq!(
        dt,
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2019, 3, 4, 10, 11, 12)
            .unwrap()
    );
    assert_eq!(v.as_str(), "2019-03-04T10:11:12.000+01:00");
    assert_eq!(
        InstantValue::new_unchecked("2019-03-04").to_datetime(),
        None
    );
    assert_eq!(
        InstantValue::parse("2019-02-30T10:11:12Z")
            .unwrap()
            .to_datetime(),
        None
    );

    let utc = Utc.with_ymd_and_hms(2019, 3, 4, 10, 11, 12).unwrap();
    let v = InstantValue::from_datetime(&utc);
    assert_eq!(v.as_str(), "2019-03-04T10:11:12Z");
    assert!(v.is_valid());
    assert_eq!(DateTimeValue::from(v).as_str(), "2019-03-04T10:11:12Z");
}

#[test]
fn time_chrono_conversions() {
    let t = |s: &str| TimeValue::parse(s).unwrap().to_naive_time();
    assert_eq!(t("00:00:00"), NaiveTime::from_hms_opt(0, 0, 0));
    assert_eq!(t("23:59:59"), NaiveTime::from_hms_opt(23, 59, 59));
    assert_eq!(
        t("10:11:12.25"),
        NaiveTime::from_hms_milli_opt(10, 11, 12, 250)
    );
    assert_eq!(TimeValue::new_unchecked("24:00:00").to_naive_time(), None);

    let from = |t: NaiveTime| TimeValue::from_naive_time(t).into_string();
    assert_eq!(from(NaiveTime::from_hms_opt(9, 5, 7).unwrap()), "09:05:07");
    assert_eq!(
        from(NaiveTime::from_hms_milli_opt(9, 5, 7, 10).unwrap()),
        "09:05:07.010"
    );
    assert_eq!(
        from(NaiveTime::from_hms_micro_opt(9, 5, 7, 10).unwrap()),
        "09:05:07.000010"
    );
    // A chrono leap second has no FHIR form; it stays within second 59.
    let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
    let v = TimeValue::from_naive_time(leap);
    assert_eq!(v.as_str(), "23:59:59.999999999");
    assert!(v.is_valid());
}

// ---------------------------------------------------------------------------
// Decimals
// ---------------------------------------------------------------------------

#[test]
fn decimal_text_is_preserved() {
    for (text, number) in [
        ("1.50", 1.5),
        ("0.010", 0.01),
        ("-0.0", -0.0),
        ("1e3", 1000.0),
        ("1E-3", 0.001),
        ("0", 0.0),
        ("-12.345e+2", -1234.5),
    ] {
        let v = DecimalValue::parse(text).unwrap();
        assert_eq!(v.as_str(), text);
        assert_eq!(v.to_string(), text);
        assert_eq!(text.parse::<DecimalValue>().unwrap(), v);
        let f = v.to_f64().unwrap();
        assert_eq!(f, number, "{text}");
        assert_eq!(f.is_sign_negative(), number.is_sign_negative(), "{text}");
        assert_eq!(v.clone().into_string(), text);
    }
    assert_ne!(
        DecimalValue::parse("1.5").unwrap(),
        DecimalValue::parse("1.50").unwrap()
    );
    assert_eq!(DecimalValue::parse("1e400").unwrap().to_f64(), None);
    assert_eq!(DecimalValue::parse("1e-400").unwrap().to_f64(), Some(0.0));
    assert_eq!(DecimalValue::new_unchecked("1.").to_f64(), None);
    assert_eq!(DecimalValue::new_unchecked("inf").to_f64(), None);
    assert!(!DecimalValue::new_unchecked("+1").is_valid());
}

#[test]
fn decimal_from_numbers() {
    assert_eq!(DecimalValue::from(0i64).as_str(), "0");
    assert_eq!(
        DecimalValue::from(i64::MIN).as_str(),
        "-9223372036854775808"
    );
    assert_eq!(DecimalValue::from(-7i32).as_str(), "-7");
    assert!(DecimalValue::from(i64::MAX).is_valid());

    let f = |x: f64| DecimalValue::try_from(x).unwrap().into_string();
    assert_eq!(f(0.1), "0.1");
    assert_eq!(f(1.0), "1");
    assert_eq!(f(-2.5), "-2.5");
    assert_eq!(f(0.0), "0");
    assert_eq!(f(-0.0), "-0");
    assert_eq!(f(1e20), "100000000000000000000");
    assert_eq!(f(1e21), "1e21");
    assert_eq!(f(1.5e-7), "1.5e-7");
    assert_eq!(f(0.000001), "0.000001");
    assert!(DecimalValue::try_from(f64::NAN).is_err());
    assert!(DecimalValue::try_from(f64::INFINITY).is_err());
    assert!(DecimalValue::try_from(f64::NEG_INFINITY).is_err());

    // Every finite f64 gives valid text that reads back exactly.
    let mut rng = Rng(42);
    let specials = [
        f64::MIN,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        1e-7,
        123456.789,
    ];
    let randoms = (0..20_000).map(|_| f64::from_bits(rng.next()));
    for x in specials
        .into_iter()
        .chain(randoms)
        .filter(|x| x.is_finite())
    {
        let v = DecimalValue::try_from(x).unwrap();
        assert!(v.is_valid(), "{x:e} -> {v}");
        assert_eq!(
            v.to_f64().map(f64::to_bits),
            Some(x.to_bits()),
            "{x:e} -> {v}"
        );
    }
}

// ---------------------------------------------------------------------------
// base64Binary and xhtml
// ---------------------------------------------------------------------------

#[test]
fn base64_with_line_breaks_decodes() {
    let v = Base64Value::parse("SGVs\r\nbG8g\nV29y bGQ=\n").unwrap();
    assert_eq!(v.as_str(), "SGVs\r\nbG8g\nV29y bGQ=\n");
    assert_eq!(v.decode().unwrap(), b"Hello World");
    assert_eq!(v.decoded_len_estimate(), 11);

    let v = Base64Value::parse("\tSGVsbG8gV29ybGQ=").unwrap();
    assert_eq!(v.decode().unwrap(), b"Hello World");

    let v = Base64Value::parse("").unwrap();
    assert_eq!(v.decode().unwrap(), b"");
    assert_eq!(v.decoded_len_estimate(), 0);

    // MIME-style 76-character lines.
    let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let flat = Base64Value::from_bytes(&data).into_string();
    let wrapped: String = flat
        .as_bytes()
        .chunks(76)
        .map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap()))
        .collect();
    let v = Base64Value::parse(&wrapped).unwrap();
    assert_eq!(v.as_str(), wrapped);
    assert_eq!(v.decode().unwrap(), data);
    assert_eq!(v.decoded_len_estimate(), data.len());
}

#[test]
fn base64_invalid_inputs_rejected() {
    for text in [
        "SGVsbG8",
        "SGVsbG8==",
        "SGV=bG8=",
        "=SGVsbG8",
        "SGVsbG8===",
        "S===",
        "====",
        "=",
        "SGVs*G8=",
        "SGVs-G8=",
        "SGVs_G8=",
        "SGVs\u{b}bG8=",
        "SGVs\u{a0}bG8=",
        "SGVsbG8=\u{c}",
        "QR==",
        "QUJ=",
        "\u{e9}AAA",
    ] {
        assert!(
            Base64Value::parse(text).is_err(),
            "{text:?} should be rejected"
        );
        assert!(!Base64Value::new_unchecked(text).is_valid(), "{text:?}");
    }
    assert!(Base64Value::new_unchecked("@@@@").decode().is_err());
    assert!(Base64Value::new_unchecked("SG Vs*G8=").decode().is_err());
    // Decoding is lenient about missing padding and unused bits.
    assert_eq!(Base64Value::new_unchecked("QQ").decode().unwrap(), b"A");
    assert_eq!(Base64Value::new_unchecked("QR==").decode().unwrap(), b"A");
}

#[test]
fn base64_parse_matches_strict_decoder() {
    // `parse` accepts exactly what the strict standard decoder of the
    // base64 crate accepts once whitespace is removed.
    let cases = corpus(
        11,
        &[
            "",
            "QQ==",
            "QUI=",
            "QUJD",
            "SGVsbG8gV29ybGQ=",
            "SGVs\nbG8=",
            "AAAA AAAA",
        ],
        "QUJDSGVsbG8gV29ybGQ+/=  \r\n\t*-_\u{e9}",
    );
    let mut valid = 0;
    for case in &cases {
        let compact: String = case.chars().filter(|c| !" \t\r\n".contains(*c)).collect();
        let strict = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes());
        let value = Base64Value::new_unchecked(case.as_str());
        assert_eq!(Base64Value::parse(case).is_ok(), strict.is_ok(), "{case:?}");
        assert_eq!(value.is_valid(), strict.is_ok(), "{case:?}");
        if let Ok(bytes) = strict {
            valid += 1;
            assert_eq!(value.decode().unwrap(), bytes, "{case:?}");
            assert_eq!(value.decoded_len_estimate(), bytes.len(), "{case:?}");
        }
    }
    assert!(valid >= 50 && cases.len() - valid >= 50);
    println!(
        "base64Binary: {} cases compared with the strict decoder",
        cases.len()
    );
}

#[test]
fn base64_round_trip() {
    let mut rng = Rng(7);
    for len in 0..300 {
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let v = Base64Value::from_bytes(&data);
        assert!(v.is_valid());
        assert!(!v.as_str().contains(['\n', '\r', ' ']));
        assert_eq!(v.as_str().len() % 4, 0);
        assert_eq!(Base64Value::parse(v.as_str()).unwrap(), v);
        assert_eq!(v.decoded_len_estimate(), len);
        assert_eq!(v.decode().unwrap(), data);
    }
}

#[test]
fn xhtml_is_kept_as_written() {
    let text = "<div xmlns=\"http://www.w3.org/1999/xhtml\">\n  <p>Hi &amp; bye</p>\n</div>";
    let v = XhtmlValue::new(text);
    assert_eq!(v.as_str(), text);
    assert_eq!(v.to_string(), text);
    assert_eq!(v.clone().into_string(), text);
    assert_eq!(
        XhtmlValue::new(String::from("<div/>")),
        XhtmlValue::new("<div/>")
    );
}

// ---------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------

#[test]
fn no_panics_on_arbitrary_text() {
    let alphabet = "0123456789-:T.Z+eE urn:oid:uuid=/+QA\n\t\u{e9}\u{663}\u{a0}\u{1f600}\u{0}";
    let seeds = [
        "2019-02-30T23:59:59.999999999999+14:00",
        "-9999-12-31T23:59:59-14:00",
        "0000-01-01T00:00:00Z",
        "99999999999999999999e99999999999999999999",
        "urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
        "SGVsbG8=\n",
    ];
    for case in corpus(12, &seeds, alphabet) {
        let s = case.as_str();
        for kind in [
            StrKind::Code,
            StrKind::Id,
            StrKind::Uri,
            StrKind::Oid,
            StrKind::Uuid,
        ] {
            let _ = kind.check(s);
        }
        let d = DecimalValue::new_unchecked(s);
        let _ = (d.is_valid(), d.to_f64(), DecimalValue::parse(s));
        let d = DateValue::new_unchecked(s);
        let _ = (
            d.precision(),
            d.year(),
            d.to_naive_date(),
            DateValue::parse(s),
        );
        let d = DateTimeValue::new_unchecked(s);
        let _ = (d.precision(), d.year(), d.to_naive_date(), d.to_datetime());
        let i = InstantValue::new_unchecked(s);
        let _ = (i.is_valid(), i.to_datetime(), InstantValue::parse(s));
        let t = TimeValue::new_unchecked(s);
        let _ = (t.is_valid(), t.to_naive_time(), TimeValue::parse(s));
        let b = Base64Value::new_unchecked(s);
        let _ = (
            b.is_valid(),
            b.decode(),
            b.decoded_len_estimate(),
            Base64Value::parse(s),
        );
    }
    // Extreme chrono values do not panic either.
    for dt in [
        chrono::DateTime::<Utc>::MIN_UTC,
        chrono::DateTime::<Utc>::MAX_UTC,
    ] {
        assert!(!DateTimeValue::from_datetime(&dt).is_valid());
        assert!(!InstantValue::from_datetime(&dt).is_valid());
        for hours in [-23, -14, -1, 1, 14, 23] {
            let zone = FixedOffset::east_opt(hours * 3600).unwrap();
            let shifted = dt.with_timezone(&zone);
            assert!(!DateTimeValue::from_datetime(&shifted).is_valid());
            assert!(!InstantValue::from_datetime(&shifted).is_valid());
        }
    }
    for d in [NaiveDate::MIN, NaiveDate::MAX] {
        assert!(!DateValue::from_naive_date(d).is_valid());
    }
}
