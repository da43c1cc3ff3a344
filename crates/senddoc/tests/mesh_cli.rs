//! `senddoc mesh`, run as a user would, against NHS Digital's MESH sandbox with our
//! GPPROVIDER routing (`scripts/mesh-sandbox.sh`): build the example for the sender's
//! mailbox, send it, receive and answer it as the practice, list and acknowledge the
//! ITK3 responses back at the sender; endpoint lookup; refused credentials; a control
//! file from another mailbox; a rejected message.
//!
//! The tests share one sandbox: each takes it exclusively and empties every mailbox
//! first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nhs_mesh::ControlFile;
use workspace_tests::mesh_sandbox;

/// The sender (ODS X26).
const SENDER: &str = "X26OT001";
/// The practice (ODS A20047), where `GPPROVIDER_9000000009_20101022_Smith` routes.
const PRACTICE: &str = "A20047OT001";

fn url() -> String {
    mesh_sandbox::url()
}

/// Takes the sandbox for one test and empties every mailbox.
fn sandbox() -> std::sync::MutexGuard<'static, ()> {
    mesh_sandbox::exclusive()
}

fn senddoc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_senddoc"))
}

/// `senddoc mesh …` as `mailbox`, connection and credentials from the environment
/// (and nothing from the caller's own `MESH_*` variables).
fn mesh(mailbox: &str) -> Command {
    let mut c = senddoc();
    c.arg("mesh")
        .env("MESH_URL", url())
        .env("MESH_MAILBOX", mailbox)
        .env("MESH_PASSWORD", "password")
        .env("MESH_SHARED_KEY", "TestKey");
    c
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

/// A fresh, empty directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("senddoc-mesh-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Builds the example (patient 9000000009 Jane Smith, born 2010-10-22) from
/// `mailbox` into `dir/msg.dat` + `dir/msg.ctl`.
fn build_example(dir: &Path, mailbox: &str) -> PathBuf {
    let (code, _, err) = run(senddoc().args([
        "build",
        "--example",
        "--sender-mailbox",
        mailbox,
        "--out-dir",
        dir.to_str().unwrap(),
        "--name",
        "msg",
    ]));
    assert_eq!(code, 0, "{err}");
    dir.join("msg.dat")
}

fn lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.lines().map(str::to_owned).collect();
    v.sort();
    v
}

