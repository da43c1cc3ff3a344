//! The receiver's checks (spec §7): each test breaks a valid message in exactly one
//! way and expects exactly the response code the receiver documents, with a
//! diagnostic naming the fault (its location and reason) and no patient data.

use fhir_stu3::Resource;
use send_document::receive::{
    Check, Format, MemoryReceiptLog, Policy, ReceiptLog, ReceiveOptions, Received, Receiver,
    RecipientType, Rejection, Tolerance, Transport,
};
use send_document::ResponseCode::{self, *};

const VALID: &str = include_str!("fixtures/receive-valid.xml");
const PDF: &[u8] = include_bytes!("fixtures/receive-attachment.pdf");
const PNG: &[u8] = include_bytes!("fixtures/receive-image.png");
const TO: &str = "GPPROVIDER_9690937278_19550109_Quennell";

const HEADER: &str = "Bundle.entry[0].resource.ofType(MessageHeader)";
const HANDLING: &str = "Bundle.entry[0].resource.ofType(MessageHeader).extension[0]";
const DOC: &str = "Bundle.entry[2].resource.ofType(Bundle)";
const COMPOSITION: &str =
    "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition)";
const PATIENT: &str = "Bundle.entry[2].resource.ofType(Bundle).entry[1].resource.ofType(Patient)";
const ORGANIZATION: &str =
    "Bundle.entry[2].resource.ofType(Bundle).entry[2].resource.ofType(Organization)";
const PDF_BINARY: &str = "Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Binary)";
const PNG_BINARY: &str = "Bundle.entry[2].resource.ofType(Bundle).entry[5].resource.ofType(Binary)";

/// Patient details of the fixture that must never appear in a diagnostic.
const PATIENT_DATA: &[&str] = &[
    "9690937278",
    "969 093 7278",
    "Quennell",
    "QUENNELL",
    "Marjorie",
    "1955-01-09",
    "19550109",
];

fn transport() -> Transport {
    Transport::mesh("GPCONNECT_SEND_DOCUMENT", "MESHGP0001").to(TO)
}

fn receiver(policy: Policy) -> Receiver {
    Receiver::new(ReceiveOptions::with_policy(policy))
}

/// The valid message with `old` (which occurs exactly once) replaced by `new`.
fn with(old: &str, new: &str) -> String {
    with_in(VALID, old, new)
}

fn with_in(xml: &str, old: &str, new: &str) -> String {
    assert_eq!(
        xml.matches(old).count(),
        1,
        "{old:?} must occur exactly once"
    );
    xml.replacen(old, new, 1)
}

fn no_patient_data(texts: impl IntoIterator<Item = String>) {
    for t in texts {
        for p in PATIENT_DATA {
            assert!(!t.contains(p), "patient data {p:?} in a diagnostic: {t}");
        }
    }
}

fn rejection_with(rx: &Receiver, bytes: &[u8], t: &Transport, log: &dyn ReceiptLog) -> Rejection {
    match rx.check(bytes, t, log) {
        Ok(r) => panic!("accepted, with warnings {:#?}", r.warnings),
        Err(e) => {
            no_patient_data(
                e.diagnostics
                    .iter()
                    .chain(&e.warnings)
                    .map(|d| d.to_string()),
            );
            e
        }
    }
}

/// Rejected under the strict policy with `code`; the deciding diagnostic is at
/// `location` and its reason contains `reason`.
#[track_caller]
fn expect(xml: &str, code: ResponseCode, location: &str, reason: &str) -> Rejection {
    expect_with(Policy::Strict, xml, &transport(), code, location, reason)
}

#[track_caller]
fn expect_with(
    policy: Policy,
    xml: &str,
    t: &Transport,
    code: ResponseCode,
    location: &str,
    reason: &str,
) -> Rejection {
    let e = rejection_with(
        &receiver(policy),
        xml.as_bytes(),
        t,
        &MemoryReceiptLog::new(),
    );
    assert_eq!(e.code, code, "{e:#?}");
    let first = &e.diagnostics[0];
    assert_eq!(first.code, code);
    assert_eq!(first.location, location, "{e:#?}");
    assert!(
        first.reason.contains(reason),
        "{:?} lacks {reason:?}",
        first.reason
    );
    e
}

fn accept(policy: Policy, xml: &[u8], t: &Transport) -> Received {
    receiver(policy)
        .check(xml, t, &MemoryReceiptLog::new())
        .unwrap_or_else(|e| panic!("{e:#?}"))
}

// ---- The valid message ------------------------------------------------------

