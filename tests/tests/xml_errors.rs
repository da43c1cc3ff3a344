//! Reading invalid and hostile FHIR XML: every rule of the XML reader, in
//! strict mode (one located error) and in lenient mode (the same problems as
//! located warnings, with whatever the model can hold kept), plus the things
//! XML must keep that JSON has no place for (comments, the exact narrative).
//!
//! Inputs are multi-line so that line and column are meaningful. Columns are
//! 1-based and count characters. An element-level problem is located at the
//! `<` of the offending element; an attribute problem at the `<` of the
//! element that carries the attribute; text content where the text starts.

use std::time::{Duration, Instant};

use fhir_stu3::datatypes::AnyValue;
use fhir_stu3::resources::{Patient, PatientDeceased};
use fhir_stu3::{Error, ErrorKind, Parsed, ReadOptions, Resource, Severity};
use workspace_tests::located::{check, check_warnings};
use workspace_tests::{json_equal, xml_equal};

// ----- a counting allocator, to check that hostile input uses bounded memory --

mod meter {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// The system allocator, counting the bytes each thread has live and the
    /// most it has had live since [`peak_during`] started measuring.
    pub struct Meter;

    thread_local! {
        static CURRENT: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    fn add(n: isize) {
        let _ = CURRENT.try_with(|c| {
            let v = c.get() + n;
            c.set(v);
            let _ = PEAK.try_with(|p| {
                if v > p.get() {
                    p.set(v)
                }
            });
        });
    }

    unsafe impl GlobalAlloc for Meter {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                add(layout.size() as isize);
            }
            p
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() {
                add(layout.size() as isize);
            }
            p
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) };
            add(-(layout.size() as isize));
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                add(new_size as isize - layout.size() as isize);
            }
            p
        }
    }

    /// Runs `f` and returns its result with the most memory (in bytes) this
    /// thread had allocated at any moment during the call, beyond what it had
    /// at the start.
    pub fn peak_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
        let start = CURRENT.with(|c| c.get());
        PEAK.with(|p| p.set(start));
        let r = f();
        let peak = PEAK.with(|p| p.get());
        (r, (peak - start).max(0) as usize)
    }
}

#[global_allocator]
static METER: meter::Meter = meter::Meter;

// ----- helpers -------------------------------------------------------------

/// Reads strictly and returns the error (panics if reading succeeds).
#[track_caller]
fn strict_error(xml: &str) -> Error {
    strict_error_bytes(xml.as_bytes())
}

#[track_caller]
fn strict_error_bytes(bytes: &[u8]) -> Error {
    match Resource::from_xml(bytes) {
        Ok(r) => panic!("strict reading should fail, but read {}", r.to_xml()),
        Err(e) => {
            assert_eq!(e.severity(), Severity::Error, "{e}");
            // `from_xml_with(strict)` gives the very same error.
            let again = Resource::from_xml_with(bytes, &ReadOptions::strict())
                .expect_err("strict from_xml_with should fail too");
            assert_eq!(again, e);
            e
        }
    }
}

/// Reads leniently (panics if reading fails).
#[track_caller]
fn lenient(xml: &str) -> Parsed<Resource> {
    Resource::from_xml_with(xml.as_bytes(), &ReadOptions::lenient())
        .unwrap_or_else(|e| panic!("lenient reading should succeed, but failed: {e}"))
}

/// Reads leniently and returns the error (panics if reading succeeds).
#[track_caller]
fn lenient_error_bytes(bytes: &[u8]) -> Error {
    match Resource::from_xml_with(bytes, &ReadOptions::lenient()) {
        Ok(p) => panic!(
            "lenient reading should fail, but read {} with warnings {:?}",
            p.value.to_xml(),
            p.warnings
        ),
        Err(e) => {
            assert_eq!(e.severity(), Severity::Error, "{e}");
            e
        }
    }
}

/// Checks an error whose path is too long to show usefully in a failure message.
#[track_caller]
fn check_long(e: &Error, kind: ErrorKind, path: &str, line: usize, column: usize) {
    let shown = |p: &str| {
        if p.len() > 200 {
            format!("{}...({} bytes)", &p[..200], p.len())
        } else {
            p.to_owned()
        }
    };
    assert!(
        (e.kind(), e.line(), e.column()) == (kind, line, column) && e.path() == path,
        "expected {kind:?} at {} (line {line}, column {column}); got {:?} at {} (line {}, column {}): {}",
        shown(path),
        e.kind(),
        shown(e.path()),
        e.line(),
        e.column(),
        e.message()
    );
}

/// Checks that strict reading fails with exactly the first expected problem and
/// that lenient reading succeeds with exactly all of them as warnings.
#[track_caller]
fn check_both(xml: &str, expected: &[(ErrorKind, &str, usize, usize)]) -> Parsed<Resource> {
    let (kind, path, line, column) = expected[0];
    check(&strict_error(xml), kind, path, line, column);
    let p = lenient(xml);
    check_warnings(&p, expected);
    p
}

/// Checks that reading fails in both modes with the same error.
#[track_caller]
fn check_error_in_both_modes(
    xml: &[u8],
    kind: ErrorKind,
    path: &str,
    line: usize,
    column: usize,
) -> Error {
    let e = strict_error_bytes(xml);
    check(&e, kind, path, line, column);
    let l = lenient_error_bytes(xml);
    check(&l, kind, path, line, column);
    assert_eq!(l.message(), e.message());
    e
}

#[track_caller]
fn patient(r: &Resource) -> &Patient {
    match r {
        Resource::Patient(p) => p,
        other => panic!("expected a Patient, read a {}", other.resource_type()),
    }
}

/// The value of an `Option<Primitive<String>>`.
fn text(p: &Option<fhir_stu3::primitives::FhirString>) -> Option<&str> {
    p.as_ref().and_then(|p| p.value.as_deref())
}

fn birth_date(p: &Patient) -> Option<&str> {
    p.birth_date
        .as_ref()
        .and_then(|d| d.value.as_ref())
        .map(|v| v.as_str())
}

