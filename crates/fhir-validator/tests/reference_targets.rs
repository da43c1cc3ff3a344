//! Reference targets: a Reference whose element restricts `targetProfile` must,
//! when it resolves inside the resource or its Bundles, point at a resource of an
//! allowed type, conforming to an allowed profile of that type when only profiles
//! are allowed. References that do not resolve are not checked.

use std::collections::HashMap;

use fhir_stu3::Resource;
use fhir_validator::{Finding, IssueType, Severity, Validator};
use serde_json::{json, Value};
use workspace_tests::shared_dir;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/send-document-valid.xml"
);

const HEADER: &str = "Bundle.entry[0].resource.ofType(MessageHeader)";
const COMPOSITION: &str =
    "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition)";

/// The fullUrls of the fixture's resources.
const HEADER_ORGANIZATION: &str = "urn:uuid:c0bee62f-9932-4468-9508-71c67a9f0c2c";
const DOCUMENT_BUNDLE: &str = "urn:uuid:70c35c4a-65f4-4a03-bcf7-d1041ab999fd";
const PRACTITIONER: &str = "urn:uuid:d0269177-3edc-468b-9f70-971189158bcb";
const ORGANIZATION: &str = "urn:uuid:ab71659b-8b8d-43df-b6ba-7f755e9dca64";
const PATIENT: &str = "urn:uuid:31686b67-9f20-4644-9a54-193d2f91de11";

const ITK_HEADER_PRACTITIONER: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Practitioner-1";
const CARECONNECT_PRACTITIONER: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Practitioner-1";
const CARECONNECT_ORGANIZATION: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1";

fn fixture() -> String {
    std::fs::read_to_string(FIXTURE).unwrap()
}

fn validate_xml(text: &str) -> Vec<Finding> {
    let r = Resource::from_xml(text.as_bytes()).unwrap();
    Validator::new().validate(&r.to_tree())
}

fn validate_json(v: &Value) -> Vec<Finding> {
    let r = Resource::from_json(v.to_string().as_bytes()).unwrap();
    Validator::new().validate(&r.to_tree())
}

fn errors(f: &[Finding]) -> Vec<&Finding> {
    f.iter().filter(|x| x.severity == Severity::Error).collect()
}

fn targets(f: &[Finding]) -> Vec<&Finding> {
    f.iter().filter(|x| x.rule == "reference-target").collect()
}

/// `text` with `from` (which must occur exactly once) replaced by `to`.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from}");
    text.replacen(from, to, 1)
}

/// The fixture with `MessageHeader.sender` pointing at `reference`.
fn sender(text: &str, reference: &str) -> String {
    replace_once(
        text,
        &format!("<sender>\n          <reference value=\"{HEADER_ORGANIZATION}\"/>"),
        &format!("<sender>\n          <reference value=\"{reference}\"/>"),
    )
}

/// The fixture with `Composition.<element>` pointing at `reference` instead of `old`.
fn composition_ref(text: &str, element: &str, old: &str, reference: &str) -> String {
    replace_once(
        text,
        &format!("<{element}>\n                <reference value=\"{old}\"/>"),
        &format!("<{element}>\n                <reference value=\"{reference}\"/>"),
    )
}

/// The fixture with one more entry in the message Bundle (after the header
/// Organization): `resource` is the XML of the resource.
fn with_message_entry(text: &str, full_url: &str, resource: &str) -> String {
    replace_once(
        text,
        "  <entry>\n    <fullUrl value=\"urn:uuid:70c35c4a",
        &format!(
            "  <entry>\n    <fullUrl value=\"{full_url}\"/>\n    <resource>\n{resource}\n    </resource>\n  </entry>\n  <entry>\n    <fullUrl value=\"urn:uuid:70c35c4a"
        ),
    )
}

/// The document Bundle's Practitioner, as a resource of the message Bundle with
/// another id, claiming `profile`, with or without its `telecom`.
fn header_practitioner(id: &str, profile: &str, telecom: bool) -> String {
    let telecom = if telecom {
        "<telecom><system value=\"phone\"/><value value=\"01136323200\"/><use value=\"work\"/></telecom>"
    } else {
        ""
    };
    format!(
        "<Practitioner><id value=\"{id}\"/><meta><profile value=\"{profile}\"/></meta>\
         <identifier><system value=\"https://fhir.nhs.uk/Id/sds-user-id\"/><value value=\"033345750518\"/></identifier>\
         <name><use value=\"official\"/><family value=\"Pritchard\"/><given value=\"Gary\"/></name>\
         {telecom}</Practitioner>"
    )
}

#[test]
fn the_valid_fixture_stays_valid() {
    let f = validate_xml(&fixture());
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert!(targets(&f).is_empty(), "{f:#?}");
}