#[test]
fn valid_message_gives_the_typed_view() {
    for policy in [Policy::Strict, Policy::Tolerant] {
        let t = transport().subject("Consultation report for patient");
        let r = accept(policy, VALID.as_bytes(), &t);
        assert_eq!(r.warnings, vec![], "{policy:?}");
        assert_eq!(r.response_code(), Success);
        assert_eq!(r.format, Format::Xml);
        assert_eq!(r.patient.nhs_number, "9690937278");
        assert!(r.patient.checked_nhs_number().is_some());
        assert_eq!(r.patient.name.family.as_deref(), Some("Quennell"));
        assert_eq!(r.patient.name.given, ["Marjorie"]);
        assert_eq!(r.patient.name.prefix, ["Mrs"]);
        assert_eq!(r.patient.birth_date.to_string(), "1955-01-09");
        assert_eq!(r.sender.organisation_name, "Riverside Surgery");
        assert_eq!(r.sender.ods_code, "B82617");
        assert_eq!(r.sender.telephone.as_deref(), Some("01632 960 001"));
        assert_eq!(r.sender.header_ods_code, "B82617");
        assert_eq!(r.sender.mailbox.as_ref().unwrap().as_str(), "MESHGP0001");
        let author = r.author.as_ref().unwrap();
        assert_eq!(author.name.family.as_deref(), Some("Okafor"));
        assert_eq!(author.sds_user_id.as_deref(), Some("687227875014"));
        assert_eq!(r.document_type.code, "371531000");
        assert_eq!(
            r.document_type.display.as_deref(),
            Some("Report of clinical encounter")
        );
        assert_eq!(r.title, "Consultation report");
        assert_eq!(r.recipient_type, RecipientType::ForAction);
        assert_eq!(r.care_setting.as_ref().unwrap().code, "788007007");
        assert_eq!(r.events[0].code, "149951000000107");
        assert_eq!(r.status, "final");
        assert_eq!(r.confidentiality.as_deref(), Some("N"));
        assert_eq!(r.replaces, None);
        assert_eq!(r.version, Some(1));
        assert_eq!(
            r.ids.message_identifier.value,
            "74e6b7a3-a8a4-4f9d-902b-6589b76357e6"
        );
        assert_eq!(
            r.ids.message_header_id,
            "ca1c7be9-0c47-4d1e-88b0-f48df81ce1f5"
        );
        assert_eq!(
            r.ids.sender_reference,
            "urn:uuid:3e0f1a9c-6a4b-4c55-9d2e-7b1f0c8a2d41"
        );
        assert_eq!(
            r.ids.document_identifier.value,
            "5b7ecb26-4071-476f-a0af-f32eb7803bf3"
        );
        assert_eq!(
            r.ids.composition_identifier.value,
            "5b77f8e0-36b6-4309-8840-da6bc92d8d21"
        );
        assert_eq!(r.local_extension.as_deref(), Some("None"));
        assert_eq!(
            r.subject.as_deref(),
            Some("Consultation report for patient")
        );
        // Attachments in section order, decoded to the original files' bytes.
        assert_eq!(r.attachments.len(), 2);
        let pdf = r.primary_attachment().unwrap();
        assert_eq!(pdf.content_type, "application/pdf");
        assert_eq!(pdf.bytes, PDF);
        assert_eq!(pdf.section_title.as_deref(), Some("Consultation report"));
        assert_eq!(r.attachments[1].content_type, "image/png");
        assert_eq!(r.attachments[1].bytes, PNG);
        assert_eq!(r.attachments[1].section, 1);
        // The reply.
        assert_eq!(
            r.reply_to.response_identifier(),
            "ca1c7be9-0c47-4d1e-88b0-f48df81ce1f5"
        );
        assert_eq!(r.reply_to.mailbox.as_ref().unwrap().as_str(), "MESHGP0001");
        assert!(r.reply_to.inf_ack_requested && r.reply_to.bus_ack_requested);
        assert_eq!(r.reply_to.workflow.ack_id(), "GPCONNECT_SEND_DOCUMENT_ACK");
    }
}

#[test]
fn base64_with_line_breaks_and_blanks_is_decoded() {
    let pdf = base64_of(PDF);
    let wrapped: String = pdf
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n                 ");
    let xml = with(&format!("value=\"{pdf}\""), &format!("value=\"{wrapped}\""));
    assert!(xml.contains("\n                 "));
    let r = accept(Policy::Strict, xml.as_bytes(), &transport());
    assert_eq!(r.attachments[0].bytes, PDF);
}

#[test]
fn json_input_is_read_the_same_way() {
    let json = Resource::from_xml(VALID.as_bytes()).unwrap().to_json();
    let r = accept(Policy::Strict, json.as_bytes(), &transport());
    assert_eq!(r.format, Format::Json);
    assert_eq!(r.attachments[0].bytes, PDF);
    assert_eq!(r.patient.nhs_number, "9690937278");
}

#[test]
fn the_folder_route_needs_no_transport() {
    let r = accept(Policy::Strict, VALID.as_bytes(), &Transport::folder());
    assert_eq!(r.reply_to.mailbox.as_ref().unwrap().as_str(), "MESHGP0001");
    assert_eq!(r.workflow.id(), "GPCONNECT_SEND_DOCUMENT");
}

#[test]
fn only_accepted_messages_are_recorded() {
    let rx = Receiver::default();
    let mut log = MemoryReceiptLog::new();
    rx.check(VALID.as_bytes(), &transport(), &log).unwrap();
    assert!(log.is_empty(), "check records nothing");
    let bad = with(
        r#"<confidentiality value="N"/>"#,
        r#"<confidentiality value="R"/>"#,
    );
    assert!(rx.receive(bad.as_bytes(), &transport(), &mut log).is_err());
    assert!(log.is_empty(), "a rejected message is not recorded");
    rx.receive(VALID.as_bytes(), &transport(), &mut log)
        .unwrap();
    assert_eq!(log.len(), 1);
}

// ---- 1. Transport -----------------------------------------------------------

