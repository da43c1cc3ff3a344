//! The published Send Document and ITK3 response examples (`../shared/examples/`),
//! validated as whole messages: the exact findings of each, by severity, rule and
//! location. The examples are read leniently (every Send Document example breaks FHIR
//! XML element order).

use fhir_stu3::{ReadOptions, Resource};
use send_document::{
    roles, validate_message, Edition, Finding, MessageValidator, Options, Role, Severity,
};
use workspace_tests::shared_dir;

use Severity::{Error, Information, Warning};

/// An example of `../shared/examples/`, read leniently. Fails, naming the folder, when
/// the shared inputs are missing.
fn example(name: &str) -> Resource {
    let path = shared_dir().join("examples").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Resource::from_xml_with(&bytes, &ReadOptions::lenient())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .value
}

fn summary(findings: &[Finding]) -> Vec<(Severity, &str, &str)> {
    findings
        .iter()
        .map(|f| (f.severity, f.rule.as_str(), f.location.as_str()))
        .collect()
}

const SEND_DOCUMENT: &str =
    "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1";
const RESPONSE: &str =
    "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1";

#[test]
fn generic_example_2_0_2() {
    let f = validate_message(&example("v2.0.2_send-document--generic-example.xml"));
    assert_eq!(
        summary(&f),
        vec![
            // No meta.profile anywhere: one finding per resource (9), each resource
            // validated against its role's profile all the same.
            (Error, "GPCM-SD-108", "Bundle.entry[0].resource.ofType(MessageHeader).meta.profile"),
            (Error, "GPCM-SD-108", "Bundle.entry[1].resource.ofType(Organization).meta.profile"),
            // No custodian.
            (Error, "GPCM-SD-105", "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).custodian"),
            (Error, "GPCM-SD-108", "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).meta.profile"),
            (Error, "GPCM-SD-108", "Bundle.entry[2].resource.ofType(Bundle).entry[1].resource.ofType(Organization).meta.profile"),
            (Error, "GPCM-SD-108", "Bundle.entry[2].resource.ofType(Bundle).entry[2].resource.ofType(Practitioner).meta.profile"),
            // The Practitioner's name has no use=official.
            (Error, "GPCM-SD-033", "Bundle.entry[2].resource.ofType(Bundle).entry[2].resource.ofType(Practitioner).name"),
            // CareConnect-Patient-1 (by role): the NHS number carries the GPC variant
            // of the verification extension, not the CareConnect one the slice names.
            (Error, "cardinality", "Bundle.entry[2].resource.ofType(Bundle).entry[3].resource.ofType(Patient).identifier[0].extension"),
            // ... and that GPC extension's own required value set does not hold the
            // CareConnect code 01 it carries.
            (Error, "binding", "Bundle.entry[2].resource.ofType(Bundle).entry[3].resource.ofType(Patient).identifier[0].extension[0].value.ofType(CodeableConcept)"),
            (Error, "GPCM-SD-108", "Bundle.entry[2].resource.ofType(Bundle).entry[3].resource.ofType(Patient).meta.profile"),
            // The Binary has no id.
            (Error, "resource-id", "Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Binary).id"),
            (Error, "GPCM-SD-108", "Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Binary).meta.profile"),
            (Error, "GPCM-SD-108", "Bundle.entry[2].resource.ofType(Bundle).meta.profile"),
            (Error, "GPCM-SD-108", "Bundle.meta.profile"),
            // A date without a time.
            (Warning, "GPCM-SD-116", "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).date"),
            // section.entry also lists the Organization, Practitioner and Patient.
            (Warning, "GPCM-SD-110", "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).section[0].entry[0]"),
            (Warning, "GPCM-SD-110", "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).section[0].entry[1]"),
            (Warning, "GPCM-SD-110", "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).section[0].entry[2]"),
            // 325871000000103 is not one of the SCAL's approved document types.
            (Warning, "GPCM-SD-115", "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).type"),
            // A local staff ID and a GPhC number, no SDS user ID.
            (Warning, "GPCM-SD-032", "Bundle.entry[2].resource.ofType(Bundle).entry[2].resource.ofType(Practitioner).identifier"),
            (Information, "binding", "Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Binary).contentType"),
        ],
        "{f:#?}"
    );
    // The profile-validation finding names the profile of the role, which the
    // example never claims.
    let slice = f.iter().find(|f| f.rule == "cardinality").unwrap();
    assert_eq!(
        slice.profile,
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"
    );
    assert!(f
        .iter()
        .filter(|f| f.rule.starts_with("GPCM-") || f.rule == "resource-id")
        .all(|f| f.profile == SEND_DOCUMENT));
    let binary = f
        .iter()
        .find(|f| f.rule == "GPCM-SD-108" && f.location.contains("Binary"))
        .unwrap();
    assert_eq!(
        binary.message,
        "the Binary has no meta.profile; every resource names its profile. As an attachment it \
         was validated against https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1"
    );
}