#[test]
fn a_built_message_is_sent_received_answered_and_its_responses_acknowledged() {
    let _sandbox = sandbox();
    let dir = temp_dir("round-trip");
    let dat = build_example(&dir.join("out"), SENDER);

    // The sender sends the .dat with the fields of its .ctl.
    let (code, out, err) = run(mesh(SENDER).arg("send").arg(&dat));
    assert_eq!(code, 0, "{err}");
    let id = out.trim().to_owned();
    assert!(
        !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()),
        "{out:?}"
    );
    assert!(
        err.contains("to GPPROVIDER_9000000009_20101022_Smith on GPCONNECT_SEND_DOCUMENT"),
        "{err}"
    );

    // MESH routed it to the practice, which receives, checks, answers, acknowledges.
    let inbox_dir = dir.join("in");
    let (code, out, err) = run(mesh(PRACTICE).args([
        "receive",
        "--out-dir",
        inbox_dir.to_str().unwrap(),
        "--patient",
        "known",
        "--responder-ods",
        "A20047",
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    let line = out.lines().next().unwrap_or_default();
    assert_eq!(out.lines().count(), 1, "one line per message: {out}");
    assert!(
        line.starts_with(&format!(
            "{id}: accepted (20013, GPCONNECT_SEND_DOCUMENT from {SENDER})"
        )),
        "{line}"
    );
    let (_, sent) = line
        .split_once("2 responses sent: ")
        .unwrap_or_else(|| panic!("two responses sent: {line}"));
    let responses: Vec<(&str, &str)> = sent
        .split(", ")
        .map(|r| r.split_once(" as ").unwrap())
        .collect();
    assert_eq!(
        responses.iter().map(|r| r.0).collect::<Vec<_>>(),
        ["20013", "30001"]
    );
    assert!(
        err.contains("1 message(s): 1 accepted, 0 rejected, 0 failed"),
        "{err}"
    );

    // The practice's copy: the payload byte for byte, and its control file.
    let received = std::fs::read(inbox_dir.join(format!("{id}.dat"))).unwrap();
    assert!(
        received == std::fs::read(&dat).unwrap(),
        "the received .dat differs from the sent one"
    );
    let ctl = std::fs::read_to_string(inbox_dir.join(format!("{id}.ctl"))).unwrap();
    let cf = ControlFile::parse(&ctl).unwrap();
    assert_eq!(cf.dts_id.as_deref(), Some(id.as_str()), "{ctl}");
    assert_eq!(cf.from_dts.as_deref(), Some(SENDER), "{ctl}");
    assert_eq!(cf.to_dts.as_deref(), Some(PRACTICE), "{ctl}");
    assert_eq!(
        cf.workflow_id.as_deref(),
        Some("GPCONNECT_SEND_DOCUMENT"),
        "{ctl}"
    );
    assert_eq!(cf.local_id.as_deref(), Some("X26"), "{ctl}");
    // The .dat beside it is plain FHIR: MESH's transport gzip was undone.
    assert_eq!(cf.is_compressed, Some(false), "{ctl}");

    // Nothing left for the practice; the sender's tracking shows the acknowledgement.
    let (code, out, err) = run(mesh(PRACTICE).arg("inbox"));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (code, out, err) = run(mesh(SENDER).args(["track", &id]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("status: acknowledged"), "{out}");
    assert!(out.contains(&format!("recipient: {PRACTICE}")), "{out}");

    // Back at the sender: the two ITK3 responses on the _ACK workflow.
    let (code, out, err) =
        run(mesh(SENDER).args(["inbox", "--workflow", "GPCONNECT_SEND_DOCUMENT_ACK"]));
    assert_eq!(code, 0, "{err}");
    let waiting = lines(&out);
    let mut expected: Vec<String> = responses.iter().map(|r| r.1.to_owned()).collect();
    expected.sort();
    assert_eq!(waiting, expected);
    let (code, out, err) = run(mesh(SENDER).arg("inbox"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines(&out), expected, "nothing else waits for the sender");

    // Acknowledged, they are gone.
    let (code, out, err) = run(mesh(SENDER).arg("ack").args(&waiting));
    assert_eq!(code, 0, "{err}");
    for w in &waiting {
        assert!(out.contains(&format!("acknowledged {w}")), "{out}");
    }
    let (code, out, err) = run(mesh(SENDER).arg("inbox"));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    // An ID the inbox never held: said, and the exit status is 1.
    let (code, _, err) = run(mesh(SENDER).args(["ack", "NOSUCHMESSAGE0001"]));
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn lookup_finds_the_practice_mailbox_and_exits_one_for_none() {
    let _sandbox = sandbox();
    let (code, out, err) = run(mesh(SENDER).args(["lookup", "A20047", "GPCONNECT_SEND_DOCUMENT"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().next() == Some(PRACTICE)),
        "{out}"
    );
    // Lookup needs no mailbox or credentials.
    let (code, out, err) = run(senddoc()
        .args([
            "mesh",
            "lookup",
            "A20047",
            "GPCONNECT_SEND_DOCUMENT",
            "--url",
        ])
        .arg(url())
        .env_remove("MESH_MAILBOX")
        .env_remove("MESH_PASSWORD")
        .env_remove("MESH_SHARED_KEY"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(PRACTICE), "{out}");
    let (code, out, err) = run(mesh(SENDER).args(["lookup", "ZZZ99", "GPCONNECT_SEND_DOCUMENT"]));
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.contains("no mailbox registered for ZZZ99"), "{err}");
}

#[test]
fn a_wrong_password_is_refused_and_never_echoed() {
    let _sandbox = sandbox();
    let wrong = "Wr0ng-Passw0rd-4-Test";
    let (code, out, err) = run(mesh(SENDER).arg("inbox").env("MESH_PASSWORD", wrong));
    assert_ne!(code, 0);
    assert!(err.contains("credentials"), "{err}");
    assert!(err.contains(SENDER), "{err}");
    assert!(!err.contains(wrong) && !out.contains(wrong), "{out}\n{err}");

    // --password-env names the variable read (here a wrong password, although
    // MESH_PASSWORD holds the right one).
    let (code, out, err) = run(mesh(SENDER)
        .args(["inbox", "--password-env", "SENDDOC_TEST_OTHER_PASSWORD"])
        .env("SENDDOC_TEST_OTHER_PASSWORD", wrong));
    assert_ne!(code, 0);
    assert!(err.contains("credentials"), "{err}");
    assert!(!err.contains(wrong) && !out.contains(wrong), "{out}\n{err}");

    // A wrong shared key is refused the same way.
    let (code, _, err) = run(mesh(SENDER).arg("inbox").env("MESH_SHARED_KEY", wrong));
    assert_ne!(code, 0);
    assert!(err.contains("credentials") && !err.contains(wrong), "{err}");

    // No password at all: said before anything is sent.
    let (code, _, err) = run(mesh(SENDER).arg("inbox").env_remove("MESH_PASSWORD"));
    assert_eq!(code, 1);
    assert!(
        err.contains("set the environment variable MESH_PASSWORD"),
        "{err}"
    );
}

#[test]
fn a_control_file_from_another_mailbox_is_not_sent() {
    let _sandbox = sandbox();
    let dir = temp_dir("wrong-from");
    // Built for the example's own mailbox, X26ABC1.
    let dat = build_example(&dir, "X26ABC1");
    let (code, out, err) = run(mesh(SENDER).arg("send").arg(&dat));
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.contains(&format!("From_DTS is X26ABC1 but --mailbox is {SENDER}")),
        "{err}"
    );
    assert!(err.contains("msg.ctl"), "{err}");
    // Nothing reached MESH.
    let (code, out, err) = run(mesh(PRACTICE).arg("inbox"));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

#[test]
fn a_rejected_message_is_answered_negatively_and_the_exit_status_says_so() {
    let _sandbox = sandbox();
    let dir = temp_dir("rejected");
    // Not a Send Document message: a bare Bundle, sent straight to the practice.
    let dat = dir.join("bad.dat");
    std::fs::write(
        &dat,
        r#"<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/></Bundle>"#,
    )
    .unwrap();
    let mut cf = ControlFile::new("GPCONNECT_SEND_DOCUMENT", SENDER, PRACTICE);
    cf.local_id = Some("X26".into());
    std::fs::write(dir.join("bad.ctl"), cf.to_xml()).unwrap();
    let (code, out, err) = run(mesh(SENDER).arg("send").arg(&dat));
    assert_eq!(code, 0, "{err}");
    let id = out.trim().to_owned();

    let (code, out, err) = run(mesh(PRACTICE).args([
        "receive",
        "--out-dir",
        dir.join("in").to_str().unwrap(),
        "--responder-ods",
        "A20047",
    ]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.starts_with(&format!("{id}: rejected (")), "{out}");
    // 20006: no MessageHeader, so no ITK header to check.
    assert!(out.contains("rejected (20006 "), "{out}");
    assert!(out.contains("1 response sent: 20006 as "), "{out}");
    assert!(err.contains("1 rejected"), "{err}");
    // Kept all the same, and acknowledged: the negative response told the sender.
    assert!(dir.join("in").join(format!("{id}.dat")).is_file());
    let (_, out, _) = run(mesh(PRACTICE).arg("inbox"));
    assert_eq!(out, "");
    let (_, out, _) = run(mesh(SENDER).arg("inbox"));
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn a_mesh_report_is_printed_with_its_code_and_the_message_it_concerns() {
    let _sandbox = sandbox();
    let dir = temp_dir("report");
    // A date of birth PDS does not hold for 9000000009: MESH's lookup fails (EPL-154)
    // and the report comes back to the sender on the document's workflow.
    let (code, _, err) = run(senddoc().args([
        "build",
        "--example",
        "--birth-date",
        "1955-01-09",
        "--sender-mailbox",
        SENDER,
        "--out-dir",
        dir.to_str().unwrap(),
        "--name",
        "msg",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(mesh(SENDER).arg("send").arg(dir.join("msg.dat")));
    assert_eq!(code, 0, "{err}");
    let id = out.trim().to_owned();

    let (code, out, err) = run(mesh(SENDER).args([
        "receive",
        "--out-dir",
        dir.join("in").to_str().unwrap(),
        "--responder-ods",
        "X26",
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("MESH report EPL-154"), "{out}");
    assert!(out.contains(&format!("for message {id}")), "{out}");
    assert!(err.contains("1 MESH report(s)"), "{err}");
    let (_, out, _) = run(mesh(SENDER).arg("inbox"));
    assert_eq!(out, "", "the report was acknowledged");
}
