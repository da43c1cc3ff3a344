//! Reading invalid FHIR JSON: every rule of the reader, in strict mode (one
//! located error) and in lenient mode (the same problems as located warnings,
//! with whatever the model can hold kept).
//!
//! Inputs are multi-line so that line and column are meaningful. Columns are
//! 1-based and count characters; the position is where the offending token
//! starts (a key's opening quote for an unknown or duplicate property, the
//! value's first character for a bad value).

use fhir_stu3::resources::{Observation, Organization, Patient};
use fhir_stu3::{Error, ErrorKind, Parsed, ReadOptions, Resource, Severity};
use workspace_tests::json_equal;
use workspace_tests::located::{check, check_warnings};

// ----- helpers -------------------------------------------------------------

/// Reads strictly and returns the error (panics if reading succeeds).
#[track_caller]
fn strict_error(json: &str) -> Error {
    strict_error_bytes(json.as_bytes())
}

#[track_caller]
fn strict_error_bytes(bytes: &[u8]) -> Error {
    match Resource::from_json(bytes) {
        Ok(r) => panic!("strict reading should fail, but read {}", r.to_json()),
        Err(e) => {
            assert_eq!(e.severity(), Severity::Error, "{e}");
            // `from_json_with(strict)` gives the very same error.
            let again = Resource::from_json_with(bytes, &ReadOptions::strict())
                .expect_err("strict from_json_with should fail too");
            assert_eq!(again, e);
            e
        }
    }
}

/// Reads leniently (panics if reading fails).
#[track_caller]
fn lenient(json: &str) -> Parsed<Resource> {
    Resource::from_json_with(json.as_bytes(), &ReadOptions::lenient())
        .unwrap_or_else(|e| panic!("lenient reading should succeed, but failed: {e}"))
}

/// Reads leniently and returns the error (panics if reading succeeds).
#[track_caller]
fn lenient_error_bytes(bytes: &[u8]) -> Error {
    match Resource::from_json_with(bytes, &ReadOptions::lenient()) {
        Ok(p) => panic!(
            "lenient reading should fail, but read {} with warnings {:?}",
            p.value.to_json(),
            p.warnings
        ),
        Err(e) => e,
    }
}

/// Checks that strict reading fails with exactly the first expected problem and
/// that lenient reading succeeds with exactly all of them as warnings.
#[track_caller]
fn check_both(json: &str, expected: &[(ErrorKind, &str, usize, usize)]) -> Parsed<Resource> {
    let (kind, path, line, column) = expected[0];
    check(&strict_error(json), kind, path, line, column);
    let p = lenient(json);
    check_warnings(&p, expected);
    p
}

#[track_caller]
fn patient(r: &Resource) -> &Patient {
    match r {
        Resource::Patient(p) => p,
        other => panic!("expected a Patient, read a {}", other.resource_type()),
    }
}

#[track_caller]
fn observation(r: &Resource) -> &Observation {
    match r {
        Resource::Observation(o) => o,
        other => panic!("expected an Observation, read a {}", other.resource_type()),
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

use ErrorKind::*;

// ----- 1. unknown properties -------------------------------------------------

#[test]
fn unknown_property_at_top_level() {
    let json = r#"{
  "resourceType": "Patient",
  "foo": 1,
  "active": true
}"#;
    let p = check_both(json, &[(UnknownElement, "Patient.foo", 3, 3)]);
    let pat = patient(&p.value);
    assert_eq!(active(pat), Some(true), "the valid sibling is kept");
    let out = p.value.to_json();
    assert!(
        !out.contains("foo"),
        "the unknown property is dropped: {out}"
    );
}

#[test]
fn unknown_property_nested_in_a_list_item() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"family": "A"},
    {"family": "B", "nickname": "x", "given": ["C"]}
  ],
  "active": false
}"#;
    let p = check_both(json, &[(UnknownElement, "Patient.name[1].nickname", 5, 21)]);
    let pat = patient(&p.value);
    assert_eq!(pat.name.len(), 2);
    assert_eq!(text(&pat.name[0].family), Some("A"));
    assert_eq!(text(&pat.name[1].family), Some("B"));
    assert_eq!(pat.name[1].given.len(), 1);
    assert_eq!(pat.name[1].given[0].value.as_deref(), Some("C"));
    assert_eq!(active(pat), Some(false));
    assert!(!p.value.to_json().contains("nickname"));
}