#[test]
fn generic_example_roles() {
    let tree = example("v2.0.2_send-document--generic-example.xml").to_tree();
    let found: Vec<(String, Role)> = roles(&tree)
        .into_iter()
        .map(|r| (r.location, r.role))
        .collect();
    let doc = "Bundle.entry[2].resource.ofType(Bundle)";
    assert_eq!(
        found,
        vec![
            ("Bundle".to_owned(), Role::MessageBundle),
            (
                "Bundle.entry[0].resource.ofType(MessageHeader)".to_owned(),
                Role::MessageHeader
            ),
            (
                "Bundle.entry[1].resource.ofType(Organization)".to_owned(),
                Role::HeaderOrganization
            ),
            (doc.to_owned(), Role::DocumentBundle),
            (
                format!("{doc}.entry[0].resource.ofType(Composition)"),
                Role::Composition
            ),
            (
                format!("{doc}.entry[1].resource.ofType(Organization)"),
                Role::Organization
            ),
            (
                format!("{doc}.entry[2].resource.ofType(Practitioner)"),
                Role::Practitioner
            ),
            (
                format!("{doc}.entry[3].resource.ofType(Patient)"),
                Role::Patient
            ),
            (
                format!("{doc}.entry[4].resource.ofType(Binary)"),
                Role::Binary
            ),
        ]
    );
}

#[test]
fn consultation_report_1_3_0() {
    let message = example("v1.3.0-release_consultation_report.xml");
    let expected_both = [
        // The outer and inner Bundles share one identifier value.
        (
            Warning,
            "distinct-identifiers",
            "Bundle.entry[2].resource.ofType(Bundle).identifier",
        ),
        (
            Information,
            "binding",
            "Bundle.entry[2].resource.ofType(Bundle).entry[1].resource.ofType(Binary).contentType",
        ),
    ];
    // As 2.0.2: the 1.3 LocalExtension value is deprecated.
    let f = validate_message(&message);
    let mut expected = vec![(
        Warning,
        "GPCM-SD-044",
        "Bundle.entry[0].resource.ofType(MessageHeader).extension[0].extension[5].value.ofType(String)",
    )];
    expected.extend(expected_both);
    assert_eq!(summary(&f), expected, "{f:#?}");
    // As what it is, a 1.3 consultation summary: nothing but the shared identifier.
    let f = MessageValidator::new(Options::with_edition(Edition::V1_3)).validate(&message);
    assert_eq!(summary(&f), expected_both.to_vec(), "{f:#?}");
}

#[test]
fn generic_wireframe_example() {
    let f = validate_message(&example("v2_example-generic-wireframe-moe-degrasse.xml"));
    assert_eq!(
        summary(&f),
        vec![
            (Warning, "GPCM-SD-115", "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).type"),
            (Warning, "distinct-identifiers", "Bundle.entry[2].resource.ofType(Bundle).identifier"),
            (Information, "binding", "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).extension[0].value.ofType(CodeableConcept)"),
            (Information, "binding", "Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Binary).contentType"),
        ],
        "{f:#?}"
    );
}

