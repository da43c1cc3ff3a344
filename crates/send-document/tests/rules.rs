//! Each Send Document rule, on mutations of the valid fixture
//! (`tests/fixtures/send-document-valid.xml`): exactly the findings the mutation adds.

use fhir_stu3::{Node, Resource};
use send_document::{Edition, Finding, MessageValidator, Options, Severity};

use Severity::{Error, Information, Warning};

const MH: &str = "Bundle.entry[0].resource.ofType(MessageHeader)";
const DOC: &str = "Bundle.entry[2].resource.ofType(Bundle)";
const COMP: &str = "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition)";
const BINARY: &str = "Bundle.entry[2].resource.ofType(Bundle).entry[1].resource.ofType(Binary)";
const PRACTITIONER: &str =
    "Bundle.entry[2].resource.ofType(Bundle).entry[2].resource.ofType(Practitioner)";
const ORGANIZATION: &str =
    "Bundle.entry[2].resource.ofType(Bundle).entry[3].resource.ofType(Organization)";
const PATIENT: &str = "Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Patient)";

const PATIENT_URN: &str = "urn:uuid:31686b67-9f20-4644-9a54-193d2f91de11";
const ORGANIZATION_URN: &str = "urn:uuid:ab71659b-8b8d-43df-b6ba-7f755e9dca64";
const HEADER_ORG_URN: &str = "urn:uuid:c0bee62f-9932-4468-9508-71c67a9f0c2c";
const DOC_URN: &str = "urn:uuid:70c35c4a-65f4-4a03-bcf7-d1041ab999fd";
const BINARY_URN: &str = "urn:uuid:caf5f17d-e73d-4aaa-a406-dab1717da0c4";
const PRACTITIONER_URN: &str = "urn:uuid:d0269177-3edc-468b-9f70-971189158bcb";

type Summary = Vec<(Severity, String, String)>;

fn fixture() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/send-document-valid.xml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture with each `(from, to)` replaced, once each (the text must be there).
fn mutated(replacements: &[(&str, &str)]) -> Node {
    let mut text = fixture();
    for (from, to) in replacements {
        assert_eq!(
            text.matches(from).count(),
            1,
            "{from} is not in the fixture once"
        );
        text = text.replacen(from, to, 1);
    }
    Resource::from_xml(text.as_bytes()).unwrap().to_tree()
}

fn summary(f: &[Finding]) -> Summary {
    f.iter()
        .map(|f| (f.severity, f.rule.clone(), f.location.clone()))
        .collect()
}

/// The findings of `tree` that the unchanged fixture does not give.
fn added_with(tree: &Node, edition: Edition) -> Summary {
    let v = MessageValidator::new(Options::with_edition(edition));
    let base = summary(&v.validate_tree(&mutated(&[])));
    summary(&v.validate_tree(tree))
        .into_iter()
        .filter(|f| !base.contains(f))
        .collect()
}

fn added(tree: &Node) -> Summary {
    added_with(tree, Edition::V2)
}

fn at(severity: Severity, rule: &str, location: impl Into<String>) -> (Severity, String, String) {
    (severity, rule.to_owned(), location.into())
}

/// A copy of an entry whose resource has another id (and fullUrl).
fn renamed(entry: &Node, id: &str) -> Node {
    let mut e = entry.clone();
    e.children
        .iter_mut()
        .find(|c| c.name == "fullUrl")
        .unwrap()
        .value = Some(format!("urn:uuid:{id}"));
    let r = e
        .children
        .iter_mut()
        .find(|c| c.name == "resource")
        .unwrap();
    r.children
        .iter_mut()
        .find(|c| c.name == "id")
        .unwrap()
        .value = Some(id.to_owned());
    e
}

/// The `entry` children of a Bundle node, mutable.
fn entries(bundle: &mut Node) -> Vec<&mut Node> {
    bundle
        .children
        .iter_mut()
        .filter(|c| c.name == "entry")
        .collect()
}