#[test]
fn several_unknown_properties_are_all_reported_leniently() {
    let json = r#"{
  "resourceType": "Patient",
  "foo": {"a": [1, 2, {"b": null}]},
  "name": [
    {"family": "A", "bar": "x"}
  ],
  "baz": true
}"#;
    check_both(
        json,
        &[
            (UnknownElement, "Patient.foo", 3, 3),
            (UnknownElement, "Patient.name[0].bar", 5, 21),
            (UnknownElement, "Patient.baz", 7, 3),
        ],
    );
}

// ----- 2. duplicate keys -----------------------------------------------------

#[test]
fn duplicate_primitive_key() {
    let json = r#"{
  "resourceType": "Patient",
  "birthDate": "1970-01-01",
  "gender": "male",
  "birthDate": "1980-02-02"
}"#;
    // One duplicated property is one problem, reported once, at the second key.
    let p = check_both(json, &[(Duplicate, "Patient.birthDate", 5, 3)]);
    let pat = patient(&p.value);
    assert_eq!(
        birth_date(pat),
        Some("1980-02-02"),
        "the later value is kept"
    );
    assert_eq!(gender(pat), Some("male"));
}

#[test]
fn duplicate_complex_key() {
    let json = r#"{
  "resourceType": "Patient",
  "maritalStatus": {"text": "first"},
  "maritalStatus": {"text": "second"}
}"#;
    let p = check_both(json, &[(Duplicate, "Patient.maritalStatus", 4, 3)]);
    let pat = patient(&p.value);
    assert_eq!(
        text(&pat.marital_status.as_ref().unwrap().text),
        Some("second"),
        "the later value is kept"
    );
}

#[test]
fn duplicate_key_nested() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {
      "family": "A",
      "family": "B"
    }
  ]
}"#;
    let p = check_both(json, &[(Duplicate, "Patient.name[0].family", 6, 7)]);
    assert_eq!(text(&patient(&p.value).name[0].family), Some("B"));
}

// ----- 3. null outside an array of primitives ----------------------------------

#[test]
fn null_for_a_single_primitive() {
    let json = r#"{
  "resourceType": "Patient",
  "active": null,
  "gender": "female"
}"#;
    let p = check_both(json, &[(Null, "Patient.active", 3, 13)]);
    let pat = patient(&p.value);
    assert_eq!(active(pat), None);
    assert_eq!(gender(pat), Some("female"));
    json_equal(
        &p.value.to_json(),
        r#"{"resourceType":"Patient","gender":"female"}"#,
    )
    .unwrap();
}

#[test]
fn null_for_a_complex_element() {
    let json = r#"{
  "resourceType": "Patient",
  "maritalStatus": null,
  "gender": "female"
}"#;
    let p = check_both(json, &[(Null, "Patient.maritalStatus", 3, 20)]);
    let pat = patient(&p.value);
    assert_eq!(gender(pat), Some("female"));
    json_equal(
        &p.value.to_json(),
        r#"{"resourceType":"Patient","gender":"female"}"#,
    )
    .unwrap();
}

#[test]
fn null_in_an_array_of_complex_elements() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"family": "A"},
    null,
    {"family": "B"}
  ]
}"#;
    let p = check_both(json, &[(Null, "Patient.name[1]", 5, 5)]);
    let pat = patient(&p.value);
    assert_eq!(
        pat.name.len(),
        2,
        "the null item is dropped, the others kept"
    );
    assert_eq!(text(&pat.name[0].family), Some("A"));
    assert_eq!(text(&pat.name[1].family), Some("B"));
}

#[test]
fn paths_after_a_dropped_null_item_keep_the_document_index() {
    // The third item of the JSON array is `name[2]` in the document, even though
    // lenient reading dropped the null before it.
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"family": "A"},
    null,
    {"family": "B", "x": 1}
  ]
}"#;
    check_both(
        json,
        &[
            (Null, "Patient.name[1]", 5, 5),
            (UnknownElement, "Patient.name[2].x", 6, 21),
        ],
    );
}

#[test]
fn null_for_a_whole_repeating_element() {
    let json = r#"{
  "resourceType": "Patient",
  "name": null,
  "gender": "female"
}"#;
    let p = check_both(json, &[(Null, "Patient.name", 3, 11)]);
    let pat = patient(&p.value);
    assert!(pat.name.is_empty());
    assert_eq!(gender(pat), Some("female"));
}