fn gender(p: &Patient) -> Option<&str> {
    p.gender
        .as_ref()
        .and_then(|g| g.value.as_ref())
        .map(|g| g.code())
}

fn active(p: &Patient) -> Option<bool> {
    p.active.as_ref().and_then(|a| a.value)
}

/// Hostile input must be refused quickly and without growing memory with
/// what the document would expand to.
const QUICK: Duration = Duration::from_secs(10);

/// Reads `bytes` with `opts`, asserting that it fails, takes less than
/// [`QUICK`] and allocates at most `max_bytes` at any moment.
#[track_caller]
fn refused_within_bounds(bytes: &[u8], opts: &ReadOptions, max_bytes: usize) -> Error {
    let started = Instant::now();
    let (res, peak) = meter::peak_during(|| Resource::from_xml_with(bytes, opts));
    let took = started.elapsed();
    let e = match res {
        Ok(p) => panic!(
            "hostile input should be refused, but read {} with warnings {:?}",
            p.value.to_xml(),
            p.warnings
        ),
        Err(e) => e,
    };
    assert!(took < QUICK, "refusing took {took:?}: {e}");
    assert!(
        peak <= max_bytes,
        "refusing used {peak} bytes at its peak (at most {max_bytes} expected): {e}"
    );
    assert_eq!(e.severity(), Severity::Error, "{e}");
    e
}

use ErrorKind::*;

// =============================================================================
// A. Hostile input
// =============================================================================

/// The classic "billion laughs": ten levels of entities, each ten times the one
/// before, 10^9 `lol`s (3 GB) if expanded.
fn billion_laughs() -> String {
    let mut s =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n  <!ENTITY lol \"lol\">\n");
    for i in 1..=9 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        s.push_str(&format!("  <!ENTITY lol{i} \""));
        for _ in 0..10 {
            s.push_str(&format!("&{prev};"));
        }
        s.push_str("\">\n");
    }
    s.push_str(
        "]>\n<Patient xmlns=\"http://hl7.org/fhir\">\n  <id value=\"&lol9;\"/>\n</Patient>\n",
    );
    s
}

#[test]
fn billion_laughs_is_forbidden_in_both_modes() {
    let xml = billion_laughs();
    for opts in [ReadOptions::strict(), ReadOptions::lenient()] {
        let e = refused_within_bounds(xml.as_bytes(), &opts, 1 << 20);
        // The DOCTYPE itself is refused: line 2, before any element.
        check(&e, Forbidden, "", 2, 1);
        assert!(e.message().contains("DOCTYPE"), "the message says why: {e}");
    }
}

#[test]
fn external_entity_is_forbidden_in_both_modes() {
    let xml = r#"<!DOCTYPE Patient [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Patient xmlns="http://hl7.org/fhir">
  <name>
    <family value="&xxe;"/>
  </name>
</Patient>"#;
    for opts in [ReadOptions::strict(), ReadOptions::lenient()] {
        let e = refused_within_bounds(xml.as_bytes(), &opts, 1 << 20);
        check(&e, Forbidden, "", 1, 1);
        assert!(e.message().contains("DOCTYPE"), "the message says why: {e}");
        assert!(
            !e.to_string().contains("root:"),
            "nothing of /etc/passwd may leak into the error: {e}"
        );
    }
}

#[test]
fn plain_doctype_is_forbidden() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<!DOCTYPE Patient>
<Patient xmlns=\"http://hl7.org/fhir\">
  <active value=\"true\"/>
</Patient>";
    let e = check_error_in_both_modes(xml.as_bytes(), Forbidden, "", 2, 1);
    assert!(e.message().contains("DOCTYPE"), "the message says why: {e}");
}

#[test]
fn doctype_inside_the_root_element_is_forbidden() {
    let xml = "<Patient xmlns=\"http://hl7.org/fhir\">
  <!DOCTYPE Patient>
  <active value=\"true\"/>
</Patient>";
    let e = check_error_in_both_modes(xml.as_bytes(), Forbidden, "Patient", 2, 3);
    assert!(e.message().contains("DOCTYPE"), "the message says why: {e}");
}

#[test]
fn undeclared_entity_in_an_attribute_value_is_refused() {
    // No DOCTYPE: `&xxe;` is not one of the five predefined entities, so it
    // cannot be expanded and must not be read as the literal text `&xxe;`.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <id value="&xxe;"/>
</Patient>"#;
    let e = check_error_in_both_modes(xml.as_bytes(), Forbidden, "Patient.id", 3, 3);
    assert!(
        e.message().contains("entit"),
        "the message says why (an entity): {e}"
    );
    assert!(e.message().contains("xxe"), "the message names it: {e}");

    // The same in a nested primitive.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name>
    <family value="a&xxe;b"/>
  </name>
</Patient>"#;
    check_error_in_both_modes(xml.as_bytes(), Forbidden, "Patient.name[0].family", 3, 5);
}

#[test]
fn predefined_and_character_references_in_attribute_values_are_fine() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name>
    <family value="a&amp;b&lt;&gt;&quot;&apos;&#233;&#x41;"/>
  </name>
</Patient>"#;
    let r = Resource::from_xml(xml.as_bytes()).unwrap();
    assert_eq!(text(&patient(&r).name[0].family), Some("a&b<>\"'éA"));
    check_warnings(&lenient(xml), &[]);
}

#[test]
fn undeclared_entity_in_text_content_is_not_silently_accepted() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name>&xxe;</name>
</Patient>"#;
    // Text content (here an entity reference) is not allowed in a FHIR element;
    // the name, empty without it, is dropped too.
    let p = check_both(
        xml,
        &[
            (UnknownElement, "Patient.name[0]", 2, 9),
            (Empty, "Patient.name[0]", 2, 3),
        ],
    );
    assert!(
        !p.value.to_xml().contains("xxe"),
        "nothing of the reference is kept"
    );
}

#[test]
fn processing_instruction_inside_the_document_is_forbidden() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <?foo bar?>
  <active value="true"/>
