//! The evaluator: FHIRPath collection semantics over `&Node` trees.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;

use fhir_runtime::Node;

use crate::ast::{BinaryOp, Expr, Literal, TypeOp, TypeSpecifier, UnaryOp};
use crate::env::{addr, resolve_reference, Env};
use crate::types::{fhir_type_of, is_of_type};
use crate::value::{civil_from_days, Decimal, Item, PartialTemporal, Quantity};

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// A function, operator or operand combination this evaluator does not
    /// implement (`memberOf()`, date arithmetic...). Never silently empty.
    Unsupported {
        /// What is not supported.
        what: String,
    },
    /// An operation needing at most one item got several.
    NotSingleton {
        /// The operation.
        what: String,
        /// How many items it got.
        count: usize,
    },
    /// Operands of types the operation does not accept.
    Type {
        /// What went wrong.
        message: String,
    },
    /// A function called with the wrong number or kind of arguments.
    Argument {
        /// The function.
        function: String,
        /// What was wrong.
        message: String,
    },
    /// `%name` that is not defined.
    UnknownVariable {
        /// The name.
        name: String,
    },
    /// A regular expression that does not compile.
    Regex {
        /// The pattern.
        pattern: String,
        /// The compiler's message.
        message: String,
    },
    /// A result grew beyond the evaluator's limit (`repeat()` on values that never
    /// end).
    TooLarge {
        /// What grew.
        what: String,
    },
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Unsupported { what } => write!(f, "not supported: {what}"),
            EvalError::NotSingleton { what, count } => {
                write!(f, "{what} needs at most one item, got {count}")
            }
            EvalError::Type { message } => write!(f, "type error: {message}"),
            EvalError::Argument { function, message } => write!(f, "{function}(): {message}"),
            EvalError::UnknownVariable { name } => write!(f, "unknown external constant %{name}"),
            EvalError::Regex { pattern, message } => {
                write!(f, "invalid regular expression `{pattern}`: {message}")
            }
            EvalError::TooLarge { what } => write!(f, "{what} grew beyond {MAX_ITEMS} items"),
        }
    }
}

impl std::error::Error for EvalError {}

/// The most items `repeat()` (and friends) may produce.
pub const MAX_ITEMS: usize = 100_000;

/// A collection of items.
pub type Collection<'a> = Vec<Item<'a>>;
type R<'a> = Result<Collection<'a>, EvalError>;

/// Evaluates `expr` with `focus` as the context (`$this` and `%context`).
pub fn evaluate<'a>(expr: &Expr, focus: &'a Node, env: &Env<'a>) -> R<'a> {
    let ev = Evaluator {
        env,
        context: focus,
    };
    ev.eval(expr, &[Item::Node(focus)], &Vars::default())
}

/// Evaluates `expr` on a collection of items (`$this` is the collection;
/// `%context` and `%resource` come from `env`'s root).
pub fn evaluate_items<'a>(expr: &Expr, input: &[Item<'a>], env: &Env<'a>) -> R<'a> {
    let context = input.iter().find_map(Item::as_node).unwrap_or(env.root());
    let ev = Evaluator { env, context };
    ev.eval(expr, input, &Vars::default())
}

#[derive(Clone, Default)]
struct Vars<'a> {
    index: Option<i64>,
    total: Option<Collection<'a>>,
}

struct Evaluator<'e, 'a> {
    env: &'e Env<'a>,
    context: &'a Node,
}

fn unsupported<T>(what: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError::Unsupported { what: what.into() })
}

fn type_err<T>(message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError::Type {
        message: message.into(),
    })
}

fn arg_err<T>(function: &str, message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError::Argument {
        function: function.into(),
        message: message.into(),
    })
}

fn singleton<'a>(c: Collection<'a>, what: &str) -> Result<Option<Item<'a>>, EvalError> {
    match c.len() {
        0 => Ok(None),
        1 => Ok(c.into_iter().next()),
        n => Err(EvalError::NotSingleton {
            what: what.into(),
            count: n,
        }),
    }
}

/// Singleton evaluation of a collection as a Boolean: empty is unknown, one
/// Boolean is itself, one other item is `true`, several are an error.
pub(crate) fn to_bool(c: &[Item<'_>], what: &str) -> Result<Option<bool>, EvalError> {
    match c.len() {
        0 => Ok(None),
        1 => Ok(match c[0].to_system() {
            Some(Item::Boolean(b)) => Some(b),
            None if c[0].as_node().is_some_and(Node::is_primitive) => None,
            _ => Some(true),
        }),
        n => Err(EvalError::NotSingleton {
            what: format!("{what} (as a Boolean)"),
            count: n,
        }),
    }
}

fn bool_coll<'a>(b: Option<bool>) -> Collection<'a> {
    b.map(Item::Boolean).into_iter().collect()
}

/// The children of a node with the given FHIRPath name (`value`) or full choice
/// name (`valueQuantity`).
fn children_named<'a, 'n>(n: &'a Node, name: &'n str) -> impl Iterator<Item = &'a Node> + 'n
where
    'a: 'n,
{
    n.children.iter().filter(move |c| {
        c.name == name
            || (!c.choice_type.is_empty()
                && name.len() == c.name.len() + c.choice_type.len()
                && name.starts_with(c.name)
                && name.ends_with(c.choice_type))
    })
}

fn navigate<'a>(items: &[Item<'a>], name: &str) -> Collection<'a> {
    let mut out = Vec::new();
    for it in items {
        if let Item::Node(n) = it {
            out.extend(children_named(n, name).map(Item::Node));
        }
    }
    out
}

/// Text of a string-like item: a System.String, or any FHIR primitive's value.
fn text_of(item: &Item<'_>) -> Option<String> {
    match item {
        Item::String(s) => Some(s.clone()),
        Item::Node(n) if n.is_primitive() => n.value.clone(),
        _ => None,
    }
}

/// `toString()` of one item.
fn to_string_item(item: &Item<'_>) -> Option<String> {
    match item {
        Item::Node(n) if n.is_primitive() => n.value.clone(),
        Item::Node(_) => match item.to_system() {
            Some(q @ Item::Quantity(_)) => to_string_item(&q),
            _ => None,
        },
        Item::Boolean(b) => Some(b.to_string()),
        Item::Integer(i) => Some(i.to_string()),
        Item::Decimal(d) => Some(d.to_string()),
        Item::String(s) => Some(s.clone()),
        Item::Date(t) | Item::DateTime(t) | Item::Time(t) => Some(t.text.clone()),
        Item::Quantity(q) => Some(q.to_string()),
    }
}

