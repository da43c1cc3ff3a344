//! The abstract syntax tree of a FHIRPath expression: a plain enum.

use crate::value::{Decimal, PartialTemporal, Quantity};

/// A parsed FHIRPath expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A literal value (`true`, `'text'`, `3`, `1.5`, `@2017-01`, `4 'mg'`, `{}`).
    Literal(Literal),
    /// A bare identifier at the start of a path (`name` in `name.given`): a child of
    /// `$this`, or the type name of the context resource (`Patient` in `Patient.name`).
    Identifier(String),
    /// `$this`: the item being iterated (or the evaluation focus).
    This,
    /// `$index`: the index of the item being iterated.
    IndexVar,
    /// `$total`: the accumulator of `aggregate()`.
    Total,
    /// An external constant: `%resource`, `%context`, `%ucum`, `%\`vs-name\``, `%'x'`.
    External(String),
    /// A member invocation on an expression: `target.name`.
    Member(Box<Expr>, String),
    /// A function call, on an expression (`target.f(args)`) or on `$this` (`f(args)`).
    Function {
        /// The expression the function is invoked on; `None` for a bare call.
        target: Option<Box<Expr>>,
        /// The function name.
        name: String,
        /// The arguments, unevaluated (some functions evaluate them per item).
        args: Vec<Expr>,
    },
    /// An indexer: `target[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// A unary `+` or `-`.
    Unary(UnaryOp, Box<Expr>),
    /// A binary operator.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `expr is Type` or `expr as Type`.
    Type(TypeOp, Box<Expr>, TypeSpecifier),
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `{}`: the empty collection.
    Empty,
    /// `true` or `false`.
    Boolean(bool),
    /// A string literal (escapes already decoded).
    String(String),
    /// An integer literal.
    Integer(i64),
    /// A decimal literal, exact.
    Decimal(Decimal),
    /// `@2017-01-02`: a date of year, month or day precision.
    Date(PartialTemporal),
    /// `@2017-01-02T10:00`: a date-time of any precision, optional time zone.
    DateTime(PartialTemporal),
    /// `@T10:00`: a time of hour, minute or second precision.
    Time(PartialTemporal),
    /// `4 'mg'`, `1 year`.
    Quantity(Quantity),
}

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `+x`
    Plus,
    /// `-x`
    Minus,
}

/// `is` or `as`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeOp {
    /// `is`
    Is,
    /// `as`
    As,
}

/// A binary operator, by precedence group (highest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `div` (integer division)
    IntDiv,
    /// `mod`
    Mod,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `&` (string concatenation treating empty as '')
    Concat,
    /// `|`
    Union,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `=`
    Eq,
    /// `~`
    Equiv,
    /// `!=`
    Ne,
    /// `!~`
    NotEquiv,
    /// `in`
    In,
    /// `contains` (the operator)
    Contains,
    /// `and`
    And,
    /// `or`
    Or,
    /// `xor`
    Xor,
    /// `implies`
    Implies,
}

impl BinaryOp {
    /// The operator as written in FHIRPath.
    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Mul => "*",
            Div => "/",
            IntDiv => "div",
            Mod => "mod",
            Add => "+",
            Sub => "-",
            Concat => "&",
            Union => "|",
            Lt => "<",
            Gt => ">",
            Le => "<=",
            Ge => ">=",
            Eq => "=",
            Equiv => "~",
            Ne => "!=",
            NotEquiv => "!~",
            In => "in",
            Contains => "contains",
            And => "and",
            Or => "or",
            Xor => "xor",
            Implies => "implies",
        }
    }

    /// Binding strength: higher binds tighter (`*` is 9, `implies` is 1).
    pub fn precedence(self) -> u8 {
        use BinaryOp::*;
        match self {
            Mul | Div | IntDiv | Mod => 9,
            Add | Sub | Concat => 8,
            // `is` / `as` are 7 (see the parser)
            Union => 6,
            Lt | Gt | Le | Ge => 5,
            Eq | Equiv | Ne | NotEquiv => 4,
            In | Contains => 3,
            And => 2,
            Or | Xor => 1,
            Implies => 0,
        }
    }
}

/// A type name in `is`, `as`, `ofType()`: optionally qualified (`FHIR.Patient`,
/// `System.String`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeSpecifier {
    /// `FHIR`, `System`, or `None` when unqualified.
    pub namespace: Option<String>,
    /// The type name (`Patient`, `string`, `Quantity`).
    pub name: String,
}

impl std::fmt::Display for TypeSpecifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}
