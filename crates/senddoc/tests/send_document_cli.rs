//! `senddoc build`, `receive` and `ack`, run as a user would: the shipped example, the
//! MESH client's `.dat` + `.ctl` pairs, the acknowledgements and their correlation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fhir_stu3::Resource;
use send_document::{Edition, MessageValidator, Options, Severity};

fn senddoc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_senddoc"))
}

/// A fresh, empty directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("senddoc-sd-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn errors(message: &Resource, edition: Edition) -> Vec<String> {
    MessageValidator::new(Options::with_edition(edition))
        .validate(message)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.to_string())
        .collect()
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn build_example_prints_a_valid_message_and_its_envelope() {
    let (code, out, err) = run(senddoc().args(["build", "--example"]));
    assert_eq!(code, 0, "{err}");
    let message = Resource::from_xml(out.trim_end().as_bytes()).expect("strict XML");
    assert_eq!(errors(&message, Edition::V2), Vec::<String>::new());
    for line in [
        "MESH workflow: GPCONNECT_SEND_DOCUMENT",
        "MESH From: X26ABC1",
        "MESH To: GPPROVIDER_9000000009_20101022_Smith",
        "MESH Subject: Consultation summary for Mrs Jane Smith, NHS Number: 900 000 0009, \
         seen at Bridge Street Out-of-hours Service, X26, Version: 1",
        "MESH LocalId: X26",
    ] {
        assert!(err.contains(line), "{line:?} missing from:\n{err}");
    }
    // The shipped PDF travels byte for byte.
    let pdf = include_bytes!("../example/consultation-summary.pdf");
    let b64 = base64_of(pdf);
    assert!(out.contains(&b64));
}

fn base64_of(bytes: &[u8]) -> String {
    fhir_runtime::value::Base64Value::from_bytes(bytes)
        .as_str()
        .to_owned()
}

#[test]
fn build_writes_dat_and_ctl_for_a_mesh_out_folder_in_xml_and_json() {
    for (format, legacy) in [("xml", false), ("json", false), ("xml", true)] {
        let dir = temp_dir(&format!("out-{format}-{legacy}"));
        let mut cmd = senddoc();
        cmd.args([
            "build",
            "--example",
            "--format",
            format,
            "--dob-format",
            "ddmmyyyy",
        ])
        .arg("--out-dir")
        .arg(&dir)
        .args(["--name", "summary"]);
        if legacy {
            cmd.arg("--legacy");
        }
        let (code, out, err) = run(&mut cmd);
        assert_eq!(code, 0, "{err}");
        assert!(out.is_empty(), "nothing on stdout with --out-dir: {out}");
        let dat = std::fs::read(dir.join("summary.dat")).unwrap();
        let ctl = std::fs::read_to_string(dir.join("summary.ctl")).unwrap();
        let message = match format {
            "xml" => Resource::from_xml(&dat),
            _ => Resource::from_json(&dat),
        }
        .unwrap();
        let (workflow, edition) = if legacy {
            ("GPFED_CONSULT_REPORT", Edition::V1_3)
        } else {
            ("GPCONNECT_SEND_DOCUMENT", Edition::V2)
        };
        assert_eq!(
            errors(&message, edition),
            Vec::<String>::new(),
            "{format} {legacy}"
        );
        assert!(
            ctl.contains(&format!("<WorkflowId>{workflow}</WorkflowId>")),
            "{ctl}"
        );
        assert!(ctl.contains("<To_DTS>GPPROVIDER_9000000009_22102010_Smith</To_DTS>"));
        assert!(ctl.contains("<Version>1.0</Version>"));
        assert!(ctl.contains("<LocalId>X26</LocalId>"));
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        if legacy {
            let text = String::from_utf8(dat).unwrap();
            assert!(text.contains("SendDocument-ConsultationSummary"));
            assert!(
                ctl.contains("<Subject>Consultation report for Mrs Jane Smith"),
                "{ctl}"
            );
        }
    }
}