</Patient>"#;
    let e = check_error_in_both_modes(xml.as_bytes(), Forbidden, "Patient", 3, 3);
    assert!(
        e.message().contains("processing instruction"),
        "the message says why: {e}"
    );

    // Inside a primitive.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"><?foo bar?></active>
</Patient>"#;
    check_error_in_both_modes(xml.as_bytes(), Forbidden, "Patient.active", 2, 24);

    // Before the root element.
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet href="x.xsl"?>
<Patient xmlns="http://hl7.org/fhir"/>"#;
    check_error_in_both_modes(xml.as_bytes(), Forbidden, "", 2, 1);
}

#[test]
fn xml_declaration_at_the_start_is_fine() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
</Patient>"#;
    let r = Resource::from_xml(xml.as_bytes()).unwrap();
    assert_eq!(active(patient(&r)), Some(true));
    check_warnings(&lenient(xml), &[]);
    // With a byte order mark too.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(xml.as_bytes());
    assert_eq!(Resource::from_xml(&bom).unwrap(), r);
}

#[test]
fn xml_declaration_anywhere_else_is_a_syntax_error() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <?xml version="1.0"?>
  <active value="true"/>
</Patient>"#;
    let e = check_error_in_both_modes(xml.as_bytes(), Syntax, "Patient", 2, 3);
    assert!(
        e.message().contains("declaration"),
        "the message says why: {e}"
    );
}

/// A Patient with `n` nested extensions, one element per line: line 1 opens the
/// Patient (nesting level 1), line `k + 1` the `k`-th nested extension (level
/// `k + 1`), line `n + 2` the innermost `valueString` (level `n + 2`).
fn nested_extensions(n: usize) -> String {
    let mut s = String::with_capacity(n * 34 + 100);
    s.push_str("<Patient xmlns=\"http://hl7.org/fhir\">\n");
    for _ in 0..n {
        s.push_str("<extension url=\"x\">\n");
    }
    s.push_str("<valueString value=\"deep\"/>\n");
    for _ in 0..n {
        s.push_str("</extension>");
    }
    s.push_str("</Patient>");
    s
}

/// A Patient with `n` nested unknown `<foo>` elements, one per line from line 2.
fn nested_unknown(n: usize) -> String {
    let mut s = String::with_capacity(n * 12 + 100);
    s.push_str("<Patient xmlns=\"http://hl7.org/fhir\">\n");
    for _ in 0..n {
        s.push_str("<foo>\n");
    }
    for _ in 0..n {
        s.push_str("</foo>");
    }
    s.push_str("</Patient>");
    s
}

#[test]
fn nesting_a_hundred_thousand_extensions_deep_is_too_deep_in_both_modes() {
    // Runs in the default test thread: refusing must not need a big stack.
    let xml = nested_extensions(100_000);
    // With the default limit of 256 levels, the 256th nested extension (level
    // 257, line 257) is one too many.
    let path = format!("Patient{}", ".extension[0]".repeat(256));
    for opts in [ReadOptions::strict(), ReadOptions::lenient()] {
        let e = refused_within_bounds(xml.as_bytes(), &opts, 3 * xml.len() + (4 << 20));
        check_long(&e, TooDeep, &path, 257, 1);
        assert!(e.message().contains("256"), "the message says why: {e}");
    }
    // Just within the limit reads fine: 254 extensions and the valueString.
    let ok = nested_extensions(254);
    Resource::from_xml(ok.as_bytes()).unwrap();
}

#[test]
fn nesting_a_hundred_thousand_unknown_elements_deep_is_too_deep_leniently() {
    let xml = nested_unknown(100_000);
    // Strict: the unknown element is the first problem.
    let e = strict_error(&xml);
    check(&e, UnknownElement, "Patient.foo", 2, 1);
    // Lenient: skipping it meets the limit. The Patient is level 1, the `k`-th
    // `<foo>` level `k + 1`: the 256th (line 257) is one too many, as for
    // elements that are read.
    let e = refused_within_bounds(
        xml.as_bytes(),
        &ReadOptions::lenient(),
        3 * xml.len() + (4 << 20),
    );
    assert_eq!(e.kind(), TooDeep, "{e}");
    assert!(e.message().contains("256"), "the message says why: {e}");
    check(&e, TooDeep, "Patient.foo", 257, 1);
}

#[test]
fn max_depth_is_honoured() {
    let mut opts = ReadOptions::strict();
    opts.max_depth = 10;
    // 12 levels: the 11th (line 11, the 10th nested extension) is too deep.
    let xml = nested_extensions(10);
    let e = Resource::from_xml_with(xml.as_bytes(), &opts).unwrap_err();
    check(
        &e,
        TooDeep,
        &format!("Patient{}", ".extension[0]".repeat(10)),
        11,
        1,
    );
    assert!(e.message().contains("10"), "{e}");
    // 11 levels: the innermost valueString (line 11) is too deep.
    let xml = nested_extensions(9);
    let e = Resource::from_xml_with(xml.as_bytes(), &opts).unwrap_err();
    check(
        &e,
        TooDeep,
        &format!("Patient{}.valueString", ".extension[0]".repeat(9)),
        11,
        1,
    );
    // Exactly 10 levels and 8 levels read.
    for n in [8, 6] {
        let xml = nested_extensions(n);
        let r = Resource::from_xml_with(xml.as_bytes(), &opts)
            .unwrap_or_else(|e| panic!("{} levels should read: {e}", n + 2));
        assert!(r.warnings.is_empty());
    }
    // The same limit in lenient mode.
    let mut opts = ReadOptions::lenient();
    opts.max_depth = 10;
    let xml = nested_extensions(10);
    let e = Resource::from_xml_with(xml.as_bytes(), &opts).unwrap_err();
    assert_eq!(e.kind(), TooDeep, "{e}");
    assert_eq!(e.severity(), Severity::Error);
    let xml = nested_extensions(8);
    let p = Resource::from_xml_with(xml.as_bytes(), &opts).unwrap();
    check_warnings(&p, &[]);
}