fn trace_text(item: &Item<'_>) -> String {
    to_string_item(item).unwrap_or_else(|| match item {
        Item::Node(n) => fhir_type_of(n),
        _ => String::new(),
    })
}

fn deep_eq(a: &Node, b: &Node) -> bool {
    // iterative: no stack growth on deep trees
    let mut stack = vec![(a, b)];
    while let Some((x, y)) = stack.pop() {
        if x.name != y.name || x.value != y.value || x.children.len() != y.children.len() {
            return false;
        }
        stack.extend(x.children.iter().zip(&y.children));
    }
    true
}

fn norm_ws_lower(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// FHIRPath `=` on two items: `None` when unknown (different date precisions,
/// incomparable units, primitives without values).
pub(crate) fn item_eq(a: &Item<'_>, b: &Item<'_>) -> Option<bool> {
    if let (Item::Node(x), Item::Node(y)) = (a, b) {
        if !x.is_primitive() && !y.is_primitive() {
            if std::ptr::eq(*x, *y) {
                return Some(true);
            }
            if let (Some(qa), Some(qb)) = (a.to_system(), b.to_system()) {
                if matches!(qa, Item::Quantity(_)) {
                    return system_eq(&qa, &qb);
                }
            }
            return Some(deep_eq(x, y));
        }
    }
    // A FHIR primitive compared with a string compares its text (`notGiven =
    // 'false'`, `code = '1'`), as the STU3 invariants expect.
    match (a, b) {
        (Item::Node(n), Item::String(s)) | (Item::String(s), Item::Node(n)) if n.is_primitive() => {
            return n.value.as_ref().map(|v| v == s);
        }
        _ => {}
    }
    let sa = a.to_system();
    let sb = b.to_system();
    match (sa, sb) {
        (Some(x), Some(y)) => system_eq(&x, &y),
        (None, _) if a.as_node().is_some_and(Node::is_primitive) => None,
        (_, None) if b.as_node().is_some_and(Node::is_primitive) => None,
        _ => Some(false),
    }
}

fn system_eq(a: &Item<'_>, b: &Item<'_>) -> Option<bool> {
    use Item::*;
    match (a, b) {
        (Boolean(x), Boolean(y)) => Some(x == y),
        (Integer(x), Integer(y)) => Some(x == y),
        (Integer(_) | Decimal(_), Integer(_) | Decimal(_)) => {
            Some(as_decimal(a)?.cmp_num(as_decimal(b)?) == Ordering::Equal)
        }
        (String(x), String(y)) => Some(x == y),
        (Date(x) | DateTime(x), Date(y) | DateTime(y)) | (Time(x), Time(y)) => {
            x.compare(y).map(|o| o == Ordering::Equal)
        }
        (Quantity(x), Quantity(y)) => x.compare(y).map(|o| o == Ordering::Equal),
        _ => Some(false),
    }
}

fn as_decimal(i: &Item<'_>) -> Option<Decimal> {
    match i {
        Item::Integer(n) => Some(Decimal::from_i64(*n)),
        Item::Decimal(d) => Some(*d),
        _ => None,
    }
}

/// FHIRPath `~` on two items.
fn item_equiv(a: &Item<'_>, b: &Item<'_>) -> bool {
    if let (Item::Node(x), Item::Node(y)) = (a, b) {
        if !x.is_primitive() && !y.is_primitive() {
            return deep_eq(x, y);
        }
    }
    match (a.to_system(), b.to_system()) {
        (Some(Item::String(x)), Some(Item::String(y))) => norm_ws_lower(&x) == norm_ws_lower(&y),
        (
            Some(x @ (Item::Integer(_) | Item::Decimal(_))),
            Some(y @ (Item::Integer(_) | Item::Decimal(_))),
        ) => {
            let (Some(dx), Some(dy)) = (as_decimal(&x), as_decimal(&y)) else {
                return false;
            };
            let s = dx.scale.min(dy.scale);
            dx.round(s).cmp_num(dy.round(s)) == Ordering::Equal
        }
        (Some(x), Some(y)) => system_eq(&x, &y) == Some(true),
        (None, None) => true,
        _ => false,
    }
}

fn collection_eq(a: &[Item<'_>], b: &[Item<'_>]) -> Option<bool> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a.len() != b.len() {
        return Some(false);
    }
    let mut unknown = false;
    for (x, y) in a.iter().zip(b) {
        match item_eq(x, y) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

fn collection_equiv(a: &[Item<'_>], b: &[Item<'_>]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    'outer: for x in a {
        for (j, y) in b.iter().enumerate() {
            if !used[j] && item_equiv(x, y) {
                used[j] = true;
                continue 'outer;
            }
        }
        return false;
    }
    true
}

fn contains_item(c: &[Item<'_>], x: &Item<'_>) -> bool {
    c.iter()
        .any(|y| same_item(x, y) || item_eq(x, y) == Some(true))
}

fn same_item(a: &Item<'_>, b: &Item<'_>) -> bool {
    matches!((a, b), (Item::Node(x), Item::Node(y)) if std::ptr::eq(*x, *y))
}

fn distinct<'a>(c: Collection<'a>) -> Collection<'a> {
    // System strings are equal exactly when their text is (`system_eq`): a hash
    // set instead of comparing each with every other. bdl-7 (`entry....select(
    // fullUrl&resource.meta.versionId).isDistinct()`) was quadratic in the entries.
    if c.iter().all(|x| matches!(x, Item::String(_))) {
        let mut seen: HashSet<&str> = HashSet::with_capacity(c.len());
        let keep: Vec<bool> = c
            .iter()
            .map(|x| matches!(x, Item::String(s) if seen.insert(s.as_str())))
            .collect();
        return c
            .into_iter()
            .zip(keep)
            .filter_map(|(x, k)| k.then_some(x))
            .collect();
    }
    let mut out: Collection<'a> = Vec::with_capacity(c.len());
    for x in c {
        if !contains_item(&out, &x) {
            out.push(x);
        }
    }
    out
}

