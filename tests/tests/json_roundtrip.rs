//! Every official STU3 JSON example reads strictly and writes back equal, and
//! reading the written output again gives an equal model.

use fhir_stu3::{ReadOptions, Resource};
use workspace_tests::{json_equal, shared_files};

#[test]
fn every_json_example_round_trips_exactly() {
    let files = shared_files("fhir-examples/json", "json");
    assert_eq!(files.len(), 176, "expected the 176 official examples");
    let mut failures = Vec::new();
    let mut passed = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(path).unwrap();
        let resource = match Resource::from_json(&input) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: read failed: {e}"));
                continue;
            }
        };
        let output = resource.to_json();
        if let Err(diff) = json_equal(std::str::from_utf8(&input).unwrap(), &output) {
            failures.push(format!("{name}: written JSON differs: {diff}"));
            continue;
        }
        passed += 1;
    }
    println!(
        "JSON round trip: {passed} of {} examples equal",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(passed, 176);
}

#[test]
fn written_json_reads_back_to_an_equal_model() {
    let files = shared_files("fhir-examples/json", "json");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(path).unwrap();
        let Ok(first) = Resource::from_json(&input) else {
            failures.push(format!("{name}: read failed"));
            continue;
        };
        for pretty in [false, true] {
            let opts = fhir_stu3::WriteOptions {
                pretty,
                ..Default::default()
            };
            let written = first.to_json_with(&opts);
            match Resource::from_json_with(written.as_bytes(), &ReadOptions::strict()) {
                Ok(second) if second.value == first => {}
                Ok(_) => failures.push(format!(
                    "{name}: model differs after re-reading (pretty={pretty})"
                )),
                Err(e) => failures.push(format!(
                    "{name}: written output does not read (pretty={pretty}): {e}"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