#[test]
fn null_for_a_whole_primitive_array() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"family": "A", "given": null}
  ]
}"#;
    // One null, one problem.
    let p = check_both(json, &[(Null, "Patient.name[0].given", 4, 30)]);
    let name = &patient(&p.value).name[0];
    assert_eq!(text(&name.family), Some("A"));
    json_equal(
        &p.value.to_json(),
        r#"{"resourceType":"Patient","name":[{"family":"A"}]}"#,
    )
    .unwrap();
}

// ----- 4. empty object, array, string -------------------------------------------

#[test]
fn empty_object() {
    let json = r#"{
  "resourceType": "Patient",
  "maritalStatus": {},
  "gender": "female"
}"#;
    let p = check_both(json, &[(Empty, "Patient.maritalStatus", 3, 20)]);
    assert_eq!(gender(patient(&p.value)), Some("female"));
    // Ignored: the written resource has no empty object.
    json_equal(
        &p.value.to_json(),
        r#"{"resourceType":"Patient","gender":"female"}"#,
    )
    .unwrap();
}

#[test]
fn empty_object_in_an_array() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {},
    {"family": "B"}
  ]
}"#;
    let p = check_both(json, &[(Empty, "Patient.name[0]", 4, 5)]);
    json_equal(
        &p.value.to_json(),
        r#"{"resourceType":"Patient","name":[{"family":"B"}]}"#,
    )
    .unwrap();
}

#[test]
fn empty_array() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [],
  "gender": "other"
}"#;
    let p = check_both(json, &[(Empty, "Patient.name", 3, 11)]);
    let pat = patient(&p.value);
    assert!(pat.name.is_empty());
    assert_eq!(gender(pat), Some("other"));
}

#[test]
fn empty_string() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"family": "", "given": ["A"]}
  ]
}"#;
    let p = check_both(json, &[(Empty, "Patient.name[0].family", 4, 16)]);
    let pat = patient(&p.value);
    assert_eq!(text(&pat.name[0].family), None);
    assert_eq!(pat.name[0].given[0].value.as_deref(), Some("A"));
    json_equal(
        &p.value.to_json(),
        r#"{"resourceType":"Patient","name":[{"given":["A"]}]}"#,
    )
    .unwrap();
}

// ----- 5. bad date, dateTime, instant -------------------------------------------

#[test]
fn bad_date() {
    let json = r#"{
  "resourceType": "Patient",
  "birthDate": "1970-13-01",
  "gender": "male"
}"#;
    let p = check_both(json, &[(InvalidValue, "Patient.birthDate", 3, 16)]);
    let pat = patient(&p.value);
    assert_eq!(birth_date(pat), Some("1970-13-01"), "kept as written");
    assert_eq!(gender(pat), Some("male"));
    json_equal(&p.value.to_json(), json).unwrap();
}

#[test]
fn bad_date_time() {
    let json = r#"{
  "resourceType": "Patient",
  "deceasedDateTime": "2000-01-01T25:00:00Z",
  "active": true
}"#;
    let p = check_both(json, &[(InvalidValue, "Patient.deceasedDateTime", 3, 23)]);
    let pat = patient(&p.value);
    match &pat.deceased {
        Some(fhir_stu3::resources::PatientDeceased::DateTime(d)) => {
            assert_eq!(d.value.as_ref().unwrap().as_str(), "2000-01-01T25:00:00Z")
        }
        other => panic!("deceased not kept as written: {other:?}"),
    }
    assert_eq!(active(pat), Some(true));
    json_equal(&p.value.to_json(), json).unwrap();
}

#[test]
fn bad_instant() {
    let json = r#"{
  "resourceType": "Patient",
  "meta": {
    "versionId": "1",
    "lastUpdated": "2020-01-01"
  }
}"#;
    let p = check_both(json, &[(InvalidValue, "Patient.meta.lastUpdated", 5, 20)]);
    let meta = patient(&p.value).meta.as_ref().unwrap();
    assert_eq!(
        meta.last_updated
            .as_ref()
            .unwrap()
            .value
            .as_ref()
            .unwrap()
            .as_str(),
        "2020-01-01"
    );
    assert_eq!(
        meta.version_id.as_ref().unwrap().value.as_deref(),
        Some("1")
    );
}

