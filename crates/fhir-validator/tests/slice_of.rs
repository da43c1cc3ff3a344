//! `Validator::slice_of`: which slice a list item belongs to.

use fhir_runtime::tree::to_tree;
use fhir_stu3::datatypes::{Extension, HumanName, Identifier};
use fhir_stu3::primitives::Uri;
use fhir_validator::Validator;

const PATIENT: &str = "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1";

fn identifier(system: &str) -> Identifier {
    Identifier {
        system: Some(Uri::new(system)),
        ..Default::default()
    }
}

#[test]
fn identifiers_are_told_apart_by_system() {
    let v = Validator::new();
    let nhs = to_tree(&identifier("https://fhir.nhs.uk/Id/nhs-number"), false);
    let other = to_tree(&identifier("https://example.org/mrn"), false);
    assert_eq!(
        v.slice_of(PATIENT, "Patient.identifier", &nhs),
        Some("nhsNumber")
    );
    assert_eq!(v.slice_of(PATIENT, "Patient.identifier", &other), None);
}

#[test]
fn names_by_use_and_extensions_by_url() {
    let v = Validator::new();
    let official = HumanName {
        use_: Some(fhir_stu3::primitives::Code::new(
            fhir_stu3::codes::NameUse::Official,
        )),
        ..Default::default()
    };
    let nickname = HumanName {
        use_: Some(fhir_stu3::primitives::Code::new(
            fhir_stu3::codes::NameUse::Nickname,
        )),
        ..Default::default()
    };
    assert_eq!(
        v.slice_of(PATIENT, "Patient.name", &to_tree(&official, false)),
        Some("official")
    );
    assert_eq!(
        v.slice_of(PATIENT, "Patient.name", &to_tree(&nickname, false)),
        None
    );
    let ethnic = Extension {
        url: Some(
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1"
                .into(),
        ),
        ..Default::default()
    };
    assert_eq!(
        v.slice_of(PATIENT, "Patient.extension", &to_tree(&ethnic, false)),
        Some("ethnicCategory")
    );
}

#[test]
fn unknown_profiles_and_unsliced_elements_give_none() {
    let v = Validator::new();
    let nhs = to_tree(&identifier("https://fhir.nhs.uk/Id/nhs-number"), false);
    assert_eq!(
        v.slice_of("https://example.org/nope", "Patient.identifier", &nhs),
        None
    );
    assert_eq!(v.slice_of(PATIENT, "Patient.telecom", &nhs), None);
}
