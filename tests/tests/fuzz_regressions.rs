//! Replays every input the fuzzers found a fault with, kept under
//! `fuzz/regressions/<target>/` once fixed, through the very checks the fuzz
//! targets run (`fuzz/src/checks.rs`, compiled here too).

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use std::path::Path;

/// Runs `check` on every file in `fuzz/regressions/<target>/`; returns how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if let Err(panic) = std::panic::catch_unwind(|| check(&bytes)) {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("fuzz regression {target}/{name} fails again: {why}");
        }
    }
    files.len()
}

#[test]
fn json_reader_regressions() {
    assert!(replay("json_read", checks::json_read) >= 1);
}

#[test]
fn xml_reader_regressions() {
    assert!(replay("xml_read", checks::xml_read) >= 1);
}

#[test]
fn control_file_regressions() {
    assert!(replay("control_file", checks::control_file) >= 1);
}

#[test]
fn receiver_regressions() {
    replay("receive", checks::receive);
}

#[test]
fn fhirpath_parser_regressions() {
    replay("fhirpath_parse", checks::fhirpath_parse);
}
