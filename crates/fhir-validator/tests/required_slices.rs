//! A required slice is missing when the sliced element has no items at all, not only
//! when it has items of other slices.

use fhir_stu3::Resource;
use fhir_validator::{Severity, Validator};

fn findings(identifier: &str) -> Vec<(Severity, String, String, String)> {
    let json = format!(
        r#"{{"resourceType":"Patient","meta":{{"profile":["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"]}},
        "identifier":[{identifier}],"name":[{{"use":"official","family":"Smith"}}]}}"#
    );
    let r = Resource::from_json(json.as_bytes()).unwrap();
    Validator::new()
        .validate(&r.to_tree())
        .into_iter()
        .map(|f| (f.severity, f.rule, f.location, f.message))
        .collect()
}

#[test]
fn nhs_number_without_any_extension_lacks_the_verification_status() {
    let missing = vec![(
        Severity::Error,
        "cardinality".to_owned(),
        "Patient.identifier[0].extension".to_owned(),
        "slice `nhsNumberVerificationStatus` has 0 item(s); at least 1 required (1..1)".to_owned(),
    )];
    // No extension at all.
    assert_eq!(
        findings(r#"{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}"#),
        missing
    );
    // The same finding as when another extension stands where the slice should be
    // (plus the warning about that unknown extension).
    let other = findings(
        r#"{"extension":[{"url":"https://example.org/x","valueString":"a"}],
            "system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}"#,
    );
    assert_eq!(other[..1], missing[..]);
    assert_eq!(other.len(), 2);
    // With the extension: nothing.
    assert_eq!(
        findings(
            r#"{"extension":[{"url":"https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1",
            "valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1","code":"01"}]}}],
            "system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}"#
        ),
        vec![]
    );
}

#[test]
fn absent_elements_with_required_slices() {
    let v = Validator::new();
    let patient = Resource::from_json(
        br#"{"resourceType":"Patient","meta":{"profile":["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"]}}"#,
    )
    .unwrap();
    let f = v.validate(&patient.to_tree());
    assert_eq!(
        f.iter()
            .map(|f| (f.severity, f.location.as_str(), f.message.as_str()))
            .collect::<Vec<_>>(),
        vec![(
            Severity::Error,
            "Patient.name",
            "slice `official` has 0 item(s); at least 1 required (1..1)"
        )]
    );
    // A MessageHeader with no extension lacks the ITK handling extension.
    let header = Resource::from_json(
        br#"{"resourceType":"MessageHeader","meta":{"profile":["https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2"]},
        "event":{"system":"https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2","code":"ITK007C","display":"ITK GP Connect Send Document"},
        "sender":{"reference":"urn:uuid:c0bee62f-9932-4468-9508-71c67a9f0c2c"},"timestamp":"2020-03-25T10:00:00+00:00",
        "source":{"endpoint":"MESHGP0001"}}"#,
    )
    .unwrap();
    let f = v.validate(&header.to_tree());
    assert!(
        f.iter().any(|f| f.severity == Severity::Error
            && f.location == "MessageHeader.extension"
            && f.message == "slice `ITKMessageHandling` has 0 item(s); at least 1 required (1..1)"),
        "{f:#?}"
    );
}