#[test]
fn build_takes_every_input_from_flags() {
    let dir = temp_dir("flags");
    let pdf = dir.join("letter.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n").unwrap();
    let scan = dir.join("wound-photo.img");
    std::fs::write(&scan, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let (code, out, err) = run(senddoc()
        .args(["build", "--nhs-number", "943 476 5919", "--family", "Mowers"])
        .args(["--given", "Lorne", "--prefix", "Mrs", "--birth-date", "1955-01-09"])
        .args(["--sender-ods", "B82617", "--sender-name", "Grass Heights GP Practice"])
        .args(["--sender-mailbox", "MESHGP0001", "--sender-phone", "01632 960 001"])
        .args(["--author-sds-id", "G1234567", "--author-family", "Khan"])
        .args(["--author-given", "Amir", "--author-phone", "01632 960 002"])
        .arg("--attachment")
        .arg(&pdf)
        .arg("--attachment")
        .arg(format!("{}=image/png", scan.display()))
        .args(["--document-type", "correspondence", "--title", "Wound review"])
        .args(["--recipient-type", "FI"])
        .args(["--care-setting", "788007007=General practice service"])
        .args(["--event", "149951000000107=Patient information received using general practice online consultation system"])
        .args(["--replaces", "urn:uuid:2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c", "--previous-version", "2"])
        .args(["--status", "amended", "--confidentiality", "N"])
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    let message = Resource::from_json(out.trim_end().as_bytes()).unwrap();
    assert_eq!(errors(&message, Edition::V2), Vec::<String>::new());
    for needle in [
        "\"code\":\"149701000000109\"",
        "\"code\":\"FI\"",
        "\"code\":\"788007007\"",
        "\"code\":\"149951000000107\"",
        "\"versionId\":\"3\"",
        "\"value\":\"2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c\"",
        "\"contentType\":\"image/png\"",
        "\"status\":\"amended\"",
        "\"confidentiality\":\"N\"",
    ] {
        assert!(out.contains(needle), "{needle} missing");
    }
    assert!(
        err.contains("MESH To: GPPROVIDER_9434765919_19550109_Mowers"),
        "{err}"
    );
    assert!(err.contains("Version: 3"), "{err}");
}

#[test]
fn build_refuses_bad_inputs_listing_each_problem() {
    let (code, _, err) = run(senddoc().args([
        "build",
        "--example",
        "--nhs-number",
        "9000000001",
        "--confidentiality",
        "R",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("NHS number"), "{err}");
    assert!(err.to_lowercase().contains("confidential"), "{err}");
    let (code, _, err) = run(senddoc().args(["build"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("--birth-date is required (or give --example)"),
        "{err}"
    );
    let (code, _, err) =
        run(senddoc().args(["build", "--example", "--legacy", "--recipient-type", "FI"]));
    assert_eq!(code, 1);
    assert!(err.contains("FA"), "{err}");
}

/// Builds the example into `dir/msg.dat` + `.ctl`.
fn example_message(dir: &Path) -> PathBuf {
    let (code, _, err) = run(senddoc()
        .args(["build", "--example", "--name", "msg", "--out-dir"])
        .arg(dir));
    assert_eq!(code, 0, "{err}");
    dir.join("msg.dat")
}

#[test]
fn receive_prints_the_document_writes_both_acks_and_they_correlate_back() {
    let dir = temp_dir("receive");
    let dat = example_message(&dir);
    let acks = dir.join("acks");
    let attachments = dir.join("attachments");
    let (code, out, err) = run(senddoc()
        .arg("receive")
        .arg(&dat)
        .args([
            "--responder-ods",
            "A82038",
            "--responder-mailbox",
            "MESHGP0002",
        ])
        .args(["--patient", "known"])
        .arg("--ack-dir")
        .arg(&acks)
        .arg("--attachments-dir")
        .arg(&attachments));
    assert_eq!(code, 0, "{out}{err}");
    for line in [
        "accepted: 20013 Success (workflow GPCONNECT_SEND_DOCUMENT",
        "patient: Mrs Jane Smith, NHS number 900 000 0009, born 2010-10-22",
        "sender: Bridge Street Out-of-hours Service (ODS X26)",
        "recipient type: FA (for action)",
        "attachment 1: application/pdf, 1925 bytes",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    assert_eq!(
        std::fs::read(attachments.join("attachment-1.pdf")).unwrap(),
        include_bytes!("../example/consultation-summary.pdf")
    );
    let dats = files(&acks, "dat");
    assert_eq!(dats.len(), 2, "20013 and 30001");
    let mut codes = Vec::new();
    for ack in &dats {
        let text = std::fs::read_to_string(ack).unwrap();
        let response = Resource::from_xml(text.as_bytes()).unwrap();
        assert_eq!(errors(&response, Edition::V2), Vec::<String>::new());
        // No patient-identifiable data in an acknowledgement.
        for pid in ["9000000009", "Smith", "2010-10-22"] {
            assert!(!text.contains(pid), "{pid} in {}", ack.display());
        }
        let ctl = std::fs::read_to_string(ack.with_extension("ctl")).unwrap();
        assert!(ctl.contains("<WorkflowId>GPCONNECT_SEND_DOCUMENT_ACK</WorkflowId>"));
        assert!(ctl.contains("<To_DTS>X26ABC1</To_DTS>"));
        // Back at the sender: each response names the message it answers.
        let (code, out, err) = run(senddoc().arg("receive").arg(ack).arg("--sent").arg(&dat));
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("matches sent message"), "{out}");
        codes.push(if out.contains("response 20013") {
            20013
        } else {
            30001
        });
        assert!(
            out.contains("response 20013") || out.contains("response 30001"),
            "{out}"
        );
    }
    codes.sort();
    assert_eq!(codes, [20013, 30001]);
    // A response to some other message matches nothing we sent.
    let other = example_message(&temp_dir("receive-other"));
    let (code, out, _) = run(senddoc()
        .arg("receive")
        .arg(&dats[0])
        .arg("--sent")
        .arg(&other));
    assert_eq!(code, 1);
    assert!(out.contains("matches none of the sent messages"), "{out}");
}

#[test]
fn receive_rejects_a_broken_message_with_the_negative_ack() {
    let dir = temp_dir("reject");
    let dat = example_message(&dir);
    let text = std::fs::read_to_string(&dat).unwrap();
    // Send Document requires both acknowledgements: a false flag is 10008.
    let marker = "<extension url=\"InfAckRequested\"><valueBoolean value=\"true\"/>";
    assert!(text.contains(marker));
    std::fs::write(
        &dat,
        text.replace(
            marker,
            "<extension url=\"InfAckRequested\"><valueBoolean value=\"false\"/>",
        ),
    )
    .unwrap();
    let acks = dir.join("acks");
    let (code, out, err) = run(senddoc()
        .arg("receive")
        .arg(&dat)
        .args([
            "--responder-ods",
            "A82038",
            "--responder-mailbox",
            "MESHGP0002",
        ])
        .args(["--patient", "known", "--ack-dir"])
        .arg(&acks));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("rejected: 10008"), "{out}");
    assert!(out.contains("InfAckRequested"), "{out}");
    let dats = files(&acks, "dat");
    assert_eq!(dats.len(), 1, "a negative code is fatal: nothing follows");
    let ack = std::fs::read_to_string(&dats[0]).unwrap();
    assert!(ack.contains("<code value=\"10008\"/>"));
    assert!(ack.contains("<diagnostics value="));
    // Without a responder, receive refuses to run rather than silently not answering.
    let (code, _, err) = run(senddoc().arg("receive").arg(&dat));
    assert_eq!(code, 1);
    assert!(err.contains("--responder-ods"), "{err}");
    // --no-ack checks only.
    let (code, out, _) = run(senddoc().arg("receive").arg(&dat).arg("--no-ack"));
    assert_eq!(code, 1);
    assert!(out.contains("rejected: 10008"));
}

#[test]
fn ack_writes_a_business_response_later() {
    let dir = temp_dir("ack");
    let dat = example_message(&dir);
    let acks = dir.join("acks");
    let (code, out, err) = run(senddoc()
        .arg("ack")
        .arg(&dat)
        .args([
            "--code",
            "30002",
            "--diagnostics",
            "No registration found for this patient",
        ])
        .args([
            "--responder-ods",
            "A82038",
            "--responder-mailbox",
            "MESHGP0002",
            "--ack-dir",
        ])
        .arg(&acks));
    assert_eq!(code, 0, "{out}{err}");
    let dats = files(&acks, "dat");
    assert_eq!(dats.len(), 1);
    let text = std::fs::read_to_string(&dats[0]).unwrap();
    let response = Resource::from_xml(text.as_bytes()).unwrap();
    assert_eq!(errors(&response, Edition::V2), Vec::<String>::new());
    assert!(text.contains("<code value=\"30002\"/>"));
    assert!(text.contains("No registration found for this patient"));
    // A negative infrastructure code needs a diagnostic.
    let (code, _, err) = run(senddoc()
        .arg("ack")
        .arg(&dat)
        .args([
            "--code",
            "20009",
            "--responder-ods",
            "A82038",
            "--responder-mailbox",
            "MESHGP0002",
            "--ack-dir",
        ])
        .arg(&acks));
    assert_eq!(code, 1);
    assert!(err.contains("diagnostic"), "{err}");
    let (code, _, err) = run(senddoc().arg("ack").arg(&dat).args(["--code", "99999"]));
    assert_eq!(code, 1);
    assert!(err.contains("99999"), "{err}");
}
