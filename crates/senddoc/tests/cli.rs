//! `senddoc convert` and `senddoc validate`: exit status and messages, run as a user
//! would.

use std::path::PathBuf;
use std::process::Command;

fn senddoc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_senddoc"))
}

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/patient.json")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("senddoc-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn converts_the_sample_and_exits_zero() {
    let out = senddoc()
        .args(["convert", "--from", "json", "--to", "json"])
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("{\"resourceType\":\"Patient\""));
    assert!(text.contains("\"_given\":[null,{\"extension\""));
}

#[test]
fn pretty_output_to_a_file() {
    let target = std::env::temp_dir().join(format!("senddoc-cli-{}-out.json", std::process::id()));
    let out = senddoc()
        .args(["convert", "--from", "json", "--to", "json", "--pretty"])
        .arg(sample())
        .arg("-o")
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&target).unwrap();
    let _ = std::fs::remove_file(&target);
    assert!(text.starts_with("{\n  \"resourceType\": \"Patient\",\n"));
}

#[test]
fn an_input_error_exits_one_with_its_location() {
    let input = temp_file(
        "bad.json",
        "{\"resourceType\": \"Patient\",\n \"birthDate\": \"1927-13\"}",
    );
    let out = senddoc()
        .args(["convert", "--from", "json", "--to", "json"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("at Patient.birthDate (line 2, column 15)")
            && err.contains("not a valid date"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // Lenient: the same problem is a warning on stderr, the value is kept, exit 0.
    let out = senddoc()
        .args(["convert", "--from", "json", "--to", "json", "--lenient"])
        .arg(&input)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&input);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("warning [invalid-value] at Patient.birthDate (line 2, column 15)"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"birthDate\":\"1927-13\""));
}

#[test]
fn a_missing_file_exits_one_and_bad_usage_exits_two() {
    let out = senddoc()
        .args(["convert", "/nonexistent/x.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.json"));
    let out = senddoc()
        .args(["convert", "--from", "yaml", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn converts_between_json_and_xml_in_all_four_directions() {
    let dir = std::env::temp_dir().join(format!("senddoc-cli-{}-formats", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("p.xml");
    let json_again = dir.join("p.json");
    let run = |args: &[&str]| {
        let out = senddoc().args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let sample = sample();
    run(&[
        "convert",
        "--from",
        "json",
        "--to",
        "xml",
        "--xml-declaration",
        sample.to_str().unwrap(),
        "-o",
        xml.to_str().unwrap(),
    ]);
    let xml_text = std::fs::read_to_string(&xml).unwrap();
    assert!(xml_text.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Patient xmlns=\"http://hl7.org/fhir\">"
    ));
    let out = run(&[
        "convert",
        "--from",
        "xml",
        "--to",
        "xml",
        xml.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"9690937286\"/>"));
    run(&[
        "convert",
        "--from",
        "xml",
        "--to",
        "json",
        xml.to_str().unwrap(),
        "-o",
        json_again.to_str().unwrap(),
    ]);
    let original = std::fs::read_to_string(&sample).unwrap();
    let back = std::fs::read_to_string(&json_again).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    // JSON -> XML -> JSON gives the same resource.
    assert_eq!(
        fhir_stu3::Resource::from_json(original.as_bytes()).unwrap(),
        fhir_stu3::Resource::from_json(back.as_bytes()).unwrap()
    );
}

#[test]
fn validate_reports_findings_and_exits_by_errors() {
    // A valid resource: exit 0 and a summary line.
    let out = senddoc().args(["validate"]).arg(sample()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 error(s)"), "{stdout}");

    // per-1 broken: exit 1, the finding with its location and key.
    let bad = temp_file(
        "encounter-bad-period.json",
        r#"{"resourceType":"Encounter","status":"finished","period":{"start":"2020-02-01","end":"2020-01-01"}}"#,
    );
    let out = senddoc().args(["validate"]).arg(&bad).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error at Encounter.period"), "{stdout}");
    assert!(stdout.contains("[per-1;"), "{stdout}");

    // As an OperationOutcome.
    let out = senddoc()
        .args(["validate", "--format", "json"])
        .arg(&bad)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("\"resourceType\": \"OperationOutcome\""),
        "{stdout}"
    );
    assert!(stdout.contains("\"code\": \"invariant\""), "{stdout}");

    // Against a named profile: the sample meets CareConnect-Patient-1, and is no Bundle.
    let out = senddoc()
        .args([
            "validate",
            "--profile",
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1",
        ])
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = senddoc()
        .args([
            "validate",
            "--profile",
            "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1",
        ])
        .arg(sample())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("the profile is for Bundle, the resource is a Patient"),
        "{stdout}"
    );
}

const SEND_DOCUMENT_LINE: &str = "validated as a GP Connect Send Document message";

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/send-document-valid.xml")
}

#[test]
fn validate_checks_a_send_document_message_by_the_roles_of_its_resources() {
    // NHS's 2.0.2 generic example claims no profile at all: by meta.profile (here, the
    // one given) nothing but the message Bundle's profile, base FHIR and the
    // extensions' own definitions is checked, and no Send Document rule.
    let generic = workspace_tests::shared_dir()
        .join("examples")
        .join("v2.0.2_send-document--generic-example.xml");
    let out = senddoc()
        .args([
            "validate",
            "--lenient",
            "--profile",
            "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1",
        ])
        .arg(&generic)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(!stdout.contains(SEND_DOCUMENT_LINE), "{stdout}");
    assert!(!stdout.contains("GPCM-SD-"), "{stdout}");
    assert!(
        stdout.contains("1 error(s), 0 warning(s), 1 note(s)"),
        "{stdout}"
    );

    // Without --profile, event ITK007C: the whole message, each resource by its role.
    let out = senddoc()
        .args(["validate", "--lenient"])
        .arg(&generic)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let first = stdout.lines().next().unwrap_or("");
    assert!(
        first.ends_with(&format!(
            "v2.0.2_send-document--generic-example.xml: {SEND_DOCUMENT_LINE} (event ITK007C): \
             each resource against the profile of its role, and the Send Document rules"
        )),
        "{stdout}"
    );
    for expected in [
        "error at Bundle.meta.profile: the Bundle has no meta.profile",
        "error at Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).custodian: Composition.custodian is missing",
        "[GPCM-SD-105; https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1]",
        "error at Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Binary).id: the Binary has no id",
        "14 error(s), 6 warning(s), 1 note(s)",
    ] {
        assert!(stdout.contains(expected), "{expected}\n---\n{stdout}");
    }
}

#[test]
fn validate_a_valid_send_document_message_as_json() {
    let out = senddoc()
        .args(["validate", "--format", "json"])
        .arg(fixture())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // Standard output is the OperationOutcome alone; the line goes to stderr.
    let oo = fhir_stu3::Resource::from_json(stdout.as_bytes()).unwrap();
    assert_eq!(oo.resource_type(), "OperationOutcome");
    assert!(stdout.contains("[distinct-identifiers]"), "{stdout}");
    assert!(stderr.contains(SEND_DOCUMENT_LINE), "{stderr}");

    // Other resources are validated as before, without the line.
    let out = senddoc().args(["validate"]).arg(sample()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains(SEND_DOCUMENT_LINE), "{stdout}");
}