// ----- 6. bad decimal -------------------------------------------------------------

const OBSERVATION_DECIMAL_STRING: &str = r#"{
  "resourceType": "Observation",
  "status": "final",
  "code": {"text": "x"},
  "valueQuantity": {
    "value": "1.5",
    "unit": "mg"
  }
}"#;

#[test]
fn decimal_given_as_a_string() {
    let json = OBSERVATION_DECIMAL_STRING;
    let p = check_both(
        json,
        &[(WrongType, "Observation.valueQuantity.value", 6, 14)],
    );
    let obs = observation(&p.value);
    match &obs.value {
        Some(fhir_stu3::resources::ObservationValue::Quantity(q)) => {
            assert_eq!(
                q.value.as_ref().unwrap().value.as_ref().unwrap().as_str(),
                "1.5"
            );
            assert_eq!(text(&q.unit), Some("mg"));
        }
        other => panic!("value not kept: {other:?}"),
    }
}

#[test]
fn decimal_that_is_not_json() {
    for bad in ["1.", "01.5", "-.5", "1.5e"] {
        let json = OBSERVATION_DECIMAL_STRING.replace("\"1.5\"", bad);
        let e = strict_error(&json);
        check(&e, Syntax, "Observation.valueQuantity.value", 6, 14);
        let e = lenient_error_bytes(json.as_bytes());
        check(&e, Syntax, "Observation.valueQuantity.value", 6, 14);
    }
}

// ----- 7. wrong JSON types ----------------------------------------------------------

#[test]
fn string_for_a_boolean() {
    let json = r#"{
  "resourceType": "Patient",
  "active": "true"
}"#;
    let p = check_both(json, &[(WrongType, "Patient.active", 3, 13)]);
    assert_eq!(active(patient(&p.value)), Some(true), "converted");
}

#[test]
fn number_for_a_string() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"family": 42}
  ]
}"#;
    let p = check_both(json, &[(WrongType, "Patient.name[0].family", 4, 16)]);
    assert_eq!(text(&patient(&p.value).name[0].family), Some("42"));
}

#[test]
fn object_for_a_primitive() {
    let json = r#"{
  "resourceType": "Patient",
  "birthDate": {"value": "1970"},
  "gender": "male"
}"#;
    let p = check_both(json, &[(WrongType, "Patient.birthDate", 3, 16)]);
    let pat = patient(&p.value);
    assert_eq!(birth_date(pat), None);
    assert_eq!(gender(pat), Some("male"));
    json_equal(
        &p.value.to_json(),
        r#"{"resourceType":"Patient","gender":"male"}"#,
    )
    .unwrap();
}

#[test]
fn array_for_a_single_complex_element() {
    let json = r#"{
  "resourceType": "Patient",
  "maritalStatus": [{"text": "x"}],
  "gender": "male"
}"#;
    let p = check_both(json, &[(WrongType, "Patient.maritalStatus", 3, 20)]);
    assert_eq!(gender(patient(&p.value)), Some("male"));
}

#[test]
fn object_for_a_repeating_element() {
    let json = r#"{
  "resourceType": "Patient",
  "name": {"family": "A"}
}"#;
    let p = check_both(json, &[(WrongType, "Patient.name", 3, 11)]);
    let pat = patient(&p.value);
    assert_eq!(pat.name.len(), 1, "read as a one-item array");
    assert_eq!(text(&pat.name[0].family), Some("A"));
}

// ----- 8. resourceType ---------------------------------------------------------------

#[test]
fn missing_resource_type() {
    let json = r#"{
  "active": true
}"#;
    let e = strict_error(json);
    check(&e, MissingResourceType, "", 1, 1);
    // Without a type there is nothing to keep: lenient reading fails too.
    let e = lenient_error_bytes(json.as_bytes());
    check(&e, MissingResourceType, "", 1, 1);
    // Reading as a Patient, the path is the expected type.
    let e = fhir_stu3::from_json::<Patient>(json.as_bytes()).unwrap_err();
    check(&e, MissingResourceType, "Patient", 1, 1);
}

#[test]
fn unknown_resource_type() {
    let json = r#"{
  "resourceType": "Patientt",
  "active": true
}"#;
    let e = strict_error(json);
    check(&e, UnknownResourceType, "", 2, 19);
    let e = lenient_error_bytes(json.as_bytes());
    check(&e, UnknownResourceType, "", 2, 19);
}