#[test]
fn max_depth_counts_skipped_unknown_elements_like_read_ones() {
    let mut opts = ReadOptions::lenient();
    opts.max_depth = 10;
    // Patient and 9 nested `<foo>`s: 10 levels, within the limit.
    let xml = nested_unknown(9);
    let p = Resource::from_xml_with(xml.as_bytes(), &opts)
        .unwrap_or_else(|e| panic!("10 levels should read leniently: {e}"));
    check_warnings(&p, &[(UnknownElement, "Patient.foo", 2, 1)]);
    // Patient and 10 nested `<foo>`s: the 10th (level 11, line 11) is too deep.
    let xml = nested_unknown(10);
    let e = Resource::from_xml_with(xml.as_bytes(), &opts).unwrap_err();
    check(&e, TooDeep, "Patient.foo", 11, 1);
}

#[test]
fn truncated_in_the_middle_of_an_element() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <birthDate value="19"#;
    // The unclosed tag starts at line 3, column 3.
    let e = check_error_in_both_modes(xml.as_bytes(), Syntax, "Patient", 3, 3);
    assert!(!e.message().is_empty());
}

#[test]
fn truncated_after_a_start_tag() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <name>"#;
    // The end of the input (line 3, column 9), inside `name`.
    let e = check_error_in_both_modes(xml.as_bytes(), Syntax, "Patient.name[0]", 3, 9);
    assert!(e.message().contains("end"), "the message says why: {e}");
    // Cut right after the root's start tag.
    let xml = "<Patient xmlns=\"http://hl7.org/fhir\">\n";
    check_error_in_both_modes(xml.as_bytes(), Syntax, "Patient", 2, 1);
    // Cut inside a primitive that has children.
    let xml = "<Patient xmlns=\"http://hl7.org/fhir\">\n  <active value=\"true\">\n";
    check_error_in_both_modes(xml.as_bytes(), Syntax, "Patient.active", 3, 1);
}

#[test]
fn truncated_before_any_element() {
    check_error_in_both_modes(b"", Syntax, "", 1, 1);
    check_error_in_both_modes(b"<?xml version=\"1.0\"?>\n", Syntax, "", 2, 1);
    let e = check_error_in_both_modes(b"<!-- only a comment -->", Syntax, "", 1, 24);
    assert!(e.message().contains("root"), "the message says why: {e}");
}

#[test]
fn mismatched_end_tag_is_a_syntax_error() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name>
    <family value="A"/>
  </nam>
</Patient>"#;
    // At the wrong end tag, inside the element it fails to close.
    let e = check_error_in_both_modes(xml.as_bytes(), Syntax, "Patient.name[0]", 4, 3);
    assert!(e.message().contains("</name>"), "the message says why: {e}");
}

#[test]
fn invalid_utf8_in_an_attribute_value() {
    // `ü` is two bytes but one column: the bad byte is in column 26.
    let mut bytes =
        b"<Patient xmlns=\"http://hl7.org/fhir\">\n  <name>\n    <family value=\"M".to_vec();
    bytes.extend_from_slice("üller".as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice(b"\"/>\n  </name>\n</Patient>");
    let e = check_error_in_both_modes(&bytes, Syntax, "", 3, 26);
    assert!(e.message().contains("UTF-8"), "the message says why: {e}");
}

#[test]
fn attribute_without_quotes_is_a_syntax_error() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value=true/>
</Patient>"#;
    // At the `<` of the element that carries the attribute, with its path.
    let e = check_error_in_both_modes(xml.as_bytes(), Syntax, "Patient.active", 2, 3);
    assert!(
        e.message().contains("attribute"),
        "the message says why: {e}"
    );
}

// =============================================================================
// B. The strict/lenient policy
// =============================================================================

#[test]
fn unknown_element_at_top_level() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <foo value="1"/>
  <active value="true"/>
</Patient>"#;
    let p = check_both(xml, &[(UnknownElement, "Patient.foo", 2, 3)]);
    let pat = patient(&p.value);
    assert_eq!(active(pat), Some(true), "the valid sibling is kept");
    let out = p.value.to_xml();
    assert!(
        !out.contains("foo"),
        "the unknown element is dropped: {out}"
    );
    assert!(strict_error(xml).message().contains("foo"));
}

#[test]
fn unknown_element_nested_in_a_list_item() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name>
    <family value="A"/>
  </name>
  <name>
    <nickname value="x"><y><z/></y></nickname>
    <family value="B"/>
    <given value="C"/>
  </name>
  <gender value="female"/>
</Patient>"#;
    let p = check_both(xml, &[(UnknownElement, "Patient.name[1].nickname", 6, 5)]);
    let pat = patient(&p.value);
    assert_eq!(pat.name.len(), 2);
    assert_eq!(text(&pat.name[0].family), Some("A"));
    assert_eq!(text(&pat.name[1].family), Some("B"));
    assert_eq!(pat.name[1].given.len(), 1);
    assert_eq!(pat.name[1].given[0].value.as_deref(), Some("C"));
    assert_eq!(gender(pat), Some("female"));
    assert!(!p.value.to_xml().contains("nickname"));
}

#[test]
fn several_unknown_elements_are_all_reported_leniently() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <foo><a value="1"/><b/></foo>
  <name>
    <family value="A"/>
    <bar value="x"/>
  </name>
  <baz/>
</Patient>"#;
    let p = check_both(
        xml,
        &[
            (UnknownElement, "Patient.foo", 2, 3),
            (UnknownElement, "Patient.name[0].bar", 5, 5),
            (UnknownElement, "Patient.baz", 7, 3),
        ],
    );
    assert_eq!(text(&patient(&p.value).name[0].family), Some("A"));
}

#[test]
fn unknown_attribute_on_a_primitive() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <birthDate value="1970" foo="x"/>
</Patient>"#;
    let p = check_both(xml, &[(UnknownElement, "Patient.birthDate.foo", 3, 3)]);
    let pat = patient(&p.value);
    assert_eq!(birth_date(pat), Some("1970"), "the value is kept");
    assert_eq!(active(pat), Some(true));
    let out = p.value.to_xml();
    assert!(!out.contains("foo"), "{out}");
}

