//! Elements written with their type in a snapshot (`valueBoolean`, ITK's
//! `extension:X.valueBoolean:valueBoolean` and `extension:X.value[x]:valueCoding`
//! with children under `valueCoding:valueCoding`, core `Extension.valueCode`)
//! are checked as the choice element they stand for; locations index an
//! element that is a list in the base resource even where a profile lowers
//! its `max` to 1.

use fhir_stu3::Resource;
use fhir_validator::{Finding, Severity, Validator};
use serde_json::{json, Value};

/// A valid ITK-MessageHeader-2 (the Send Document fixture's).
fn message_header() -> Value {
    json!({
        "resourceType": "MessageHeader",
        "id": "ea7221b8-3cc0-4b11-bc95-585b056b5428",
        "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2"]},
        "extension": [{
            "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2",
            "extension": [
                {"url": "BusAckRequested", "valueBoolean": true},
                {"url": "InfAckRequested", "valueBoolean": true},
                {"url": "RecipientType", "valueCoding": {
                    "system": "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1",
                    "code": "FA", "display": "For Action"}},
                {"url": "MessageDefinition", "valueReference": {
                    "reference": "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1"}},
                {"url": "SenderReference", "valueString": "846ebe66-5ff8-4499-bc57-a112d3d0daa3"},
                {"url": "LocalExtension", "valueString": "None"}
            ]
        }],
        "event": {"system": "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2",
                  "code": "ITK007C", "display": "ITK GP Connect Send Document"},
        "sender": {"reference": "urn:uuid:c0bee62f-9932-4468-9508-71c67a9f0c2c"},
        "timestamp": "2018-07-12T10:30:16+00:00",
        "source": {"endpoint": "MESHGP0001"},
        "focus": [{"reference": "urn:uuid:70c35c4a-65f4-4a03-bcf7-d1041ab999fd"}]
    })
}

/// Errors and warnings as (rule, location, profile).
fn problems(v: &Value) -> Vec<(String, String, String)> {
    let r = Resource::from_json(v.to_string().as_bytes()).expect("valid FHIR JSON");
    Validator::new()
        .validate(&r.to_tree())
        .into_iter()
        .filter(|f: &Finding| f.severity != Severity::Information)
        .map(|f| (f.rule, f.location, f.profile))
        .collect()
}

fn one(rule: &str, location: &str, profile: &str) -> Vec<(String, String, String)> {
    vec![(rule.to_owned(), location.to_owned(), profile.to_owned())]
}

const HANDLING: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2";
const RECIPIENT_TYPE: &str = "MessageHeader.extension[0].extension[2].value.ofType(Coding)";

#[test]
fn the_valid_message_header_has_no_problems() {
    assert_eq!(problems(&message_header()), vec![]);
}

#[test]
fn a_sub_extension_value_given_by_type_is_required() {
    // `extension:BusAckRequested.valueBoolean:valueBoolean` 1..1: the value taken
    // out (a nested extension keeps ext-1 satisfied).
    let mut m = message_header();
    m["extension"][0]["extension"][0] = json!({"url": "BusAckRequested", "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}
    ]});
    assert_eq!(
        problems(&m),
        one(
            "cardinality",
            "MessageHeader.extension[0].extension[0].value",
            HANDLING
        )
    );
}

#[test]
fn a_sub_extension_value_of_another_type_is_reported() {
    let mut m = message_header();
    m["extension"][0]["extension"][0] = json!({"url": "BusAckRequested", "valueString": "true"});
    assert_eq!(
        problems(&m),
        one(
            "type",
            "MessageHeader.extension[0].extension[0].value.ofType(String)",
            HANDLING
        )
    );
}

#[test]
fn the_recipient_type_binding_and_its_children_are_checked() {
    // The required binding on `extension:RecipientType.value[x]:valueCoding`.
    let mut m = message_header();
    m["extension"][0]["extension"][2]["valueCoding"]["code"] = json!("XX");
    assert_eq!(problems(&m), one("binding", RECIPIENT_TYPE, HANDLING));
    // `extension:RecipientType.valueCoding:valueCoding.userSelected` 0..0: a child
    // whose id names the slice by its type.
    let mut m = message_header();
    m["extension"][0]["extension"][2]["valueCoding"]["userSelected"] = json!(true);
    assert_eq!(
        problems(&m),
        one(
            "cardinality",
            &format!("{RECIPIENT_TYPE}.userSelected"),
            HANDLING
        )
    );
}

#[test]
fn a_core_extension_value_written_with_its_type_is_checked() {
    // data-absent-reason's snapshot has `Extension.valueCode`, bound (required).
    let mut m = message_header();
    m["sender"]["extension"] = json!([
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "nonsense"}
    ]);
    assert_eq!(
        problems(&m),
        one(
            "binding",
            "MessageHeader.sender.extension[0].value.ofType(Code)",
            "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
        )
    );
}

#[test]
fn a_list_keeps_its_index_where_the_profile_allows_one_item() {
    // MessageHeader.focus is 0..* in the base, ..1 in ITK-MessageHeader-2: the
    // profile's finding is at focus[0], as the base's are (not reported twice at
    // `focus` and `focus[0]`).
    let mut m = message_header();
    m["focus"][0]["reference"] = json!("#missing");
    assert_eq!(
        problems(&m),
        one(
            "ref-1",
            "MessageHeader.focus[0]",
            "http://hl7.org/fhir/StructureDefinition/Reference"
        )
    );
    let mut m = message_header();
    m["focus"] = json!([{"display": "the document"}]);
    assert_eq!(
        problems(&m),
        one(
            "cardinality",
            "MessageHeader.focus[0].reference",
            "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2"
        )
    );
}
