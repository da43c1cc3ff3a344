//! The fuzz targets' checks, shared with the regression test that replays the
//! crashers kept under `fuzz/regressions/<target>/`.
//!
//! Each check takes arbitrary bytes. Reading may end in a value or an error; the
//! check panics (a finding) when the code under test panics, or when something
//! read is not kept: a value the reader accepted must be written, read back and
//! come out equal, in both formats.

use fhir_stu3::{ReadOptions, Resource};

/// The JSON reader, strict and lenient.
pub fn json_read(data: &[u8]) {
    for opts in [ReadOptions::strict(), ReadOptions::lenient()] {
        match Resource::from_json_with(data, &opts) {
            Ok(parsed) => round_trip(&parsed.value, parsed.warnings.is_empty(), "JSON"),
            Err(e) => drop(e.to_string()),
        }
    }
}

/// The XML reader, strict and lenient.
pub fn xml_read(data: &[u8]) {
    for opts in [ReadOptions::strict(), ReadOptions::lenient()] {
        match Resource::from_xml_with(data, &opts) {
            Ok(parsed) => round_trip(&parsed.value, parsed.warnings.is_empty(), "XML"),
            Err(e) => drop(e.to_string()),
        }
    }
}

/// What was read is kept: JSON and XML written from it read back equal, and
/// writing again gives the same text. A resource read without warnings must also
/// read back in strict mode (lenient reading may keep text that strict refuses,
/// such as a malformed date; it must still survive the lenient round trip).
fn round_trip(value: &Resource, clean: bool, from: &str) {
    let opts = if clean {
        ReadOptions::strict()
    } else {
        ReadOptions::lenient()
    };
    type Write = fn(&Resource) -> String;
    type Read = fn(&[u8], &ReadOptions) -> Result<fhir_stu3::Parsed<Resource>, fhir_stu3::Error>;
    let formats: [(&str, Write, Read); 2] = [
        ("JSON", Resource::to_json, Resource::from_json_with),
        ("XML", Resource::to_xml, Resource::from_xml_with),
    ];
    for (format, write, read) in formats {
        let text = write(value);
        let back = read(text.as_bytes(), &opts)
            .unwrap_or_else(|e| {
                panic!("{from} read, written as {format}, does not read back: {e}\n{text}")
            })
            .value;
        assert!(
            back == *value,
            "{from} read, {format} round trip changed the value: {}\n{text}",
            difference(value, &back)
        );
        assert_eq!(write(&back), text, "{format} writer is not idempotent");
    }
}

/// Where two values' debug (FHIR JSON) texts first differ, with some context.
fn difference(before: &Resource, after: &Resource) -> String {
    let (a, b) = (format!("{before:?}"), format!("{after:?}"));
    let at = a
        .bytes()
        .zip(b.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(80);
    let cut = |s: &str| {
        let start = (0..=from)
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0);
        s[start..].chars().take(240).collect::<String>()
    };
    if a == b {
        format!("equal texts but unequal values (something JSON does not show differs): {a}")
    } else {
        format!(
            "first difference at byte {at}\nbefore: …{}\nafter:  …{}",
            cut(&a),
            cut(&b)
        )
    }
}

/// The Send Document receiver: a whole message in (JSON or XML, sniffed), an ITK3
/// response code out, on both the folder and the MESH route.
pub fn receive(data: &[u8]) {
    use send_document::receive::{MemoryReceiptLog, Receiver, Transport};
    thread_local! {
        static RECEIVER: Receiver = Receiver::default();
    }
    let log = MemoryReceiptLog::new();
    RECEIVER.with(|receiver| {
        for transport in [
            Transport::folder(),
            Transport::mesh("GPCONNECT_SEND_DOCUMENT", "X26OT001").to("A20047OT001"),
        ] {
            match receiver.check(data, &transport, &log) {
                Ok(received) => {
                    assert!(received.response_code().is_positive());
                }
                Err(rejection) => {
                    assert!(
                        !rejection.code.is_positive(),
                        "a rejection with a positive code: {rejection:?}"
                    );
                    assert!(
                        !rejection.diagnostics.is_empty(),
                        "a rejection without a reason: {rejection:?}"
                    );
                    drop(rejection.diagnostics_text());
                }
            }
        }
    });
}

/// The MESH client's `.ctl` reader, for control files and status records: what
/// it reads, written back, reads back equal; an error's line and column lie
/// inside the input.
pub fn control_file(data: &[u8]) {
    use nhs_mesh::{ControlFile, StatusRecord};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let within = |line: usize, column: usize| {
        let lines = text.split('\n').count();
        assert!(
            line >= 1 && line <= lines.max(1) && column >= 1,
            "error at {line}:{column} outside the input ({lines} lines)"
        );
    };
    match ControlFile::parse(text) {
        Ok(ctl) => {
            let xml = ctl.to_xml();
            let back = ControlFile::parse(&xml)
                .unwrap_or_else(|e| panic!("written .ctl does not read back: {e}\n{xml}"));
            assert_eq!(back, ctl, "the .ctl round trip changed it\n{xml}");
        }
        Err(e) => within(e.line, e.column),
    }
    match StatusRecord::parse(text) {
        Ok(record) => {
            let xml = record.to_xml();
            let back = StatusRecord::parse(&xml)
                .unwrap_or_else(|e| panic!("written StatusRecord does not read back: {e}\n{xml}"));
            assert_eq!(
                back, record,
                "the StatusRecord round trip changed it\n{xml}"
            );
        }
        Err(e) => within(e.line, e.column),
    }
}

/// The FHIRPath parser, for expressions and for profile constraints.
pub fn fhirpath_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match fhirpath::parse(text) {
        Ok(expr) => drop(format!("{expr:?}")),
        Err(e) => drop(e.to_string()),
    }
    if let Err(e) = fhirpath::parse_constraint(text) {
        drop(e.to_string());
    }
}