#[test]
fn unknown_attribute_on_a_complex_element() {
    // `use` is an element in FHIR XML, not an attribute.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name use="official">
    <family value="A"/>
  </name>
</Patient>"#;
    let p = check_both(xml, &[(UnknownElement, "Patient.name[0].use", 2, 3)]);
    let name = &patient(&p.value).name[0];
    assert!(name.use_.is_none());
    assert_eq!(text(&name.family), Some("A"));
}

#[test]
fn unknown_attribute_on_the_resource_element() {
    // A resource's `id` is an element, not an attribute.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir" id="p1">
  <active value="true"/>
</Patient>"#;
    let p = check_both(xml, &[(UnknownElement, "Patient.id", 1, 1)]);
    let pat = patient(&p.value);
    assert!(pat.id.is_none());
    assert_eq!(active(pat), Some(true));
}

#[test]
fn element_in_a_wrong_namespace() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <x:birthDate xmlns:x="urn:other" value="1970-01-01"/>
  <active value="true"/>
</Patient>"#;
    let p = check_both(xml, &[(Namespace, "Patient.birthDate", 2, 3)]);
    let pat = patient(&p.value);
    assert_eq!(birth_date(pat), None, "skipped");
    assert_eq!(active(pat), Some(true));
    assert!(strict_error(xml).message().contains("urn:other"));

    // In no namespace at all.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active xmlns="" value="true"/>
  <gender value="male"/>
</Patient>"#;
    let p = check_both(xml, &[(Namespace, "Patient.active", 2, 3)]);
    assert_eq!(active(patient(&p.value)), None);
    assert_eq!(gender(patient(&p.value)), Some("male"));

    // The XHTML namespace is for the narrative div only.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active xmlns="http://www.w3.org/1999/xhtml" value="true"/>
</Patient>"#;
    check_both(xml, &[(Namespace, "Patient.active", 2, 3)]);
}

#[test]
fn attribute_in_a_namespace() {
    // On a complex element.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir" xmlns:x="urn:other">
  <name x:foo="1">
    <family value="A"/>
  </name>
</Patient>"#;
    let p = check_both(xml, &[(Namespace, "Patient.name[0].foo", 2, 3)]);
    assert_eq!(text(&patient(&p.value).name[0].family), Some("A"));
    // On a primitive: the same kind of problem.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir" xmlns:x="urn:other">
  <birthDate x:foo="1" value="1970"/>
</Patient>"#;
    let p = check_both(xml, &[(Namespace, "Patient.birthDate.foo", 2, 3)]);
    assert_eq!(birth_date(patient(&p.value)), Some("1970"));
}

#[test]
fn element_in_the_fhir_namespace_with_a_prefix_is_fine() {
    let xml = r#"<f:Patient xmlns:f="http://hl7.org/fhir">
  <f:active value="true"/>
  <f:name><f:family value="A"/></f:name>
</f:Patient>"#;
    let r = Resource::from_xml(xml.as_bytes()).unwrap();
    let pat = patient(&r);
    assert_eq!(active(pat), Some(true));
    assert_eq!(text(&pat.name[0].family), Some("A"));
    check_warnings(&lenient(xml), &[]);
}

#[test]
fn root_element_not_in_the_fhir_namespace() {
    let xml = r#"<Patient xmlns="urn:other">
  <active value="true"/>
</Patient>"#;
    let e = check_error_in_both_modes(xml.as_bytes(), Namespace, "", 1, 1);
    assert!(e.message().contains("http://hl7.org/fhir"), "{e}");
    // No namespace at all.
    let xml = "<?xml version=\"1.0\"?>\n<Patient>\n  <active value=\"true\"/>\n</Patient>";
    check_error_in_both_modes(xml.as_bytes(), Namespace, "", 2, 1);
    // An undeclared prefix.
    let xml = "<f:Patient>\n  <f:active value=\"true\"/>\n</f:Patient>";
    let e = check_error_in_both_modes(xml.as_bytes(), Namespace, "", 1, 1);
    assert!(
        e.message().contains("`f`"),
        "the message names the prefix: {e}"
    );
}

#[test]
fn malformed_primitive_is_kept_as_written_leniently() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <birthDate value="1970-13"/>
</Patient>"#;
    let p = check_both(xml, &[(InvalidValue, "Patient.birthDate", 3, 3)]);
    let pat = patient(&p.value);
    assert_eq!(birth_date(pat), Some("1970-13"), "kept as written");
    assert_eq!(active(pat), Some(true));
    let out = p.value.to_xml();
    assert!(out.contains("<birthDate value=\"1970-13\"/>"), "{out}");
    let e = strict_error(xml);
    assert!(
        e.message().contains("1970-13"),
        "the message names the value: {e}"
    );
    assert!(
        e.to_string()
            .starts_with("error [invalid-value] at Patient.birthDate (line 3, column 3): "),
        "{e}"
    );
    assert!(
        p.warnings[0]
            .to_string()
            .starts_with("warning [invalid-value] at Patient.birthDate (line 3, column 3): "),
        "{}",
        p.warnings[0]
    );
}

#[test]
fn malformed_boolean_and_integer() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="yes"/>
  <multipleBirthInteger value="2.5"/>
</Patient>"#;
    let p = check_both(
        xml,
        &[
            (InvalidValue, "Patient.active", 2, 3),
            (InvalidValue, "Patient.multipleBirthInteger", 3, 3),
        ],
    );
    let pat = patient(&p.value);
    assert_eq!(active(pat), None, "the model cannot hold `yes`");
    assert!(pat.multiple_birth.is_none(), "nor `2.5` as an integer");
}

#[test]
fn bad_code_is_dropped_leniently() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <gender value="mail"/>
</Patient>"#;
    // Exactly one finding, as in JSON: the element had a value, a bad one.
    let p = check_both(xml, &[(InvalidValue, "Patient.gender", 3, 3)]);
    let pat = patient(&p.value);
    assert_eq!(gender(pat), None, "the model cannot hold `mail`: dropped");
    assert!(pat.gender.is_none());
    assert_eq!(active(pat), Some(true));
    assert!(!p.value.to_xml().contains("gender"));
    assert!(strict_error(xml).message().contains("mail"));
}