#[test]
fn resource_type_other_than_the_one_expected() {
    let json = r#"{
  "resourceType": "Organization",
  "name": "Acme"
}"#;
    let e = fhir_stu3::from_json::<Patient>(json.as_bytes()).unwrap_err();
    check(&e, UnknownResourceType, "Patient", 2, 19);
    let org = fhir_stu3::from_json::<Organization>(json.as_bytes()).unwrap();
    assert_eq!(text(&org.name), Some("Acme"));
}

#[test]
fn resource_type_not_a_string() {
    let json = r#"{
  "active": true,
  "resourceType": 42
}"#;
    let e = strict_error(json);
    check(&e, WrongType, "", 3, 19);
    let e = lenient_error_bytes(json.as_bytes());
    check(&e, WrongType, "", 3, 19);
}

#[test]
fn contained_resource_without_resource_type_is_dropped_leniently() {
    let json = r#"{
  "resourceType": "Patient",
  "contained": [
    {"id": "o1", "name": "Acme"},
    {"resourceType": "Organization", "id": "o2"}
  ],
  "active": true
}"#;
    let p = check_both(json, &[(MissingResourceType, "Patient.contained[0]", 4, 5)]);
    let pat = patient(&p.value);
    assert_eq!(pat.contained.len(), 1);
    assert_eq!(pat.contained[0].resource_type(), "Organization");
    assert_eq!(active(pat), Some(true));
}

// ----- 9. nesting too deep --------------------------------------------------------------

/// A Patient with extensions nested `levels` deep, one nesting level per line:
/// line 1 opens the root and its `extension` array, line `j + 1` the `j`-th
/// nested extension and its own `extension` array.
fn deeply_nested_extensions(levels: usize) -> String {
    let mut s = String::from("{\"resourceType\":\"Patient\",\"extension\":[\n");
    for _ in 0..levels {
        s.push_str("{\"url\":\"http://x\",\"extension\":[\n");
    }
    s.push_str("{\"url\":\"http://x\",\"valueString\":\"deep\"}");
    for _ in 0..=levels {
        s.push_str("]}");
    }
    s
}

#[test]
fn nesting_ten_thousand_levels_deep_is_too_deep_in_both_modes() {
    let json = deeply_nested_extensions(10_000);
    // Depth counts objects and arrays: the root object is 1, its array 2, the
    // `j`-th nested extension object 2j+1. With the default limit of 256, the
    // 128th nested extension object (line 129, column 1) is one too many.
    let path = format!("Patient{}", ".extension[0]".repeat(128));
    for opts in [ReadOptions::strict(), ReadOptions::lenient()] {
        let e = Resource::from_json_with(json.as_bytes(), &opts).unwrap_err();
        check(&e, TooDeep, &path, 129, 1);
        assert_eq!(e.severity(), Severity::Error);
        let e = fhir_stu3::from_json_with::<Patient>(json.as_bytes(), &opts).unwrap_err();
        check(&e, TooDeep, &path, 129, 1);
    }
    // Just within the limit reads fine.
    let ok = deeply_nested_extensions(126);
    Resource::from_json(ok.as_bytes()).unwrap();
}

#[test]
fn nesting_limit_is_configurable() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"family": "A"}
  ]
}"#;
    let mut opts = ReadOptions::strict();
    opts.max_depth = 2;
    let e = Resource::from_json_with(json.as_bytes(), &opts).unwrap_err();
    check(&e, TooDeep, "Patient.name[0]", 4, 5);
    opts.max_depth = 3;
    Resource::from_json_with(json.as_bytes(), &opts).unwrap();
}

#[test]
fn nesting_ten_thousand_levels_deep_inside_an_unknown_property() {
    let prefix = "{\n  \"resourceType\": \"Patient\",\n  \"foo\": ";
    let json = format!("{prefix}{}{}\n}}", "[".repeat(10_000), "]".repeat(10_000));
    // Strict: the unknown property is the first problem.
    check(&strict_error(&json), UnknownElement, "Patient.foo", 3, 3);
    // Lenient: skipping it meets the limit. The root object is depth 1, so the
    // 256th `[` (column 10 + 255) is one too many.
    let e = lenient_error_bytes(json.as_bytes());
    check(&e, TooDeep, "Patient.foo", 3, 10 + 255);
    assert_eq!(e.severity(), Severity::Error);
}

