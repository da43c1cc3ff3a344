//! The validator on official examples, NHS messages and targeted mutations.

use fhir_stu3::{ReadOptions, Resource};
use fhir_validator::{is_valid, to_operation_outcome, Finding, Severity, Validator};
use workspace_tests::{shared_dir, shared_files};

fn errors(f: &[Finding]) -> Vec<&Finding> {
    f.iter().filter(|x| x.severity == Severity::Error).collect()
}

fn nhs(name: &str) -> String {
    let path = shared_dir().join("examples").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validate_xml(text: &str) -> Vec<Finding> {
    let r = Resource::from_xml_with(text.as_bytes(), &ReadOptions::lenient())
        .unwrap()
        .value;
    Validator::new().validate(&r.to_tree())
}

/// Official examples that break a rule themselves, with the reason.
const EXAMPLE_ERRORS: &[(&str, &str, &str, &str)] = &[(
    "activitydefinition-supplyrequest-example.json",
    "txt-2",
    "ActivityDefinition.text.div",
    "its narrative is an empty <div> (whitespace only)",
)];

#[test]
fn official_examples_have_only_their_own_known_errors() {
    let v = Validator::new();
    let mut found = Vec::new();
    let files = shared_files("fhir-examples/json", "json");
    assert_eq!(files.len(), 176);
    for path in &files {
        let r = Resource::from_json(&std::fs::read(path).unwrap()).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let all = v.validate(&r.to_tree());
        let not_evaluated: Vec<&Finding> = all
            .iter()
            .filter(|f| f.message.contains("was not evaluated"))
            .collect();
        assert!(not_evaluated.is_empty(), "{name}: {not_evaluated:#?}");
        for e in errors(&all) {
            found.push((name.clone(), e.rule.clone(), e.location.clone()));
        }
    }
    let expected: Vec<(String, String, String)> = EXAMPLE_ERRORS
        .iter()
        .map(|(f, r, l, _)| (f.to_string(), r.to_string(), l.to_string()))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn nhs_consultation_report_conforms_to_its_profiles() {
    let f = validate_xml(&nhs("v1.3.0-release_consultation_report.xml"));
    assert!(is_valid(&f), "{f:#?}");
    // The BCP 13 MIME-type value set is not in the packages: said, not skipped.
    assert!(f.iter().any(|x| x.severity == Severity::Information
        && x.rule == "binding"
        && x.message.contains("bcp13")));
}

#[test]
fn missing_family_names_break_the_profiles() {
    let text = nhs("v1.3.0-release_consultation_report.xml");
    let mutated = text.replace("<family value=\"", "<given value=\"");
    assert_ne!(text, mutated);
    let f = validate_xml(&mutated);
    let e = errors(&f);
    let patient = e
        .iter()
        .find(|x| {
            x.location
                .ends_with(".resource.ofType(Patient).name[0].family")
        })
        .unwrap_or_else(|| panic!("{e:#?}"));
    assert_eq!(patient.rule, "cardinality");
    assert_eq!(
        patient.profile,
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"
    );
    assert!(patient
        .location
        .starts_with("Bundle.entry[2].resource.ofType(Bundle).entry["));
}

#[test]
fn extensible_binding_outside_its_value_set_is_a_warning() {
    let text = nhs("v1.3.0-release_consultation_report.xml");
    let mutated = text.replace("<code value=\"ITK007C\" />", "<code value=\"XXX\" />");
    assert_ne!(text, mutated);
    let f = validate_xml(&mutated);
    assert!(is_valid(&f), "{f:#?}");
    let w = f
        .iter()
        .find(|x| x.rule == "binding" && x.severity == Severity::Warning)
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(
        w.location,
        "Bundle.entry[0].resource.ofType(MessageHeader).event"
    );
    assert!(
        w.message.contains("ITK-MessageEvent-2#XXX"),
        "{}",
        w.message
    );
}

#[test]
fn fixed_value_must_match() {
    // CareConnect-Patient-1's official name slice fixes `use` to `official`; an
    // official-slice item found by `use` cannot break it, but a fixed `url` on an
    // extension slice can: ITK MessageHandling's sub-extension urls are fixed.
    let text = nhs("v1.3.0-release_consultation_report.xml");
    let mutated = text.replacen("url=\"BusAckRequested\"", "url=\"BusAckRequestedX\"", 1);
    assert_ne!(text, mutated);
    let f = validate_xml(&mutated);
    let e = errors(&f);
    assert!(!e.is_empty(), "{f:#?}");
    assert!(
        e.iter().all(|x| x
            .location
            .starts_with("Bundle.entry[0].resource.ofType(MessageHeader).extension[0]")),
        "{e:#?}"
    );
}

#[test]
fn invariant_failure_names_its_key() {
    // per-1: start must not be after end.
    let json = br#"{"resourceType":"Encounter","status":"finished","period":{"start":"2020-02-01","end":"2020-01-01"}}"#;
    let r = Resource::from_json(json).unwrap();
    let f = Validator::new().validate(&r.to_tree());
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(
        (e[0].rule.as_str(), e[0].location.as_str()),
        ("per-1", "Encounter.period")
    );
    let oo = to_operation_outcome(&f).to_json();
    assert!(oo.contains("\"code\":\"invariant\""), "{oo}");
    assert!(oo.contains("\"expression\":[\"Encounter.period\"]"), "{oo}");
}

#[test]
fn closed_and_missing_slices_and_cardinality() {
    // CareConnect-Patient-1 requires one official name (the `official` slice is 1..1).
    let json = br#"{"resourceType":"Patient","meta":{"profile":["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"]},
        "name":[{"use":"usual","family":"Smith"}]}"#;
    let r = Resource::from_json(json).unwrap();
    let f = Validator::new().validate(&r.to_tree());
    let e = errors(&f);
    assert!(
        e.iter().any(|x| x.rule == "cardinality"
            && x.location == "Patient.name"
            && x.message.contains("slice `official`")),
        "{e:#?}"
    );
}

#[test]
fn validate_against_an_unknown_profile_is_an_error() {
    let r = Resource::from_json(br#"{"resourceType":"Patient"}"#).unwrap();
    let f = Validator::new().validate_against(&r.to_tree(), "http://example.org/nope");
    assert_eq!(errors(&f).len(), 1);
    assert!(errors(&f)[0].message.contains("no StructureDefinition"));
}
