//! The format-neutral element tree built from the typed model.

use fhir_stu3::{Node, Resource};

fn names(nodes: &[Node]) -> Vec<String> {
    nodes.iter().map(Node::full_name).collect()
}

#[test]
fn tree_has_fhir_names_types_values_and_order() {
    let json = br##"{"resourceType":"Observation","id":"o1",
        "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
        "contained":[{"resourceType":"Patient","id":"p","birthDate":"1970-01"}],
        "status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"1-8"},{"code":"x"}]},
        "subject":{"reference":"#p"},
        "valueQuantity":{"value":1.50,"unit":"mg"},
        "_status":{"id":"s1","extension":[{"url":"http://e","valueBoolean":true}]}}"##;
    let r = Resource::from_json(json).unwrap();
    let t = r.to_tree();
    assert_eq!(
        (t.name, t.type_name, t.is_resource),
        ("Observation", "Observation", true)
    );
    assert_eq!(
        names(&t.children),
        [
            "id",
            "text",
            "contained",
            "status",
            "code",
            "subject",
            "valueQuantity"
        ]
    );
    let contained = t.child("contained").unwrap();
    assert!(contained.is_resource);
    assert_eq!(contained.type_name, "Patient");
    assert_eq!(contained.child_value("birthDate"), Some("1970-01"));
    assert_eq!(contained.child("birthDate").unwrap().type_name, "date");

    let status = t.child("status").unwrap();
    assert_eq!(status.value.as_deref(), Some("final"));
    assert_eq!(status.type_name, "code");
    assert_eq!(names(&status.children), ["id", "extension"]);
    let ext = status.child("extension").unwrap();
    assert_eq!(ext.type_name, "Extension");
    assert_eq!(ext.child("url").unwrap().type_name, "uri");
    let v = ext.child("value").unwrap();
    assert_eq!(
        (v.choice_type, v.type_name, v.value.as_deref()),
        ("Boolean", "boolean", Some("true"))
    );

    let codings: Vec<&Node> = t.child("code").unwrap().children_named("coding").collect();
    assert_eq!(codings.len(), 2);
    assert_eq!(codings[1].child_value("code"), Some("x"));

    let q = t.child("value").unwrap();
    assert_eq!((q.choice_type, q.type_name), ("Quantity", "Quantity"));
    assert_eq!(q.child_value("value"), Some("1.50"), "decimal text kept");
    assert_eq!(q.child("value").unwrap().type_name, "decimal");

    let div = t.child("text").unwrap().child("div").unwrap();
    assert_eq!(div.type_name, "xhtml");
    assert!(div.value.as_deref().unwrap().contains(">x</div>"));

    // Descendants: every node once, depth first.
    let all = t.descendants();
    assert!(all
        .iter()
        .any(|n| n.name == "reference" && n.value.as_deref() == Some("#p")));
}