#[test]
fn report_message_is_refused_and_not_answered() {
    let mut t = transport();
    t.message_type = Some(send_document::receive::MeshMessageType::Report);
    let e = expect_with(
        Policy::Tolerant,
        VALID,
        &t,
        MessageDefinitionError,
        "MESH Mex-MessageType",
        "REPORT",
    );
    assert!(!e.reply_to.inf_ack_requested && !e.reply_to.bus_ack_requested);
}

#[test]
fn unknown_workflow_is_refused() {
    let t = Transport::mesh("SOME_OTHER_WORKFLOW", "MESHGP0001");
    let e = expect_with(
        Policy::Tolerant,
        VALID,
        &t,
        MessageDefinitionError,
        "MESH Mex-WorkflowID",
        "not GPCONNECT_SEND_DOCUMENT",
    );
    // The header was still read for the reply.
    assert_eq!(
        e.reply_to.response_identifier(),
        "ca1c7be9-0c47-4d1e-88b0-f48df81ce1f5"
    );
    let ack = Transport::mesh("GPCONNECT_SEND_DOCUMENT_ACK", "MESHGP0001");
    expect_with(
        Policy::Tolerant,
        VALID,
        &ack,
        MessageDefinitionError,
        "MESH Mex-WorkflowID",
        "acknowledgement workflow",
    );
}

#[test]
fn oversized_message_gives_20015() {
    let rx = Receiver::new(ReceiveOptions {
        max_message_bytes: 4096,
        ..ReceiveOptions::default()
    });
    let e = rejection_with(
        &rx,
        VALID.as_bytes(),
        &transport(),
        &MemoryReceiptLog::new(),
    );
    assert_eq!(e.code, TooLarge);
    assert!(e.diagnostics[0].reason.contains("at most 4096 bytes"));
    assert_eq!(
        e.reply_to.response_identifier(),
        "ca1c7be9-0c47-4d1e-88b0-f48df81ce1f5"
    );
    assert_eq!(ReceiveOptions::default().max_message_bytes, 7 * 1024 * 1024);
}

// ---- 2. Parse -----------------------------------------------------------------

#[test]
fn bytes_that_are_not_xml_or_json_are_unreadable() {
    let e = expect(
        "this is not a message",
        Unreadable,
        "Bundle",
        "neither XML nor JSON",
    );
    assert_eq!(
        e.reply_to.response_identifier(),
        "UNREADABLE-IN-ORIGINAL-MESSAGE"
    );
    assert_eq!(e.reply_to.mailbox.as_ref().unwrap().as_str(), "MESHGP0001");
    assert!(e.reply_to.inf_ack_requested);
}

#[test]
fn gzip_is_reported_as_such() {
    let e = rejection_with(
        &Receiver::default(),
        b"\x1f\x8b\x08\x00\x00\x00",
        &transport(),
        &MemoryReceiptLog::new(),
    );
    assert_eq!(e.code, Unreadable);
    assert!(e.diagnostics[0].reason.contains("gzip"), "{e}");
}

#[test]
fn truncated_xml_is_unreadable() {
    let e = rejection_with(
        &Receiver::default(),
        &VALID.as_bytes()[..VALID.len() / 2],
        &transport(),
        &MemoryReceiptLog::new(),
    );
    assert_eq!(e.code, Unreadable);
    assert_eq!(e.diagnostics[0].check, Check::Parse);
    assert!(e.diagnostics[0].location.starts_with(COMPOSITION), "{e}");
    assert!(
        e.diagnostics[0]
            .reason
            .contains("cannot be read as FHIR XML: it is not well-formed (line"),
        "{e}"
    );
}

#[test]
fn root_that_is_not_a_bundle_is_unreadable() {
    expect(
        r#"<Patient xmlns="http://hl7.org/fhir"><id value="x"/></Patient>"#,
        Unreadable,
        "Patient",
        "not a Bundle",
    );
}

// ---- 3. Header ------------------------------------------------------------------

#[test]
fn bundle_type_must_be_message() {
    let xml = with(
        r#"<type value="message"/>"#,
        r#"<type value="collection"/>"#,
    );
    expect(
        &xml,
        HeaderValidationFailure,
        "Bundle.type",
        "Bundle.type is collection",
    );
}

#[test]
fn message_bundle_needs_an_identifier() {
    let xml = with(
        r#"<value value="74e6b7a3-a8a4-4f9d-902b-6589b76357e6"/>"#,
        "",
    );
    expect(
        &xml,
        HeaderValidationFailure,
        "Bundle.identifier",
        "no identifier value",
    );
}

#[test]
fn message_header_must_be_the_first_entry() {
    // Put the header Organization entry before the MessageHeader entry.
    let starts: Vec<usize> = VALID.match_indices("\n  <entry>").map(|(i, _)| i).collect();
    assert_eq!(starts.len(), 3);
    let (header, organization) = (&VALID[starts[0]..starts[1]], &VALID[starts[1]..starts[2]]);
    let xml = format!(
        "{}{organization}{header}{}",
        &VALID[..starts[0]],
        &VALID[starts[2]..]
    );
    let e = rejection_with(
        &receiver(Policy::Strict),
        xml.as_bytes(),
        &transport(),
        &MemoryReceiptLog::new(),
    );
    assert_eq!(e.code, HeaderValidationFailure, "{e:#?}");
    let d = &e.diagnostics[0];
    assert_eq!(d.location, "Bundle.entry[0]");
    assert!(
        d.reason.contains("the first entry is an Organization"),
        "{d}"
    );
}