fn compare_items(a: &Item<'_>, b: &Item<'_>, op: &str) -> Result<Option<Ordering>, EvalError> {
    use Item::*;
    let (Some(x), Some(y)) = (a.to_system(), b.to_system()) else {
        // a primitive without a value, or a quantity without one, is unknown
        let valueless = |i: &Item<'_>| {
            i.as_node()
                .is_some_and(|n| n.is_primitive() || crate::types::is_quantity_type(n.type_name))
        };
        if valueless(a) || valueless(b) {
            return Ok(None);
        }
        return type_err(format!(
            "cannot compare {} {op} {}",
            a.type_label(),
            b.type_label()
        ));
    };
    Ok(match (&x, &y) {
        (Integer(p), Integer(q)) => Some(p.cmp(q)),
        (Integer(_) | Decimal(_), Integer(_) | Decimal(_)) => as_decimal(&x)
            .zip(as_decimal(&y))
            .map(|(p, q)| p.cmp_num(q)),
        (String(p), String(q)) => Some(p.cmp(q)),
        (Date(p) | DateTime(p), Date(q) | DateTime(q)) | (Time(p), Time(q)) => p.compare(q),
        (Quantity(p), Quantity(q)) => p.compare(q),
        _ => {
            return type_err(format!(
                "cannot compare {} {op} {}",
                x.type_label(),
                y.type_label()
            ))
        }
    })
}

fn type_arg(e: &Expr) -> Option<TypeSpecifier> {
    match e {
        Expr::Identifier(n) => Some(TypeSpecifier {
            namespace: None,
            name: n.clone(),
        }),
        Expr::Member(t, n) => match t.as_ref() {
            Expr::Identifier(ns) => Some(TypeSpecifier {
                namespace: Some(ns.clone()),
                name: n.clone(),
            }),
            _ => None,
        },
        _ => None,
    }
}

/// The functions this evaluator implements (for documentation and tests).
pub const SUPPORTED_FUNCTIONS: &[&str] = &[
    "empty",
    "exists",
    "all",
    "allTrue",
    "anyTrue",
    "allFalse",
    "anyFalse",
    "subsetOf",
    "supersetOf",
    "isDistinct",
    "distinct",
    "count",
    "where",
    "select",
    "repeat",
    "ofType",
    "single",
    "first",
    "last",
    "tail",
    "skip",
    "take",
    "intersect",
    "exclude",
    "union",
    "combine",
    "iif",
    "toBoolean",
    "convertsToBoolean",
    "toInteger",
    "convertsToInteger",
    "toDecimal",
    "convertsToDecimal",
    "toString",
    "convertsToString",
    "toQuantity",
    "convertsToQuantity",
    "toDate",
    "convertsToDate",
    "toDateTime",
    "convertsToDateTime",
    "toTime",
    "convertsToTime",
    "indexOf",
    "substring",
    "startsWith",
    "endsWith",
    "contains",
    "upper",
    "lower",
    "replace",
    "matches",
    "replaceMatches",
    "length",
    "toChars",
    "trim",
    "abs",
    "ceiling",
    "floor",
    "round",
    "truncate",
    "children",
    "descendants",
    "trace",
    "now",
    "today",
    "timeOfDay",
    "is",
    "as",
    "not",
    "aggregate",
    "extension",
    "resolve",
    "hasValue",
    "htmlchecks",
];

impl<'e, 'a> Evaluator<'e, 'a> {
    fn eval(&self, e: &Expr, this: &[Item<'a>], vars: &Vars<'a>) -> R<'a> {
        match e {
            Expr::Literal(l) => Ok(literal(l)),
            Expr::Identifier(name) => {
                let mut out = Vec::new();
                for it in this {
                    if let Item::Node(n) = it {
                        if name.starts_with(|c: char| c.is_ascii_uppercase())
                            && fhir_type_of(n) == *name
                        {
                            out.push(it.clone());
                        } else {
                            out.extend(children_named(n, name).map(Item::Node));
                        }
                    }
                }
                Ok(out)
            }
            Expr::This => Ok(this.to_vec()),
            Expr::IndexVar => Ok(vars.index.map(Item::Integer).into_iter().collect()),
            Expr::Total => Ok(vars.total.clone().unwrap_or_default()),
            Expr::External(name) => self.external(name),
            Expr::Member(t, name) => Ok(navigate(&self.eval(t, this, vars)?, name)),
            Expr::Function { target, name, args } => {
                let input = match target {
                    Some(t) => self.eval(t, this, vars)?,
                    None => this.to_vec(),
                };
                self.call(name, input, args, this, vars)
            }
            Expr::Index(t, i) => {
                let base = self.eval(t, this, vars)?;
                let idx = singleton(self.eval(i, this, vars)?, "an indexer")?;
                match idx.as_ref().and_then(Item::to_system) {
                    None => Ok(Vec::new()),
                    Some(Item::Integer(n)) => Ok(usize::try_from(n)
                        .ok()
                        .and_then(|n| base.into_iter().nth(n))
                        .into_iter()
                        .collect()),
                    Some(other) => type_err(format!(
                        "an index must be an Integer, not {}",
                        other.type_label()
                    )),
                }
            }
            Expr::Unary(op, inner) => {
                let v = singleton(self.eval(inner, this, vars)?, "unary +/-")?;
                let Some(v) = v.and_then(|v| v.to_system()) else {
                    return Ok(Vec::new());
                };
                if *op == UnaryOp::Plus {
                    return Ok(vec![v]);
                }
                Ok(match v {
                    Item::Integer(i) => i.checked_neg().map(Item::Integer).into_iter().collect(),
                    Item::Decimal(d) => vec![Item::Decimal(Decimal {
                        mantissa: -d.mantissa,
                        scale: d.scale,
                    })],
                    Item::Quantity(q) => vec![Item::Quantity(Quantity {
                        value: Decimal {
                            mantissa: -q.value.mantissa,
                            scale: q.value.scale,
                        },
                        unit: q.unit,
                    })],
                    other => return type_err(format!("cannot negate {}", other.type_label())),
                })
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r, this, vars),
            Expr::Type(op, inner, spec) => {
                let v = self.eval(inner, this, vars)?;
                self.type_op(*op, v, spec)
            }
        }
    }

