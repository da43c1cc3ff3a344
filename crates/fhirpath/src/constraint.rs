//! Evaluating FHIR invariants (`ElementDefinition.constraint.expression`) to a
//! pass / fail outcome.

use fhir_runtime::Node;

use crate::ast::{BinaryOp, Expr};
use crate::env::Env;
use crate::eval::evaluate;
use crate::parser::{parse, ParseError};
use crate::value::Item;

/// The outcome of evaluating an invariant on one element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstraintOutcome {
    /// The invariant holds (a `true` result, or an empty one: see
    /// [`evaluate_constraint`]).
    Pass,
    /// The invariant is violated (a `false` result).
    Fail,
    /// The expression could not be parsed or evaluated; the reason says why (an
    /// unsupported function, a type error, several items where one was needed).
    NotEvaluated(String),
}

/// The STU3 text of `ele-1`, which uses `|` where `or` is meant.
pub const ELE_1_STU3: &str = "hasValue() | (children().count() > id.count())";

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Parses an invariant's expression, repairing the one known defect of STU3:
/// `ele-1` (`hasValue() | (children().count() > id.count())`) is parsed with `or`
/// in place of the union `|`, which is what it means ("an element has a value or
/// children other than `id`") and what R4 changed it to. Read literally it gives a
/// collection of two Booleans, which is not a verdict.
pub fn parse_constraint(expression: &str) -> Result<Expr, ParseError> {
    let e = parse(expression)?;
    if squash(expression) == squash(ELE_1_STU3) {
        if let Expr::Binary(BinaryOp::Union, l, r) = e {
            return Ok(Expr::Binary(BinaryOp::Or, l, r));
        }
    }
    Ok(e)
}

/// Parses (see [`parse_constraint`]) and evaluates an invariant on `focus` (the
/// element the constraint is declared on), turning the result into an outcome.
///
/// Rules:
/// - a single `true` passes and a single `false` fails;
/// - an **empty result passes**: FHIRPath gives empty when it cannot decide
///   (comparing `2017-01` with `2017-01-05`, a primitive without a value, a
///   `resolve()` that finds nothing), and an invariant is only violated when it
///   evaluates to `false`;
/// - a single non-Boolean item counts as `true` (FHIRPath's singleton rule);
/// - several items (an ill-formed invariant): pass if any item is `true` or
///   non-Boolean, fail when all are `false` — the reading of `|` as `or`;
/// - a parse or evaluation error is [`ConstraintOutcome::NotEvaluated`] with the
///   message, never a pass or a fail.
pub fn evaluate_constraint<'a>(
    expression: &str,
    focus: &'a Node,
    env: &Env<'a>,
) -> ConstraintOutcome {
    match parse_constraint(expression) {
        Ok(e) => evaluate_constraint_expr(&e, focus, env),
        Err(err) => ConstraintOutcome::NotEvaluated(format!("cannot parse: {err}")),
    }
}

/// [`evaluate_constraint`] with an expression parsed beforehand by
/// [`parse_constraint`] (to parse each invariant once and apply it to many
/// elements).
pub fn evaluate_constraint_expr<'a>(
    expr: &Expr,
    focus: &'a Node,
    env: &Env<'a>,
) -> ConstraintOutcome {
    match evaluate(expr, focus, env) {
        Err(e) => ConstraintOutcome::NotEvaluated(e.to_string()),
        Ok(items) => outcome(&items),
    }
}

fn outcome(items: &[Item<'_>]) -> ConstraintOutcome {
    if items.is_empty() {
        return ConstraintOutcome::Pass;
    }
    let truthy = |i: &Item<'_>| !matches!(i.to_system(), Some(Item::Boolean(false)));
    if items.iter().any(truthy) {
        ConstraintOutcome::Pass
    } else {
        ConstraintOutcome::Fail
    }
}