#[test]
fn empty_primitive_element() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <birthDate/>
</Patient>"#;
    let p = check_both(xml, &[(Empty, "Patient.birthDate", 3, 3)]);
    let pat = patient(&p.value);
    assert!(pat.birth_date.is_none(), "dropped");
    assert_eq!(active(pat), Some(true));
    assert!(!p.value.to_xml().contains("birthDate"));

    // With an end tag and only whitespace inside: the same.
    let xml = "<Patient xmlns=\"http://hl7.org/fhir\">\n  <birthDate>\n  </birthDate>\n</Patient>";
    let p = check_both(xml, &[(Empty, "Patient.birthDate", 2, 3)]);
    assert!(patient(&p.value).birth_date.is_none());
}

#[test]
fn empty_value_attribute_is_reported_once() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <birthDate value=""/>
</Patient>"#;
    let p = check_both(xml, &[(Empty, "Patient.birthDate", 2, 3)]);
    assert!(patient(&p.value).birth_date.is_none());
}

#[test]
fn empty_complex_element() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <name/>
  <maritalStatus></maritalStatus>
</Patient>"#;
    let p = check_both(
        xml,
        &[
            (Empty, "Patient.name[0]", 3, 3),
            (Empty, "Patient.maritalStatus", 4, 3),
        ],
    );
    let pat = patient(&p.value);
    assert!(pat.name.is_empty(), "dropped");
    assert!(pat.marital_status.is_none(), "dropped");
    assert_eq!(active(pat), Some(true));
}

#[test]
fn single_valued_primitive_given_twice() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <birthDate value="1970-01-01"/>
  <birthDate value="1980-02-02"/>
</Patient>"#;
    let p = check_both(xml, &[(Duplicate, "Patient.birthDate", 3, 3)]);
    assert_eq!(
        birth_date(patient(&p.value)),
        Some("1980-02-02"),
        "the later value is kept"
    );
}

#[test]
fn single_valued_complex_element_given_twice() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <maritalStatus>
    <text value="a"/>
  </maritalStatus>
  <maritalStatus>
    <text value="b"/>
  </maritalStatus>
</Patient>"#;
    let p = check_both(xml, &[(Duplicate, "Patient.maritalStatus", 5, 3)]);
    let ms = patient(&p.value).marital_status.as_ref().unwrap();
    assert_eq!(text(&ms.text), Some("b"), "the later value is kept");
}

#[test]
fn element_out_of_order() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <birthDate value="1970-01-01"/>
  <gender value="male"/>
</Patient>"#;
    let p = check_both(xml, &[(Order, "Patient.gender", 3, 3)]);
    let pat = patient(&p.value);
    assert_eq!(gender(pat), Some("male"));
    assert_eq!(birth_date(pat), Some("1970-01-01"));
    // Written back in canonical order: gender before birthDate.
    let out = p.value.to_xml();
    assert_eq!(
        out,
        "<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"male\"/>\
         <birthDate value=\"1970-01-01\"/></Patient>"
    );
    let canonical = r#"<Patient xmlns="http://hl7.org/fhir">
  <gender value="male"/>
  <birthDate value="1970-01-01"/>
</Patient>"#;
    xml_equal(canonical, &out).unwrap();
    assert_eq!(Resource::from_xml(out.as_bytes()).unwrap(), p.value);
    assert!(strict_error(xml).message().contains("order"));
}

#[test]
fn list_items_out_of_order_with_other_elements() {
    // `name` is split around `gender`: the second `name` is out of order.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name><family value="A"/></name>
  <gender value="male"/>
  <name><family value="B"/></name>
</Patient>"#;
    let p = check_both(xml, &[(Order, "Patient.name[1]", 4, 3)]);
    let pat = patient(&p.value);
    assert_eq!(pat.name.len(), 2);
    assert_eq!(text(&pat.name[1].family), Some("B"));
    let out = p.value.to_xml();
    assert!(
        out.find("<gender").unwrap() > out.rfind("<name>").unwrap(),
        "both names before gender: {out}"
    );
}

#[test]
fn choice_conflict() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <deceasedBoolean value="true"/>
  <deceasedDateTime value="2015-02-14"/>
  <address>
    <city value="Leiden"/>
  </address>
</Patient>"#;
    let p = check_both(xml, &[(ChoiceConflict, "Patient.deceasedDateTime", 4, 3)]);
    let pat = patient(&p.value);
    match &pat.deceased {
        Some(PatientDeceased::Boolean(b)) => assert_eq!(b.value, Some(true)),
        other => panic!("the first choice should be kept: {other:?}"),
    }
    assert_eq!(active(pat), Some(true));
    assert_eq!(pat.address.len(), 1, "reading goes on after the conflict");
    assert_eq!(text(&pat.address[0].city), Some("Leiden"));
    let out = p.value.to_xml();
    assert!(!out.contains("deceasedDateTime"), "{out}");
}

#[test]
fn text_content_inside_a_primitive() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <active>true</active>
  <gender value="male"/>
</Patient>"#;
    // The text (line 2, column 11) is not a value: one finding, as for text in a
    // complex element (the element was not empty; its content was dropped).
    let p = check_both(xml, &[(UnknownElement, "Patient.active", 2, 11)]);
    let pat = patient(&p.value);
    assert_eq!(active(pat), None);
    assert_eq!(gender(pat), Some("male"));
    let e = strict_error(xml);
    assert!(e.message().contains("text"), "the message says why: {e}");
}

#[test]
fn text_content_inside_a_complex_element() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name>Peter <family value="A"/></name>
</Patient>"#;
    let p = check_both(xml, &[(UnknownElement, "Patient.name[0]", 2, 9)]);
    assert_eq!(text(&patient(&p.value).name[0].family), Some("A"));
    // CDATA is text too.
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name><![CDATA[Peter]]><family value="A"/></name>
</Patient>"#;
    let p = check_both(xml, &[(UnknownElement, "Patient.name[0]", 2, 9)]);
    assert_eq!(text(&patient(&p.value).name[0].family), Some("A"));
}

