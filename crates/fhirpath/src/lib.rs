//! FHIRPath for FHIR STU3: a parser and an evaluator over the format-neutral
//! element tree ([`fhir_runtime::Node`]), and the evaluation of FHIR invariants.
//!
//! ```
//! use fhir_runtime::Node;
//! use fhirpath::{evaluate, parse, Env, Item};
//!
//! // Patient { birthDate: 1970-01 }
//! let mut patient = Node::new("Patient", "Patient");
//! patient.is_resource = true;
//! let mut bd = Node::new("birthDate", "date");
//! bd.value = Some("1970-01".into());
//! patient.children.push(bd);
//!
//! let env = Env::new(&patient);
//! let e = parse("Patient.birthDate < @1970-02-03").unwrap();
//! assert_eq!(evaluate(&e, &patient, &env).unwrap(), vec![Item::Boolean(true)]);
//! // Different precisions that cannot be ordered give empty.
//! let e = parse("birthDate < @1970-01-03").unwrap();
//! assert_eq!(evaluate(&e, &patient, &env).unwrap(), vec![]);
//! ```
//!
//! # Grammar
//!
//! The whole normative grammar (FHIRPath N1, as used by FHIR STU3 and R4) is parsed
//! into the plain enum [`Expr`]: literals (`true`, `'string'` with all escapes,
//! integers, decimals, `@2017`, `@2017-01-02T10:00:00.000+01:00`, `@2017T`, `@T10:00`,
//! quantities `4 'mg'` and `1 year`, `{}`), identifiers (also backtick-delimited, and
//! the keywords `as`, `is`, `contains`, `in`, `div`... where a name is expected),
//! `$this`, `$index`, `$total`, external constants (`%resource`, `%\`vs-x\``,
//! `%'x'`), invocation chains, indexers, function calls, unary `+`/`-`, comments,
//! and every operator with the normative precedence (highest first): `.` `[]`;
//! unary `+ -`; `* / div mod`; `+ - &`; `is as`; `|`; `< > <= >=`; `= ~ != !~`;
//! `in contains`; `and`; `xor or`; `implies`, all left-associative. The type after
//! `is`/`as` is a name, optionally qualified by `FHIR.` or `System.`. Errors
//! ([`ParseError`]) give the 0-based character position and what was expected;
//! nesting is limited to [`MAX_DEPTH`] levels (an error, not a stack overflow).
//!
//! # Evaluation
//!
//! Items ([`Item`]) are borrowed tree nodes or system values (Boolean, Integer,
//! exact [`Decimal`], String, Date/DateTime/Time of partial precision, Quantity).
//! Navigation by child name matches a choice element by its base name (`value`) or
//! its full name (`valueQuantity`); a first step naming the type of the context
//! (`Patient.name` on a Patient) selects the context itself. FHIR primitives convert
//! to system values by their FHIR type when an operator or function needs a value.
//! Logic is three-valued, empty propagates through operators, and singleton
//! evaluation follows the specification. Equality compares numbers numerically,
//! dates by precision (different precisions give empty, `~` gives false), complex
//! elements deeply; a FHIR primitive compared with a string literal compares its
//! text (so STU3's `notGiven = 'false'` works on a boolean).
//!
//! Functions ([`SUPPORTED_FUNCTIONS`]): `empty exists all allTrue anyTrue allFalse
//! anyFalse subsetOf supersetOf isDistinct distinct count where select repeat
//! ofType single first last tail skip take intersect exclude union combine iif
//! toBoolean toInteger toDecimal toString toQuantity toDate toDateTime toTime` (and
//! their `convertsTo…`), `indexOf substring startsWith endsWith contains upper lower
//! replace matches replaceMatches length toChars trim abs ceiling floor round
//! truncate children descendants trace now today timeOfDay is as not aggregate`, and
//! FHIR's `extension(url) resolve() hasValue() htmlchecks()`. `matches()` uses the
//! `regex` crate and is true when the pattern matches anywhere (the invariants
//! anchor their patterns). `now()`/`today()` are in UTC.
//!
//! Not supported, each an [`EvalError::Unsupported`] (never a silent empty or
//! false): `memberOf()`, `conformsTo()`, `subsumes()`, `subsumedBy()`, other
//! terminology and profile functions, date/time arithmetic (`@2017 + 1 year`),
//! arithmetic and comparison of quantities across units (comparison gives empty),
//! `toQuantity(unit)`, `sqrt exp ln log power`, and R5 additions (`sort`, `split`,
//! `join`...). Unknown functions are `Unsupported` too.
//!
//! # Environment, `%resource` and `resolve()`
//!
//! [`Env`] holds the root of the tree (the resource read: for a message, the whole
//! Bundle). The caller passes only the focus node: the environment builds, once and
//! lazily, a map from each node's address to its parent, so the enclosing
//! resource of any node, and the chain of enclosing Bundles, are found by walking
//! up. `%resource` is the nearest resource containing the focus (a contained
//! resource or a Bundle entry's resource is its own `%resource`), `%rootResource`
//! the container of a contained resource, `%context` the focus, `%ucum`, `%sct`,
//! `%loinc` the code system URLs, `%vs-x`/`%ext-x` the HL7 URLs, and
//! [`Env::with_variable`] adds others. `resolve()` resolves `#id` to a contained
//! resource of the containing resource(s) (`#` to the container itself), and any
//! other reference to the `resource` of an entry of an enclosing Bundle whose
//! `fullUrl` equals it, or (relative `Type/id`, optionally `/_history/n`) whose
//! resource has that type and id. References that resolve to nothing give nothing.
//! The same resolution is public as [`Env::resolve`] (and [`Env::resolve_within`],
//! for a caller that knows the resources around the reference); a Bundle's entries
//! are looked up in an index built once per Bundle and environment.
//!
//! `trace(name[, projection])` returns its input; with [`Env::with_traces`] it
//! records what it saw ([`Env::traces`]).
//!
//! # `htmlchecks()`
//!
//! A native check of a narrative `div` ([`check_narrative`]): txt-1 (well-formed
//! XHTML rooted in `div`, only the elements and attributes of FHIR narrative — no
//! scripts, forms, event handler attributes `on*`, `javascript:` URLs, or style
//! attributes pulling external content) and txt-2 (some non-whitespace text or an
//! `img`). Both invariants are the expression `htmlchecks()`; it gives `false` if
//! either rule fails, and the issues found ([`NarrativeIssue`], naming the rule)
//! can be taken from the environment with [`Env::take_narrative_issues`].
//!
//! # Invariants
//!
//! [`evaluate_constraint`] gives a [`ConstraintOutcome`]: a single `true` passes,
//! `false` fails, **an empty result passes** (FHIRPath returns empty when something
//! cannot be determined, and an invariant is violated only when it is `false`), a
//! single non-Boolean item passes, several items pass if any is `true`/non-Boolean,
//! and any error is `NotEvaluated` with its reason. **ele-1**: STU3 writes it as
//! `hasValue() | (children().count() > id.count())`, a union where `or` is meant (R4
//! fixed it); [`parse_constraint`] evaluates it as `or`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod ast;
mod constraint;
mod env;
mod eval;
mod html;
mod parser;
mod types;
mod value;

pub use ast::{BinaryOp, Expr, Literal, TypeOp, TypeSpecifier, UnaryOp};
pub use constraint::{
    evaluate_constraint, evaluate_constraint_expr, parse_constraint, ConstraintOutcome, ELE_1_STU3,
};
pub use env::{Env, Trace};
pub use eval::{evaluate, evaluate_items, Collection, EvalError, MAX_ITEMS, SUPPORTED_FUNCTIONS};
pub use html::{
    check_narrative, NarrativeIssue, NarrativeRule, ALLOWED_ATTRIBUTES, ALLOWED_ELEMENTS,
};
pub use parser::{parse, ParseError, MAX_DEPTH};
pub use types::{fhir_type_of, is_of_type};
pub use value::{Decimal, Item, PartialTemporal, Quantity};