// ---- 4. Handling keys -----------------------------------------------------------

#[test]
fn handling_extension_missing_gives_10001() {
    let xml = with(
        r#"<extension url="https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2">"#,
        r#"<extension url="https://example.org/not-the-handling-keys">"#,
    );
    expect(
        &xml,
        HandlingSpecificationError,
        &format!("{HEADER}.extension"),
        "handling extension",
    );
}

#[test]
fn local_extension_missing_gives_10001() {
    let xml = with("<extension url=\"LocalExtension\">\n            <valueString value=\"None\"/>\n          </extension>", "");
    expect(
        &xml,
        HandlingSpecificationError,
        &format!("{HANDLING}.extension"),
        "LocalExtension handling key is missing",
    );
}

#[test]
fn inf_ack_requested_missing_gives_10002() {
    let xml = with("<extension url=\"InfAckRequested\">\n            <valueBoolean value=\"true\"/>\n          </extension>", "");
    expect(
        &xml,
        InfAckValueError,
        &format!("{HANDLING}.extension"),
        "InfAckRequested handling key is missing",
    );
}

#[test]
fn inf_ack_requested_not_boolean_gives_10002() {
    let xml = with(
        "<extension url=\"InfAckRequested\">\n            <valueBoolean value=\"true\"/>",
        "<extension url=\"InfAckRequested\">\n            <valueString value=\"true\"/>",
    );
    expect(
        &xml,
        InfAckValueError,
        &format!("{HANDLING}.extension[1].value.ofType(String)"),
        "InfAckRequested is a String, not a boolean",
    );
}

#[test]
fn bus_ack_requested_invalid_gives_10003() {
    let xml = with(
        "<extension url=\"BusAckRequested\">\n            <valueBoolean value=\"true\"/>",
        "<extension url=\"BusAckRequested\">\n            <valueBoolean value=\"yes\"/>",
    );
    expect(
        &xml,
        BusAckValueError,
        &format!("{HANDLING}.extension[0]"),
        "BusAckRequested has no value",
    );
}