#[test]
fn itk3_responses() {
    let sender_reference = "Bundle.entry[0].resource.ofType(MessageHeader).extension[0].extension[4].value.ofType(String)";
    let practitioner_sender = "Bundle.entry[0].resource.ofType(MessageHeader).sender";
    let no_diagnostics = "Bundle.entry[2].resource.ofType(OperationOutcome).issue[0].diagnostics";
    let cases = [
        // Unreadable message: from a header Organization; the fatal issue has no
        // diagnostics.
        (
            "ITK3-response-10009.xml",
            vec![
                (Error, "GPCM-SD-074", no_diagnostics),
                (Warning, "GPCM-SD-052", sender_reference),
            ],
        ),
        // Payload validation failure: from a header Practitioner, no diagnostics.
        (
            "ITK3-response-20009.xml",
            vec![
                (Error, "GPCM-SD-074", no_diagnostics),
                (Warning, "GPCM-SD-052", sender_reference),
                (Warning, "GPCM-SD-053", practitioner_sender),
            ],
        ),
        (
            "ITK3-response-20013.xml",
            vec![
                (Warning, "GPCM-SD-052", sender_reference),
                (Warning, "GPCM-SD-053", practitioner_sender),
            ],
        ),
        // The business response asks for an infrastructure acknowledgement (ITK3's
        // full-acknowledgement pattern, which GP Connect does not use).
        (
            "ITK3-response-30001.xml",
            vec![
                (
                    Warning,
                    "GPCM-SD-051",
                    "Bundle.entry[0].resource.ofType(MessageHeader).extension[0].extension[1].value.ofType(Boolean)",
                ),
                (Warning, "GPCM-SD-052", sender_reference),
                (Warning, "GPCM-SD-053", practitioner_sender),
            ],
        ),
    ];
    for (name, expected) in cases {
        let message = example(name);
        let f = validate_message(&message);
        assert_eq!(summary(&f), expected, "{name}: {f:#?}");
        assert!(f.iter().all(|f| f.profile == RESPONSE), "{name}");
        // Roles: the sender by its type, the outcome by response.details.
        let r: Vec<Role> = roles(&message.to_tree())
            .into_iter()
            .map(|r| r.role)
            .collect();
        let sender = if name.contains("10009") {
            Role::HeaderOrganization
        } else {
            Role::HeaderPractitioner
        };
        assert_eq!(
            r,
            vec![
                Role::MessageBundle,
                Role::MessageHeader,
                sender,
                Role::ResponseOutcome
            ],
            "{name}"
        );
    }
}

#[test]
fn the_message_definition_is_no_message() {
    let f = validate_message(&example(
        "MessageDefinition-ITK-GPConnectSendDocument-MessageDefinition-1.xml",
    ));
    assert_eq!(
        summary(&f),
        vec![(Error, "message-bundle", "MessageDefinition")]
    );
}

#[test]
fn the_valid_fixture_has_no_error() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/send-document-valid.xml");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let message = Resource::from_xml(&bytes).unwrap();
    let f = validate_message(&message);
    assert_eq!(
        summary(&f),
        vec![
            // NHS's example reused one identifier for both Bundles; the fixture keeps it.
            (Warning, "distinct-identifiers", "Bundle.entry[2].resource.ofType(Bundle).identifier"),
            (Information, "binding", "Bundle.entry[2].resource.ofType(Bundle).entry[1].resource.ofType(Binary).contentType"),
        ],
        "{f:#?}"
    );
    assert!(send_document::roles(&message.to_tree()).len() == 9);
    // Every resource claims the profile of its role, so the profile findings are those
    // of ordinary validation by meta.profile: nothing lost, nothing twice. (Ordinary
    // validation also walks the base definitions; a finding both give is credited to
    // the base there, to the profile here.)
    let key = |f: &Finding| {
        (
            f.severity,
            f.issue,
            f.location.clone(),
            f.rule.clone(),
            f.message.clone(),
        )
    };
    let by_meta: Vec<_> = fhir_validator::Validator::new()
        .validate(&message.to_tree())
        .iter()
        .map(key)
        .collect();
    let by_role: Vec<_> = f
        .iter()
        .filter(|f| !f.profile.contains("MessageDefinition"))
        .map(key)
        .collect();
    assert_eq!(by_role, by_meta);
    assert_eq!(by_role.len(), 1);
}

/// ITK3-response-20013.xml with each `(from, to)` replaced once.
fn response_20013(replacements: &[(&str, &str)]) -> Resource {
    let path = shared_dir()
        .join("examples")
        .join("ITK3-response-20013.xml");
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (from, to) in replacements {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        text = text.replacen(from, to, 1);
    }
    Resource::from_xml_with(text.as_bytes(), &ReadOptions::lenient())
        .unwrap()
        .value
}