    fn type_op(&self, op: TypeOp, v: Collection<'a>, spec: &TypeSpecifier) -> R<'a> {
        let what = if op == TypeOp::Is { "is" } else { "as" };
        let Some(item) = singleton(v, what)? else {
            return Ok(Vec::new());
        };
        let ok = is_of_type(&item, spec);
        Ok(match op {
            TypeOp::Is => vec![Item::Boolean(ok)],
            TypeOp::As => {
                if ok {
                    vec![item]
                } else {
                    Vec::new()
                }
            }
        })
    }

    fn external(&self, name: &str) -> R<'a> {
        if let Some(v) = self.env.variable(name) {
            return Ok(v.clone());
        }
        let s = |v: &str| Ok(vec![Item::String(v.to_string())]);
        match name {
            "ucum" => s("http://unitsofmeasure.org"),
            "sct" => s("http://snomed.info/sct"),
            "loinc" => s("http://loinc.org"),
            "context" => Ok(vec![Item::Node(self.context)]),
            "resource" => Ok(vec![Item::Node(self.env.enclosing_resource(self.context))]),
            "rootResource" => {
                let r = self.env.enclosing_resource(self.context);
                let outer = if r.name == "contained" {
                    self.env
                        .parent_of(r)
                        .map(|p| self.env.enclosing_resource(p))
                        .unwrap_or(r)
                } else {
                    r
                };
                Ok(vec![Item::Node(outer)])
            }
            n if n.starts_with("vs-") => s(&format!("http://hl7.org/fhir/ValueSet/{}", &n[3..])),
            n if n.starts_with("ext-") => s(&format!(
                "http://hl7.org/fhir/StructureDefinition/{}",
                &n[4..]
            )),
            _ => Err(EvalError::UnknownVariable { name: name.into() }),
        }
    }

    fn binary(
        &self,
        op: BinaryOp,
        l: &Expr,
        r: &Expr,
        this: &[Item<'a>],
        vars: &Vars<'a>,
    ) -> R<'a> {
        use BinaryOp::*;
        let what = op.symbol();
        match op {
            And | Or | Xor | Implies => {
                let a = to_bool(&self.eval(l, this, vars)?, what)?;
                // short-circuit where the left side decides
                match (op, a) {
                    (And, Some(false)) => return Ok(bool_coll(Some(false))),
                    (Or, Some(true)) => return Ok(bool_coll(Some(true))),
                    (Implies, Some(false)) => return Ok(bool_coll(Some(true))),
                    _ => {}
                }
                let b = to_bool(&self.eval(r, this, vars)?, what)?;
                let res = match op {
                    And => match (a, b) {
                        (Some(false), _) | (_, Some(false)) => Some(false),
                        (Some(true), Some(true)) => Some(true),
                        _ => None,
                    },
                    Or => match (a, b) {
                        (Some(true), _) | (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    },
                    Xor => match (a, b) {
                        (Some(x), Some(y)) => Some(x != y),
                        _ => None,
                    },
                    _ => match (a, b) {
                        (Some(true), b) => b,
                        (None, Some(true)) => Some(true),
                        _ => None,
                    },
                };
                return Ok(bool_coll(res));
            }
            _ => {}
        }
        let a = self.eval(l, this, vars)?;
        let b = self.eval(r, this, vars)?;
        match op {
            Union => {
                let mut all = a;
                all.extend(b);
                Ok(distinct(all))
            }
            Eq => Ok(bool_coll(collection_eq(&a, &b))),
            Ne => Ok(bool_coll(collection_eq(&a, &b).map(|x| !x))),
            Equiv => Ok(vec![Item::Boolean(collection_equiv(&a, &b))]),
            NotEquiv => Ok(vec![Item::Boolean(!collection_equiv(&a, &b))]),
            In | Contains => {
                let (item, coll) = if op == In { (a, b) } else { (b, a) };
                let Some(item) = singleton(item, what)? else {
                    return Ok(Vec::new());
                };
                Ok(vec![Item::Boolean(contains_item(&coll, &item))])
            }
            Lt | Gt | Le | Ge => {
                let (Some(x), Some(y)) = (singleton(a, what)?, singleton(b, what)?) else {
                    return Ok(Vec::new());
                };
                let Some(o) = compare_items(&x, &y, what)? else {
                    return Ok(Vec::new());
                };
                let res = match op {
                    Lt => o == Ordering::Less,
                    Gt => o == Ordering::Greater,
                    Le => o != Ordering::Greater,
                    _ => o != Ordering::Less,
                };
                Ok(vec![Item::Boolean(res)])
            }
            Concat => {
                let x = singleton(a, what)?;
                let y = singleton(b, what)?;
                let t = |i: Option<Item<'a>>| -> Result<String, EvalError> {
                    match i {
                        None => Ok(String::new()),
                        Some(i) => match text_of(&i) {
                            Some(s) => Ok(s),
                            None => type_err(format!("& needs strings, got {}", i.type_label())),
                        },
                    }
                };
                Ok(vec![Item::String(t(x)? + &t(y)?)])
            }
            Add | Sub | Mul | Div | IntDiv | Mod => {
                let (Some(x), Some(y)) = (singleton(a, what)?, singleton(b, what)?) else {
                    return Ok(Vec::new());
                };
                let (Some(x), Some(y)) = (x.to_system(), y.to_system()) else {
                    return Ok(Vec::new());
                };
                arithmetic(op, x, y)
            }
            _ => unsupported(format!("operator {what}")),
        }
    }

