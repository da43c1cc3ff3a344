//! Round-trip properties of the readers and writers over drawn resources.
//!
//! Each property runs 1,000 cases by default; `PROPTEST_CASES=N` changes that
//! (CI keeps the default). A failure is shrunk and printed with its JSON.

use fhir_stu3::{Resource, WriteOptions};
use fhir_stu3_proptest::arbitrary;
use fhir_validator::{Finding, Validator};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// 1,000 cases per property unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    ProptestConfig {
        cases,
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    }
}

fn read_json(text: &str) -> Result<Resource, TestCaseError> {
    Resource::from_json(text.as_bytes()).map_err(|e| {
        TestCaseError::fail(format!("our JSON does not read back strictly: {e}\n{text}"))
    })
}

fn read_xml(text: &str) -> Result<Resource, TestCaseError> {
    Resource::from_xml(text.as_bytes()).map_err(|e| {
        TestCaseError::fail(format!("our XML does not read back strictly: {e}\n{text}"))
    })
}

thread_local! {
    static VALIDATOR: Validator = Validator::new();
}

fn findings(r: &Resource) -> Vec<Finding> {
    VALIDATOR.with(|v| v.validate(&r.to_tree()))
}

proptest! {
    #![proptest_config(config())]

    /// JSON → model → JSON gives the same text, compact and pretty, and the
    /// model read back equals the one written (model → JSON → model).
    #[test]
    fn json_to_model_to_json_is_identity(r in arbitrary::<Resource>()) {
        let json = r.to_json();
        let back = read_json(&json)?;
        prop_assert_eq!(&back.to_json(), &json);
        prop_assert_eq!(&back, &r);
        let pretty = r.to_json_with(&WriteOptions::pretty());
        let back = read_json(&pretty)?;
        prop_assert_eq!(back.to_json_with(&WriteOptions::pretty()), pretty);
    }

    /// XML → model → XML gives the same text, compact and pretty, and the
    /// model read back equals the one written.
    #[test]
    fn xml_to_model_to_xml_is_identity(r in arbitrary::<Resource>()) {
        let xml = r.to_xml();
        let back = read_xml(&xml)?;
        prop_assert_eq!(&back.to_xml(), &xml);
        prop_assert_eq!(&back, &r);
        let pretty = r.to_xml_with(&WriteOptions::pretty());
        let back = read_xml(&pretty)?;
        prop_assert_eq!(back.to_xml_with(&WriteOptions::pretty()), pretty);
    }

    /// model → JSON → model equals model → XML → model, and converting between
    /// the formats through the model loses nothing.
    #[test]
    fn json_and_xml_read_back_to_the_same_model(r in arbitrary::<Resource>()) {
        let json = r.to_json();
        let from_json = read_json(&json)?;
        let from_xml = read_xml(&r.to_xml())?;
        prop_assert_eq!(&from_json, &from_xml);
        prop_assert_eq!(from_xml.to_json(), json);
    }

    /// The validator's findings do not depend on the format the resource came in.
    #[test]
    fn validator_findings_are_the_same_from_json_and_xml(r in arbitrary::<Resource>()) {
        let from_json = findings(&read_json(&r.to_json())?);
        let from_xml = findings(&read_xml(&r.to_xml())?);
        prop_assert_eq!(from_json, from_xml);
    }
}
