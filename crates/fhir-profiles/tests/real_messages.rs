//! Real messages through the typed profiles: every resource that names a
//! profile in `meta.profile` is read into its typed profile and converted back
//! unchanged — nothing a sender wrote is lost by the typed form.

use fhir_profiles::through_typed;
use fhir_stu3::{ReadOptions, Resource};
use workspace_tests::shared_dir;

/// Every (location, resource) in a message: the root, Bundle entries, nested Bundles.
fn resources(r: &Resource, at: String, out: &mut Vec<(String, Resource)>) {
    out.push((at.clone(), r.clone()));
    if let Resource::Bundle(b) = r {
        for (i, e) in b.entry.iter().enumerate() {
            if let Some(inner) = &e.resource {
                resources(
                    inner,
                    format!("{at}.entry[{i}].resource.ofType({})", inner.resource_type()),
                    out,
                );
            }
        }
    }
}

fn profiles_of(r: &Resource) -> Vec<String> {
    let tree = r.to_tree();
    tree.children
        .iter()
        .filter(|c| c.name == "meta")
        .flat_map(|m| m.children.iter().filter(|c| c.name == "profile"))
        .filter_map(|p| p.value.clone())
        .collect()
}

fn check_message(name: &str, text: &str) -> usize {
    let root = Resource::from_xml_with(text.as_bytes(), &ReadOptions::lenient())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .value;
    let mut all = Vec::new();
    resources(&root, "Bundle".to_owned(), &mut all);
    let mut checked = 0;
    for (at, r) in all {
        for url in profiles_of(&r) {
            let back = through_typed(&url, r.clone())
                .unwrap_or_else(|| panic!("{name} {at}: no typed profile for {url}"))
                .unwrap_or_else(|f| panic!("{name} {at}: {url}: {f:#?}"));
            assert_eq!(back, r, "{name} {at}: {url} did not come back unchanged");
            // The same in JSON text, so a difference would show.
            assert_eq!(back.to_json(), r.to_json(), "{name} {at}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn fixture_message_round_trips_through_every_typed_profile() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/send-document-valid.xml");
    let text = std::fs::read_to_string(&path).unwrap();
    // Message bundle, header, header organization, document bundle and its five resources.
    assert_eq!(check_message("send-document-valid.xml", &text), 9);
}

#[test]
fn nhs_examples_round_trip_through_their_typed_profiles() {
    let dir = shared_dir().join("examples");
    let mut total = 0;
    for name in [
        "v1.3.0-release_consultation_report.xml",
        "ITK3-response-10009.xml",
        "ITK3-response-20009.xml",
        "ITK3-response-20013.xml",
        "ITK3-response-30001.xml",
    ] {
        let text = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()));
        let n = check_message(name, &text);
        assert!(n > 0, "{name}: no resource named a profile");
        total += n;
    }
    println!("{total} resources read into their typed profiles and back unchanged");
}