#[test]
fn message_header_sender_must_be_an_organization_or_practitioner() {
    // A Patient entry of the message Bundle.
    let patient = "<Patient><id value=\"0a7b2c6e-5d41-4f0b-9d3e-2f1c8a6b4e11\"/></Patient>";
    let url = "urn:uuid:0a7b2c6e-5d41-4f0b-9d3e-2f1c8a6b4e11";
    let text = sender(&with_message_entry(&fixture(), url, patient), url);
    let f = validate_xml(&text);
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    let x = e[0];
    assert_eq!(x.rule, "reference-target");
    assert_eq!(x.issue, IssueType::Structure);
    assert_eq!(x.location, format!("{HEADER}.sender"));
    assert_eq!(
        x.message,
        format!("{url} refers to a Patient; allowed here: Organization, Practitioner"),
    );

    // The document Bundle: a Bundle is no sender either.
    let f = validate_xml(&sender(&fixture(), DOCUMENT_BUNDLE));
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].rule, "reference-target");
    assert_eq!(e[0].location, format!("{HEADER}.sender"));
    assert!(e[0].message.contains("refers to a Bundle"), "{}", e[0]);

    // The Patient inside the document Bundle is not an entry of a Bundle that
    // holds the MessageHeader: the reference does not resolve, and is not checked.
    let f = validate_xml(&sender(&fixture(), PATIENT));
    assert!(targets(&f).is_empty(), "{f:#?}");
    assert!(errors(&f).is_empty(), "{f:#?}");
}

#[test]
fn composition_custodian_must_be_an_organization() {
    let text = composition_ref(&fixture(), "custodian", ORGANIZATION, PRACTITIONER);
    let f = validate_xml(&text);
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].rule, "reference-target");
    assert_eq!(e[0].location, format!("{COMPOSITION}.custodian"));
    assert_eq!(
        e[0].message,
        format!("{PRACTITIONER} refers to a Practitioner; allowed here: Organization")
    );

    // `Composition.subject` is `Reference(Any)` in the base and in
    // CareConnect-Composition-1 (Send Document's GPCM-SD-106 asks for a Patient):
    // nothing to check here.
    let text = composition_ref(&fixture(), "subject", PATIENT, ORGANIZATION);
    let f = validate_xml(&text);
    assert!(errors(&f).is_empty(), "{f:#?}");
    // An author may not be an Organization.
    let text = composition_ref(&fixture(), "author", PRACTITIONER, ORGANIZATION);
    let f = validate_xml(&text);
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].location, format!("{COMPOSITION}.author[0]"));
    assert!(
        e[0].message.ends_with(
            "refers to an Organization; allowed here: Device, Patient, Practitioner, RelatedPerson"
        ),
        "{}",
        e[0]
    );
}

#[test]
fn a_target_of_the_right_type_must_conform_to_an_allowed_profile() {
    let id = "5e0c3a7d-8f2b-4c61-a9d4-3b7e1f2a6c58";
    let url = format!("urn:uuid:{id}");
    let base = fixture();

    // The document's Practitioner (CareConnect-Practitioner-1, with a telecom) as
    // the sender: ITK-MessageHeader-2 allows a Practitioner only as
    // CareConnect-ITK-Header-Practitioner-1, which prohibits telecom.
    let text = with_message_entry(
        &base,
        &url,
        &header_practitioner(id, CARECONNECT_PRACTITIONER, true),
    );
    let f = validate_xml(&sender(&text, &url));
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].rule, "reference-target");
    assert_eq!(e[0].location, format!("{HEADER}.sender"));
    assert_eq!(
        e[0].profile,
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2"
    );
    assert!(
        e[0].message.starts_with(&format!(
            "{url} refers to a Practitioner that does not conform to {ITK_HEADER_PRACTITIONER}"
        )),
        "{}",
        e[0]
    );
    assert!(e[0].message.contains("Practitioner.telecom"), "{}", e[0]);

    // Without the telecom it conforms, though it claims another profile.
    let text = with_message_entry(
        &base,
        &url,
        &header_practitioner(id, CARECONNECT_PRACTITIONER, false),
    );
    let f = validate_xml(&sender(&text, &url));
    assert!(errors(&f).is_empty(), "{f:#?}");

    // Claiming the header profile, it is validated against it in its own right:
    // the telecom is reported at the Practitioner, not again at the sender.
    let text = with_message_entry(
        &base,
        &url,
        &header_practitioner(id, ITK_HEADER_PRACTITIONER, true),
    );
    let f = validate_xml(&sender(&text, &url));
    let e: Vec<(&str, &str)> = errors(&f)
        .iter()
        .map(|x| (x.rule.as_str(), x.location.as_str()))
        .collect();
    assert_eq!(
        e,
        [(
            "cardinality",
            "Bundle.entry[2].resource.ofType(Practitioner).telecom"
        )]
    );
}

