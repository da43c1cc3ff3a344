//! Send Document end to end over a real MESH server (NHS Digital's sandbox with our
//! GPPROVIDER routing launcher; `scripts/mesh-sandbox.sh`): the sender's mailbox sends
//! a built message to a `GPPROVIDER_` address, MESH routes it to the practice's
//! mailbox, the practice downloads, checks and acknowledges it and answers with the
//! infrastructure and business responses on the `_ACK` workflow, and the sender
//! correlates both to its message. Both workflows, XML and JSON.

use std::time::Duration;

use chrono::NaiveDate;
use nhs_mesh::client::RetryPolicy;
use nhs_mesh::{ClientConfig, MeshClient, Secret, StatusCode};
use send_document::build::{
    Attachment, AuthoringPractitioner, DocumentType, Format, Patient, SendDocumentBuilder,
    SendingOrganisation,
};
use send_document::receive::{MemoryReceiptLog, Policy, ReceiveOptions, Receiver};
use send_document::response::{Correlation, MessageState, Outcome, Responder};
use send_document::{MeshMailbox, OdsCode, ResponseCode, Workflow};
use send_document_mesh::{send_message, DocumentInbox, Incoming, Returned, SentMessages};
use workspace_tests::mesh_sandbox;

const SENDER: &str = "X26OT001";
const PRACTICE: &str = "A20047OT001";

fn client(mailbox: &str) -> MeshClient {
    let mut cfg = ClientConfig::new(
        &mesh_sandbox::url(),
        mailbox,
        Secret::new("password"),
        Secret::new("TestKey"),
    );
    cfg.retry = RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
    };
    MeshClient::new(cfg).unwrap()
}

fn pdf(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    v.extend((0..len).map(|i| (i * 7 % 251) as u8));
    v.extend_from_slice(b"\n%%EOF\n");
    v
}

/// The PDS sandbox patient our routing table knows: 9000000009, Smith, 2010-10-22,
/// registered at A20047.
fn builder(workflow: Workflow, attachment: Vec<u8>) -> SendDocumentBuilder {
    SendDocumentBuilder::new()
        .workflow(workflow)
        .patient(
            Patient::new(
                "9000000009",
                "Smith",
                NaiveDate::from_ymd_opt(2010, 10, 22).unwrap(),
            )
            .prefix("Mrs")
            .given("Jane"),
        )
        .sender(
            SendingOrganisation::new("X26", "Bridge Street Out-of-hours Service", SENDER)
                .telephone("01632 960 000"),
        )
        .author(AuthoringPractitioner::new("G8133438", "Nightingale").given("Florence"))
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        // The legacy workflow fixes the title.
        .title(match workflow {
            Workflow::ConsultReport => "Consultation report",
            _ => "Consultation summary",
        })
        .attachment(Attachment::pdf(attachment).title("Consultation summary"))
}

