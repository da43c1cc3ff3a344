//! The MESH client's folder route without a server: a built message placed in `OUT`
//! as `.dat` + `.ctl`, moved to `IN` as the client would deliver it, then read and
//! checked with the transport facts of its control file.

use chrono::NaiveDate;
use nhs_mesh::folder::{InFolder, OutFolder};
use send_document::build::{
    Attachment, AuthoringPractitioner, DocumentType, Format, Patient, SendDocumentBuilder,
    SendingOrganisation,
};
use send_document::receive::{MemoryReceiptLog, MeshMessageType, Policy, ReceiveOptions, Receiver};
use send_document::Workflow;
use send_document_mesh::{put_in_out_folder, transport_of};

#[test]
fn a_message_crosses_the_folders_and_is_accepted() {
    let root = std::env::temp_dir().join(format!("sdm-folders-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let out = OutFolder::open(root.join("OUT")).unwrap();
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend((0..5000).map(|i| (i % 251) as u8));
    pdf.extend_from_slice(b"\n%%EOF\n");
    let built = SendDocumentBuilder::new()
        .workflow(Workflow::SendDocument)
        .patient(Patient::new(
            "9000000009",
            "Smith",
            NaiveDate::from_ymd_opt(2010, 10, 22).unwrap(),
        ))
        .sender(SendingOrganisation::new(
            "X26",
            "Bridge Street Out-of-hours Service",
            "X26OT001",
        ))
        .author(AuthoringPractitioner::new("G8133438", "Nightingale"))
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation summary")
        .attachment(Attachment::pdf(pdf.clone()))
        .build()
        .unwrap();
    let placed = put_in_out_folder(&out, &built, Format::Xml).unwrap();
    let name = built.identifiers().message_bundle_identifier.to_string();
    assert!(placed.dat.ends_with(format!("{name}.dat")));

    // What the MESH client does on delivery: IN/<DTSId>.dat + .ctl with DTSId set.
    let inbox = root.join("IN");
    std::fs::create_dir_all(&inbox).unwrap();
    let mut control =
        nhs_mesh::ControlFile::parse(&std::fs::read_to_string(&placed.ctl).unwrap()).unwrap();
    assert_eq!(control, built.envelope().to_control_file());
    control.dts_id = Some("20261122101010123456_ABCDEF".into());
    control.to_dts = Some("A20047OT001".into());
    std::fs::copy(&placed.dat, inbox.join("20261122101010123456_ABCDEF.dat")).unwrap();
    std::fs::write(
        inbox.join("20261122101010123456_ABCDEF.ctl"),
        control.to_xml(),
    )
    .unwrap();

    let arrived = InFolder::open(&inbox).unwrap().list().unwrap();
    assert_eq!(arrived.len(), 1);
    let transport = transport_of(&arrived[0].control);
    assert_eq!(
        transport.workflow_id.as_deref(),
        Some("GPCONNECT_SEND_DOCUMENT")
    );
    assert_eq!(transport.message_type, Some(MeshMessageType::Data));
    assert_eq!(transport.from.as_deref(), Some("X26OT001"));
    let receiver = Receiver::new(ReceiveOptions::with_policy(Policy::Strict));
    let mut log = MemoryReceiptLog::new();
    let received = receiver
        .receive(&arrived[0].payload().unwrap(), &transport, &mut log)
        .unwrap_or_else(|r| panic!("{}", r.diagnostics_text()));
    assert!(received.attachments[0].bytes == pdf);
    std::fs::remove_dir_all(&root).unwrap();
}