#[test]
fn a_target_chosen_for_a_profile_by_location_counts_as_validated_against_it() {
    // The document's Organization, without its meta.profile and with a contact
    // that has no family name (CareConnect-Organization-1 requires one).
    let text = replace_once(
        &fixture(),
        "<meta>\n                <profile value=\"https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1\"/>\n              </meta>\n",
        "",
    );
    let text = replace_once(
        &text,
        "<use value=\"work\"/>\n              </telecom>\n            </Organization>",
        "<use value=\"work\"/>\n              </telecom><contact><name><given value=\"Ann\"/></name></contact>\n            </Organization>",
    );
    let r = Resource::from_xml(text.as_bytes()).unwrap().to_tree();
    let v = Validator::new();

    // Claimed by nobody: validated quietly for the custodian, which is an error.
    let f = v.validate(&r);
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].rule, "reference-target");
    assert_eq!(e[0].location, format!("{COMPOSITION}.custodian"));
    assert!(
        e[0].message.contains(CARECONNECT_ORGANIZATION) && e[0].message.contains("family"),
        "{}",
        e[0]
    );

    // Chosen for its location: the contact is reported at the Organization,
    // and the custodian is fine.
    let org = "Bundle.entry[2].resource.ofType(Bundle).entry[3].resource.ofType(Organization)";
    let profiles: HashMap<String, String> = [
        (
            "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition)",
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1",
        ),
        (org, CARECONNECT_ORGANIZATION),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let f = v.validate_with_profiles(&r, &profiles);
    let e: Vec<(&str, &str)> = errors(&f)
        .iter()
        .map(|x| (x.rule.as_str(), x.location.as_str()))
        .collect();
    assert_eq!(
        e,
        [("cardinality", &*format!("{org}.contact[0].name.family"))]
    );
}

#[test]
fn contained_targets_are_resolved_by_id() {
    /// The fixture with `contained` resources in the Composition, its author
    /// `#p1` and its custodian `custodian`.
    fn with_contained(contained: &str, custodian: &str) -> String {
        let identifier =
            "<identifier>\n                <system value=\"https://tools.ietf.org/html/rfc4122\"/>";
        let text = replace_once(&fixture(), identifier, &format!("{contained}{identifier}"));
        let text = composition_ref(&text, "author", PRACTITIONER, "#p1");
        composition_ref(&text, "custodian", ORGANIZATION, custodian)
    }
    let practitioner = "<contained><Practitioner><id value=\"p1\"/></Practitioner></contained>";
    let organization =
        "<contained><Organization><id value=\"o1\"/><name value=\"Surgery\"/></Organization></contained>";

    // The custodian is the contained Practitioner.
    let f = validate_xml(&with_contained(practitioner, "#p1"));
    let e: Vec<(&str, &str, &str)> = errors(&f)
        .iter()
        .map(|x| (x.rule.as_str(), x.location.as_str(), x.message.as_str()))
        .collect();
    assert_eq!(
        e,
        [(
            "reference-target",
            &*format!("{COMPOSITION}.custodian"),
            "#p1 refers to a Practitioner; allowed here: Organization",
        )],
        "{f:#?}"
    );

    // The contained Organization: it claims no profile, and conforms to
    // CareConnect-Organization-1 (checked quietly), as the Practitioner does to
    // CareConnect-Practitioner-1.
    let f = validate_xml(&with_contained(
        &format!("{practitioner}{organization}"),
        "#o1",
    ));
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert!(targets(&f).is_empty(), "{f:#?}");

    // A contained Organization that does not conform (a contact without a family
    // name): an error at the custodian, naming the profile and the problem.
    let broken = "<contained><Organization><id value=\"o1\"/><name value=\"Surgery\"/><contact><name><given value=\"Ann\"/></name></contact></Organization></contained>";
    let f = validate_xml(&with_contained(&format!("{practitioner}{broken}"), "#o1"));
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].rule, "reference-target");
    assert_eq!(e[0].location, format!("{COMPOSITION}.custodian"));
    assert_eq!(
        e[0].message,
        format!(
            "#o1 refers to an Organization that does not conform to {CARECONNECT_ORGANIZATION} \
             (it is not validated against it here, and against {CARECONNECT_ORGANIZATION}: \
             Organization.contact[0].name.family: `family` has 0 item(s); at least 1 required (1..1))"
        )
    );
}