#[test]
fn extension_url_as_a_child_element() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <extension>
    <url value="http://example.org/x"/>
    <valueString value="v"/>
  </extension>
</Patient>"#;
    let p = check_both(xml, &[(UnknownElement, "Patient.extension[0].url", 3, 5)]);
    let ext = &patient(&p.value).extension[0];
    assert!(ext.url.is_none(), "url is an attribute in FHIR XML");
    match &ext.value {
        Some(AnyValue::String(s)) => assert_eq!(s.value.as_deref(), Some("v")),
        other => panic!("the value is kept: {other:?}"),
    }
    let e = strict_error(xml);
    assert!(
        e.message().contains("attribute"),
        "the message says why: {e}"
    );
}

#[test]
fn element_id_as_a_child_element() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name>
    <id value="n1"/>
    <family value="A"/>
  </name>
</Patient>"#;
    let p = check_both(xml, &[(UnknownElement, "Patient.name[0].id", 3, 5)]);
    let name = &patient(&p.value).name[0];
    assert!(name.id.is_none());
    assert_eq!(text(&name.family), Some("A"));
}

#[test]
fn unknown_resource_type_as_root() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Patientt xmlns="http://hl7.org/fhir">
  <active value="true"/>
</Patientt>"#;
    let e = check_error_in_both_modes(xml.as_bytes(), UnknownResourceType, "", 2, 1);
    assert!(e.message().contains("Patientt"), "{e}");
    // A data type is not a resource either.
    let xml = "<HumanName xmlns=\"http://hl7.org/fhir\"/>";
    check_error_in_both_modes(xml.as_bytes(), UnknownResourceType, "", 1, 1);
}

#[test]
fn unknown_resource_type_inside_a_bundle() {
    let xml = r#"<Bundle xmlns="http://hl7.org/fhir">
  <type value="collection"/>
  <entry>
    <resource>
      <Patientt>
        <active value="true"/>
      </Patientt>
    </resource>
  </entry>
  <entry>
    <resource>
      <Patient>
        <active value="true"/>
      </Patient>
    </resource>
  </entry>
</Bundle>"#;
    // The same findings as in JSON: the wrapper did hold a resource element; the
    // entry, empty once it is dropped, is dropped too.
    let p = check_both(
        xml,
        &[
            (UnknownResourceType, "Bundle.entry[0].resource", 5, 7),
            (Empty, "Bundle.entry[0]", 3, 3),
        ],
    );
    let Resource::Bundle(b) = &p.value else {
        panic!("not a Bundle")
    };
    assert_eq!(b.entry.len(), 1);
    assert_eq!(
        active(patient(b.entry[0].resource.as_ref().unwrap())),
        Some(true)
    );
}

#[test]
fn path_through_a_bundle() {
    let xml = r#"<Bundle xmlns="http://hl7.org/fhir">
  <type value="collection"/>
  <entry>
    <resource>
      <Patient>
        <birthDate value="1970-01-01"/>
      </Patient>
    </resource>
  </entry>
  <entry>
    <fullUrl value="urn:uuid:5c2ffbbd-1a4b-4b3a-9b1e-6a0e3c3b9f10"/>
    <resource>
      <Patient>
        <birthDate value="1970-13-01"/>
      </Patient>
    </resource>
  </entry>
</Bundle>"#;
    let p = check_both(
        xml,
        &[(
            InvalidValue,
            "Bundle.entry[1].resource.ofType(Patient).birthDate",
            14,
            9,
        )],
    );
    let Resource::Bundle(b) = &p.value else {
        panic!("not a Bundle")
    };
    assert_eq!(b.entry.len(), 2);
    let pat = patient(b.entry[1].resource.as_ref().unwrap());
    assert_eq!(birth_date(pat), Some("1970-13-01"));
}

#[test]
fn path_into_a_contained_resource() {
    let xml = r##"<Patient xmlns="http://hl7.org/fhir">
  <contained>
    <Organization>
      <id value="org1"/>
      <name/>
    </Organization>
  </contained>
  <managingOrganization>
    <reference value="#org1"/>
  </managingOrganization>
</Patient>"##;
    let p = check_both(
        xml,
        &[(
            Empty,
            "Patient.contained[0].ofType(Organization).name",
            5,
            7,
        )],
    );
    let pat = patient(&p.value);
    let Resource::Organization(org) = &pat.contained[0] else {
        panic!("not an Organization")
    };
    assert_eq!(org.id.as_ref().unwrap().value.as_deref(), Some("org1"));
    assert!(org.name.is_none());
    assert_eq!(
        text(&pat.managing_organization.as_ref().unwrap().reference),
        Some("#org1")
    );
}

#[test]
fn path_into_the_second_contained_resource() {
    let xml = r##"<Patient xmlns="http://hl7.org/fhir">
  <contained>
    <Organization>
      <id value="org1"/>
    </Organization>
  </contained>
  <contained>
    <Organization>
      <id value="org2"/>
      <name value="Acme" foo="x"/>
    </Organization>
  </contained>
</Patient>"##;
    let p = check_both(
        xml,
        &[(
            UnknownElement,
            "Patient.contained[1].ofType(Organization).name.foo",
            10,
            7,
        )],
    );
    let pat = patient(&p.value);
    assert_eq!(pat.contained.len(), 2);
    let Resource::Organization(org) = &pat.contained[1] else {
        panic!("not an Organization")
    };
    assert_eq!(text(&org.name), Some("Acme"));
}

// =============================================================================
// C. What XML keeps
// =============================================================================

#[test]
fn value_less_primitive_with_an_extension_survives() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <birthDate>
    <extension url="http://hl7.org/fhir/StructureDefinition/data-absent-reason">
      <valueCode value="unknown"/>
    </extension>
  </birthDate>
