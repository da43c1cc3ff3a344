//! Every one of the 186 invariant expressions evaluates (never `NotEvaluated`) on
//! crafted elements of the type it is declared on: once empty, once with every
//! child element present with a plausible value. Together with the examples
//! (`invariants_examples.rs`) this evaluates each expression at least once.

mod common;

use std::collections::BTreeMap;

use fhir_runtime::Node;
use fhirpath::{evaluate_constraint, ConstraintOutcome, Env};
use serde_json::Value;

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn sample_value(t: &str) -> Option<&'static str> {
    Some(match t {
        "boolean" => "true",
        "integer" | "unsignedInt" | "positiveInt" => "1",
        "decimal" => "1.5",
        "date" => "2017-01-01",
        "dateTime" | "instant" => "2017-01-01T10:00:00Z",
        "time" => "10:00:00",
        "xhtml" => "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>",
        t if t.starts_with(|c: char| c.is_ascii_lowercase()) => "x",
        _ => return None,
    })
}

/// A node for the element at `path` of `sd` (its type from the definition).
fn node_for(sd: &Value, path: &str, populated: bool) -> Node {
    let elements = sd["snapshot"]["element"].as_array().unwrap();
    let el = elements.iter().find(|e| e["path"] == path).unwrap();
    let is_root = !path.contains('.');
    let type_code = el["type"][0]["code"].as_str().unwrap_or("Element");
    let type_name = if is_root {
        leak(sd["type"].as_str().unwrap())
    } else if type_code == "BackboneElement" || type_code == "Element" {
        leak(path)
    } else {
        leak(type_code)
    };
    let name = leak(path.rsplit('.').next().unwrap().trim_end_matches("[x]"));
    let mut n = Node::new(name, type_name);
    n.is_resource = is_root && sd["kind"] == "resource";
    n.value = sample_value(type_name).map(str::to_string);
    if populated {
        let prefix = format!("{path}.");
        for e in elements {
            let p = e["path"].as_str().unwrap();
            if let Some(rest) = p.strip_prefix(&prefix) {
                if !rest.contains('.') && e["max"] != "0" {
                    let mut child = node_for(sd, p, false);
                    if p.ends_with("[x]") {
                        let t = e["type"][0]["code"].as_str().unwrap_or("string");
                        let mut c = t.chars();
                        let upper: String = c.next().unwrap().to_uppercase().chain(c).collect();
                        child.choice_type = leak(&upper);
                    }
                    n.children.push(child);
                }
            }
        }
    }
    n
}

#[test]
fn every_invariant_evaluates_on_crafted_elements() {
    // where each expression is first declared: (package, SD, element path)
    let mut first: BTreeMap<String, (Value, String)> = BTreeMap::new();
    for p in common::PACKAGES {
        for (_, sd) in common::structure_definitions(p) {
            if sd["snapshot"]["element"].as_array().is_none() {
                continue;
            }
            for e in sd["snapshot"]["element"].as_array().unwrap() {
                for (_, expr) in common::constraints(e) {
                    first
                        .entry(expr)
                        .or_insert_with(|| (sd.clone(), e["path"].as_str().unwrap().to_string()));
                }
            }
        }
    }
    let all = common::all_expressions();
    assert_eq!(all.len(), 186);
    let missing: Vec<_> = all.keys().filter(|e| !first.contains_key(*e)).collect();
    assert!(
        missing.is_empty(),
        "expressions only in differentials: {missing:?}"
    );

    let mut problems = Vec::new();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for (expr, (sd, path)) in &first {
        for populated in [false, true] {
            let focus = node_for(sd, path, populated);
            let env = Env::new(&focus);
            let o = evaluate_constraint(expr, &focus, &env);
            match &o {
                ConstraintOutcome::NotEvaluated(why) => {
                    problems.push(format!("{path} (populated: {populated}) `{expr}`: {why}"))
                }
                ConstraintOutcome::Pass => *outcomes.entry("pass").or_default() += 1,
                ConstraintOutcome::Fail => *outcomes.entry("fail").or_default() += 1,
            }
        }
    }
    eprintln!(
        "{} evaluations on crafted elements: {outcomes:?}",
        first.len() * 2
    );
    assert!(
        problems.is_empty(),
        "not evaluated:\n{}",
        problems.join("\n")
    );
    // both outcomes occur: the crafted elements exercise the expressions
    assert!(
        outcomes["pass"] > 150 && outcomes["fail"] > 20,
        "{outcomes:?}"
    );
}