fn official(name: &str) -> Value {
    let path = shared_dir().join("fhir-examples/json").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

#[test]
fn core_targets_by_type_contained_and_in_bundles() {
    // An official example Patient, managed by a contained Practitioner.
    let mut p = official("patient-example-f001-pieter.json");
    p["contained"] = json!([{"resourceType": "Practitioner", "id": "gp"}]);
    p["managingOrganization"] = json!({"reference": "#gp"});
    let f = validate_json(&p);
    let e = errors(&f);
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].rule, "reference-target");
    assert_eq!(e[0].location, "Patient.managingOrganization");
    assert_eq!(
        e[0].profile,
        "http://hl7.org/fhir/StructureDefinition/Patient"
    );
    assert_eq!(
        e[0].message,
        "#gp refers to a Practitioner; allowed here: Organization"
    );
    // A contained Organization is right; so is a reference that does not
    // resolve (whatever type its text names), and one with only an identifier.
    for (contained, reference) in [
        (
            json!({"resourceType": "Organization", "id": "gp", "name": "GP"}),
            json!({"reference": "#gp"}),
        ),
        (
            json!({"resourceType": "Practitioner", "id": "gp"}),
            json!({"reference": "Practitioner/gp", "display": "x"}),
        ),
        (
            json!({"resourceType": "Practitioner", "id": "gp"}),
            json!({"identifier": {"value": "gp"}}),
        ),
    ] {
        let mut p = official("patient-example-f001-pieter.json");
        p["contained"] = json!([contained]);
        p["generalPractitioner"] = json!([{"reference": "#gp"}]);
        p["managingOrganization"] = reference;
        let f = validate_json(&p);
        assert!(targets(&f).is_empty(), "{f:#?}");
        assert!(errors(&f).is_empty(), "{f:#?}");
    }

    // A choice: MedicationRequest.medication[x] allows Reference(Medication).
    let mut m = official("medicationrequestexample1.json");
    m["contained"] = json!([{"resourceType": "Substance", "id": "s", "code": {"text": "x"}}]);
    m["medicationReference"] = json!({"reference": "#s"});
    if let Some(o) = m.as_object_mut() {
        o.remove("medicationCodeableConcept");
    }
    let f = validate_json(&m);
    let e: Vec<(&str, &str, &str)> = errors(&f)
        .iter()
        .map(|x| (x.rule.as_str(), x.location.as_str(), x.message.as_str()))
        .collect();
    assert_eq!(
        e,
        [(
            "reference-target",
            "MedicationRequest.medication.ofType(Reference)",
            "#s refers to a Substance; allowed here: Medication"
        )],
        "{f:#?}"
    );

    // A Bundle: absolute fullUrls, relative `Type/id` and `urn:oid:` resolve to
    // entries; each wrong target is an error, the right and unresolved ones are not.
    let bundle = json!({
        "resourceType": "Bundle", "type": "collection",
        "entry": [
            {"fullUrl": "http://example.org/fhir/Patient/a",
             "resource": {"resourceType": "Patient", "id": "a",
                          "managingOrganization": {"reference": "http://example.org/fhir/Practitioner/b"},
                          "generalPractitioner": [
                              {"reference": "Practitioner/b"},
                              {"reference": "urn:oid:1.2.3.4"},
                              {"reference": "Organization/elsewhere"},
                              {"reference": "http://elsewhere.org/fhir/Patient/z"}]}},
            {"fullUrl": "http://example.org/fhir/Practitioner/b",
             "resource": {"resourceType": "Practitioner", "id": "b"}},
            {"fullUrl": "urn:oid:1.2.3.4",
             "resource": {"resourceType": "Organization", "id": "c", "name": "C"}},
            {"fullUrl": "urn:uuid:9b1f3c52-7a2e-4d8b-b6c1-0e4f5a7d2c93",
             "resource": {"resourceType": "Patient", "id": "d",
                          "managingOrganization": {"reference": "Practitioner/b/_history/1"}}},
            {"fullUrl": "urn:oid:1.2.3.5",
             "resource": {"resourceType": "Patient", "id": "e",
                          "managingOrganization": {"reference": "urn:oid:1.2.3.5"}}}
        ]
    });
    let f = validate_json(&bundle);
    let e: Vec<(&str, &str, &str)> = errors(&f)
        .iter()
        .map(|x| (x.rule.as_str(), x.location.as_str(), x.message.as_str()))
        .collect();
    assert_eq!(
        e,
        [
            (
                "reference-target",
                "Bundle.entry[0].resource.ofType(Patient).managingOrganization",
                "http://example.org/fhir/Practitioner/b refers to a Practitioner; allowed here: Organization"
            ),
            (
                "reference-target",
                "Bundle.entry[3].resource.ofType(Patient).managingOrganization",
                "Practitioner/b/_history/1 refers to a Practitioner; allowed here: Organization"
            ),
            (
                "reference-target",
                "Bundle.entry[4].resource.ofType(Patient).managingOrganization",
                "urn:oid:1.2.3.5 refers to a Patient; allowed here: Organization"
            ),
        ],
        "{f:#?}"
    );
}
