//! No input makes the parser or the evaluator panic: random token soups and
//! mutations of the real invariants are parsed and evaluated.

mod common;

use fhir_stu3::Resource;
use fhirpath::{evaluate, parse, Env};

const TOKENS: &[&str] = &[
    "name",
    "given",
    "value",
    "Patient",
    "$this",
    "$index",
    "$total",
    "%resource",
    "%ucum",
    "%context",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ".",
    ",",
    "0",
    "1",
    "-1",
    "1.5",
    "'a'",
    "'x y'",
    "@2017",
    "@2017-01-02T10:00",
    "@T10",
    "4 'mg'",
    "1 year",
    "true",
    "false",
    "+",
    "-",
    "*",
    "/",
    "div",
    "mod",
    "&",
    "|",
    "<",
    ">",
    "<=",
    ">=",
    "=",
    "~",
    "!=",
    "!~",
    "in",
    "contains",
    "and",
    "or",
    "xor",
    "implies",
    "is",
    "as",
    "Quantity",
    "where(",
    "select(",
    "exists(",
    "empty()",
    "count()",
    "first()",
    "substring(",
    "matches(",
    "resolve()",
    "children()",
    "descendants()",
    "repeat(",
    "iif(",
    "aggregate(",
    "toInteger()",
    "not()",
    "trace(",
    "htmlchecks()",
    "ofType(",
    "single()",
    "'\\u00e9'",
    "`div`",
    "'(['",
];

#[test]
fn random_expressions_never_panic() {
    let json = br#"{"resourceType":"Patient","id":"p","active":true,
      "name":[{"family":"F","given":["A","B"]}],"birthDate":"1970-01",
      "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}}"#;
    let tree = Resource::from_json(json).unwrap().to_tree();
    let env = Env::new(&tree);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut parsed, mut evaluated) = (0, 0);
    for _ in 0..20_000 {
        let len = 1 + (next() % 12) as usize;
        let expr: Vec<&str> = (0..len)
            .map(|_| TOKENS[(next() % TOKENS.len() as u64) as usize])
            .collect();
        let expr = expr.join(" ");
        if let Ok(e) = parse(&expr) {
            parsed += 1;
            if evaluate(&e, &tree, &env).is_ok() {
                evaluated += 1;
            }
        }
    }
    // the soup is not all rejected
    assert!(parsed > 1_000 && evaluated > 500, "{parsed} {evaluated}");
}

#[test]
fn truncated_and_mutated_invariants_never_panic() {
    let json = br#"{"resourceType":"Observation","status":"final","code":{"text":"x"},
      "valueQuantity":{"value":1,"unit":"mg"}}"#;
    let tree = Resource::from_json(json).unwrap().to_tree();
    let env = Env::new(&tree);
    for expr in common::all_expressions().keys() {
        let chars: Vec<char> = expr.chars().collect();
        for cut in 0..chars.len() {
            let prefix: String = chars[..cut].iter().collect();
            if let Ok(e) = parse(&prefix) {
                let _ = evaluate(&e, &tree, &env);
            }
            let mut dropped = chars.clone();
            dropped.remove(cut);
            let dropped: String = dropped.into_iter().collect();
            if let Ok(e) = parse(&dropped) {
                let _ = evaluate(&e, &tree, &env);
            }
        }
    }
}