fn round_trip(workflow: Workflow, format: Format) {
    let _g = mesh_sandbox::exclusive();
    let (sender, practice) = (client(SENDER), client(PRACTICE));
    let attachment = pdf(200_000);
    let built = builder(workflow, attachment.clone())
        .build()
        .expect("a valid message");
    assert!(
        built
            .envelope()
            .to
            .starts_with("GPPROVIDER_9000000009_20101022_"),
        "{}",
        built.envelope().to
    );

    // A sends.
    let sent = send_message(&sender, &built, format).expect("sent");
    let mut outbox = SentMessages::new();
    outbox.record(&sent);

    // MESH routed it to the practice's mailbox; B receives, checks, answers, acks.
    let receiver = Receiver::new(ReceiveOptions::with_policy(Policy::Strict));
    let responder = Responder::new(
        OdsCode::new("A20047").unwrap(),
        MeshMailbox::new(PRACTICE).unwrap(),
    );
    let mut log = MemoryReceiptLog::new();
    let incoming = DocumentInbox::new(&practice, &receiver, &responder, &mut log)
        .receive(|received| {
            assert_eq!(received.patient.nhs_number.as_str(), "9000000009");
            Outcome::processed(ResponseCode::PatientKnown)
        })
        .expect("inbox");
    assert_eq!(incoming.len(), 1, "{incoming:?}");
    let Incoming::Document(doc) = &incoming[0] else {
        panic!("expected a document, got {incoming:?}")
    };
    assert_eq!(doc.mesh_message_id, sent.mesh_message_id);
    assert_eq!(doc.from.as_deref(), Some(SENDER));
    let received = doc
        .result
        .as_ref()
        .unwrap_or_else(|r| panic!("rejected: {}", r.diagnostics_text()));
    assert_eq!(received.workflow, workflow);
    assert!(received.warnings.is_empty(), "{:?}", received.warnings);
    assert_eq!(received.attachments.len(), 1);
    assert!(
        received.attachments[0].bytes == attachment,
        "attachment not byte-identical"
    );
    let codes: Vec<ResponseCode> = doc.responses.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes, [ResponseCode::Success, ResponseCode::PatientKnown]);
    assert_eq!(log.len(), 1);
    // MESH: the practice's inbox is empty (acknowledged), and the sender's tracking says so.
    assert!(practice.inbox(None).unwrap().is_empty());
    assert_eq!(
        sender
            .track(&sent.mesh_message_id)
            .unwrap()
            .status
            .as_deref(),
        Some("acknowledged")
    );
    // The responses travelled on the _ACK workflow to the sender's mailbox.
    let ack_ids = sender.inbox(Some(workflow.ack_id())).unwrap();
    assert_eq!(ack_ids.len(), 2, "{ack_ids:?}");

    // A collects both and correlates them to its message.
    let returned = outbox.collect(&sender, &[workflow]).expect("collect");
    assert_eq!(returned.len(), 2, "{returned:?}");
    for r in &returned {
        let Returned::Response { correlation, .. } = r else {
            panic!("expected a response, got {r:?}")
        };
        let Correlation::Matched {
            message_header_id,
            warnings,
            ..
        } = correlation
        else {
            panic!("unmatched: {correlation:?}")
        };
        assert_eq!(message_header_id, &sent.message.message_header_id);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
    let tracked = outbox.get(&sent.message.message_header_id).unwrap();
    assert!(
        matches!(
            tracked.state(),
            MessageState::BusinessAckReceived { ref code } if code.code() == "30001"
        ),
        "{:?}",
        tracked.state()
    );
    assert!(
        sender.inbox(None).unwrap().is_empty(),
        "both responses acknowledged"
    );
}

#[test]
fn send_document_workflow_xml_end_to_end() {
    round_trip(Workflow::SendDocument, Format::Xml);
}

#[test]
fn send_document_workflow_json_end_to_end() {
    round_trip(Workflow::SendDocument, Format::Json);
}

#[test]
fn legacy_consult_report_workflow_end_to_end() {
    round_trip(Workflow::ConsultReport, Format::Xml);
}

#[test]
fn a_routing_failure_comes_back_as_a_report_on_the_sent_message() {
    let _g = mesh_sandbox::exclusive();
    let sender = client(SENDER);
    // A date of birth PDS does not hold for this NHS number: EPL-154.
    let built = SendDocumentBuilder::new()
        .workflow(Workflow::SendDocument)
        .patient(Patient::new(
            "9000000009",
            "Smith",
            NaiveDate::from_ymd_opt(1955, 1, 9).unwrap(),
        ))
        .sender(SendingOrganisation::new(
            "X26",
            "Bridge Street Out-of-hours Service",
            SENDER,
        ))
        .author(AuthoringPractitioner::new("G8133438", "Nightingale"))
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation summary")
        .attachment(Attachment::pdf(pdf(1000)))
        .build()
        .unwrap();
    let sent = send_message(&sender, &built, Format::Xml).unwrap();
    let mut outbox = SentMessages::new();
    outbox.record(&sent);
    let returned = outbox.collect(&sender, &[Workflow::SendDocument]).unwrap();
    assert_eq!(returned.len(), 1, "{returned:?}");
    let Returned::Report {
        report,
        message_header_id,
    } = &returned[0]
    else {
        panic!("expected a report, got {returned:?}")
    };
    assert_eq!(report.code(), Some(&StatusCode::DemographicsMismatch));
    assert_eq!(
        message_header_id.as_deref(),
        Some(sent.message.message_header_id.as_str())
    );
    assert_eq!(
        outbox
            .failure(&sent.message.message_header_id)
            .and_then(|r| r.code()),
        Some(&StatusCode::DemographicsMismatch)
    );
    assert!(
        sender.inbox(None).unwrap().is_empty(),
        "the report was acknowledged"
    );
}

#[test]
fn a_message_from_another_mailbox_is_refused_before_sending() {
    let sender = client(PRACTICE);
    let built = builder(Workflow::SendDocument, pdf(100)).build().unwrap();
    let err = send_message(&sender, &built, Format::Xml).unwrap_err();
    assert!(
        err.to_string()
            .contains("from mailbox X26OT001 but the MESH client is for A20047OT001"),
        "{err}"
    );
    assert_eq!(sender.stats().requests, 0);
}