#[test]
fn nesting_ten_thousand_levels_deep_in_other_places() {
    // Inside a primitive's value (skipped leniently after the wrong-type warning).
    let json = format!(
        "{{\"resourceType\":\"Patient\",\"birthDate\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    check(&strict_error(&json), WrongType, "Patient.birthDate", 1, 39);
    let e = lenient_error_bytes(json.as_bytes());
    check(&e, TooDeep, "Patient.birthDate", 1, 39 + 255);
    // Before `resourceType`, where the reader looks ahead for it.
    let json = format!(
        "{{\"foo\":{}{},\"resourceType\":\"Patient\"}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    for opts in [ReadOptions::strict(), ReadOptions::lenient()] {
        let e = Resource::from_json_with(json.as_bytes(), &opts).unwrap_err();
        assert_eq!(e.kind(), TooDeep, "{e}");
    }
    // Nested arrays as the whole document: not a resource (strict), and too
    // deep to skip (lenient).
    let json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    check(&strict_error(&json), WrongType, "", 1, 1);
    check(&lenient_error_bytes(json.as_bytes()), TooDeep, "", 1, 257);
}

// ----- 10. bad code, bad id -------------------------------------------------------------------

#[test]
fn bad_code() {
    let json = r#"{
  "resourceType": "Patient",
  "gender": "mail",
  "active": true
}"#;
    let p = check_both(json, &[(InvalidValue, "Patient.gender", 3, 13)]);
    let pat = patient(&p.value);
    // The model cannot hold a code outside the required value set: dropped.
    assert_eq!(gender(pat), None);
    assert_eq!(active(pat), Some(true));
    assert!(!p.value.to_json().contains("gender"));
}

#[test]
fn bad_id() {
    let json = r#"{
  "resourceType": "Patient",
  "id": "a b",
  "active": true
}"#;
    let p = check_both(json, &[(InvalidValue, "Patient.id", 3, 9)]);
    let pat = patient(&p.value);
    assert_eq!(
        pat.id.as_ref().unwrap().value.as_deref(),
        Some("a b"),
        "kept as written"
    );
    assert_eq!(active(pat), Some(true));
}

// ----- 11. `_name` companions -------------------------------------------------------------

#[test]
fn value_less_primitive_reads_and_round_trips() {
    let json = r#"{
  "resourceType": "Patient",
  "_birthDate": {
    "extension": [
      {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
    ]
  }
}"#;
    let r = Resource::from_json(json.as_bytes()).unwrap();
    let p = lenient(json);
    check_warnings(&p, &[]);
    let bd = patient(&r).birth_date.as_ref().unwrap();
    assert!(bd.value.is_none());
    assert_eq!(bd.extension().len(), 1);
    let out = r.to_json();
    assert!(out.contains("\"_birthDate\""), "{out}");
    assert!(!out.contains("\"birthDate\""), "{out}");
    json_equal(json, &out).unwrap();
    assert_eq!(Resource::from_json(out.as_bytes()).unwrap(), r);
}

#[test]
fn primitive_array_with_companion_round_trips() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {
      "given": ["a", null],
      "_given": [null, {"extension": [{"url": "http://x", "valueString": "y"}]}]
    }
  ]
}"#;
    let r = Resource::from_json(json.as_bytes()).unwrap();
    check_warnings(&lenient(json), &[]);
    let given = &patient(&r).name[0].given;
    assert_eq!(given.len(), 2);
    assert_eq!(given[0].value.as_deref(), Some("a"));
    assert!(given[0].extension().is_empty());
    assert_eq!(given[1].value, None);
    assert_eq!(given[1].extension().len(), 1);
    let out = r.to_json();
    json_equal(json, &out).unwrap();
    assert_eq!(Resource::from_json(out.as_bytes()).unwrap(), r);

    // The companion may come first.
    let first = r#"{
  "resourceType": "Patient",
  "name": [
    {
      "_given": [null, {"extension": [{"url": "http://x", "valueString": "y"}]}],
      "given": ["a", null]
    }
  ]
}"#;
    assert_eq!(Resource::from_json(first.as_bytes()).unwrap(), r);
}

