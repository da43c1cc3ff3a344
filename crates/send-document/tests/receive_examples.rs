//! The published Send Document examples (`../shared/examples/`) through the receiver:
//! the code the strict policy gives each (with the diagnostics that decide it), and
//! what the tolerant policy reads from each (warnings and typed view). Fails, naming
//! the folder, when the shared inputs are missing.

use send_document::receive::{
    Check, MemoryReceiptLog, Policy, ReceiveOptions, Received, Receiver, RecipientType, Rejection,
    Tolerance, Transport,
};
use send_document::ResponseCode;
use workspace_tests::shared_dir;

const CONSULTATION: &str = "v1.3.0-release_consultation_report.xml";
const GENERIC: &str = "v2.0.2_send-document--generic-example.xml";
const WIREFRAME: &str = "v2_example-generic-wireframe-moe-degrasse.xml";

fn example(name: &str) -> Vec<u8> {
    let path = shared_dir().join("examples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared examples are needed; these tests do not pass without them)",
            path.display()
        )
    })
}

fn transport(name: &str) -> Transport {
    let workflow = if name == CONSULTATION {
        "GPFED_CONSULT_REPORT"
    } else {
        "GPCONNECT_SEND_DOCUMENT"
    };
    Transport::mesh(workflow, "MESHGP0001")
}

fn strict(name: &str) -> Rejection {
    Receiver::new(ReceiveOptions::with_policy(Policy::Strict))
        .check(&example(name), &transport(name), &MemoryReceiptLog::new())
        .expect_err("the strict policy refuses every published example")
}

fn tolerant(name: &str) -> Received {
    Receiver::new(ReceiveOptions::with_policy(Policy::Tolerant))
        .check(&example(name), &transport(name), &MemoryReceiptLog::new())
        .unwrap_or_else(|e| panic!("{name}: {e:#?}"))
}

fn first(e: &Rejection) -> (Check, &str, &str) {
    let d = &e.diagnostics[0];
    (d.check, d.location.as_str(), d.reason.as_str())
}

fn tolerated(r: &Received) -> Vec<(Tolerance, &str)> {
    r.warnings
        .iter()
        .filter_map(|w| Some((w.tolerated?, w.location.as_str())))
        .collect()
}

fn no_patient_data(texts: impl IntoIterator<Item = String>, data: &[&str]) {
    for t in texts {
        for d in data {
            assert!(!t.contains(d), "patient data {d:?} in {t}");
        }
    }
}

#[test]
fn consultation_report_1_3_0() {
    // Strict: FHIR XML order faults in the MessageHeader come first (20006); the
    // Composition's order faults and the NHS number failing Modulus 11 follow.
    let e = strict(CONSULTATION);
    assert_eq!(e.code, ResponseCode::HeaderValidationFailure);
    assert_eq!(
        first(&e),
        (
            Check::Header,
            "Bundle.entry[0].resource.ofType(MessageHeader).timestamp",
            "the element is out of FHIR XML element order (line 65, column 9)"
        )
    );
    assert!(e
        .diagnostics
        .iter()
        .any(|d| d.check == Check::Patient
            && d.reason == "the NHS number fails the Modulus 11 check"));
    assert_eq!(e.diagnostics.len(), 10, "{e:#?}");
    no_patient_data(
        e.diagnostics.iter().map(|d| d.to_string()),
        &["9989453456", "Smith", "1957-01-09"],
    );
    assert_eq!(e.reply_to.workflow.ack_id(), "GPFED_CONSULT_REPORT_ACK");

    // Tolerant: read, with the order faults and the checksum as warnings.
    let r = tolerant(CONSULTATION);
    let t = tolerated(&r);
    assert_eq!(
        t.iter()
            .filter(|(t, _)| *t == Tolerance::ElementOrder)
            .count(),
        9
    );
    assert!(t.contains(&(
        Tolerance::NhsNumberChecksum,
        "Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Patient).identifier[0].value"
    )));
    assert_eq!(t.len(), 10, "{t:#?}");
    // The shared identifier is a warning in both policies.
    assert!(r
        .warnings
        .iter()
        .any(|w| w.rule.as_deref() == Some("distinct-identifiers")));
    assert_eq!(r.patient.nhs_number, "9989453456");
    assert!(r.patient.checked_nhs_number().is_none());
    assert_eq!(r.patient.name.family.as_deref(), Some("Smith"));
    assert_eq!(r.patient.birth_date.to_string(), "1957-01-09");
    assert_eq!(
        r.sender.organisation_name,
        "Cumbria Starling Medical Centre"
    );
    assert_eq!(r.sender.ods_code, "GP0001");
    assert_eq!(r.sender.header_ods_code, "GP0001");
    assert_eq!(
        r.author.as_ref().unwrap().name.family.as_deref(),
        Some("Pritchard")
    );
    assert_eq!(r.document_type.code, "371531000");
    assert_eq!(r.title, "Consultation report");
    assert_eq!(r.recipient_type, RecipientType::ForAction);
    assert_eq!(
        r.local_extension.as_deref(),
        Some("SendDocument-ConsultationSummary")
    );
    assert_eq!(r.attachments.len(), 1);
    assert_eq!(r.attachments[0].content_type, "application/pdf");
    assert_eq!(r.attachments[0].bytes.len(), 38203);
    assert!(r.attachments[0].bytes.starts_with(b"%PDF-"));
}

