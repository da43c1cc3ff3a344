//! `.ctl` control files and the OUT/IN folders: every published example reads, what
//! we write has the published field layout, a read file writes back with nothing lost,
//! and faults name their line and column.

use std::path::PathBuf;

use nhs_mesh::control::{ControlFile, MessageType, StatusRecord};
use nhs_mesh::folder::{FolderError, InFolder, OutFolder};
use nhs_mesh::StatusCode;

fn shared(rel: &str) -> PathBuf {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared"));
    assert!(
        root.is_dir(),
        "../shared is missing beside the checkout ({}): these tests read NHS's published .ctl examples from it",
        root.display()
    );
    root.join(rel)
}

fn read(rel: &str) -> String {
    let p = shared(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Element names in document order (start tags only, the root left out).
fn element_names(xml: &str) -> Vec<String> {
    xml.split('<')
        .skip(1)
        .filter(|t| !t.starts_with('/') && !t.starts_with('?'))
        .map(|t| t.split(['>', ' ', '/']).next().unwrap().to_owned())
        .filter(|n| n != "DTSControl")
        .collect()
}

const PUBLISHED_CTL: &[&str] = &[
    "examples/v1.3.1_mesh-client_example.ctl.xml",
    "examples/v2_mesh-client_example.ctl.xml",
    "mesh/ctl/gpconnect-messaging-spec-example.ctl",
    "mesh/ctl/send-gpfed-consult-report.ctl",
    "mesh/ctl/received-data.ctl",
];

#[test]
fn every_published_control_file_reads_and_writes_back_unchanged_in_layout() {
    for rel in PUBLISHED_CTL {
        let text = read(rel);
        let cf = ControlFile::parse(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(cf.message_type, Some(MessageType::Data), "{rel}");
        assert!(
            cf.workflow_id.is_some() && cf.to_dts.is_some() && cf.from_dts.is_some(),
            "{rel}"
        );
        assert!(
            cf.other.is_empty(),
            "{rel}: unexpected unknown elements {:?}",
            cf.other
        );
        // Our writer puts the same elements in the same order as NHS's file.
        let written = cf.to_xml();
        assert_eq!(element_names(&written), element_names(&text), "{rel}");
        // And reading what we wrote gives the same fields.
        assert_eq!(ControlFile::parse(&written).unwrap(), cf, "{rel}");
    }
}

#[test]
fn the_published_examples_say_what_they_say() {
    let v2 = ControlFile::parse(&read("examples/v2_mesh-client_example.ctl.xml")).unwrap();
    assert_eq!(v2.version.as_deref(), Some("1"));
    assert_eq!(v2.workflow_id.as_deref(), Some("GPCONNECT_SEND_DOCUMENT"));
    assert_eq!(
        v2.to_dts.as_deref(),
        Some("GPPROVIDER_4857773456_09011955_Mowers")
    );
    assert_eq!(v2.compress, Some(true));
    assert_eq!(v2.encrypted, Some(false));
    assert_eq!(v2.is_compressed, Some(true));
    assert_eq!(v2.dts_id, None);
    assert!(!v2.is_report());

    let received = ControlFile::parse(&read("mesh/ctl/received-data.ctl")).unwrap();
    assert_eq!(
        received.dts_id.as_deref(),
        Some("20261121194335783250_A1B9CC")
    );
    assert_eq!(received.address_type.as_deref(), Some("ALL"));
    let record = received.status_record.as_ref().unwrap();
    assert_eq!(record.status_code, Some(StatusCode::Success));
    assert_eq!(record.event.as_deref(), Some("TRANSFER"));
    assert_eq!(
        record
            .timestamp()
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        "2026-11-21 19:43:36"
    );
    assert!(!received.is_report());
}

#[test]
fn every_published_status_record_reads_as_an_error_report() {
    for rel in [
        "examples/v1.3.0_mesh-error-report_StatusRecord.xml",
        "mesh/ctl/error-report-epl152.statusrecord.xml",
    ] {
        let record = StatusRecord::parse(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(
            record.status_code,
            Some(StatusCode::InvalidNhsNumber),
            "{rel}"
        );
        assert_eq!(record.event.as_deref(), Some("SEND"));
        assert_eq!(record.status.as_deref(), Some("ERROR"));
        assert_eq!(record.description.as_deref(), Some("Invalid NHS Number"));
        assert!(record.is_error());
        assert_eq!(
            record
                .timestamp()
                .unwrap()
                .format("%Y%m%d%H%M%S")
                .to_string(),
            "20170926135509"
        );
        assert_eq!(StatusRecord::parse(&record.to_xml()).unwrap(), record);
    }
}

#[test]
fn a_new_control_file_has_the_layout_we_send() {
    let mut cf = ControlFile::new(
        "GPCONNECT_SEND_DOCUMENT",
        "X26OT001",
        "GPPROVIDER_9000000009_20101022_Smith",
    );
    cf.subject = Some("Consultation report for Jane Smith & co <x>".into());
    cf.local_id = Some("X26".into());
    cf.allow_chunking = Some(true);
    let xml = cf.to_xml();
    let expected = read("mesh/ctl/send-gpfed-consult-report.ctl");
    assert_eq!(element_names(&xml), element_names(&expected));
    assert!(
        xml.starts_with("<DTSControl>\n<Version>1.0</Version>\n<AddressType>DTS</AddressType>\n")
    );
    assert!(
        xml.contains("<Subject>Consultation report for Jane Smith &amp; co &lt;x&gt;</Subject>")
    );
    assert!(xml.contains("<DTSId></DTSId>\n"));
    assert!(xml.contains("<IsCompressed>N</IsCompressed>\n<AllowChunking>Y</AllowChunking>\n"));
    assert_eq!(ControlFile::parse(&xml).unwrap(), cf);
}

#[test]
fn nothing_is_lost_on_a_round_trip() {
    let text = "<?xml version=\"1.0\"?>\n<DTSControl>\n  <!-- a comment -->\n  <WorkflowId>W</WorkflowId>\n  <MessageType>Report</MessageType>\n  <Subject>a &#233; &amp; b</Subject>\n  <Custom>kept</Custom>\n  <To_ESMTP>x@nhs.net</To_ESMTP>\n  <StatusRecord><DateTime>20240101120000</DateTime><StatusCode>EPL-151</StatusCode><Status>ERROR</Status><Extra>y</Extra></StatusRecord>\n  <LocalId/>\n</DTSControl>\n";
    let cf = ControlFile::parse(text).unwrap();
    assert_eq!(cf.subject.as_deref(), Some("a \u{e9} & b"));
    assert_eq!(cf.other, vec![("Custom".to_owned(), "kept".to_owned())]);
    assert_eq!(cf.to_esmtp.as_deref(), Some("x@nhs.net"));
    assert_eq!(cf.local_id, None);
    assert!(cf.is_report());
    let record = cf.status_record.as_ref().unwrap();
    assert_eq!(record.status_code, Some(StatusCode::NoMailboxMatched));
    assert_eq!(record.other, vec![("Extra".to_owned(), "y".to_owned())]);
    let again = ControlFile::parse(&cf.to_xml()).unwrap();
    assert_eq!(again, cf);
    // An empty StatusRecord is a record with no fields, not an unknown element.
    let empty = ControlFile::parse("<DTSControl><StatusRecord/><Subject/></DTSControl>").unwrap();
    assert_eq!(empty.status_record, Some(StatusRecord::default()));
    assert!(empty.other.is_empty() && empty.subject.is_none());
    // CR survives as a character reference.
    let mut cr = ControlFile::new("W", "A", "B");
    cr.subject = Some("line\r\nnext".into());
    assert_eq!(
        ControlFile::parse(&cr.to_xml()).unwrap().subject.as_deref(),
        Some("line\r\nnext")
    );
}

#[test]
fn faults_name_line_and_column() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "<DTSControl>\n<Compress>maybe</Compress>\n</DTSControl>",
            (2, 1),
            "<Compress> must be Y or N",
        ),
        (
            "<DTSControl>\n  <MessageType>Other</MessageType>\n</DTSControl>",
            (2, 3),
            "must be Data or Report",
        ),
        (
            "<DTSControl>\n<Subject>a</Subject>\n<Subject>b</Subject>\n</DTSControl>",
            (3, 1),
            "<Subject> appears twice",
        ),
        (
            "<DTSControl>\n<Subject><b>x</b></Subject>\n</DTSControl>",
            (2, 10),
            "<b> inside <Subject>",
        ),
        ("<Bundle/>", (1, 1), "<Bundle/> is empty"),
        (
            "<Bundle>\n</Bundle>",
            (1, 1),
            "expected <DTSControl> as the root element, found <Bundle>",
        ),
        (
            "<DTSControl>\n<Subject>a</Subjec>\n</DTSControl>",
            (2, 11),
            "malformed XML",
        ),
        (
            "<DTSControl>\n<Subject>&nbsp;</Subject>\n</DTSControl>",
            (2, 10),
            "unknown entity &nbsp;",
        ),
        (
            "<DTSControl>\n<Subject>a</Subject>",
            (2, 21),
            "unexpected end of file",
        ),
        (
            "<DTSControl></DTSControl>\n<x/>",
            (2, 1),
            "content after the root element",
        ),
        ("", (1, 1), "no <DTSControl> element"),
    ];
    for (text, (line, column), message) in cases {
        let err = ControlFile::parse(text).expect_err(text);
        assert!(err.message.contains(message), "{text:?}: {err}");
        assert_eq!((err.line, err.column), (*line, *column), "{text:?}: {err}");
    }
}

#[test]
fn the_out_folder_writes_payload_then_control_file_and_refuses_to_overwrite() {
    let dir = tempdir("out");
    let out = OutFolder::open(dir.join("OUT")).unwrap();
    let cf = ControlFile::new("GPCONNECT_SEND_DOCUMENT", "X26OT001", "A20047OT001");
    let placed = out.put("msg-1", b"<Bundle/>", &cf).unwrap();
    assert_eq!(std::fs::read(&placed.dat).unwrap(), b"<Bundle/>");
    assert_eq!(
        ControlFile::parse(&std::fs::read_to_string(&placed.ctl).unwrap()).unwrap(),
        cf
    );
    // The .dat is older than (or as old as) its .ctl: the client never sees a .ctl
    // without a complete payload.
    let t = |p: &PathBuf| std::fs::metadata(p).unwrap().modified().unwrap();
    assert!(t(&placed.dat) <= t(&placed.ctl));
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["msg-1.ctl", "msg-1.dat"]);
    match out.put("msg-1", b"other", &cf) {
        Err(FolderError::Exists { path }) => assert!(path.ends_with("msg-1.dat")),
        other => panic!("expected Exists, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(&placed.dat).unwrap(),
        b"<Bundle/>",
        "not overwritten"
    );
    for bad in ["", "../x", "a/b", ".hidden"] {
        assert!(
            matches!(out.put(bad, b"x", &cf), Err(FolderError::BadName { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn the_out_folder_leaves_no_half_files_when_a_write_fails() {
    let dir = tempdir("out-fail");
    let out = OutFolder::open(dir.join("OUT")).unwrap();
    // A directory where the .ctl must go makes the second rename fail.
    std::fs::create_dir(out.path().join("clash.ctl")).unwrap();
    std::fs::write(out.path().join("clash.ctl").join("x"), b"x").unwrap();
    let cf = ControlFile::new("W", "A", "B");
    assert!(out.put("clash", b"payload", &cf).is_err());
    let leftovers: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn the_in_folder_lists_messages_and_reports() {
    let dir = tempdir("in");
    let inbox = dir.join("IN");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(
        inbox.join("20261121194335783250_A1B9CC.ctl"),
        read("mesh/ctl/received-data.ctl"),
    )
    .unwrap();
    std::fs::write(inbox.join("20261121194335783250_A1B9CC.dat"), b"<Bundle/>").unwrap();
    let report = format!(
        "<DTSControl>\n<Version>1.0</Version>\n<MessageType>Report</MessageType>\n<WorkflowId>GPFED_CONSULT_REPORT</WorkflowId>\n<LocalId>X26</LocalId>\n<DTSId>20261122000000000000_B2</DTSId>\n{}</DTSControl>\n",
        read("mesh/ctl/error-report-epl152.statusrecord.xml")
    );
    std::fs::write(inbox.join("20261122000000000000_B2.ctl"), report).unwrap();
    std::fs::write(inbox.join(".partial.ctl"), "ignored").unwrap();
    let folder = InFolder::open(&inbox).unwrap();
    let entries = folder.list().unwrap();
    assert_eq!(entries.len(), 2);
    let data = &entries[0];
    assert!(data.report().is_none());
    assert_eq!(data.payload().unwrap(), b"<Bundle/>");
    let rep = entries[1].report().expect("a report");
    assert_eq!(rep.code(), Some(&StatusCode::InvalidNhsNumber));
    assert_eq!(rep.message_id.as_deref(), Some("20261122000000000000_B2"));
    assert!(
        rep.summary().contains("EPL-152 (invalid NHS number)"),
        "{}",
        rep.summary()
    );
    let err = entries[1].payload().unwrap_err().to_string();
    assert!(err.contains("20261122000000000000_B2.dat"), "{err}");
    entries[0].remove().unwrap();
    assert_eq!(folder.list().unwrap().len(), 1);
    // A broken control file names itself, its line and column.
    std::fs::write(
        inbox.join("bad.ctl"),
        "<DTSControl>\n<Compress>Q</Compress>\n</DTSControl>",
    )
    .unwrap();
    let err = folder.list().unwrap_err().to_string();
    assert!(
        err.contains("bad.ctl") && err.contains("line 2, column 1"),
        "{err}"
    );
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "nhs-mesh-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