    fn call(
        &self,
        name: &str,
        input: Collection<'a>,
        args: &[Expr],
        this: &[Item<'a>],
        vars: &Vars<'a>,
    ) -> R<'a> {
        let nargs = |n: std::ops::RangeInclusive<usize>| -> Result<(), EvalError> {
            if n.contains(&args.len()) {
                Ok(())
            } else if n.start() == n.end() {
                arg_err(
                    name,
                    format!("expects {} argument(s), got {}", n.start(), args.len()),
                )
            } else {
                arg_err(
                    name,
                    format!(
                        "expects {} to {} arguments, got {}",
                        n.start(),
                        n.end(),
                        args.len()
                    ),
                )
            }
        };
        // an argument evaluated in the caller's context
        let arg = |i: usize| self.eval(&args[i], this, vars);
        let arg_string = |i: usize| -> Result<Option<String>, EvalError> {
            match singleton(arg(i)?, name)? {
                None => Ok(None),
                Some(v) => match text_of(&v) {
                    Some(s) => Ok(Some(s)),
                    None => arg_err(name, format!("argument {} must be a String", i + 1)),
                },
            }
        };
        let arg_int = |i: usize| -> Result<Option<i64>, EvalError> {
            match singleton(arg(i)?, name)?.and_then(|v| v.to_system()) {
                None => Ok(None),
                Some(Item::Integer(n)) => Ok(Some(n)),
                Some(_) => arg_err(name, format!("argument {} must be an Integer", i + 1)),
            }
        };
        let input_string = |input: Collection<'a>| -> Result<Option<String>, EvalError> {
            match singleton(input, name)? {
                None => Ok(None),
                Some(v) => match text_of(&v) {
                    Some(s) => Ok(Some(s)),
                    None => type_err(format!("{name}() needs a String, got {}", v.type_label())),
                },
            }
        };
        let b = |v: bool| Ok(vec![Item::Boolean(v)]);
        match name {
            // ---- existence
            "empty" => {
                nargs(0..=0)?;
                b(input.is_empty())
            }
            "exists" => {
                nargs(0..=1)?;
                if args.is_empty() {
                    return b(!input.is_empty());
                }
                b(!self.filter(input, &args[0], vars, name)?.is_empty())
            }
            "all" => {
                nargs(1..=1)?;
                for (i, it) in input.iter().enumerate() {
                    let v = self.lambda(&args[0], it, i, vars)?;
                    if to_bool(&v, name)? != Some(true) {
                        return b(false);
                    }
                }
                b(true)
            }
            "allTrue" | "anyTrue" | "allFalse" | "anyFalse" => {
                nargs(0..=0)?;
                let mut vals = Vec::new();
                for it in &input {
                    match it.to_system() {
                        Some(Item::Boolean(v)) => vals.push(v),
                        _ => {
                            return type_err(format!(
                                "{name}() needs Booleans, got {}",
                                it.type_label()
                            ))
                        }
                    }
                }
                b(match name {
                    "allTrue" => vals.iter().all(|v| *v),
                    "anyTrue" => vals.iter().any(|v| *v),
                    "allFalse" => vals.iter().all(|v| !*v),
                    _ => vals.iter().any(|v| !*v),
                })
            }
            "subsetOf" | "supersetOf" => {
                nargs(1..=1)?;
                let other = arg(0)?;
                let (small, big) = if name == "subsetOf" {
                    (&input, &other)
                } else {
                    (&other, &input)
                };
                b(small.iter().all(|x| contains_item(big, x)))
            }
            "isDistinct" => {
                nargs(0..=0)?;
                let n = input.len();
                b(distinct(input).len() == n)
            }
            "distinct" => {
                nargs(0..=0)?;
                Ok(distinct(input))
            }
            "count" => {
                nargs(0..=0)?;
                Ok(vec![Item::Integer(input.len() as i64)])
            }
            "hasValue" => {
                nargs(0..=0)?;
                b(input.len() == 1
                    && match &input[0] {
                        Item::Node(n) => n.is_primitive() && n.value.is_some(),
                        _ => true,
                    })
            }
            // ---- filtering and projection
            "where" => {
                nargs(1..=1)?;
                self.filter(input, &args[0], vars, name)
            }
            "select" => {
                nargs(1..=1)?;
                let mut out = Vec::new();
                for (i, it) in input.iter().enumerate() {
                    out.extend(self.lambda(&args[0], it, i, vars)?);
                }
                Ok(out)
            }
            "repeat" => {
                nargs(1..=1)?;
                let mut out: Collection<'a> = Vec::new();
                let mut seen: HashSet<usize> = HashSet::new();
                let mut queue = input;
                while !queue.is_empty() {
                    let mut next = Vec::new();
                    for (i, it) in queue.iter().enumerate() {
                        for r in self.lambda(&args[0], it, i, vars)? {
                            let new = match &r {
                                Item::Node(n) => seen.insert(addr(n)),
                                other => !contains_item(&out, other),
                            };
                            if new {
                                out.push(r.clone());
                                next.push(r);
                            }
                        }
                        if out.len() > MAX_ITEMS {
                            return Err(EvalError::TooLarge {
                                what: "repeat()".into(),
                            });
                        }
                    }
                    queue = next;
                }
                Ok(out)
            }
            "ofType" => {
                nargs(1..=1)?;
                let Some(spec) = type_arg(&args[0]) else {
                    return arg_err(name, "expects a type name");
                };
                Ok(input.into_iter().filter(|i| is_of_type(i, &spec)).collect())
            }
            // ---- subsetting
            "single" => {
                nargs(0..=0)?;
                Ok(singleton(input, name)?.into_iter().collect())
            }
            "first" => {
                nargs(0..=0)?;
                Ok(input.into_iter().take(1).collect())
            }
            "last" => {
                nargs(0..=0)?;
                Ok(input.into_iter().last().into_iter().collect())
            }
            "tail" => {
                nargs(0..=0)?;
                Ok(input.into_iter().skip(1).collect())
            }
            "skip" | "take" => {
                nargs(1..=1)?;
                let Some(n) = arg_int(0)? else {
                    return Ok(if name == "skip" { input } else { Vec::new() });
                };
                let n = usize::try_from(n.max(0)).unwrap_or(0);
                Ok(if name == "skip" {
                    input.into_iter().skip(n).collect()
                } else {
                    input.into_iter().take(n).collect()
                })
            }
            "intersect" => {
                nargs(1..=1)?;
                let other = arg(0)?;
                Ok(distinct(
                    input
                        .into_iter()
                        .filter(|x| contains_item(&other, x))
                        .collect(),
                ))
            }
            "exclude" => {
                nargs(1..=1)?;
                let other = arg(0)?;
                Ok(input
                    .into_iter()
                    .filter(|x| !contains_item(&other, x))
                    .collect())
            }
            "union" => {
                nargs(1..=1)?;
                let mut all = input;
                all.extend(arg(0)?);
                Ok(distinct(all))
            }
            "combine" => {
                nargs(1..=1)?;
                let mut all = input;
                all.extend(arg(0)?);
                Ok(all)
            }
            // ---- utility
            "iif" => {
                nargs(2..=3)?;
                let ctx: &[Item<'a>] = if input.is_empty() && this.is_empty() {
                    this
                } else {
                    &input
                };
                let c = to_bool(&self.eval(&args[0], ctx, vars)?, name)?;
                if c == Some(true) {
                    self.eval(&args[1], this, vars)
                } else if args.len() == 3 {
                    self.eval(&args[2], this, vars)
                } else {
                    Ok(Vec::new())
                }
            }
            "trace" => {
                nargs(1..=2)?;
                let label = arg_string(0)?.unwrap_or_default();
                let shown = if args.len() == 2 {
                    let mut out = Vec::new();
                    for (i, it) in input.iter().enumerate() {
                        out.extend(self.lambda(&args[1], it, i, vars)?);
                    }
                    out
                } else {
                    input.clone()
                };
                self.env
                    .record_trace(label, || shown.iter().map(trace_text).collect());
                Ok(input)
            }
            "not" => {
                nargs(0..=0)?;
                Ok(bool_coll(to_bool(&input, name)?.map(|v| !v)))
            }
            "now" | "today" | "timeOfDay" => {
                nargs(0..=0)?;
                Ok(vec![now(name)])
            }
            "aggregate" => {
                nargs(1..=2)?;
                let mut total = if args.len() == 2 { arg(1)? } else { Vec::new() };
                for (i, it) in input.iter().enumerate() {
                    let v = Vars {
                        index: Some(i as i64),
                        total: Some(total),
                    };
                    total = self.eval(&args[0], std::slice::from_ref(it), &v)?;
                }
                Ok(total)
            }
            // ---- types
            "is" | "as" => {
                nargs(1..=1)?;
                let Some(spec) = type_arg(&args[0]) else {
                    return arg_err(name, "expects a type name");
                };
                if name == "as" {
                    // as() filters each item (a collection is allowed)
                    return Ok(input.into_iter().filter(|i| is_of_type(i, &spec)).collect());
                }
                self.type_op(TypeOp::Is, input, &spec)
            }
            // ---- conversions
            "toString" | "convertsToString" => {
                nargs(0..=0)?;
                let v = singleton(input, name)?.and_then(|i| to_string_item(&i));
                convert(name, v.map(Item::String))
            }
            "toInteger" | "convertsToInteger" => {
                nargs(0..=0)?;
                let v = singleton(input, name)?
                    .and_then(|i| i.to_system())
                    .and_then(|i| match i {
                        Item::Integer(n) => Some(Item::Integer(n)),
                        Item::Boolean(x) => Some(Item::Integer(i64::from(x))),
                        Item::String(s) => {
                            let t = s.strip_prefix('+').unwrap_or(&s);
                            let digits = t.strip_prefix('-').unwrap_or(t);
                            (!digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()))
                                .then(|| t.parse().ok().map(Item::Integer))
                                .flatten()
                        }
                        _ => None,
                    });
                convert(name, v)
            }
            "toDecimal" | "convertsToDecimal" => {
                nargs(0..=0)?;
                let v = singleton(input, name)?
                    .and_then(|i| i.to_system())
                    .and_then(|i| match i {
                        Item::Integer(n) => Some(Item::Decimal(Decimal::from_i64(n))),
                        Item::Decimal(d) => Some(Item::Decimal(d)),
                        Item::Boolean(x) => Some(Item::Decimal(Decimal::from_i64(i64::from(x)))),
                        Item::String(s) if !s.contains(['e', 'E']) => {
                            Decimal::parse(&s).map(Item::Decimal)
                        }
                        _ => None,
                    });
                convert(name, v)
            }
            "toBoolean" | "convertsToBoolean" => {
                nargs(0..=0)?;
                let v = singleton(input, name)?
                    .and_then(|i| i.to_system())
                    .and_then(|i| match i {
                        Item::Boolean(x) => Some(x),
                        Item::Integer(1) => Some(true),
                        Item::Integer(0) => Some(false),
                        Item::Decimal(d) => match d.to_integer() {
                            Some(1) => Some(true),
                            Some(0) => Some(false),
                            _ => None,
                        },
                        Item::String(s) => match s.to_lowercase().as_str() {
                            "true" | "t" | "yes" | "y" | "1" | "1.0" => Some(true),
                            "false" | "f" | "no" | "n" | "0" | "0.0" => Some(false),
                            _ => None,
                        },
                        _ => None,
                    });
                convert(name, v.map(Item::Boolean))
            }
            "toQuantity" | "convertsToQuantity" => {
                nargs(0..=1)?;
                if args.len() == 1 {
                    return unsupported("toQuantity(unit): unit conversion");
                }
                let v = singleton(input, name)?
                    .and_then(|i| i.to_system())
                    .and_then(|i| match i {
                        Item::Integer(n) => Some(Item::Quantity(Quantity {
                            value: Decimal::from_i64(n),
                            unit: "1".into(),
                        })),
                        Item::Decimal(d) => Some(Item::Quantity(Quantity {
                            value: d,
                            unit: "1".into(),
                        })),
                        q @ Item::Quantity(_) => Some(q),
                        Item::String(s) => parse_quantity(&s).map(Item::Quantity),
                        _ => None,
                    });
                convert(name, v)
            }
            "toDate" | "convertsToDate" | "toDateTime" | "convertsToDateTime" | "toTime"
            | "convertsToTime" => {
                nargs(0..=0)?;
                let target = name
                    .trim_start_matches("convertsTo")
                    .trim_start_matches("to");
                let v = singleton(input, name)?
                    .and_then(|i| i.to_system())
                    .and_then(|i| match (target, i) {
                        ("Date", Item::Date(d)) => Some(Item::Date(d)),
                        ("Date", Item::DateTime(d)) => {
                            let mut d = d;
                            d.hour = None;
                            d.minute = None;
                            d.second = None;
                            d.nanos = None;
                            d.tz_minutes = None;
                            d.text = d.text.split('T').next().unwrap_or("").to_string();
                            Some(Item::Date(d))
                        }
                        ("DateTime", Item::Date(d) | Item::DateTime(d)) => Some(Item::DateTime(d)),
                        ("Time", Item::Time(t)) => Some(Item::Time(t)),
                        ("Date", Item::String(s)) => PartialTemporal::parse_date_time(&s)
                            .filter(|d| d.hour.is_none() && !s.contains('T'))
                            .map(Item::Date),
                        ("DateTime", Item::String(s)) => {
                            PartialTemporal::parse_date_time(&s).map(Item::DateTime)
                        }
                        ("Time", Item::String(s)) => {
                            PartialTemporal::parse_time(&s).map(Item::Time)
                        }
                        _ => None,
                    });
                convert(name, v)
            }
            // ---- strings
            "indexOf" => {
                nargs(1..=1)?;
                let (Some(s), Some(sub)) = (input_string(input)?, arg_string(0)?) else {
                    return Ok(Vec::new());
                };
                let idx = s
                    .find(&sub)
                    .map(|b| s[..b].chars().count() as i64)
                    .unwrap_or(-1);
                Ok(vec![Item::Integer(idx)])
            }
            "substring" => {
                nargs(1..=2)?;
                let Some(s) = input_string(input)? else {
                    return Ok(Vec::new());
                };
                let Some(start) = arg_int(0)? else {
                    return Ok(Vec::new());
                };
                let chars: Vec<char> = s.chars().collect();
                if start < 0 || start as usize >= chars.len() {
                    return Ok(Vec::new());
                }
                let start = start as usize;
                let end = if args.len() == 2 {
                    match arg_int(1)? {
                        Some(l) if l <= 0 => start,
                        Some(l) => start.saturating_add(l as usize).min(chars.len()),
                        None => chars.len(),
                    }
                } else {
                    chars.len()
                };
                Ok(vec![Item::String(chars[start..end].iter().collect())])
            }
            "startsWith" | "endsWith" | "contains" => {
                nargs(1..=1)?;
                let (Some(s), Some(sub)) = (input_string(input)?, arg_string(0)?) else {
                    return Ok(Vec::new());
                };
                b(match name {
                    "startsWith" => s.starts_with(&sub),
                    "endsWith" => s.ends_with(&sub),
                    _ => s.contains(&sub),
                })
            }
            "upper" | "lower" | "trim" | "length" | "toChars" => {
                nargs(0..=0)?;
                let Some(s) = input_string(input)? else {
                    return Ok(Vec::new());
                };
                Ok(match name {
                    "upper" => vec![Item::String(s.to_uppercase())],
                    "lower" => vec![Item::String(s.to_lowercase())],
                    "trim" => vec![Item::String(s.trim().to_string())],
                    "length" => vec![Item::Integer(s.chars().count() as i64)],
                    _ => s.chars().map(|c| Item::String(c.to_string())).collect(),
                })
            }
            "replace" => {
                nargs(2..=2)?;
                let (Some(s), Some(p), Some(r)) =
                    (input_string(input)?, arg_string(0)?, arg_string(1)?)
                else {
                    return Ok(Vec::new());
                };
                Ok(vec![Item::String(s.replace(&p, &r))])
            }
            "matches" | "replaceMatches" => {
                nargs(if name == "matches" { 1..=1 } else { 2..=2 })?;
                let Some(s) = input_string(input)? else {
                    return Ok(Vec::new());
                };
                let Some(p) = arg_string(0)? else {
                    return Ok(Vec::new());
                };
                let re = self.env.regex(&p).map_err(|e| EvalError::Regex {
                    pattern: p.clone(),
                    message: e.to_string(),
                })?;
                if name == "matches" {
                    return b(re.is_match(&s));
                }
                let Some(r) = arg_string(1)? else {
                    return Ok(Vec::new());
                };
                Ok(vec![Item::String(
                    re.replace_all(&s, r.as_str()).into_owned(),
                )])
            }
            // ---- math
            "abs" | "ceiling" | "floor" | "round" | "truncate" => {
                nargs(if name == "round" { 0..=1 } else { 0..=0 })?;
                let Some(v) = singleton(input, name)?.and_then(|i| i.to_system()) else {
                    return Ok(Vec::new());
                };
                math(name, v, if args.is_empty() { None } else { arg_int(0)? })
            }
            // ---- tree navigation
            "children" => {
                nargs(0..=0)?;
                Ok(input
                    .iter()
                    .filter_map(Item::as_node)
                    .flat_map(|n| n.children.iter().map(Item::Node))
                    .collect())
            }
            "descendants" => {
                nargs(0..=0)?;
                Ok(input
                    .iter()
                    .filter_map(Item::as_node)
                    .flat_map(|n| n.descendants().into_iter().map(Item::Node))
                    .collect())
            }
            // ---- FHIR additions
            "extension" => {
                nargs(1..=1)?;
                let Some(url) = arg_string(0)? else {
                    return Ok(Vec::new());
                };
                Ok(input
                    .iter()
                    .filter_map(Item::as_node)
                    .flat_map(|n| n.children_named("extension"))
                    .filter(|e| e.child_value("url") == Some(url.as_str()))
                    .map(Item::Node)
                    .collect())
            }
            "resolve" => {
                nargs(0..=0)?;
                let mut out = Vec::new();
                for it in &input {
                    let (from, reference) = match it {
                        Item::Node(n) if n.is_primitive() => match self.env.parent_of(n) {
                            Some(p) => (p, n.value.clone()),
                            None => (*n, n.value.clone()),
                        },
                        Item::Node(n) => (*n, n.child_value("reference").map(str::to_string)),
                        Item::String(s) => (self.context, Some(s.clone())),
                        _ => continue,
                    };
                    if let Some(r) = reference.and_then(|r| resolve_reference(self.env, from, &r)) {
                        out.push(Item::Node(r));
                    }
                }
                Ok(out)
            }
            "htmlchecks" => {
                nargs(0..=0)?;
                let Some(item) = singleton(input, name)? else {
                    return Ok(Vec::new());
                };
                let div = match &item {
                    Item::Node(n) if n.type_name == "xhtml" => Some(*n),
                    Item::Node(n) => n.child("div"),
                    _ => None,
                };
                let Some(text) = div.and_then(|d| d.value.as_deref()) else {
                    return type_err(format!(
                        "htmlchecks() needs a narrative div, got {}",
                        item.type_label()
                    ));
                };
                let issues = crate::html::check_narrative(text);
                let ok = issues.is_empty();
                self.env.record_narrative(issues);
                b(ok)
            }
            "memberOf" | "conformsTo" | "subsumes" | "subsumedBy" | "elementDefinition"
            | "slice" | "checkModifiers" | "getValue" | "sort" | "split" | "join" | "encode"
            | "decode" | "escape" | "unescape" | "exp" | "ln" | "log" | "power" | "sqrt" => {
                unsupported(format!("function {name}()"))
            }
            _ => unsupported(format!("unknown function {name}()")),
        }
    }

    /// Evaluates a per-item argument with `$this` = `item` and `$index` = `i`.
    fn lambda(&self, e: &Expr, item: &Item<'a>, i: usize, vars: &Vars<'a>) -> R<'a> {
        let v = Vars {
            index: Some(i as i64),
            total: vars.total.clone(),
        };
        self.eval(e, std::slice::from_ref(item), &v)
    }

    fn filter(&self, input: Collection<'a>, crit: &Expr, vars: &Vars<'a>, name: &str) -> R<'a> {
        let mut out = Vec::new();
        for (i, it) in input.into_iter().enumerate() {
            let v = self.lambda(crit, &it, i, vars)?;
            if to_bool(&v, name)? == Some(true) {
                out.push(it);
            }
        }
        Ok(out)
    }
}

