//! `Validator::validate_with_profiles`: profiles chosen by location, instead of
//! `meta.profile`.

use std::collections::HashMap;

use fhir_stu3::Resource;
use fhir_validator::{Finding, Severity, Validator};

const ORG_LOC: &str = "Bundle.entry[0].resource.ofType(Organization)";
const HEADER_ORG: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1";

/// A collection Bundle holding an Organization with a `name`, which
/// CareConnect-ITK-Header-Organization-1 forbids (0..0); `meta` as given.
fn bundle(meta: &str) -> Resource {
    let json = format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"fullUrl":"urn:uuid:5d5b2b0e-6a0c-4f59-9d8e-2f1a0b7c1d11",
        "resource":{{"resourceType":"Organization","id":"5d5b2b0e-6a0c-4f59-9d8e-2f1a0b7c1d11"{meta},
        "identifier":[{{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"GP0001"}}],
        "name":"Cumbria Starling Medical Centre"}}}}]}}"#
    );
    Resource::from_json(json.as_bytes()).unwrap()
}

fn by_location(loc: &str, url: &str) -> HashMap<String, String> {
    HashMap::from([(loc.to_owned(), url.to_owned())])
}

fn summary(f: &[Finding]) -> Vec<(Severity, &str, &str)> {
    f.iter()
        .map(|f| (f.severity, f.rule.as_str(), f.location.as_str()))
        .collect()
}

#[test]
fn a_nested_resource_is_checked_against_the_chosen_profile() {
    let tree = bundle("").to_tree();
    let v = Validator::new();
    // Without meta.profile, only the base Organization rules apply.
    assert_eq!(v.validate(&tree), vec![]);
    let f = v.validate_with_profiles(&tree, &by_location(ORG_LOC, HEADER_ORG));
    assert_eq!(
        summary(&f),
        vec![(
            Severity::Error,
            "cardinality",
            "Bundle.entry[0].resource.ofType(Organization).name"
        )],
        "{f:#?}"
    );
    assert_eq!(f[0].profile, HEADER_ORG);
}

#[test]
fn the_chosen_profile_replaces_meta_profile_without_double_reporting() {
    let claimed = format!(r#","meta":{{"profile":["{HEADER_ORG}"]}}"#);
    let tree = bundle(&claimed).to_tree();
    let v = Validator::new();
    let by_meta = v.validate(&tree);
    assert_eq!(by_meta.len(), 1, "{by_meta:#?}");
    // The same profile chosen by location: the same single finding, not two.
    assert_eq!(
        v.validate_with_profiles(&tree, &by_location(ORG_LOC, HEADER_ORG)),
        by_meta
    );
    // Another profile chosen: meta.profile is not used at all.
    let cc_org = "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1";
    assert_eq!(
        v.validate_with_profiles(&tree, &by_location(ORG_LOC, cc_org)),
        vec![]
    );
}

#[test]
fn the_root_can_be_given_a_profile_and_bad_choices_are_reported() {
    let tree = bundle("").to_tree();
    let v = Validator::new();
    let message_bundle = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1";
    let f = v.validate_with_profiles(&tree, &by_location("Bundle", message_bundle));
    assert!(
        f.iter().any(|f| f.location == "Bundle.type"
            && f.rule == "fixed"
            && f.profile == message_bundle),
        "{f:#?}"
    );
    // A profile for another type: an error, then the usual validation.
    let f = v.validate_with_profiles(&tree, &by_location(ORG_LOC, message_bundle));
    assert_eq!(
        summary(&f),
        vec![(Severity::Error, "profile", ORG_LOC)],
        "{f:#?}"
    );
    assert!(f[0]
        .message
        .contains("the profile is for Bundle, the resource is a Organization"));
    // An unknown profile.
    let f = v.validate_with_profiles(&tree, &by_location(ORG_LOC, "https://example.org/nope"));
    assert_eq!(
        summary(&f),
        vec![(Severity::Error, "profile", ORG_LOC)],
        "{f:#?}"
    );
}
