//! Building and receiving a Send Document message with a 5 MB PDF, next to the bare
//! cost of base64 in the same process run.
//!
//! `cargo bench -p workspace-tests --bench send_document` prints:
//!
//! - **build + serialise**: `SendDocumentBuilder` with one 5 MiB PDF (the bytes are
//!   copied in each run, since the builder takes them by value), `build()` (which
//!   validates the whole message) and `to_xml()` (then `to_json()`), against
//!   base64-encoding the same 5 MiB (`Base64Value::from_bytes`);
//! - **read + check + decode**: `Receiver::receive` on the serialised message
//!   (parse, every §7 check, whole-message validation, attachments decoded and their
//!   signatures checked), against base64-decoding the same text with the `base64`
//!   crate's standard engine;
//!
//! each the median of interleaved runs (`workspace_tests::bench::paired_medians`),
//! and the ratio. Then the **peak memory** of one build + serialise and one receive,
//! each measured in a fresh child process (`SEND_DOCUMENT_BENCH_CHILD`): the growth
//! of the peak resident set (`VmHWM`, reset through `/proc/self/clear_refs` once the
//! input is in memory) over the resident set before the operation, next to the size
//! of the message.
//!
//! `BENCH_MILLIS` (default 4000) is the time budget per measurement;
//! `BENCH_PROFILE=build|receive` runs only that operation, 100 times, for a profiler.

use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use chrono::NaiveDate;
use fhir_stu3::value::Base64Value;
use send_document::build::{
    Attachment, AuthoringPractitioner, BuiltMessage, DocumentType, Patient, SendDocumentBuilder,
    SendingOrganisation,
};
use send_document::receive::{MemoryReceiptLog, Receiver, Transport};
use workspace_tests::bench::{paired_medians, pdf};

const CHILD: &str = "SEND_DOCUMENT_BENCH_CHILD";
const PDF_LEN: usize = 5 * 1024 * 1024;

fn build(pdf: Vec<u8>) -> BuiltMessage {
    SendDocumentBuilder::new()
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
            SendingOrganisation::new("X26", "Bridge Street Out-of-hours Service", "X26ABC1")
                .telephone("01632 960 000"),
        )
        .author(AuthoringPractitioner::new("G8133438", "Nightingale").given("Florence"))
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation summary")
        .attachment(Attachment::pdf(pdf))
        .build()
        .expect("the bench message builds")
}

fn transport(built: &BuiltMessage) -> Transport {
    let env = built.envelope();
    Transport::mesh(&env.workflow_id, env.from.as_str()).to(&env.to)
}

fn receive(receiver: &Receiver, bytes: &[u8], transport: &Transport) -> usize {
    let received = receiver
        .receive(bytes, transport, &mut MemoryReceiptLog::new())
        .unwrap_or_else(|r| panic!("rejected: {}", r.diagnostics_text()));
    received.attachments[0].bytes.len()
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} missing from /proc/self/status"))
}

/// In a child: prepares the input, resets the peak, runs the operation once, and
/// prints `<peak growth in bytes> <message size in bytes>`.
fn child(what: &str) {
    let pdf = pdf(PDF_LEN);
    let (message, transport) = {
        let built = build(pdf.clone());
        (built.to_xml().into_bytes(), transport(&built))
    };
    let receiver = Receiver::default();
    // Warm the validator's process-wide tables so they are not counted.
    let small = build(b"%PDF-1.4\n%%EOF\n".to_vec());
    receive(&receiver, small.to_xml().as_bytes(), &transport);
    let input: Vec<u8> = match what {
        "build" => pdf,
        _ => {
            drop(pdf);
            message.clone()
        }
    };
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak resident set");
    let before = status_kb("VmRSS:");
    match what {
        "build" => {
            let built = build(input);
            black_box(built.to_xml().len());
        }
        _ => {
            black_box(receive(&receiver, &input, &transport));
        }
    }
    let peak = status_kb("VmHWM:");
    println!("{} {}", (peak - before) * 1024, message.len());
}

fn peak(what: &str) -> (f64, f64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, what)
        .output()
        .expect("run the child");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut it = text.split_whitespace().map(|v| v.parse::<f64>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Ok(what) = std::env::var(CHILD) {
        child(&what);
        return;
    }
    if let Ok(what) = std::env::var("BENCH_PROFILE") {
        // Only the operation, in a loop, for a profiler.
        let pdf = pdf(PDF_LEN);
        let built = build(pdf.clone());
        let (xml, transport) = (built.to_xml(), transport(&built));
        let receiver = Receiver::default();
        for _ in 0..100 {
            match what.as_str() {
                "build" => black_box(build(pdf.clone()).to_xml().len()),
                _ => black_box(receive(&receiver, xml.as_bytes(), &transport)),
            };
        }
        return;
    }
    let budget = Duration::from_millis(
        std::env::var("BENCH_MILLIS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(4000),
    );
    let pdf = pdf(PDF_LEN);
    let built = build(pdf.clone());
    let xml = built.to_xml();
    let json = built.to_json();
    let transport = transport(&built);
    let encoded = Base64Value::from_bytes(&pdf);
    let mb = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "Send Document message with a {:.1} MiB PDF: {:.2} MiB as XML, {:.2} MiB as JSON",
        mb(pdf.len()),
        mb(xml.len()),
        mb(json.len())
    );

    let (ours, base) = paired_medians(
        budget,
        || {
            black_box(build(pdf.clone()).to_xml().len());
        },
        || {
            black_box(Base64Value::from_bytes(black_box(&pdf)).as_str().len());
        },
    );
    println!(
        "build + serialise (XML):   {:7.2} ms   base64 encode {:6.2} ms   ratio {:.2}x",
        ours * 1e3,
        base * 1e3,
        ours / base
    );
    let (ours, base) = paired_medians(
        budget,
        || {
            black_box(build(pdf.clone()).to_json().len());
        },
        || {
            black_box(Base64Value::from_bytes(black_box(&pdf)).as_str().len());
        },
    );
    println!(
        "build + serialise (JSON):  {:7.2} ms   base64 encode {:6.2} ms   ratio {:.2}x",
        ours * 1e3,
        base * 1e3,
        ours / base
    );

    let receiver = Receiver::default();
    for (name, bytes) in [("XML", xml.as_bytes()), ("JSON", json.as_bytes())] {
        let (ours, base) = paired_medians(
            budget,
            || {
                black_box(receive(&receiver, black_box(bytes), &transport));
            },
            || {
                black_box(
                    base64::engine::general_purpose::STANDARD
                        .decode(black_box(encoded.as_str()))
                        .unwrap()
                        .len(),
                );
            },
        );
        println!(
            "read + check + decode ({name}): {:7.2} ms   base64 decode {:6.2} ms   ratio {:.2}x",
            ours * 1e3,
            base * 1e3,
            ours / base
        );
    }

    for what in ["build", "receive"] {
        let (growth, size) = peak(what);
        println!(
            "peak memory, {what:7}: {:6.1} MiB over the input, {:.2}x the {:.2} MiB message",
            growth / (1024.0 * 1024.0),
            growth / size,
            size / (1024.0 * 1024.0)
        );
    }
}