</Patient>"#;
    let r = Resource::from_xml(xml.as_bytes()).unwrap();
    check_warnings(&lenient(xml), &[]);
    let bd = patient(&r).birth_date.as_ref().unwrap();
    assert!(bd.value.is_none());
    assert_eq!(bd.extension().len(), 1);
    // XML -> XML.
    let out = r.to_xml();
    xml_equal(xml, &out).unwrap();
    assert_eq!(Resource::from_xml(out.as_bytes()).unwrap(), r);
    // XML -> JSON: only the `_birthDate` half.
    let json = r.to_json();
    json_equal(
        r#"{
  "resourceType": "Patient",
  "_birthDate": {
    "extension": [
      {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
    ]
  }
}"#,
        &json,
    )
    .unwrap();
    assert_eq!(Resource::from_json(json.as_bytes()).unwrap(), r);
}

#[test]
fn primitive_id_attributes_survive() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <name>
    <given id="g1" value="Peter"/>
    <given value="James"/>
  </name>
  <birthDate id="b1" value="1970-01-01"/>
</Patient>"#;
    let r = Resource::from_xml(xml.as_bytes()).unwrap();
    check_warnings(&lenient(xml), &[]);
    let pat = patient(&r);
    assert_eq!(pat.birth_date.as_ref().unwrap().id(), Some("b1"));
    assert_eq!(birth_date(pat), Some("1970-01-01"));
    assert_eq!(pat.name[0].given[0].id(), Some("g1"));
    assert_eq!(pat.name[0].given[1].id(), None);
    let out = r.to_xml();
    xml_equal(xml, &out).unwrap();
    assert_eq!(Resource::from_xml(out.as_bytes()).unwrap(), r);
    json_equal(
        r#"{
  "resourceType": "Patient",
  "name": [{"given": ["Peter", "James"], "_given": [{"id": "g1"}, null]}],
  "birthDate": "1970-01-01",
  "_birthDate": {"id": "b1"}
}"#,
        &r.to_json(),
    )
    .unwrap();
}

#[test]
fn empty_id_attribute_on_a_primitive() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <birthDate id="" value="1970-01-01"/>
</Patient>"#;
    let p = check_both(xml, &[(Empty, "Patient.birthDate.id", 2, 3)]);
    let bd = patient(&p.value).birth_date.as_ref().unwrap();
    assert_eq!(bd.id(), None);
    assert_eq!(birth_date(patient(&p.value)), Some("1970-01-01"));
}

#[test]
fn comments_before_inside_and_after_elements_survive() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- before the resource -->
<Patient xmlns="http://hl7.org/fhir">
  <!-- before active -->
  <active value="true"/>
  <name>
    <!-- inside name, before family -->
    <family value="A"/>
    <!-- at the end of name -->
  </name>
  <birthDate value="1970-01-01">
    <!-- inside a primitive -->
  </birthDate>
  <!-- at the end of the patient -->
</Patient>
<!-- after the resource -->"#;
    let r = Resource::from_xml(xml.as_bytes()).unwrap();
    check_warnings(&lenient(xml), &[]);
    let out = r.to_xml();
    xml_equal(xml, &out).unwrap();
    for c in [
        "before the resource",
        "before active",
        "inside name, before family",
        "at the end of name",
        "inside a primitive",
        "at the end of the patient",
        "after the resource",
    ] {
        assert_eq!(out.matches(c).count(), 1, "comment `{c}` once in {out}");
    }
    // Comments are not data: the model equals the one without them.
    let again = Resource::from_xml(out.as_bytes()).unwrap();
    assert_eq!(again, r);
    xml_equal(&out, &again.to_xml()).unwrap();
    // JSON has no place for them.
    assert!(!r.to_json().contains("before"));
}

#[test]
fn comments_around_a_contained_resource_survive() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <!-- before the wrapper -->
  <contained>
    <!-- inside the wrapper -->
    <Organization>
      <id value="o1"/>
    </Organization>
    <!-- after the contained resource -->
  </contained>
</Patient>"#;
    let r = Resource::from_xml(xml.as_bytes()).unwrap();
    xml_equal(xml, &r.to_xml()).unwrap();
}

#[test]
fn narrative_div_is_kept_byte_exact() {
    let div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p  class='a' >Hello &amp; <b>world</b>&#160;é\n      <!-- a comment --><br/></p>\n      <table><tr><td>x</td></tr></table></div>";
    let xml = format!(
        "<Patient xmlns=\"http://hl7.org/fhir\">\n  <text>\n    <status value=\"generated\"/>\n    {div}\n  </text>\n  <active value=\"true\"/>\n</Patient>"
    );
    let r = Resource::from_xml(xml.as_bytes()).unwrap();
    check_warnings(&lenient(&xml), &[]);
    let pat = patient(&r);
    let narrative = pat.text.as_ref().unwrap();
    assert_eq!(
        narrative
            .div
            .as_ref()
            .unwrap()
            .value
            .as_ref()
            .unwrap()
            .as_str(),
        div,
        "the div is kept byte for byte"
    );
    assert_eq!(active(pat), Some(true));
    let out = r.to_xml();
    assert!(out.contains(div), "written byte for byte: {out}");
    xml_equal(&xml, &out).unwrap();
    assert_eq!(Resource::from_xml(out.as_bytes()).unwrap(), r);
}

#[test]
fn div_without_the_xhtml_namespace_is_not_a_valid_narrative() {
    // Without `xmlns="http://www.w3.org/1999/xhtml"` the div is in the FHIR
    // namespace: the narrative's value is invalid (kept as written leniently).
    let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <text>
    <status value="generated"/>
    <div><p>Hi</p></div>
  </text>
</Patient>"#;
    let p = check_both(xml, &[(InvalidValue, "Patient.text.div", 4, 5)]);
    let narrative = patient(&p.value).text.as_ref().unwrap();
    assert_eq!(
        narrative
            .div
            .as_ref()
            .unwrap()
            .value
            .as_ref()
            .unwrap()
            .as_str(),
        "<div><p>Hi</p></div>"
    );
    assert!(strict_error(xml).message().contains("xmlns"));
}