#[test]
fn null_in_primitive_array_without_companion() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"given": ["a", null]}
  ]
}"#;
    // The item `given[1]` is null in both halves (there is no `_given`).
    let p = check_both(json, &[(Null, "Patient.name[0].given[1]", 4, 21)]);
    let given = &patient(&p.value).name[0].given;
    assert_eq!(given[0].value.as_deref(), Some("a"));
}

#[test]
fn companion_array_of_a_different_length() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {
      "given": ["a", "b"],
      "_given": [{"id": "g1"}]
    }
  ]
}"#;
    let p = check_both(json, &[(InvalidValue, "Patient.name[0].given", 6, 17)]);
    let given = &patient(&p.value).name[0].given;
    assert_eq!(given.len(), 2, "both values kept");
    assert_eq!(given[0].value.as_deref(), Some("a"));
    assert_eq!(given[0].id(), Some("g1"));
    assert_eq!(given[1].value.as_deref(), Some("b"));
}

#[test]
fn companion_for_a_complex_element() {
    let json = r#"{
  "resourceType": "Patient",
  "_name": {},
  "gender": "male"
}"#;
    let p = check_both(json, &[(NotPrimitive, "Patient.name", 3, 12)]);
    let pat = patient(&p.value);
    assert!(pat.name.is_empty());
    assert_eq!(gender(pat), Some("male"));
}

// ----- 12. paths through resources in resources ------------------------------------------------

