//! Every invariant expression of the three FHIR packages parses.

mod common;

use fhirpath::{parse, parse_constraint, BinaryOp, Expr, ELE_1_STU3};

#[test]
fn every_invariant_expression_parses() {
    let all = common::all_expressions();
    assert_eq!(
        all.len(),
        186,
        "distinct invariant expressions across the three packages"
    );
    let mut failures = Vec::new();
    for (expr, keys) in &all {
        if let Err(e) = parse(expr) {
            failures.push(format!("{keys:?} `{expr}`: {e}"));
        }
    }
    assert!(failures.is_empty(), "not parsed:\n{}", failures.join("\n"));
    // ele-1 is among them, and is read as `or`
    assert!(all.contains_key(ELE_1_STU3));
    assert!(matches!(
        parse(ELE_1_STU3).unwrap(),
        Expr::Binary(BinaryOp::Union, _, _)
    ));
    assert!(matches!(
        parse_constraint(ELE_1_STU3).unwrap(),
        Expr::Binary(BinaryOp::Or, _, _)
    ));
}
