//! FHIR XML: every official XML example reads strictly and writes back equal
//! (comments included); XML and JSON twins read to equal models; XML → JSON
//! equals the JSON file.

use fhir_stu3::{ReadOptions, Resource, WriteOptions};
use workspace_tests::{json_equal_xhtml_divs, shared_dir, shared_files, xml_equal};

#[test]
fn every_xml_example_round_trips_exactly() {
    let files = shared_files("fhir-examples/xml", "xml");
    assert_eq!(files.len(), 176, "expected the 176 official examples");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read_to_string(path).unwrap();
        let resource = match Resource::from_xml(input.as_bytes()) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: read failed: {e}"));
                continue;
            }
        };
        for opts in [WriteOptions::compact(), WriteOptions::pretty()] {
            let output = resource.to_xml_with(&opts);
            if let Err(diff) = xml_equal(&input, &output) {
                failures.push(format!(
                    "{name}: written XML differs (pretty={}): {diff}",
                    opts.pretty
                ));
                break;
            }
            match Resource::from_xml(output.as_bytes()) {
                Ok(again) if again == resource => {}
                Ok(_) => failures.push(format!("{name}: model differs after re-reading")),
                Err(e) => failures.push(format!("{name}: written XML does not read strictly: {e}")),
            }
        }
    }
    println!(
        "XML round trip: {} of {} examples equal",
        files.len() - failures.len(),
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn xml_and_json_twins_read_to_equal_models_and_convert_exactly() {
    let dir = shared_dir().join("fhir-examples");
    let files = shared_files("fhir-examples/xml", "xml");
    let mut failures = Vec::new();
    let mut pairs = 0;
    for path in &files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let json_path = dir.join("json").join(format!("{stem}.json"));
        let json = std::fs::read_to_string(&json_path).unwrap();
        let xml = std::fs::read(path).unwrap();
        pairs += 1;
        let from_xml = match Resource::from_xml(&xml) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{stem}: XML read failed: {e}"));
                continue;
            }
        };
        let from_json = Resource::from_json_with(json.as_bytes(), &ReadOptions::strict())
            .map(|p| p.value)
            .unwrap();
        // Equal models: compared through their (injective) JSON form, divs as XHTML.
        if let Err(d) = json_equal_xhtml_divs(&from_json.to_json(), &from_xml.to_json()) {
            failures.push(format!("{stem}: models differ: {d}"));
            continue;
        }
        // XML -> JSON equals the official JSON file, numbers by text.
        if let Err(d) = json_equal_xhtml_divs(&json, &from_xml.to_json()) {
            failures.push(format!("{stem}: XML->JSON differs from the JSON file: {d}"));
        }
    }
    assert_eq!(pairs, 176);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