#[test]
fn recipient_type_xx_gives_10010() {
    let xml = with(r#"<code value="FA"/>"#, r#"<code value="XX"/>"#);
    expect(
        &xml,
        RecipientTypeError,
        &format!("{HANDLING}.extension[2].value.ofType(Coding)"),
        "RecipientType is \"XX\"",
    );
}

#[test]
fn sender_reference_missing_gives_10007() {
    let xml = with("<extension url=\"SenderReference\">\n            <valueString value=\"urn:uuid:3e0f1a9c-6a4b-4c55-9d2e-7b1f0c8a2d41\"/>\n          </extension>", "");
    expect(
        &xml,
        SenderReferenceError,
        &format!("{HANDLING}.extension"),
        "SenderReference handling key is missing",
    );
}

#[test]
fn sender_reference_over_255_characters_gives_10007() {
    let long = "x".repeat(256);
    let xml = with("urn:uuid:3e0f1a9c-6a4b-4c55-9d2e-7b1f0c8a2d41", &long);
    expect(
        &xml,
        SenderReferenceError,
        &format!("{HANDLING}.extension[4].value.ofType(String)"),
        "256 characters long",
    );
}

#[test]
fn an_acknowledgement_flag_false_gives_10008() {
    let xml = with(
        "<extension url=\"InfAckRequested\">\n            <valueBoolean value=\"true\"/>",
        "<extension url=\"InfAckRequested\">\n            <valueBoolean value=\"false\"/>",
    );
    let e = expect(
        &xml,
        HandlingBusinessRuleError,
        &format!("{HANDLING}.extension[1].value.ofType(Boolean)"),
        "InfAckRequested is false",
    );
    assert_eq!(e.diagnostics[0].rule.as_deref(), Some("GPCM-SD-041"));
    assert!(!e.reply_to.inf_ack_requested);
}

// ---- 5. MessageDefinition -------------------------------------------------------

#[test]
fn wrong_message_definition_gives_10004() {
    let xml = with(
        "ITK-GPConnectSendDocument-MessageDefinition-1",
        "ITK-SendTask-MessageDefinition-Instance-1",
    );
    expect(
        &xml,
        MessageDefinitionError,
        &format!("{HANDLING}.extension[3].value.ofType(Reference)"),
        "ITK-SendTask-MessageDefinition-Instance-1",
    );
}

#[test]
fn instance_1_message_definition_is_accepted_with_a_warning() {
    let xml = with(
        "ITK-GPConnectSendDocument-MessageDefinition-1",
        "ITK-GPConnectSendDocument-MessageDefinition-Instance-1",
    );
    let r = accept(Policy::Strict, xml.as_bytes(), &transport());
    assert_eq!(r.warnings.len(), 1, "{:#?}", r.warnings);
    assert_eq!(r.warnings[0].check, Check::MessageDefinition);
    assert!(r.warnings[0]
        .reason
        .contains("Instance-1 spelling, accepted"));
}

// ---- 6–9. Event, sender, destination, focus ---------------------------------------

#[test]
fn wrong_event_gives_20006() {
    let xml = with(r#"<code value="ITK007C"/>"#, r#"<code value="ITK006D"/>"#);
    expect(
        &xml,
        HeaderValidationFailure,
        &format!("{HEADER}.event.code"),
        "the event is ITK006D",
    );
}

#[test]
fn sender_that_is_not_the_header_organization_gives_20006() {
    let xml = with(
        "<sender>\n          <reference value=\"urn:uuid:40e99663-0461-46bb-9fe3-88fe7ced824c\"/>",
        "<sender>\n          <reference value=\"urn:uuid:d6e3bc15-6c03-4f03-8d86-55c7bc45b038\"/>",
    );
    expect(
        &xml,
        HeaderValidationFailure,
        &format!("{HEADER}.sender"),
        "references a Bundle (entry[2])",
    );
}

#[test]
fn header_organization_without_ods_code_gives_20006() {
    let xml = with(
        "<system value=\"https://fhir.nhs.uk/Id/ods-organization-code\"/>\n          <value value=\"B82617\"/>",
        "<system value=\"https://example.org/local-code\"/>\n          <value value=\"B82617\"/>",
    );
    expect(
        &xml,
        HeaderValidationFailure,
        "Bundle.entry[1].resource.ofType(Organization).identifier",
        "header Organization has no ODS code",
    );
}

#[test]
fn missing_source_endpoint_gives_20006() {
    let xml = with(
        "<source>\n          <endpoint value=\"MESHGP0001\"/>\n        </source>",
        "",
    );
    let e = expect(
        &xml,
        HeaderValidationFailure,
        &format!("{HEADER}.source.endpoint"),
        "source.endpoint (the sender's MESH mailbox) is missing",
    );
    // Mex-From still gives the reply's mailbox.
    assert_eq!(e.reply_to.mailbox.as_ref().unwrap().as_str(), "MESHGP0001");
}

#[test]
fn destination_present_gives_20006() {
    let xml = with("</event>\n        <sender>", "</event>\n        <destination>\n          <endpoint value=\"MESHGP0002\"/>\n        </destination>\n        <sender>");
    expect(
        &xml,
        HeaderValidationFailure,
        &format!("{HEADER}.destination"),
        "MessageHeader.destination is given",
    );
}

#[test]
fn focus_on_the_wrong_entry_gives_20006() {
    let xml = with(
        "<focus>\n          <reference value=\"urn:uuid:d6e3bc15-6c03-4f03-8d86-55c7bc45b038\"/>",
        "<focus>\n          <reference value=\"urn:uuid:40e99663-0461-46bb-9fe3-88fe7ced824c\"/>",
    );
    expect(
        &xml,
        HeaderValidationFailure,
        &format!("{HEADER}.focus"),
        "references an Organization (entry[1])",
    );
}

// ---- 10, 12. Duplicates -------------------------------------------------------

#[test]
fn duplicate_message_gives_20007() {
    let rx = Receiver::default();
    let mut log = MemoryReceiptLog::new();
    rx.receive(VALID.as_bytes(), &transport(), &mut log)
        .unwrap();
    let e = rejection_with(&rx, VALID.as_bytes(), &transport(), &log);
    assert_eq!(e.code, DuplicateMessage);
    assert_eq!(e.diagnostics[0].location, "Bundle.identifier");
    assert!(e.diagnostics[0]
        .reason
        .contains("received and accepted before"));
}

#[test]
fn duplicate_document_gives_20008() {
    let rx = Receiver::default();
    let mut log = MemoryReceiptLog::new();
    rx.receive(VALID.as_bytes(), &transport(), &mut log)
        .unwrap();
    // A new message (new identifier and MessageHeader id) carrying the same document.
    let xml = with(
        "74e6b7a3-a8a4-4f9d-902b-6589b76357e6",
        "0c6b1f8e-2f4d-4c1a-9e55-1d0b7f3a6c21",
    )
    .replace(
        "ca1c7be9-0c47-4d1e-88b0-f48df81ce1f5",
        "5e2d7c40-8b1a-4f3e-a6d9-0c4b2e1f7a88",
    );
    let e = rejection_with(&rx, xml.as_bytes(), &transport(), &log);
    assert_eq!(e.code, DuplicateDocument, "{e:#?}");
    assert_eq!(e.diagnostics[0].location, format!("{DOC}.identifier"));
}

// ---- 11, 13. Document bundle and references -------------------------------------

#[test]
fn document_bundle_type_must_be_document() {
    let xml = with(
        r#"<type value="document"/>"#,
        r#"<type value="collection"/>"#,
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{DOC}.type"),
        "type is collection",
    );
}

#[test]
fn document_bundle_needs_an_identifier() {
    let xml = with(
        r#"<value value="5b7ecb26-4071-476f-a0af-f32eb7803bf3"/>"#,
        "",
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{DOC}.identifier"),
        "bdl-9",
    );
}

#[test]
fn full_url_must_be_urn_uuid_of_the_id() {
    let xml = with(
        r#"<id value="b883f985-3f7f-452d-81e8-6716d823a8a4"/>"#,
        r#"<id value="0e0e0e0e-3f7f-452d-81e8-6716d823a8a4"/>"#,
    );
    expect(
        &xml,
        PayloadValidationFailure,
        "Bundle.entry[2].resource.ofType(Bundle).entry[1].fullUrl",
        "not urn:uuid: + the resource id",
    );
}

#[test]
fn dangling_urn_uuid_reference_gives_20009() {
    let xml = with(
        "<author>\n                <reference value=\"urn:uuid:804420f4-01dc-4f11-9cb2-348b25b92064\"/>",
        "<author>\n                <reference value=\"urn:uuid:99999999-01dc-4f11-9cb2-348b25b92064\"/>",
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{COMPOSITION}.author[0]"),
        "is no entry of the document Bundle",
    );
}

// ---- 14–17. Composition, confidentiality, custodian ------------------------------

#[test]
fn missing_custodian_is_refused_strictly_and_tolerated_otherwise() {
    let xml = with("<custodian>\n                <reference value=\"urn:uuid:ca679db1-5605-40b0-888e-755ec21081a4\"/>\n              </custodian>", "");
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{COMPOSITION}.custodian"),
        "Composition.custodian is missing",
    );
    let r = accept(Policy::Tolerant, xml.as_bytes(), &transport());
    assert_eq!(r.sender.organisation_name, "Riverside Surgery");
    assert!(r
        .warnings
        .iter()
        .any(|w| w.tolerated == Some(Tolerance::MissingCustodian)));
}

#[test]
fn composition_without_title_gives_20009() {
    let xml = with(
        r#"<title value="Consultation report"/>
              <confidentiality"#,
        "<confidentiality",
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{COMPOSITION}.title"),
        "no title",
    );
}

#[test]
fn confidentiality_r_gives_20009() {
    let xml = with(
        r#"<confidentiality value="N"/>"#,
        r#"<confidentiality value="R"/>"#,
    );
    for policy in [Policy::Strict, Policy::Tolerant] {
        expect_with(
            policy,
            &xml,
            &transport(),
            PayloadValidationFailure,
            &format!("{COMPOSITION}.confidentiality"),
            "confidentiality is R",
        );
    }
}

#[test]
fn custodian_without_ods_code_gives_20009() {
    let xml = with(
        "<system value=\"https://fhir.nhs.uk/Id/ods-organization-code\"/>\n                <value value=\"B82617\"/>",
        "<system value=\"https://example.org/local-code\"/>\n                <value value=\"B82617\"/>",
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{ORGANIZATION}.identifier"),
        "sending Organization has no ODS code",
    );
}

// ---- 16. Patient ----------------------------------------------------------------

#[test]
fn nhs_number_failing_modulus_11_gives_20009() {
    let xml = with(
        r#"<value value="9690937278"/>"#,
        r#"<value value="9690937279"/>"#,
    );
    for policy in [Policy::Strict, Policy::Tolerant] {
        let e = expect_with(
            policy,
            &xml,
            &transport(),
            PayloadValidationFailure,
            &format!("{PATIENT}.identifier[0].value"),
            "the NHS number fails the Modulus 11 check",
        );
        assert!(
            !e.to_string().contains("9690937279"),
            "the number is never echoed"
        );
    }
    // With no GPPROVIDER address to compare with, the tolerant policy accepts it
    // (NHS's examples all carry such numbers), saying so.
    let r = accept(Policy::Tolerant, xml.as_bytes(), &Transport::folder());
    assert!(r.patient.checked_nhs_number().is_none());
    assert_eq!(r.warnings[0].tolerated, Some(Tolerance::NhsNumberChecksum));
    expect_with(
        Policy::Strict,
        &xml,
        &Transport::folder(),
        PayloadValidationFailure,
        &format!("{PATIENT}.identifier[0].value"),
        "Modulus 11",
    );
}

#[test]
fn nhs_number_disagreeing_with_the_gpprovider_address_gives_20009() {
    let t = Transport::mesh("GPCONNECT_SEND_DOCUMENT", "MESHGP0001")
        .to("GPPROVIDER_9434765919_19550109_Quennell");
    for policy in [Policy::Strict, Policy::Tolerant] {
        let e = expect_with(
            policy,
            VALID,
            &t,
            PayloadValidationFailure,
            &format!("{PATIENT}.identifier[0].value"),
            "does not match the one in the GPPROVIDER To address",
        );
        assert!(!e.to_string().contains("9434765919"));
    }
    // A differently spelt surname is tolerated; the date-first address form is read too.
    let t = Transport::mesh("GPCONNECT_SEND_DOCUMENT", "MESHGP0001")
        .to("GPPROVIDER_9690937278_09011955_QUENNEL");
    expect_with(
        Policy::Strict,
        VALID,
        &t,
        PayloadValidationFailure,
        &format!("{PATIENT}.name"),
        "does not match the surname",
    );
    let r = accept(Policy::Tolerant, VALID.as_bytes(), &t);
    assert_eq!(
        r.warnings[0].tolerated,
        Some(Tolerance::GpProviderDemographics)
    );
    no_patient_data(r.warnings.iter().map(|w| w.to_string()));
}

#[test]
fn patient_without_official_name_gives_20009() {
    let xml = with(
        "<use value=\"official\"/>\n                <family value=\"Quennell\"/>",
        "<use value=\"usual\"/>\n                <family value=\"Quennell\"/>",
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{PATIENT}.name"),
        "no official name",
    );
}

#[test]
fn birth_date_with_a_time_gives_20009() {
    let xml = with(
        r#"<birthDate value="1955-01-09"/>"#,
        r#"<birthDate value="1955-01-09T10:00:00Z"/>"#,
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{PATIENT}.birthDate"),
        "birthDate",
    );
}

#[test]
fn missing_nhs_number_verification_gives_20009() {
    let xml = with(
        "Extension-CareConnect-NHSNumberVerificationStatus-1\">",
        "Extension-Local-Something-1\">",
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{PATIENT}.identifier[0].extension"),
        "no verification status",
    );
}

// ---- 18. Attachments ------------------------------------------------------------

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn no_binary_in_the_sections_gives_20009() {
    let xml = with(
        "<reference value=\"urn:uuid:b59ea76c-f648-4876-8574-867b8e1d51f7\"/>",
        "<reference value=\"urn:uuid:804420f4-01dc-4f11-9cb2-348b25b92064\"/>",
    );
    let xml = with_in(
        &xml,
        "<reference value=\"urn:uuid:0d7b4f52-1c3e-4a8f-9b61-2e5d8c7a9f03\"/>",
        "<reference value=\"urn:uuid:804420f4-01dc-4f11-9cb2-348b25b92064\"/>",
    );
    // Tolerant: the Practitioner entries are tolerated, the missing attachment is not.
    expect_with(
        Policy::Tolerant,
        &xml,
        &transport(),
        PayloadValidationFailure,
        &format!("{COMPOSITION}.section"),
        "carries no attachment",
    );
    // Strict: the first fault is the non-Binary section entry itself.
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{COMPOSITION}.section[0].entry[0]"),
        "references a Practitioner, not an attachment Binary",
    );
}