#[test]
fn custodian_must_be_the_sending_organization() {
    // A Patient as custodian: CareConnect-Composition-1 allows only an Organization
    // there, which the profile validation reports (reference-target); GPCM-SD-105
    // does not say it again.
    let tree = mutated(&[(
        &format!("<custodian>\n                <reference value=\"{ORGANIZATION_URN}\"/>"),
        &format!("<custodian>\n                <reference value=\"{PATIENT_URN}\"/>"),
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "reference-target", format!("{COMP}.custodian"))]
    );
    // A custodian that is no entry of the document Bundle.
    let tree = mutated(&[(
        &format!("<custodian>\n                <reference value=\"{ORGANIZATION_URN}\"/>"),
        "<custodian>\n                <reference value=\"Organization/GP0001\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-105", format!("{COMP}.custodian"))]
    );
    let f = MessageValidator::default().validate_tree(&tree);
    let custodian = f.iter().find(|f| f.rule == "GPCM-SD-105").unwrap();
    assert_eq!(
        custodian.message,
        "Composition.custodian references Organization/GP0001, which is the fullUrl of no \
         entry of the document Bundle"
    );

    let tree = mutated(&[(
        &format!("<custodian>\n                <reference value=\"{ORGANIZATION_URN}\"/>\n              </custodian>"),
        "",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-105", format!("{COMP}.custodian"))]
    );
}

#[test]
fn subject_and_author() {
    let tree = mutated(&[(
        &format!("<subject>\n                <reference value=\"{PATIENT_URN}\"/>"),
        &format!("<subject>\n                <reference value=\"{PRACTITIONER_URN}\"/>"),
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-106", format!("{COMP}.subject"))]
    );

    // The author as the sending Organization (SCAL GPCM-SD-107): not an author
    // CareConnect-Composition-1 allows, which the profile validation reports; no
    // GPCM-SD-107 finding besides (not even "no Practitioner author").
    let to_org = [(
        &*format!("<author>\n                <reference value=\"{PRACTITIONER_URN}\"/>"),
        &*format!("<author>\n                <reference value=\"{ORGANIZATION_URN}\"/>"),
    )];
    assert_eq!(
        added(&mutated(&to_org)),
        vec![at(Error, "reference-target", format!("{COMP}.author[0]"))]
    );
    // The author as the Patient: allowed, but no Practitioner authors the document.
    let to_patient = [(
        &*format!("<author>\n                <reference value=\"{PRACTITIONER_URN}\"/>"),
        &*format!("<author>\n                <reference value=\"{PATIENT_URN}\"/>"),
    )];
    let tree = mutated(&to_patient);
    assert_eq!(
        added(&tree),
        vec![at(Warning, "GPCM-SD-107", format!("{COMP}.author"))]
    );
    assert_eq!(
        added_with(&tree, Edition::V1_3),
        vec![at(Error, "GPCM-SD-107", format!("{COMP}.author"))]
    );
    // An author that is no entry of the document Bundle.
    let tree = mutated(&[(
        &format!("<author>\n                <reference value=\"{PRACTITIONER_URN}\"/>"),
        "<author>\n                <reference value=\"Practitioner/123\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-107", format!("{COMP}.author[0]"))]
    );
}

#[test]
fn sections_reference_the_attachments() {
    // The only section.entry points at the Patient: tolerated, but then no Binary is
    // reached at all.
    let tree = mutated(&[(
        &format!("<reference value=\"{BINARY_URN}\"/>"),
        &format!("<reference value=\"{PATIENT_URN}\"/>"),
    )]);
    assert_eq!(
        added(&tree),
        vec![
            at(Error, "GPCM-SD-110", format!("{COMP}.section")),
            at(
                Warning,
                "GPCM-SD-110",
                format!("{COMP}.section[0].entry[0]")
            ),
        ]
    );
    // An attachment outside the message.
    let tree = mutated(&[(
        &format!("<reference value=\"{BINARY_URN}\"/>"),
        "<reference value=\"https://example.org/report.pdf\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![
            at(Error, "GPCM-SD-110", format!("{COMP}.section")),
            at(Error, "GPCM-SD-110", format!("{COMP}.section[0].entry[0]")),
        ]
    );
    // A second attachment that no section references.
    let mut tree = mutated(&[]);
    {
        let mut msg = entries(&mut tree);
        let doc = msg[2]
            .children
            .iter_mut()
            .find(|c| c.name == "resource")
            .unwrap();
        let second = renamed(entries(doc)[1], "0f2b8b9e-2c4e-4d0b-9a57-3f1c6b1f2a10");
        doc.children.push(second);
    }
    assert_eq!(
        added(&tree),
        vec![
            at(
                Warning,
                "GPCM-SD-109",
                format!("{DOC}.entry[5].resource.ofType(Binary)")
            ),
            at(
                Information,
                "binding",
                format!("{DOC}.entry[5].resource.ofType(Binary).contentType")
            ),
        ]
    );
}

#[test]
fn composition_values() {
    let tree = mutated(&[(
        "<confidentiality value=\"N\"/>",
        "<confidentiality value=\"R\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-117", format!("{COMP}.confidentiality"))]
    );
    let tree = mutated(&[("<confidentiality value=\"N\"/>", "")]);
    assert_eq!(added(&tree), vec![]);
    assert_eq!(
        added_with(&tree, Edition::V1_3),
        vec![at(Error, "GPCM-SD-117", format!("{COMP}.confidentiality"))]
    );

    let tree = mutated(&[(
        "<code value=\"371531000\"/>",
        "<code value=\"149701000000109\"/>",
    )]);
    assert_eq!(added(&tree), vec![]);
    assert_eq!(
        added_with(&tree, Edition::V1_3),
        vec![at(Error, "GPCM-SD-115", format!("{COMP}.type"))]
    );
    let tree = mutated(&[(
        "<code value=\"371531000\"/>",
        "<code value=\"325871000000103\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Warning, "GPCM-SD-115", format!("{COMP}.type"))]
    );

    let tree = mutated(&[(
        "<date value=\"2020-03-25T10:00:00+00:00\"/>",
        "<date value=\"2020-03-25\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Warning, "GPCM-SD-116", format!("{COMP}.date"))]
    );
}

#[test]
fn payload_resources() {
    let tree = mutated(&[
        (
            "<value value=\"9989453456\"/>",
            "<value value=\"998945345\"/>",
        ),
        (
            "<birthDate value=\"1957-01-09\"/>",
            "<birthDate value=\"1957-01\"/>",
        ),
    ]);
    assert_eq!(
        added(&tree),
        vec![
            at(Error, "GPCM-SD-037", format!("{PATIENT}.birthDate")),
            at(
                Error,
                "GPCM-SD-035",
                format!("{PATIENT}.identifier[0].value")
            ),
        ]
    );
    let tree = mutated(&[("<name value=\"Cumbria Starling Medical Centre\"/>", "")]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-030", format!("{ORGANIZATION}.name"))]
    );

    let tree = mutated(&[
        (
            "<system value=\"https://fhir.nhs.uk/Id/sds-user-id\"/>",
            "<system value=\"https://fhir.hl7.org.uk/Id/gphc-number\"/>",
        ),
        (
            "<use value=\"official\"/>\n                <family value=\"Pritchard\"/>",
            "<family value=\"Pritchard\"/>",
        ),
    ]);
    assert_eq!(
        added(&tree),
        vec![
            at(Error, "GPCM-SD-033", format!("{PRACTITIONER}.name")),
            at(Warning, "GPCM-SD-032", format!("{PRACTITIONER}.identifier")),
        ]
    );
    assert_eq!(
        added_with(&tree, Edition::V1_3),
        vec![
            at(Error, "GPCM-SD-032", format!("{PRACTITIONER}.identifier")),
            at(Error, "GPCM-SD-033", format!("{PRACTITIONER}.name")),
        ]
    );
}

#[test]
fn header_rules() {
    let tree = mutated(&[("<code value=\"ITK007C\"/>", "<code value=\"ITK014M\"/>")]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-047", format!("{MH}.event.code"))]
    );

    let bus = format!("{MH}.extension[0].extension[0].value.ofType(Boolean)");
    let tree = mutated(&[(
        "<extension url=\"BusAckRequested\">\n            <valueBoolean value=\"true\"/>",
        "<extension url=\"BusAckRequested\">\n            <valueBoolean value=\"false\"/>",
    )]);
    assert_eq!(added(&tree), vec![at(Error, "GPCM-SD-040", bus)]);
    let tree = mutated(&[(
        "<extension url=\"InfAckRequested\">\n            <valueBoolean value=\"true\"/>",
        "<extension url=\"InfAckRequested\">\n            <valueBoolean value=\"false\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(
            Error,
            "GPCM-SD-041",
            format!("{MH}.extension[0].extension[1].value.ofType(Boolean)")
        )]
    );

    let definition = format!("{MH}.extension[0].extension[3].value.ofType(Reference)");
    let tree = mutated(&[(
        "ITK-GPConnectSendDocument-MessageDefinition-1\"/>",
        "ITK-GPConnectSendDocument-MessageDefinition-Instance-1\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Warning, "GPCM-SD-043", definition.clone())]
    );
    let tree = mutated(&[(
        "ITK-GPConnectSendDocument-MessageDefinition-1\"/>",
        "ITK-SendTask-MessageDefinition-Instance-1\"/>",
    )]);
    assert_eq!(added(&tree), vec![at(Error, "GPCM-SD-043", definition)]);

    let tree = mutated(&[(
        "<valueString value=\"846ebe66-5ff8-4499-bc57-a112d3d0daa3\"/>",
        "<valueString value=\"None\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(
            Warning,
            "GPCM-SD-042",
            format!("{MH}.extension[0].extension[4].value.ofType(String)")
        )]
    );
    let local = format!("{MH}.extension[0].extension[5].value.ofType(String)");
    let tree = mutated(&[(
        "<valueString value=\"None\"/>",
        "<valueString value=\"SendDocument-ConsultationSummary\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Warning, "GPCM-SD-044", local.clone())]
    );
    assert_eq!(added_with(&tree, Edition::V1_3), vec![]);
    // The fixture's None, read as a 1.3 consultation summary.
    let v1_3 = MessageValidator::new(Options::with_edition(Edition::V1_3));
    assert!(summary(&v1_3.validate_tree(&mutated(&[]))).contains(&at(
        Warning,
        "GPCM-SD-044",
        local
    )));

    let recipient = format!("{MH}.extension[0].extension[2].value.ofType(Coding)");
    let tree = mutated(&[(
        "<code value=\"FA\"/>\n              <display value=\"For Action\"/>",
        "<code value=\"FI\"/>\n              <display value=\"For Information\"/>",
    )]);
    assert_eq!(added(&tree), vec![]);
    assert_eq!(
        added_with(&tree, Edition::V1_3),
        vec![at(Error, "GPCM-SD-039", recipient)]
    );

    let tree = mutated(&[(
        "<sender>",
        &format!("<receiver>\n          <reference value=\"{HEADER_ORG_URN}\"/>\n        </receiver>\n        <sender>"),
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Warning, "GPCM-SD-049", format!("{MH}.receiver"))]
    );
    assert_eq!(
        added_with(&tree, Edition::V1_3),
        vec![at(Error, "GPCM-SD-049", format!("{MH}.receiver"))]
    );
}

#[test]
fn sender_and_focus() {
    // The sender is in the document Bundle, not the message Bundle: unresolved. The
    // only Organization of the message Bundle still plays the header Organization.
    let tree = mutated(&[(
        &format!("<sender>\n          <reference value=\"{HEADER_ORG_URN}\"/>"),
        &format!("<sender>\n          <reference value=\"{PRACTITIONER_URN}\"/>"),
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-045", format!("{MH}.sender"))]
    );

    let tree = mutated(&[(
        "<system value=\"https://fhir.nhs.uk/Id/ods-organization-code\"/>\n          <value value=\"GP0001\"/>",
        "<system value=\"https://fhir.nhs.uk/Id/ods-site-code\"/>\n          <value value=\"GP0001\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(
            Error,
            "GPCM-SD-045",
            "Bundle.entry[1].resource.ofType(Organization).identifier"
        )]
    );

    // focus at the header Organization: the only Bundle entry is still read as the
    // document, so the payload is checked all the same.
    let tree = mutated(&[(
        &format!("<focus>\n          <reference value=\"{DOC_URN}\"/>"),
        &format!("<focus>\n          <reference value=\"{HEADER_ORG_URN}\"/>"),
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-103", format!("{MH}.focus"))]
    );
    let tree = mutated(&[(
        &format!("<focus>\n          <reference value=\"{DOC_URN}\"/>\n        </focus>"),
        "",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "GPCM-SD-103", format!("{MH}.focus"))]
    );
}

#[test]
fn meta_profile_follows_the_role() {
    // The payload Organization claims the header profile (which forbids a name): it is
    // validated as the sending Organization all the same, and the claim is reported.
    let tree = mutated(&[(
        "<profile value=\"https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1\"/>",
        "<profile value=\"https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(
            Error,
            "GPCM-SD-108",
            format!("{ORGANIZATION}.meta.profile")
        )]
    );
    // A second claimed profile is noted, not checked.
    let tree = mutated(&[(
        "<profile value=\"https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1\"/>",
        "<profile value=\"https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1\"/>\n<profile value=\"https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(
            Information,
            "GPCM-SD-108",
            format!("{PATIENT}.meta.profile")
        )]
    );
}

#[test]
fn identities() {
    // The Binary's id no longer matches its fullUrl (which section.entry still uses).
    let tree = mutated(&[(
        "<id value=\"caf5f17d-e73d-4aaa-a406-dab1717da0c4\"/>",
        "<id value=\"caf5f17d-e73d-4aaa-a406-dab1717da0c5\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "fullurl", format!("{DOC}.entry[1].fullUrl"))]
    );
    let tree = mutated(&[("<id value=\"caf5f17d-e73d-4aaa-a406-dab1717da0c4\"/>", "")]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "resource-id", format!("{BINARY}.id"))]
    );
    // An id that is no UUID, with the matching fullUrl.
    let tree = mutated(&[
        (
            "<id value=\"caf5f17d-e73d-4aaa-a406-dab1717da0c4\"/>",
            "<id value=\"report\"/>",
        ),
        (
            &format!("<fullUrl value=\"{BINARY_URN}\"/>"),
            "<fullUrl value=\"urn:uuid:report\"/>",
        ),
        (
            &format!("<reference value=\"{BINARY_URN}\"/>"),
            "<reference value=\"urn:uuid:report\"/>",
        ),
    ]);
    assert_eq!(
        added(&tree),
        vec![at(Error, "fullurl", format!("{BINARY}.id"))]
    );
}

#[test]
fn entry_order_and_extra_entries() {
    // The MessageHeader second: roles are still found by reference.
    let mut tree = mutated(&[]);
    let first = tree
        .children
        .iter()
        .position(|c| c.name == "entry")
        .unwrap();
    tree.children.swap(first, first + 1);
    assert_eq!(
        added(&tree),
        vec![at(Error, "message-header-first", "Bundle.entry[0]")]
    );
    // No MessageHeader at all. The only Organization and the only Bundle entries are
    // still read as the sender and the document, so the payload is checked (its
    // locations move up one entry).
    let mut tree = mutated(&[]);
    tree.children.remove(first);
    assert_eq!(
        added(&tree),
        vec![
            at(Error, "message-header-first", "Bundle.entry"),
            at(
                Information,
                "binding",
                "Bundle.entry[1].resource.ofType(Bundle).entry[1].resource.ofType(Binary).contentType"
            ),
        ]
    );

    // The Composition second in the document Bundle.
    let mut tree = mutated(&[]);
    {
        let mut msg = entries(&mut tree);
        let doc = msg[2]
            .children
            .iter_mut()
            .find(|c| c.name == "resource")
            .unwrap();
        let first = doc.children.iter().position(|c| c.name == "entry").unwrap();
        doc.children.swap(first, first + 1);
    }
    assert_eq!(
        added(&tree),
        vec![
            at(Error, "composition-first", format!("{DOC}.entry[0]")),
            at(
                Information,
                "binding",
                format!("{DOC}.entry[0].resource.ofType(Binary).contentType")
            ),
        ]
    );

    // A fourth entry in the message Bundle: a second header Organization, which no
    // reference uses (it is checked by the profile it claims).
    let mut tree = mutated(&[]);
    let extra = renamed(
        entries(&mut tree)[1],
        "5f0c4a34-0a57-4c36-8d65-0d3f2b7e9a11",
    );
    tree.children.push(extra);
    assert_eq!(
        added(&tree),
        vec![at(Warning, "message-entries", "Bundle.entry[3]")]
    );
}

#[test]
fn not_a_bundle_is_reported_not_panicked() {
    let patient = Resource::from_json(br#"{"resourceType":"Patient","birthDate":"1970"}"#).unwrap();
    let f = send_document::validate_message(&patient);
    assert_eq!(summary(&f), vec![at(Error, "message-bundle", "Patient")]);
    // An empty Bundle: the profile's findings and the missing meta.profile, no panic.
    let empty = Resource::from_json(br#"{"resourceType":"Bundle","type":"message"}"#).unwrap();
    let f = send_document::validate_message(&empty);
    assert!(
        f.iter()
            .any(|f| f.rule == "GPCM-SD-108" && f.location == "Bundle.meta.profile"),
        "{f:#?}"
    );
    assert!(
        f.iter()
            .any(|f| f.rule == "cardinality" && f.location == "Bundle.entry"),
        "{f:#?}"
    );
}

#[test]
fn composition_and_organization_presence() {
    // No Composition in the document Bundle: nothing more of the document is checked
    // (the Binary moves to entry[0]).
    let mut tree = mutated(&[]);
    {
        let mut msg = entries(&mut tree);
        let doc = msg[2]
            .children
            .iter_mut()
            .find(|c| c.name == "resource")
            .unwrap();
        let first = doc.children.iter().position(|c| c.name == "entry").unwrap();
        doc.children.remove(first);
    }
    assert_eq!(
        added(&tree),
        vec![
            at(Error, "GPCM-SD-104", format!("{DOC}.entry")),
            at(
                Information,
                "binding",
                format!("{DOC}.entry[0].resource.ofType(Binary).contentType")
            ),
        ]
    );
    // The sending Organization with an ODS site code instead of its organisation code.
    let tree = mutated(&[(
        "<system value=\"https://fhir.nhs.uk/Id/ods-organization-code\"/>\n                <value value=\"GP0001\"/>",
        "<system value=\"https://fhir.nhs.uk/Id/ods-site-code\"/>\n                <value value=\"GP0001\"/>",
    )]);
    assert_eq!(
        added(&tree),
        vec![at(
            Error,
            "GPCM-SD-029",
            format!("{ORGANIZATION}.identifier")
        )]
    );
}

#[test]
fn two_attachments_in_one_section() {
    let other = "0f2b8b9e-2c4e-4d0b-9a57-3f1c6b1f2a10";
    let mut tree = mutated(&[]);
    {
        let mut msg = entries(&mut tree);
        let doc = msg[2]
            .children
            .iter_mut()
            .find(|c| c.name == "resource")
            .unwrap();
        let second = renamed(entries(doc)[1], other);
        doc.children.push(second);
        let mut doc_entries = entries(doc);
        let comp = doc_entries[0]
            .children
            .iter_mut()
            .find(|c| c.name == "resource")
            .unwrap();
        let section = comp
            .children
            .iter_mut()
            .find(|c| c.name == "section")
            .unwrap();
        let mut entry = section
            .children
            .iter()
            .find(|c| c.name == "entry")
            .unwrap()
            .clone();
        entry
            .children
            .iter_mut()
            .find(|c| c.name == "reference")
            .unwrap()
            .value = Some(format!("urn:uuid:{other}"));
        section.children.push(entry);
    }
    assert_eq!(
        added(&tree),
        vec![
            at(Warning, "GPCM-SD-109", format!("{COMP}.section[0]")),
            at(
                Information,
                "binding",
                format!("{DOC}.entry[5].resource.ofType(Binary).contentType")
            ),
        ]
    );
}
