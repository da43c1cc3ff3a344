//! Reading FHIR XML into the typed model, next to a bare quick-xml event scan
//! of the same bytes (the floor no XML reader can beat) and next to our JSON
//! reader on the JSON twins of the same resources, in the same process run.
//!
//! `BENCH_MILLIS=2000 cargo bench -p workspace-tests --bench xml_read` prints
//! MB/s for each and the ratios: typed XML time / bare scan time (target: at
//! most 3), and typed XML time / typed JSON time for the same resources.
//!
//! The bare scan is `NsReader::read_resolved_event` until `Eof`, with the
//! checks our reader turns on (end names, comments), black-boxing each event
//! and allocating nothing per event.

use std::hint::black_box;
use std::time::{Duration, Instant};

use fhir_stu3::value::Base64Value;
use fhir_stu3::{ReadOptions, Resource};
use quick_xml::events::Event;
use quick_xml::NsReader;
use workspace_tests::bench::paired_medians;
use workspace_tests::{shared_dir, shared_files};

/// One line: MB/s of ours and of the baseline over `bytes`, and the time
/// ratio ours / baseline (above 1.0 means ours is slower).
fn report(name: &str, bytes: usize, ours: f64, baseline: f64, what: &str) {
    report_mixed(name, bytes, ours, bytes, baseline, what);
}

/// As [`report`], with the baseline's MB/s against its own input size
/// (the JSON twins are not the same bytes as the XML).
fn report_mixed(name: &str, bytes: usize, ours: f64, base_bytes: usize, baseline: f64, what: &str) {
    println!(
        "{name:<34} {:>8.1} MB/s typed   {:>8.1} MB/s {what}   time ratio {:.2}",
        bytes as f64 / 1e6 / ours,
        base_bytes as f64 / 1e6 / baseline,
        ours / baseline
    );
}

/// The floor: every event of `bytes` through quick-xml's namespace-aware
/// reader, configured as our reader is, nothing kept.
fn bare_scan(bytes: &[u8]) -> usize {
    let mut reader = NsReader::from_reader(bytes);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;
    config.trim_text(false);
    let mut n = 0usize;
    loop {
        match reader.read_resolved_event() {
            Ok((_, Event::Eof)) => return n,
            Ok(ev) => {
                black_box(&ev);
                n += 1;
            }
            Err(e) => panic!("malformed XML at {}: {e}", reader.buffer_position()),
        }
    }
}

/// Pseudorandom bytes (xorshift64*), the same every run.
fn pseudorandom(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The first `Binary` in `resource`, looking through Bundle entries at any depth.
fn find_binary(resource: &mut Resource) -> Option<&mut fhir_stu3::resources::Binary> {
    match resource {
        Resource::Binary(b) => Some(&mut **b),
        Resource::Bundle(b) => b
            .entry
            .iter_mut()
            .filter_map(|e| e.resource.as_mut())
            .find_map(find_binary),
        _ => None,
    }
}

/// The NHS Send Document example (a message Bundle holding a document Bundle
/// holding a `Binary`) with a `pdf_len`-byte payload, base64 in lines of 76,
/// written back as XML.
fn send_document(pdf_len: usize) -> (Resource, Vec<u8>) {
    let path = shared_dir().join("examples/v2.0.2_send-document--generic-example.xml");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut message = Resource::from_xml_with(&bytes, &ReadOptions::lenient())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .value;
    let compact = Base64Value::from_bytes(&pseudorandom(pdf_len));
    let compact = compact.as_str();
    let mut text = String::with_capacity(compact.len() + compact.len() / 76 + 1);
    for (i, chunk) in compact.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(std::str::from_utf8(chunk).unwrap());
    }
    let binary = find_binary(&mut message).expect("the Send Document example holds a Binary");
    binary.content.get_or_insert_with(Default::default).value =
        Some(Base64Value::parse(&text).unwrap());
    let xml = message.to_xml().into_bytes();
    // The payload must come back exactly, line breaks and all, from a strict read.
    let mut back = Resource::from_xml(&xml).expect("the written message reads strictly");
    let content = find_binary(&mut back).and_then(|b| b.content.take());
    assert_eq!(
        content
            .and_then(|c| c.value)
            .as_ref()
            .map(Base64Value::as_str),
        Some(text.as_str()),
        "the 5 MB payload did not survive writing and reading"
    );
    (message, xml)
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("BENCH_MILLIS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000),
    );
    let xml_paths = shared_files("fhir-examples/xml", "xml");
    let json_paths = shared_files("fhir-examples/json", "json");
    let stems = |ps: &[std::path::PathBuf]| -> Vec<String> {
        ps.iter()
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(
        stems(&xml_paths),
        stems(&json_paths),
        "the XML and JSON examples are not twins"
    );
    let read = |ps: &[std::path::PathBuf]| -> Vec<Vec<u8>> {
        ps.iter().map(|p| std::fs::read(p).unwrap()).collect()
    };
    let xml = read(&xml_paths);
    let json = read(&json_paths);
    let xml_total: usize = xml.iter().map(Vec::len).sum();
    let json_total: usize = json.iter().map(Vec::len).sum();
    if std::env::var("BENCH_PROFILE").is_ok() {
        // Only our XML reader, for a profiler.
        let t = Instant::now();
        while t.elapsed() < budget {
            for ex in &xml {
                black_box(Resource::from_xml(black_box(ex)).unwrap());
            }
        }
        return;
    }
    println!(
        "inputs: {} official examples ({:.2} MB XML, {:.2} MB JSON)",
        xml.len(),
        xml_total as f64 / 1e6,
        json_total as f64 / 1e6
    );

    let (ours, base) = paired_medians(
        budget,
        || {
            for ex in &xml {
                black_box(Resource::from_xml(black_box(ex)).unwrap());
            }
        },
        || {
            for ex in &xml {
                black_box(bare_scan(black_box(ex)));
            }
        },
    );
    report(
        &format!("read XML: {} examples", xml.len()),
        xml_total,
        ours,
        base,
        "bare quick-xml scan",
    );

    let (ours, base) = paired_medians(
        budget,
        || {
            for ex in &xml {
                black_box(Resource::from_xml(black_box(ex)).unwrap());
            }
        },
        || {
            for ex in &json {
                black_box(Resource::from_json(black_box(ex)).unwrap());
            }
        },
    );
    report_mixed(
        &format!("read XML vs JSON: {} examples", xml.len()),
        xml_total,
        ours,
        json_total,
        base,
        "typed JSON",
    );

    let (message, big) = send_document(5_000_000);
    println!(
        "Send Document message with a 5 MB PDF: {:.2} MB XML",
        big.len() as f64 / 1e6
    );
    let (ours, base) = paired_medians(
        budget,
        || {
            black_box(Resource::from_xml(black_box(&big)).unwrap());
        },
        || {
            black_box(bare_scan(black_box(&big)));
        },
    );
    report(
        "read XML: 5 MB PDF message",
        big.len(),
        ours,
        base,
        "bare quick-xml scan",
    );

    // Writing, for the record: typed model -> XML next to the bare scan.
    let (ours, base) = paired_medians(
        budget,
        || {
            black_box(message.to_xml());
        },
        || {
            black_box(bare_scan(black_box(&big)));
        },
    );
    report(
        "write XML: 5 MB PDF message",
        big.len(),
        ours,
        base,
        "bare quick-xml scan",
    );
}