fn convert<'a>(name: &str, v: Option<Item<'a>>) -> R<'a> {
    if name.starts_with("convertsTo") {
        Ok(vec![Item::Boolean(v.is_some())])
    } else {
        Ok(v.into_iter().collect())
    }
}

fn parse_quantity(s: &str) -> Option<Quantity> {
    let s = s.trim();
    let (num, unit) = match s.split_once(char::is_whitespace) {
        Some((n, u)) => (n, u.trim()),
        None => (s, ""),
    };
    let value = Decimal::parse(num)?;
    let unit = if unit.is_empty() {
        "1".to_string()
    } else if let Some(u) = unit.strip_prefix('\'').and_then(|u| u.strip_suffix('\'')) {
        u.to_string()
    } else {
        crate::value::calendar_singular(unit)?.to_string()
    };
    Some(Quantity { value, unit })
}

fn literal<'a>(l: &Literal) -> Collection<'a> {
    vec![match l {
        Literal::Empty => return Vec::new(),
        Literal::Boolean(b) => Item::Boolean(*b),
        Literal::String(s) => Item::String(s.clone()),
        Literal::Integer(i) => Item::Integer(*i),
        Literal::Decimal(d) => Item::Decimal(*d),
        Literal::Date(d) => Item::Date(d.clone()),
        Literal::DateTime(d) => Item::DateTime(d.clone()),
        Literal::Time(d) => Item::Time(d.clone()),
        Literal::Quantity(q) => Item::Quantity(q.clone()),
    }]
}

