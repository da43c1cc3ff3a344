//! Sender and receiver together: messages built by the builder, read back by the
//! receiver (same patient, sender, attachments byte for byte, metadata), answered
//! with ITK3 acknowledgements that validate and correlate back to the sent message;
//! and a replacement chain of three versions received in order.

use chrono::NaiveDate;
use send_document::build::{
    Attachment, AuthoringPractitioner, BuiltMessage, DocumentType, Patient, RecipientType,
    SendDocumentBuilder, SendingOrganisation, SnomedConcept,
};
use send_document::receive::{
    MemoryReceiptLog, Policy, ReceiveOptions, Received, Receiver, Transport,
};
use send_document::response::{
    Correlation, Correlator, MessageState, Outcome, PatientData, ReceivedResponse, Responder,
    SentMessage,
};
use send_document::{
    validate_message, Edition, MeshMailbox, MessageKind, MessageValidator, OdsCode, Options,
    ResponseCode, Severity, Workflow,
};

fn pdf(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    v.extend((0..len).map(|i| (i * 7 % 251) as u8));
    v.extend_from_slice(b"\n%%EOF\n");
    v
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    v.extend((0..300).map(|i| (i * 13 % 256) as u8));
    v
}

fn jpeg() -> Vec<u8> {
    let mut v = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec();
    v.extend((0..300).map(|i| (i * 31 % 256) as u8));
    v.extend_from_slice(b"\xFF\xD9");
    v
}

fn builder(workflow: Workflow, attachments: Vec<Attachment>) -> SendDocumentBuilder {
    SendDocumentBuilder::new()
        .workflow(workflow)
        .patient(
            Patient::new(
                "943 476 5919",
                "O'Brien-Smith",
                NaiveDate::from_ymd_opt(1955, 1, 9).unwrap(),
            )
            .prefix("Mrs")
            .given("Lorne")
            .given("Anne"),
        )
        .sender(
            SendingOrganisation::new("B82617", "Grass Heights & Moor GP Practice", "MESHGP0001")
                .telephone("01632 960 123"),
        )
        .author(
            AuthoringPractitioner::new("G8133438", "Nightingale")
                .prefix("Dr")
                .given("Florence")
                .telephone("01632 960 124"),
        )
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation report")
        .attachments(attachments)
}

fn receiver() -> Receiver {
    Receiver::new(ReceiveOptions::with_policy(Policy::Strict))
}

fn transport(built: &BuiltMessage) -> Transport {
    let env = built.envelope();
    Transport::mesh(&env.workflow_id, env.from.as_str())
        .to(&env.to)
        .subject(&env.subject)
}

/// Reads `built` back in `format` through the receiver, strictly.
fn receive(built: &BuiltMessage, json: bool, log: &mut MemoryReceiptLog) -> Received {
    let bytes = if json {
        built.to_json()
    } else {
        built.to_xml()
    };
    receiver()
        .receive(bytes.as_bytes(), &transport(built), log)
        .unwrap_or_else(|r| panic!("rejected {}: {}", r.code, r.diagnostics_text()))
}