#[test]
fn content_that_is_not_base64_gives_20009() {
    let xml = with(
        &format!("value=\"{}\"", base64_of(PDF)),
        "value=\"%PDF not base64!\"",
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{PDF_BINARY}.content"),
        "not valid base64",
    );
}

#[test]
fn pdf_content_type_with_png_bytes_gives_20009() {
    let xml = with(
        r#"<contentType value="image/png"/>"#,
        r#"<contentType value="application/pdf"/>"#,
    );
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{PNG_BINARY}.content"),
        "the contentType is application/pdf but the decoded bytes are a PNG image",
    );
}

#[test]
fn non_approved_type_gives_20004() {
    let xml = with(
        r#"<contentType value="image/png"/>"#,
        r#"<contentType value="application/x-msdownload"/>"#,
    );
    expect(
        &xml,
        NonApprovedFileType,
        &format!("{PNG_BINARY}.contentType"),
        "not approved",
    );
}

#[test]
fn executable_bytes_give_20004_whatever_the_type() {
    let xml = with(
        r#"<contentType value="image/png"/>"#,
        r#"<contentType value="text/plain"/>"#,
    );
    let xml = with_in(
        &xml,
        &base64_of(PNG),
        &base64_of(b"MZ\x90\x00\x03\x00\x00\x00"),
    );
    expect(
        &xml,
        NonApprovedFileType,
        &format!("{PNG_BINARY}.content"),
        "a Windows executable",
    );
}