fn arithmetic<'a>(op: BinaryOp, x: Item<'a>, y: Item<'a>) -> R<'a> {
    use BinaryOp::*;
    use Item::*;
    let what = op.symbol();
    let none = || Ok(Vec::new());
    match (&x, &y) {
        (String(a), String(b)) if op == Add => Ok(vec![String(format!("{a}{b}"))]),
        (Integer(a), Integer(b)) if op != Div => {
            let r = match op {
                Add => a.checked_add(*b),
                Sub => a.checked_sub(*b),
                Mul => a.checked_mul(*b),
                IntDiv => {
                    if *b == 0 {
                        return none();
                    }
                    a.checked_div(*b)
                }
                _ => {
                    if *b == 0 {
                        return none();
                    }
                    a.checked_rem(*b)
                }
            };
            match r {
                Some(v) => Ok(vec![Integer(v)]),
                None => type_err(format!("integer overflow in {a} {what} {b}")),
            }
        }
        (Integer(_) | Decimal(_), Integer(_) | Decimal(_)) => {
            let (Some(a), Some(b)) = (as_decimal(&x), as_decimal(&y)) else {
                return none();
            };
            let r = match op {
                Add => a.checked_add(b),
                Sub => a.checked_sub(b),
                Mul => a.checked_mul(b),
                Div => a.checked_div(b),
                IntDiv => {
                    return Ok(a
                        .checked_div(b)
                        .and_then(|q| q.truncate())
                        .map(Integer)
                        .into_iter()
                        .collect())
                }
                _ => {
                    if b.mantissa == 0 {
                        return none();
                    }
                    let q = a
                        .checked_div(b)
                        .and_then(|q| q.truncate())
                        .map(crate::value::Decimal::from_i64);
                    q.and_then(|q| b.checked_mul(q))
                        .and_then(|p| a.checked_sub(p))
                }
            };
            Ok(r.map(Decimal).into_iter().collect())
        }
        (Quantity(a), Quantity(b)) if matches!(op, Add | Sub) => {
            if a.comparable_unit() != b.comparable_unit() {
                return unsupported(format!(
                    "quantity arithmetic across units ('{}' {what} '{}')",
                    a.unit, b.unit
                ));
            }
            let v = if op == Add {
                a.value.checked_add(b.value)
            } else {
                a.value.checked_sub(b.value)
            };
            Ok(v.map(|value| {
                Quantity(crate::value::Quantity {
                    value,
                    unit: a.unit.clone(),
                })
            })
            .into_iter()
            .collect())
        }
        (Date(_) | DateTime(_) | Time(_), Quantity(_)) if matches!(op, Add | Sub) => {
            unsupported("date/time arithmetic")
        }
        _ => type_err(format!(
            "cannot apply {what} to {} and {}",
            x.type_label(),
            y.type_label()
        )),
    }
}