#[test]
fn generic_example_2_0_2() {
    // Strict: no meta.profile on the message Bundle and the MessageHeader (20006),
    // then the rest of the guide's rules it breaks.
    let e = strict(GENERIC);
    assert_eq!(e.code, ResponseCode::HeaderValidationFailure);
    assert_eq!(first(&e).0, Check::Header);
    assert_eq!(
        first(&e).1,
        "Bundle.entry[0].resource.ofType(MessageHeader).meta.profile"
    );
    assert_eq!(e.diagnostics[0].rule.as_deref(), Some("GPCM-SD-108"));
    let checks: Vec<Check> = e.diagnostics.iter().map(|d| d.check).collect();
    for c in [
        Check::Sender,
        Check::Composition,
        Check::Patient,
        Check::Custodian,
        Check::Attachments,
    ] {
        assert!(checks.contains(&c), "{c:?} in {checks:?}");
    }
    no_patient_data(
        e.diagnostics.iter().map(|d| d.to_string()),
        &["4857773456", "1999-08-15"],
    );

    // Tolerant: every fault the example is known for, tolerated.
    let r = tolerant(GENERIC);
    let mut kinds: Vec<Tolerance> = tolerated(&r).into_iter().map(|(t, _)| t).collect();
    kinds.dedup();
    let mut expected = vec![
        Tolerance::MissingMetaProfile,
        Tolerance::PlaceholderMailbox,
        Tolerance::DateOnlyCompositionDate,
        Tolerance::PractitionerNameNotOfficial,
        Tolerance::NhsNumberChecksum,
        Tolerance::GpcNhsNumberVerification,
        Tolerance::MissingCustodian,
        Tolerance::PlaceholderOdsCode,
        Tolerance::NonBinarySectionEntry,
        Tolerance::BinaryWithoutId,
    ];
    kinds.sort_by_key(|t| format!("{t:?}"));
    kinds.dedup();
    expected.sort_by_key(|t| format!("{t:?}"));
    assert_eq!(kinds, expected);
    assert_eq!(
        tolerated(&r)
            .iter()
            .filter(|(t, _)| *t == Tolerance::MissingMetaProfile)
            .count(),
        9
    );
    assert_eq!(r.patient.nhs_number, "4857773456");
    assert_eq!(r.patient.name.family.as_deref(), Some("[last-name]"));
    assert_eq!(r.patient.birth_date.to_string(), "1999-08-15");
    assert_eq!(r.sender.organisation_name, "[organisation-name]");
    assert_eq!(r.sender.ods_code, "A(*)");
    assert!(r.sender.checked_ods_code().is_none());
    assert_eq!(r.sender.header_ods_code, "FQW30");
    assert_eq!(r.sender.mailbox, None);
    // Responses still go to Mex-From.
    assert_eq!(r.reply_to.mailbox.as_ref().unwrap().as_str(), "MESHGP0001");
    assert_eq!(r.document_type.code, "325871000000103");
    assert_eq!(r.recipient_type, RecipientType::ForInformation);
    assert_eq!(r.date, "2023-08-15");
    assert_eq!(r.attachments.len(), 1);
    assert_eq!(r.attachments[0].binary_id, None);
    assert_eq!(r.attachments[0].content_type, "application/pdf");
    assert_eq!(r.attachments[0].bytes.len(), 55293);
    // Unapproved document type and no SDS user ID: notes in both policies.
    assert!(r
        .warnings
        .iter()
        .any(|w| w.rule.as_deref() == Some("GPCM-SD-115")));
}

#[test]
fn generic_wireframe_example() {
    // Strict: order faults in the Composition: a payload failure.
    let e = strict(WIREFRAME);
    assert_eq!(e.code, ResponseCode::PayloadValidationFailure);
    assert_eq!(
        first(&e),
        (
            Check::Composition,
            "Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).extension[0]",
            "the element is out of FHIR XML element order (line 124, column 15)"
        )
    );
    assert_eq!(e.diagnostics.len(), 3, "{e:#?}");
    assert_eq!(e.diagnostics[2].check, Check::Patient);

    let r = tolerant(WIREFRAME);
    let t: Vec<Tolerance> = tolerated(&r).into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        t,
        [
            Tolerance::ElementOrder,
            Tolerance::ElementOrder,
            Tolerance::NhsNumberChecksum
        ]
    );
    assert_eq!(r.patient.name.family.as_deref(), Some("DEGRASSE"));
    assert_eq!(r.sender.ods_code, "GP0001");
    assert_eq!(
        r.sender.organisation_name,
        "Cumbria Starling Medical Centre"
    );
    assert_eq!(r.document_type.code, "325871000000103");
    assert!(r.care_setting.is_some());
    assert!(!r.events.is_empty());
    assert_eq!(r.attachments.len(), 1);
    assert_eq!(r.attachments[0].content_type, "application/pdf");
    assert_eq!(r.attachments[0].bytes.len(), 55293);
}

#[test]
fn examples_are_recorded_once() {
    // The 1.3 example shares one identifier between its Bundles; the duplicate
    // checks keep them apart (message identifiers and document identifiers are
    // remembered separately).
    let rx = Receiver::default();
    let mut log = MemoryReceiptLog::new();
    rx.receive(&example(CONSULTATION), &transport(CONSULTATION), &mut log)
        .unwrap();
    let again = rx
        .check(&example(CONSULTATION), &transport(CONSULTATION), &log)
        .unwrap_err();
    assert_eq!(again.code, ResponseCode::DuplicateMessage);
    // The wireframe example reuses the 1.3 example's identifiers and Composition.
    let other = rx
        .check(&example(WIREFRAME), &transport(WIREFRAME), &log)
        .unwrap_err();
    assert_eq!(other.code, ResponseCode::DuplicateMessage);
}
