//! The README's example, run for real on the shipped sample.

use fhir_stu3::{resources::Patient, ReadOptions, Resource};

#[test]
fn readme_example_runs() -> Result<(), Box<dyn std::error::Error>> {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/patient.json");
    let bytes = std::fs::read(sample)?;

    let resource = Resource::from_json(&bytes)?;
    assert_eq!(resource.resource_type(), "Patient");

    let parsed = fhir_stu3::from_json_with::<Patient>(&bytes, &ReadOptions::lenient())?;
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let birth_date = parsed
        .value
        .birth_date
        .as_ref()
        .and_then(|d| d.value.as_ref());
    assert_eq!(birth_date.map(|d| d.as_str()), Some("1927-06"));

    let written = resource.to_json();
    workspace_tests::json_equal(std::str::from_utf8(&bytes)?, &written)?;
    assert!(written.contains("\"_birthDate\""));
    Ok(())
}