#[test]
fn path_through_a_bundle() {
    let json = r#"{
  "resourceType": "Bundle",
  "type": "collection",
  "entry": [
    {
      "resource": {
        "resourceType": "Patient",
        "birthDate": "1970-01-01"
      }
    },
    {
      "fullUrl": "urn:uuid:5c2ffbbd-1a4b-4b3a-9b1e-6a0e3c3b9f10",
      "resource": {
        "resourceType": "Patient",
        "birthDate": "1970-13-01"
      }
    }
  ]
}"#;
    let p = check_both(
        json,
        &[(
            InvalidValue,
            "Bundle.entry[1].resource.ofType(Patient).birthDate",
            15,
            22,
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
    let json = r##"{
  "resourceType": "Patient",
  "contained": [
    {
      "resourceType": "Organization",
      "id": "org1",
      "name": 42
    }
  ],
  "managingOrganization": {"reference": "#org1"}
}"##;
    let p = check_both(
        json,
        &[(
            WrongType,
            "Patient.contained[0].ofType(Organization).name",
            7,
            15,
        )],
    );
    let pat = patient(&p.value);
    let Resource::Organization(org) = &pat.contained[0] else {
        panic!("not an Organization")
    };
    assert_eq!(text(&org.name), Some("42"));
    assert_eq!(
        text(&pat.managing_organization.as_ref().unwrap().reference),
        Some("#org1")
    );
}

#[test]
fn unknown_resource_type_inside_a_bundle() {
    let json = r#"{
  "resourceType": "Bundle",
  "type": "collection",
  "entry": [
    {"resource": {"resourceType": "Patientt"}},
    {"resource": {"resourceType": "Patient", "active": true}}
  ]
}"#;
    // The entry, empty once its resource is dropped, is dropped too (FHIR has no
    // empty elements; written back it could not be read back).
    let p = check_both(
        json,
        &[
            (UnknownResourceType, "Bundle.entry[0].resource", 5, 35),
            (Empty, "Bundle.entry[0]", 5, 5),
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

// ----- 13. choice conflicts ----------------------------------------------------------------------

#[test]
fn choice_conflict() {
    let json = r#"{
  "resourceType": "Patient",
  "deceasedBoolean": true,
  "deceasedDateTime": "2000"
}"#;
    let p = check_both(json, &[(ChoiceConflict, "Patient.deceasedDateTime", 4, 23)]);
    match &patient(&p.value).deceased {
        Some(fhir_stu3::resources::PatientDeceased::Boolean(b)) => assert_eq!(b.value, Some(true)),
        other => panic!("the first choice should be kept: {other:?}"),
    }
}

// ----- 14. syntax: trailing garbage, truncation, invalid UTF-8 -------------------------------------

#[test]
fn trailing_garbage() {
    let json = r#"{
  "resourceType": "Patient",
  "active": true
}
  x"#;
    check(&strict_error(json), Syntax, "", 5, 3);
    check(&lenient_error_bytes(json.as_bytes()), Syntax, "", 5, 3);
    // A second document is garbage too.
    let two = "{\"resourceType\":\"Patient\"}\n{\"resourceType\":\"Patient\"}";
    check(&strict_error(two), Syntax, "", 2, 1);
}

#[test]
fn truncated_document() {
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"family": "A""#;
    check(&strict_error(json), Syntax, "Patient.name[0]", 4, 19);
    check(
        &lenient_error_bytes(json.as_bytes()),
        Syntax,
        "Patient.name[0]",
        4,
        19,
    );
    // Truncated inside a string: the unterminated string starts at its quote.
    let json = r#"{
  "resourceType": "Patient",
  "name": [
    {"family": "A"#;
    check(&strict_error(json), Syntax, "Patient.name[0].family", 4, 16);
    check(
        &lenient_error_bytes(json.as_bytes()),
        Syntax,
        "Patient.name[0].family",
        4,
        16,
    );
}

#[test]
fn empty_document() {
    // No JSON value at all is not well-formed JSON, in both modes.
    check(&strict_error(""), Syntax, "", 1, 1);
    check(&strict_error("  \n "), Syntax, "", 2, 2);
    check(&lenient_error_bytes(b""), Syntax, "", 1, 1);
}

#[test]
fn invalid_utf8() {
    // `é` is two bytes but one column: the bad byte is in column 25.
    let mut bytes = b"{\n  \"resourceType\": \"Patient\",\n  \"name\": [{\"family\": \"".to_vec();
    bytes.extend_from_slice("é".as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice(b"\"}]\n}");
    check(&strict_error_bytes(&bytes), Syntax, "", 3, 25);
    check(&lenient_error_bytes(&bytes), Syntax, "", 3, 25);
}

// ----- 15. Display ------------------------------------------------------------------------------------

#[test]
fn display_names_kind_path_line_and_column() {
    let json = r#"{
  "resourceType": "Patient",
  "birthDate": "1970-13-01"
}"#;
    let e = strict_error(json);
    let shown = e.to_string();
    assert!(shown.contains("Patient.birthDate"), "{shown}");
    assert!(shown.contains("line 3"), "{shown}");
    assert!(shown.contains("column 16"), "{shown}");
    assert!(
        shown.starts_with("error [invalid-value] at Patient.birthDate (line 3, column 16): "),
        "{shown}"
    );
    assert!(
        shown.contains("1970-13-01"),
        "the message names the value: {shown}"
    );
    let p = lenient(json);
    let shown = p.warnings[0].to_string();
    assert!(
        shown.starts_with("warning [invalid-value] at Patient.birthDate (line 3, column 16): "),
        "{shown}"
    );
    // A problem before any element is shown at the document.
    let e = strict_error("{\"active\":true}");
    assert!(
        e.to_string().contains("(document) (line 1, column 1)"),
        "{e}"
    );
}

// ----- serde ---------------------------------------------------------------------------------------------

#[test]
fn serde_reads_and_writes_the_model() {
    let json = r#"{
  "resourceType": "Patient",
  "id": "p1",
  "active": true,
  "name": [{"family": "Chalmers", "given": ["Peter", "James"]}],
  "gender": "male",
  "birthDate": "1974-12-25",
  "_birthDate": {"extension": [{"url": "http://x", "valueString": "y"}]},
  "multipleBirthInteger": 2
}"#;
    let pat: Patient = serde_json::from_str(json).unwrap();
    assert_eq!(birth_date(&pat), Some("1974-12-25"));
    assert_eq!(pat.name[0].given[1].value.as_deref(), Some("James"));
    assert_eq!(
        pat,
        fhir_stu3::from_json::<Patient>(json.as_bytes()).unwrap()
    );
    let out = serde_json::to_string(&pat).unwrap();
    json_equal(json, &out).unwrap();
    // Errors come through serde with their path.
    let bad = json.replace("1974-12-25", "1974-13-25");
    let e = serde_json::from_str::<Patient>(&bad).unwrap_err();
    assert!(e.to_string().contains("Patient.birthDate"), "{e}");
    let e = serde_json::from_str::<Patient>(r#"{"resourceType":"Patient","foo":1}"#).unwrap_err();
    assert!(e.to_string().contains("Patient.foo"), "{e}");
}
