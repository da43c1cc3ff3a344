//! The serde bridge for the `Resource` enum and a data type.

use fhir_stu3::datatypes::HumanName;
use fhir_stu3::Resource;

#[test]
fn resource_enum_and_data_types_go_through_serde() {
    let json = r#"{"resourceType":"Patient","name":[{"family":"Chalmers","given":["Peter","James"]}],"birthDate":"1974-12"}"#;
    let resource: Resource = serde_json::from_str(json).unwrap();
    assert_eq!(resource.resource_type(), "Patient");
    let back = serde_json::to_string(&resource).unwrap();
    workspace_tests::json_equal(json, &back).unwrap();

    let name: HumanName = serde_json::from_str(r#"{"family":"Chalmers"}"#).unwrap();
    assert_eq!(
        name.family.as_ref().and_then(|f| f.value.as_deref()),
        Some("Chalmers")
    );
    assert_eq!(
        serde_json::to_string(&name).unwrap(),
        r#"{"family":"Chalmers"}"#
    );

    // Strict reading behind serde: an unknown property is an error that names its path.
    let err =
        serde_json::from_str::<Resource>(r#"{"resourceType":"Patient","foo":1}"#).unwrap_err();
    assert!(err.to_string().contains("Patient.foo"), "{err}");
    // Debug shows the element as FHIR JSON.
    assert_eq!(format!("{name:?}"), r#"HumanName {"family":"Chalmers"}"#);
}