#[test]
fn what_is_built_is_what_is_received() {
    for (workflow, json) in [
        (Workflow::SendDocument, false),
        (Workflow::SendDocument, true),
        (Workflow::ConsultReport, false),
        (Workflow::ConsultReport, true),
    ] {
        let attachments = vec![
            Attachment::pdf(pdf(40_000)),
            Attachment::new("image/png", png()).title("Wound photograph"),
            Attachment::new("image/jpeg", jpeg()).title("Rash photograph"),
        ];
        let originals: Vec<(String, Vec<u8>)> = attachments
            .iter()
            .map(|a| (a.content_type.clone(), a.bytes.clone()))
            .collect();
        let mut b = builder(workflow, attachments);
        if workflow == Workflow::SendDocument {
            b = b
                .recipient_type(RecipientType::ForInformation)
                .care_setting(SnomedConcept::new("788007007", "General practice service"))
                .event(SnomedConcept::new(
                    "149951000000107",
                    "Patient information received using general practice online consultation system",
                ));
        }
        let built = b.build().unwrap_or_else(|e| panic!("{e}"));
        let r = receive(&built, json, &mut MemoryReceiptLog::new());
        let ids = built.identifiers();

        assert_eq!(r.workflow, workflow);
        assert_eq!(r.edition, workflow.edition());
        assert_eq!(r.patient.nhs_number, "9434765919");
        assert_eq!(r.patient.name.family.as_deref(), Some("O'Brien-Smith"));
        assert_eq!(r.patient.name.given, ["Lorne", "Anne"]);
        assert_eq!(r.patient.name.prefix, ["Mrs"]);
        assert_eq!(
            r.patient.birth_date,
            NaiveDate::from_ymd_opt(1955, 1, 9).unwrap()
        );
        assert_eq!(
            r.sender.organisation_name,
            "Grass Heights & Moor GP Practice"
        );
        assert_eq!(r.sender.ods_code, "B82617");
        assert_eq!(r.sender.header_ods_code, "B82617");
        assert_eq!(r.sender.telephone.as_deref(), Some("01632 960 123"));
        assert_eq!(r.sender.mailbox.as_ref().unwrap().as_str(), "MESHGP0001");
        let author = r.author.as_ref().unwrap();
        assert_eq!(author.sds_user_id.as_deref(), Some("G8133438"));
        assert_eq!(author.name.family.as_deref(), Some("Nightingale"));
        assert_eq!(r.document_type.code, "371531000");
        assert_eq!(r.title, "Consultation report");
        assert_eq!(r.status, "final");
        assert_eq!(r.version, Some(1));
        assert_eq!(r.replaces, None);
        // Attachments: same order, same MIME types, byte-identical.
        let got: Vec<(String, Vec<u8>)> = r
            .attachments
            .iter()
            .map(|a| (a.content_type.clone(), a.bytes.clone()))
            .collect();
        assert_eq!(got, originals, "{workflow:?} json={json}");
        // Metadata: the identifiers the sender keeps are the ones the receiver reads.
        assert_eq!(r.ids.message_header_id, ids.message_header_id.to_string());
        assert_eq!(r.ids.sender_reference, ids.sender_reference);
        assert_eq!(
            r.ids.message_identifier.value,
            ids.message_bundle_identifier.to_string()
        );
        assert_eq!(
            r.ids.document_identifier.value,
            ids.document_bundle_identifier.to_string()
        );
        assert_eq!(
            r.ids.composition_identifier.value,
            ids.composition_identifier.to_string()
        );
        assert_eq!(
            r.subject.as_deref(),
            Some(built.envelope().subject.as_str())
        );
        assert_eq!(
            r.reply_to.response_identifier(),
            ids.message_header_id.to_string()
        );
        assert_eq!(r.reply_to.workflow, workflow);
        assert!(r.reply_to.inf_ack_requested && r.reply_to.bus_ack_requested);
        match workflow {
            Workflow::SendDocument => {
                assert_eq!(r.recipient_type.code(), "FI");
                assert_eq!(r.care_setting.as_ref().unwrap().code, "788007007");
                assert_eq!(r.events[0].code, "149951000000107");
                assert_eq!(r.local_extension.as_deref(), Some("None"));
            }
            Workflow::ConsultReport => {
                assert_eq!(r.recipient_type.code(), "FA");
                assert_eq!(
                    r.local_extension.as_deref(),
                    Some("SendDocument-ConsultationSummary")
                );
            }
        }
        // A strict receiver finds nothing to warn about in what we build.
        let warnings: Vec<String> = r.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(warnings, Vec::<String>::new(), "{workflow:?} json={json}");
    }
}