#[test]
fn unsupported_type_gives_20005() {
    let xml = with(
        r#"<contentType value="image/png"/>"#,
        r#"<contentType value="video/mp4"/>"#,
    );
    expect(
        &xml,
        UnsupportedFileType,
        &format!("{PNG_BINARY}.contentType"),
        "\"video/mp4\" is not supported",
    );
}

#[test]
fn sd2_misspelt_types_are_read_as_the_right_ones() {
    let xml = with(
        r#"<contentType value="image/png"/>"#,
        r#"<contentType value="image/jpg"/>"#,
    );
    // image/jpg is read as image/jpeg, and PNG bytes are not a JPEG.
    expect(
        &xml,
        PayloadValidationFailure,
        &format!("{PNG_BINARY}.content"),
        "the contentType is image/jpeg but the decoded bytes are a PNG image",
    );
}

// ---- 19. Replacement ---------------------------------------------------------------

/// A later version of the valid document: new message, header, document and
/// Composition identifiers, `versionId` `version`, replacing the valid one's
/// Composition.
fn replacement(version: &str) -> String {
    let xml = VALID
        .replace(
            "74e6b7a3-a8a4-4f9d-902b-6589b76357e6",
            "a1111111-a8a4-4f9d-902b-6589b76357e6",
        )
        .replace(
            "ca1c7be9-0c47-4d1e-88b0-f48df81ce1f5",
            "a2222222-0c47-4d1e-88b0-f48df81ce1f5",
        )
        .replace(
            "5b7ecb26-4071-476f-a0af-f32eb7803bf3",
            "a3333333-4071-476f-a0af-f32eb7803bf3",
        )
        .replace(
            "5b77f8e0-36b6-4309-8840-da6bc92d8d21",
            "a4444444-36b6-4309-8840-da6bc92d8d21",
        );
    let xml = with_in(
        &xml,
        r#"<versionId value="1"/>"#,
        &format!(r#"<versionId value="{version}"/>"#),
    );
    with_in(
        &xml,
        "              </custodian>\n",
        "              </custodian>\n              <relatesTo>\n                <code value=\"replaces\"/>\n                <targetIdentifier>\n                  <system value=\"https://tools.ietf.org/html/rfc4122\"/>\n                  <value value=\"5b77f8e0-36b6-4309-8840-da6bc92d8d21\"/>\n                </targetIdentifier>\n              </relatesTo>\n",
    )
}

#[test]
fn replacement_of_an_unknown_document_gives_20014() {
    expect(
        &replacement("2"),
        ReplacementFailed,
        &format!("{COMPOSITION}.relatesTo[0].target.ofType(Identifier)"),
        "has not been received",
    );
}

#[test]
fn replacement_with_a_lower_version_gives_20014_and_a_higher_one_is_accepted() {
    let rx = Receiver::new(ReceiveOptions::with_policy(Policy::Strict));
    let mut log = MemoryReceiptLog::new();
    rx.receive(VALID.as_bytes(), &transport(), &mut log)
        .unwrap();
    let e = rejection_with(&rx, replacement("1").as_bytes(), &transport(), &log);
    assert_eq!(e.code, ReplacementFailed, "{e:#?}");
    assert_eq!(
        e.diagnostics[0].location,
        format!("{COMPOSITION}.meta.versionId")
    );
    assert!(e.diagnostics[0]
        .reason
        .contains("meta.versionId is 1; the document it replaces is version 1"));
    let r = rx
        .receive(replacement("2").as_bytes(), &transport(), &mut log)
        .unwrap();
    let replaced = r.replaces.unwrap();
    assert_eq!(
        replaced.target.value,
        "5b77f8e0-36b6-4309-8840-da6bc92d8d21"
    );
    assert_eq!(replaced.previous_version, Some(1));
    assert_eq!(r.version, Some(2));
    // The original is now superseded: replacing it again fails.
    let again = replacement("3")
        .replace("a1111111", "b1111111")
        .replace("a2222222", "b2222222")
        .replace("a3333333", "b3333333")
        .replace("a4444444", "b4444444");
    let e = rejection_with(&rx, again.as_bytes(), &transport(), &log);
    assert_eq!(e.code, ReplacementFailed);
    assert!(e.diagnostics[0].reason.contains("already replaced"), "{e}");
}

#[test]
fn replacement_from_another_sender_gives_20014() {
    let rx = Receiver::default();
    let mut log = MemoryReceiptLog::new();
    rx.receive(VALID.as_bytes(), &transport(), &mut log)
        .unwrap();
    let xml = with_in(
        &replacement("2"),
        "<value value=\"B82617\"/>\n        </identifier>\n      </Organization>",
        "<value value=\"Y01234\"/>\n        </identifier>\n      </Organization>",
    );
    let e = rejection_with(&rx, xml.as_bytes(), &transport(), &log);
    assert_eq!(e.code, ReplacementFailed, "{e:#?}");
    assert!(e.diagnostics[0].reason.contains("another sender"));
}

#[test]
fn relates_to_with_another_code_gives_20014() {
    let xml = with_in(
        &replacement("2"),
        r#"<code value="replaces"/>"#,
        r#"<code value="appends"/>"#,
    );
    expect(
        &xml,
        ReplacementFailed,
        &format!("{COMPOSITION}.relatesTo[0].code"),
        "relatesTo.code is appends",
    );
}

// ---- Order and robustness -----------------------------------------------------------

#[test]
fn the_earliest_check_decides_the_code() {
    // A payload fault (20009) and a handling-key fault (10003): 10003 wins, both listed.
    let xml = with(
        r#"<confidentiality value="N"/>"#,
        r#"<confidentiality value="R"/>"#,
    );
    let xml = with_in(
        &xml,
        "<extension url=\"BusAckRequested\">\n            <valueBoolean value=\"true\"/>",
        "<extension url=\"BusAckRequested\">\n            <valueString value=\"true\"/>",
    );
    let e = rejection_with(
        &receiver(Policy::Strict),
        xml.as_bytes(),
        &transport(),
        &MemoryReceiptLog::new(),
    );
    assert_eq!(e.code, BusAckValueError);
    let codes: Vec<ResponseCode> = e.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.contains(&PayloadValidationFailure), "{codes:?}");
    assert!(e.diagnostics.windows(2).all(|w| w[0].check <= w[1].check));
    assert!(e.diagnostics_text().contains("(10003)"));
}

#[test]
fn no_input_makes_the_receiver_panic() {
    let rx = Receiver::default();
    let log = MemoryReceiptLog::new();
    let bytes = VALID.as_bytes();
    for cut in (0..bytes.len()).step_by(211) {
        let _ = rx.check(&bytes[..cut], &transport(), &log);
        let mut damaged = bytes.to_vec();
        damaged[cut] = b'<';
        let _ = rx.check(&damaged, &transport(), &log);
    }
    for junk in [
        &b""[..],
        b"{",
        b"[]",
        b"{\"resourceType\":\"Bundle\"}",
        b"<Bundle xmlns=\"http://hl7.org/fhir\"/>",
        b"\xef\xbb\xbf  <x/>",
    ] {
        let e = rx.check(junk, &Transport::folder(), &log).unwrap_err();
        assert!(!e.diagnostics.is_empty());
    }
}
