//! `Env::resolve`: the reference resolution of `resolve()`, for callers outside
//! FHIRPath (the validator's reference target checks).

use fhir_runtime::Node;
use fhir_stu3::Resource;
use fhirpath::{evaluate, parse, Env, Item};

fn tree(json: &str) -> Node {
    Resource::from_json(json.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
        .to_tree()
}

/// A message-like Bundle: a Bundle entry inside holds its own entries, some
/// with the same type and id as entries of the outer Bundle.
const NESTED: &str = r##"{"resourceType":"Bundle","type":"message","entry":[
  {"fullUrl":"urn:uuid:0d0d5f6e-3b1c-4c1e-9a55-1f7d8e2b3a01",
   "resource":{"resourceType":"MessageHeader","id":"h",
     "event":{"code":"x"},"timestamp":"2020-01-01T00:00:00Z","source":{"endpoint":"e"},
     "sender":{"reference":"Organization/o"},
     "focus":[{"reference":"urn:uuid:0d0d5f6e-3b1c-4c1e-9a55-1f7d8e2b3a02"}]}},
  {"fullUrl":"http://a.org/fhir/Organization/o",
   "resource":{"resourceType":"Organization","id":"o","name":"outer"}},
  {"fullUrl":"urn:uuid:0d0d5f6e-3b1c-4c1e-9a55-1f7d8e2b3a02",
   "resource":{"resourceType":"Bundle","id":"doc","type":"document","entry":[
     {"fullUrl":"urn:uuid:0d0d5f6e-3b1c-4c1e-9a55-1f7d8e2b3a03",
      "resource":{"resourceType":"Composition","id":"c",
        "contained":[{"resourceType":"Practitioner","id":"p1"}],
        "status":"final","type":{"text":"t"},"date":"2020","title":"t",
        "subject":{"reference":"Organization/o"},
        "author":[{"reference":"#p1"},{"reference":"#"},{"reference":"#nothing"},
                  {"reference":"Organization/o/_history/2"},
                  {"reference":"http://b.org/fhir/Organization/o"},
                  {"reference":"urn:oid:1.2.3"},
                  {"reference":"urn:uuid:0d0d5f6e-3b1c-4c1e-9a55-1f7d8e2b3a01"}]}},
     {"fullUrl":"urn:oid:1.2.3",
      "resource":{"resourceType":"Organization","id":"o","name":"inner"}},
     {"fullUrl":"urn:oid:1.2.3",
      "resource":{"resourceType":"Organization","id":"o2","name":"second with the same fullUrl"}}]}}]}"##;

/// What `resolve()` and `Env::resolve` give for the reference text at `from`:
/// a resource's type, id and name (or `-`).
fn both<'a>(env: &Env<'a>, from: &'a Node) -> (String, String) {
    let text = from.child_value("reference").unwrap();
    let show = |n: Option<&Node>| match n {
        Some(n) => format!(
            "{}/{}/{}",
            n.type_name,
            n.child_value("id").unwrap_or("-"),
            n.child_value("name").unwrap_or("-")
        ),
        None => "-".to_owned(),
    };
    let api = show(env.resolve(from, text));
    let items = evaluate(&parse("resolve()").unwrap(), from, env).unwrap();
    let fhirpath = show(items.first().and_then(Item::as_node));
    assert!(items.len() <= 1);
    (api, fhirpath)
}

#[test]
fn env_resolve_is_resolve_and_looks_in_the_nearest_bundle_first() {
    let root = tree(NESTED);
    let env = Env::new(&root);
    let entries: Vec<&Node> = root.children_named("entry").collect();
    let header = entries[0].child("resource").unwrap();
    let doc = entries[2].child("resource").unwrap();
    let composition = doc.child("entry").unwrap().child("resource").unwrap();
    let cases: Vec<(&Node, &str)> = vec![
        // In the message Bundle: the outer Organization, the document Bundle.
        (header.child("sender").unwrap(), "Organization/o/outer"),
        (header.child("focus").unwrap(), "Bundle/doc/-"),
        // In the document Bundle, the nearest Bundle first: the inner Organization
        // (by type and id), not the outer one with the same type and id.
        (
            composition.child("subject").unwrap(),
            "Organization/o/inner",
        ),
    ];
    let authors: Vec<&Node> = composition.children_named("author").collect();
    let expected = [
        "Practitioner/p1/-",    // #p1: contained
        "Composition/c/-",      // #: the container
        "-",                    // #nothing
        "Organization/o/inner", // history ignored
        // absolute `…/Type/id`: an entry whose fullUrl ends with `/Type/id`, in
        // the nearest Bundle that has one (here the outer)
        "Organization/o/outer",
        "Organization/o/inner", // urn:oid: the first entry with the fullUrl
        "MessageHeader/h/-",    // the enclosing message Bundle
    ];
    for (case, want) in cases
        .into_iter()
        .chain(authors.iter().copied().zip(expected))
    {
        let (api, fhirpath) = both(&env, case);
        assert_eq!(api, fhirpath, "{:?}", case.child_value("reference"));
        assert_eq!(api, want, "{:?}", case.child_value("reference"));
    }
    // Environments derived for a resource resolve the same way.
    let derived = env.for_resource(composition);
    assert_eq!(
        derived
            .resolve(authors[5], "urn:oid:1.2.3")
            .and_then(|n| n.child_value("name")),
        Some("inner")
    );
    // A node outside the environment's tree resolves only `#` references of its own.
    let loose = tree(r#"{"resourceType":"Patient","id":"x"}"#);
    assert!(env.resolve(&loose, "Organization/o").is_none());
    assert_eq!(
        env.resolve(&loose, "#").map(|n| n.type_name),
        Some("Patient")
    );
}

#[test]
fn the_first_entry_that_matches_wins_whichever_way_it_matches() {
    // Entry 0 matches `Patient/p` by type and id, entry 1 by its fullUrl.
    let b = tree(
        r#"{"resourceType":"Bundle","type":"collection","entry":[
          {"fullUrl":"urn:uuid:8f6b2c1d-0a4e-4b7f-9c3d-5e2a1b0c9d01",
           "resource":{"resourceType":"Patient","id":"p","gender":"male"}},
          {"fullUrl":"Patient/p",
           "resource":{"resourceType":"Patient","id":"q","gender":"female"}},
          {"fullUrl":"urn:uuid:8f6b2c1d-0a4e-4b7f-9c3d-5e2a1b0c9d03",
           "resource":{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},
             "subject":{"reference":"Patient/p"},
             "performer":[{"reference":"Patient/q"}]}}]}"#,
    );
    let env = Env::new(&b);
    let obs = b
        .children_named("entry")
        .nth(2)
        .unwrap()
        .child("resource")
        .unwrap();
    let subject = obs.child("subject").unwrap();
    let performer = obs.child("performer").unwrap();
    fn gender(n: Option<&Node>) -> Option<&str> {
        n.and_then(|n| n.child_value("gender"))
    }
    assert_eq!(gender(env.resolve(subject, "Patient/p")), Some("male"));
    assert_eq!(gender(env.resolve(performer, "Patient/q")), Some("female"));
    let (api, fhirpath) = both(&env, subject);
    assert_eq!(api, fhirpath);
}