#[test]
fn acknowledgements_validate_and_correlate_back_to_the_sent_message() {
    let built = builder(Workflow::SendDocument, vec![Attachment::pdf(pdf(2_000))])
        .build()
        .unwrap();
    // The sender records what it sent.
    let mut correlator = Correlator::new();
    let sent_at = "2026-11-22T10:00:00Z".parse().unwrap();
    correlator.record(
        SentMessage::from_message(built.message(), Workflow::SendDocument, sent_at).unwrap(),
    );
    // The practice receives it, matches the patient, and answers.
    let received = receive(&built, false, &mut MemoryReceiptLog::new());
    let responder = Responder::new(
        OdsCode::new("A82038").unwrap(),
        MeshMailbox::new("MESHGP0002").unwrap(),
    )
    .redacting(PatientData::from_message(built.message()));
    let responses = responder
        .responses(
            &received.reply_to,
            &Outcome::processed(ResponseCode::PatientKnown),
        )
        .unwrap();
    assert_eq!(
        responses.iter().map(|r| r.code()).collect::<Vec<_>>(),
        [ResponseCode::Success, ResponseCode::PatientKnown]
    );
    for response in &responses {
        let xml = response.to_xml();
        let resource = fhir_stu3::Resource::from_xml(xml.as_bytes()).unwrap();
        let tree = resource.to_tree();
        assert_eq!(
            send_document::message_kind(&tree),
            Some(MessageKind::Response)
        );
        let errors: Vec<String> = validate_message(&resource)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.to_string())
            .collect();
        assert_eq!(errors, Vec::<String>::new());
        for pid in ["9434765919", "O'Brien", "Lorne", "1955-01-09"] {
            assert!(!xml.contains(pid), "{pid} in a response");
        }
        let env = response.envelope();
        assert_eq!(env.workflow_id, "GPCONNECT_SEND_DOCUMENT_ACK");
        assert_eq!(env.to, "MESHGP0001");
        // Back at the sender.
        let read = ReceivedResponse::from_bytes(xml.as_bytes()).unwrap();
        match correlator.feed(&read, "2026-11-22T10:05:00Z".parse().unwrap()) {
            Correlation::Matched {
                message_header_id,
                warnings,
                ..
            } => {
                assert_eq!(
                    message_header_id,
                    built.identifiers().message_header_id.to_string()
                );
                assert!(warnings.is_empty(), "{warnings:?}");
            }
            other => panic!("{other:?}"),
        }
    }
    let tracked = correlator
        .get(&built.identifiers().message_header_id.to_string())
        .unwrap();
    assert!(matches!(
        tracked.state(),
        MessageState::BusinessAckReceived { .. }
    ));
    assert!(correlator.unmatched().is_empty());
}

#[test]
fn a_replacement_chain_of_three_versions_is_received_in_order() {
    let mut log = MemoryReceiptLog::new();
    let first = builder(Workflow::SendDocument, vec![Attachment::pdf(pdf(1_000))])
        .build()
        .unwrap();
    let r1 = receive(&first, false, &mut log);
    assert_eq!(r1.version, Some(1));
    let second = builder(Workflow::SendDocument, vec![Attachment::pdf(pdf(1_100))])
        .replaces(first.identifiers().replacement())
        .build()
        .unwrap();
    let r2 = receive(&second, true, &mut log);
    assert_eq!(r2.version, Some(2));
    assert_eq!(
        r2.replaces.as_ref().unwrap().target.value,
        first.identifiers().composition_identifier.to_string()
    );
    let third = builder(Workflow::SendDocument, vec![Attachment::pdf(pdf(1_200))])
        .replaces(second.identifiers().replacement())
        .build()
        .unwrap();
    assert!(third.envelope().subject.ends_with("Version: 3"));
    for m in [&first, &second, &third] {
        let errors: Vec<String> = MessageValidator::new(Options::with_edition(Edition::V2))
            .validate(m.message())
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.to_string())
            .collect();
        assert_eq!(errors, Vec::<String>::new());
    }
    let r3 = receive(&third, false, &mut log);
    assert_eq!(r3.version, Some(3));
    assert_eq!(
        r3.replaces.as_ref().unwrap().target.value,
        second.identifiers().composition_identifier.to_string()
    );
    // The same message again is a duplicate message (20007).
    let again = receiver()
        .receive(third.to_xml().as_bytes(), &transport(&third), &mut log)
        .unwrap_err();
    assert_eq!(again.code, ResponseCode::DuplicateMessage);
    // A replacement of a document this receiver never saw cannot be applied (20014).
    let stray = builder(Workflow::SendDocument, vec![Attachment::pdf(pdf(900))])
        .replaces(first.identifiers().replacement())
        .build()
        .unwrap();
    let rejected = receiver()
        .receive(
            stray.to_xml().as_bytes(),
            &transport(&stray),
            &mut MemoryReceiptLog::new(),
        )
        .unwrap_err();
    assert_eq!(rejected.code, ResponseCode::ReplacementFailed);
}
