//! The README's example, run for real on the shipped sample, and kept in step with the
//! README: every line of its Rust block must appear in this file.

use chrono::NaiveDate;
use send_document::build::{
    Attachment, AuthoringPractitioner, DocumentType, Patient, SendDocumentBuilder,
    SendingOrganisation,
};
use send_document::receive::{MemoryReceiptLog, Receiver, Transport};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn readme_example_runs() -> Result<(), Box<dyn std::error::Error>> {
    let pdf = std::fs::read(root().join("crates/senddoc/example/consultation-summary.pdf"))?;

    // The sender: every input is checked, the message validated; on failure, every problem.
    let built = SendDocumentBuilder::new()
        .patient(
            Patient::new(
                "9000000009",
                "Smith",
                NaiveDate::from_ymd_opt(2010, 10, 22).unwrap(),
            )
            .prefix("Mrs")
            .given("Jane"),
        )
        .sender(SendingOrganisation::new(
            "X26",
            "Bridge Street Out-of-hours Service",
            "X26ABC1",
        ))
        .author(AuthoringPractitioner::new("G8133438", "Nightingale").given("Florence"))
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation summary")
        .attachment(Attachment::pdf(pdf.clone()))
        .build()?;
    let envelope = built.envelope();
    assert_eq!(envelope.to, "GPPROVIDER_9000000009_20101022_Smith");
    let dat = built.to_xml(); // the MESH payload; `envelope.to_ctl_xml()` is its .ctl

    // The registered practice: §7's checks in order, then a typed view, or the ITK3 code.
    let transport = Transport::mesh(&envelope.workflow_id, envelope.from.as_str()).to(&envelope.to);
    let received = Receiver::default()
        .receive(dat.as_bytes(), &transport, &mut MemoryReceiptLog::new())
        .map_err(|rejection| format!("{}: {}", rejection.code, rejection.diagnostics_text()))?;
    assert_eq!(received.patient.nhs_number, "9000000009");
    assert_eq!(received.attachments[0].bytes, pdf); // byte for byte
    Ok(())
}

#[test]
fn readme_example_is_this_code() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = readme
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a Rust block in the README");
    // rustfmt may wrap lines differently here: compare with blanks removed.
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let this = squeeze(include_str!("readme_example.rs"));
    for line in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.contains("consultation-summary.pdf") || line.starts_with("fn main") || line == "}" {
            continue; // the path is relative to the checkout here
        }
        assert!(
            this.contains(&squeeze(line)),
            "README line not in tests/tests/readme_example.rs: {line}"
        );
    }
}