fn math<'a>(name: &str, v: Item<'a>, places: Option<i64>) -> R<'a> {
    let d = match &v {
        Item::Integer(i) => {
            return Ok(vec![Item::Integer(if name == "abs" {
                i.checked_abs().unwrap_or(*i)
            } else {
                *i
            })])
        }
        Item::Decimal(d) => *d,
        Item::Quantity(q) if name == "abs" => {
            return Ok(vec![Item::Quantity(Quantity {
                value: Decimal {
                    mantissa: q.value.mantissa.abs(),
                    scale: q.value.scale,
                },
                unit: q.unit.clone(),
            })])
        }
        other => {
            return type_err(format!(
                "{name}() needs a number, got {}",
                other.type_label()
            ))
        }
    };
    Ok(match name {
        "abs" => vec![Item::Decimal(Decimal {
            mantissa: d.mantissa.abs(),
            scale: d.scale,
        })],
        "round" => vec![Item::Decimal(
            d.round(u32::try_from(places.unwrap_or(0).max(0)).unwrap_or(0)),
        )],
        "truncate" => d.truncate().map(Item::Integer).into_iter().collect(),
        _ => {
            let t = d.truncate();
            let frac = d.normalized().scale > 0;
            t.and_then(|t| {
                let adj = match (name, d.mantissa < 0, frac) {
                    ("ceiling", false, true) => 1,
                    ("floor", true, true) => -1,
                    _ => 0,
                };
                t.checked_add(adj).map(Item::Integer)
            })
            .into_iter()
            .collect()
        }
    })
}

fn now<'a>(name: &str) -> Item<'a> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, m, d) = civil_from_days(secs.div_euclid(86400));
    let s = secs.rem_euclid(86400);
    let (h, mi, se) = (s / 3600, (s / 60) % 60, s % 60);
    let text = match name {
        "today" => format!("{y:04}-{m:02}-{d:02}"),
        "timeOfDay" => format!("{h:02}:{mi:02}:{se:02}"),
        _ => format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{se:02}Z"),
    };
    match name {
        "today" => PartialTemporal::parse_date_time(&text).map(Item::Date),
        "timeOfDay" => PartialTemporal::parse_time(&text).map(Item::Time),
        _ => PartialTemporal::parse_date_time(&text).map(Item::DateTime),
    }
    .unwrap_or(Item::String(text))
}