/// The findings of `message` that ITK3-response-20013.xml itself does not give.
fn added_to_20013(message: &Resource) -> Vec<(Severity, String, String)> {
    let own = |f: &[Finding]| -> Vec<(Severity, String, String)> {
        f.iter()
            .map(|f| (f.severity, f.rule.clone(), f.location.clone()))
            .collect()
    };
    let base = own(&validate_message(&response_20013(&[])));
    own(&validate_message(message))
        .into_iter()
        .filter(|f| !base.contains(f))
        .collect()
}

#[test]
fn itk3_response_rules() {
    const MH: &str = "Bundle.entry[0].resource.ofType(MessageHeader)";
    let at = |s: Severity, rule: &str, loc: String| (s, rule.to_owned(), loc);

    let m = response_20013(&[("<code value=\"ok\"/>", "<code value=\"fatal-error\"/>")]);
    assert_eq!(
        added_to_20013(&m),
        vec![at(Error, "response-code", format!("{MH}.response.code"))]
    );

    let m = response_20013(&[(
        "<extension url=\"BusAckRequested\">\n            <valueBoolean value=\"false\"/>",
        "<extension url=\"BusAckRequested\">\n            <valueBoolean value=\"true\"/>",
    )]);
    assert_eq!(
        added_to_20013(&m),
        vec![at(
            Warning,
            "GPCM-SD-050",
            format!("{MH}.extension[0].extension[0].value.ofType(Boolean)")
        )]
    );

    let m = response_20013(&[(
        "ITK-Response-MessageDefinition-1",
        "ITK-GPConnectSendDocument-MessageDefinition-1",
    )]);
    assert_eq!(
        added_to_20013(&m),
        vec![at(
            Error,
            "response-message-definition",
            format!("{MH}.extension[0].extension[3].value.ofType(Reference)")
        )]
    );

    // details at the Practitioner: ITK-MessageHeader-2 already rejects that target
    // (reference-target), so response-details does not say it again; the only
    // OperationOutcome is still checked as the outcome.
    let m = response_20013(&[(
        "<reference value=\"urn:uuid:966de33c-dbf7-4b58-aac1-7f161e981e2c\"/>",
        "<reference value=\"urn:uuid:6a607ff6-bdb0-4db0-ac8f-152971101a68\"/>",
    )]);
    assert_eq!(
        added_to_20013(&m),
        vec![at(
            Error,
            "reference-target",
            format!("{MH}.response.details")
        )]
    );
    // details at no entry: that is response-details'.
    let m = response_20013(&[(
        "<reference value=\"urn:uuid:966de33c-dbf7-4b58-aac1-7f161e981e2c\"/>",
        "<reference value=\"urn:uuid:00000000-0000-4000-8000-000000000000\"/>",
    )]);
    assert_eq!(
        added_to_20013(&m),
        vec![at(
            Error,
            "response-details",
            format!("{MH}.response.details")
        )]
    );
    let m = response_20013(&[(
        "<response>\n          <identifier value=\"cf5e5969-2a93-400f-bf6f-709f101bcf87\"/>\n          <code value=\"ok\"/>\n          <details>\n            <reference value=\"urn:uuid:966de33c-dbf7-4b58-aac1-7f161e981e2c\"/>\n          </details>\n        </response>",
        "",
    )]);
    assert_eq!(
        added_to_20013(&m),
        vec![at(Error, "response-details", format!("{MH}.response"))]
    );

    // The sender at the OperationOutcome: ITK-MessageHeader-2 rejects that target
    // (reference-target, not repeated as GPCM-SD-053), and the Practitioner is then an
    // entry the MessageHeader does not use (checked by the profile it claims).
    let m = response_20013(&[(
        "<sender>\n          <reference value=\"urn:uuid:6a607ff6-bdb0-4db0-ac8f-152971101a68\"/>",
        "<sender>\n          <reference value=\"urn:uuid:966de33c-dbf7-4b58-aac1-7f161e981e2c\"/>",
    )]);
    assert_eq!(
        added_to_20013(&m),
        vec![
            at(Error, "reference-target", format!("{MH}.sender")),
            at(Warning, "message-entries", "Bundle.entry[1]".to_owned()),
        ]
    );
}
