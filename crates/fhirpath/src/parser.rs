//! The FHIRPath lexer and parser (precedence climbing over the normative grammar).

use std::fmt;

use crate::ast::{BinaryOp, Expr, Literal, TypeOp, TypeSpecifier, UnaryOp};
use crate::value::{calendar_singular, Decimal, PartialTemporal, Quantity};

/// How deeply expressions may nest (parentheses, operators, function arguments)
/// before parsing stops with an error instead of exhausting the stack.
pub const MAX_DEPTH: usize = 200;

/// A syntax error, with the position (0-based, in characters) where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 0-based character offset in the expression.
    pub position: usize,
    /// What was wrong, and what was expected.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.position, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Delimited(String),
    Str(String),
    Number(String),
    DateTime(String),
    Time(String),
    Special(String),
    External(String),
    Punct(&'static str),
    Eof,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "identifier `{s}`"),
            Tok::Delimited(s) => write!(f, "identifier `{s}`"),
            Tok::Str(s) => write!(f, "string '{s}'"),
            Tok::Number(s) => write!(f, "number {s}"),
            Tok::DateTime(s) => write!(f, "date/time @{s}"),
            Tok::Time(s) => write!(f, "time @T{s}"),
            Tok::Special(s) => write!(f, "`${s}`"),
            Tok::External(s) => write!(f, "`%{s}`"),
            Tok::Punct(p) => write!(f, "`{p}`"),
            Tok::Eof => f.write_str("end of expression"),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    pos: usize,
}

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        position,
        message: message.into(),
    })
}

const PUNCT: [&str; 23] = [
    "<=", ">=", "!=", "!~", ".", "[", "]", "(", ")", "{", "}", ",", "+", "-", "*", "/", "&", "|",
    "<", ">", "=", "~", "%",
];

fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let c: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if ch == '/' && c.get(i + 1) == Some(&'*') {
            let start = i;
            i += 2;
            loop {
                if i + 1 >= c.len() {
                    return err(start, "unterminated comment: expected `*/`");
                }
                if c[i] == '*' && c[i + 1] == '/' {
                    i += 2;
                    break;
                }
                i += 1;
            }
            continue;
        }
        let pos = i;
        if ch.is_ascii_alphabetic() || ch == '_' {
            let s = take_while(&c, &mut i, |x| x.is_ascii_alphanumeric() || x == '_');
            out.push(Token {
                tok: Tok::Ident(s),
                pos,
            });
        } else if ch.is_ascii_digit() {
            let mut s = take_while(&c, &mut i, |x| x.is_ascii_digit());
            if c.get(i) == Some(&'.') && c.get(i + 1).is_some_and(|x| x.is_ascii_digit()) {
                i += 1;
                s.push('.');
                s.push_str(&take_while(&c, &mut i, |x| x.is_ascii_digit()));
            }
            out.push(Token {
                tok: Tok::Number(s),
                pos,
            });
        } else if ch == '\'' || ch == '`' {
            let s = quoted(&c, &mut i, ch)?;
            out.push(Token {
                tok: if ch == '\'' {
                    Tok::Str(s)
                } else {
                    Tok::Delimited(s)
                },
                pos,
            });
        } else if ch == '@' {
            i += 1;
            if c.get(i) == Some(&'T') {
                i += 1;
                let s = take_while(&c, &mut i, |x| x.is_ascii_digit() || x == ':' || x == '.');
                if s.is_empty() {
                    return err(pos, "expected a time after `@T` (like @T10:30)");
                }
                out.push(Token {
                    tok: Tok::Time(s),
                    pos,
                });
            } else {
                let mut s = take_while(&c, &mut i, |x| x.is_ascii_digit() || x == '-');
                if c.get(i) == Some(&'T') {
                    s.push('T');
                    i += 1;
                    s.push_str(&take_while(&c, &mut i, |x| {
                        x.is_ascii_digit() || x == ':' || x == '.'
                    }));
                    // time zone: Z or +hh:mm / -hh:mm
                    if c.get(i) == Some(&'Z') {
                        s.push('Z');
                        i += 1;
                    } else if matches!(c.get(i), Some('+') | Some('-'))
                        && c.get(i + 1).is_some_and(|x| x.is_ascii_digit())
                        && c.get(i + 3) == Some(&':')
                    {
                        s.push(c[i]);
                        i += 1;
                        s.push_str(&take_while(&c, &mut i, |x| x.is_ascii_digit() || x == ':'));
                    }
                }
                if s.is_empty() {
                    return err(pos, "expected a date after `@` (like @2017-01-02)");
                }
                out.push(Token {
                    tok: Tok::DateTime(s),
                    pos,
                });
            }
        } else if ch == '$' {
            i += 1;
            let s = take_while(&c, &mut i, |x| x.is_ascii_alphanumeric() || x == '_');
            if s.is_empty() {
                return err(pos, "expected `$this`, `$index` or `$total` after `$`");
            }
            out.push(Token {
                tok: Tok::Special(s),
                pos,
            });
        } else if ch == '%' {
            i += 1;
            let s = match c.get(i) {
                Some(&q @ ('`' | '\'')) => quoted(&c, &mut i, q)?,
                Some(x) if x.is_ascii_alphabetic() || *x == '_' => take_while(&c, &mut i, |x| {
                    x.is_ascii_alphanumeric() || x == '_' || x == '-'
                }),
                _ => return err(pos, "expected a constant name after `%` (like %resource)"),
            };
            out.push(Token {
                tok: Tok::External(s),
                pos,
            });
        } else {
            let rest: String = c[i..c.len().min(i + 2)].iter().collect();
            match PUNCT.iter().find(|p| rest.starts_with(**p)) {
                Some(p) => {
                    i += p.chars().count();
                    out.push(Token {
                        tok: Tok::Punct(p),
                        pos,
                    });
                }
                None => return err(pos, format!("unexpected character `{ch}`")),
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: c.len(),
    });
    Ok(out)
}

fn take_while(c: &[char], i: &mut usize, f: impl Fn(char) -> bool) -> String {
    let start = *i;
    while *i < c.len() && f(c[*i]) {
        *i += 1;
    }
    c[start..*i].iter().collect()
}

fn quoted(c: &[char], i: &mut usize, q: char) -> Result<String, ParseError> {
    let start = *i;
    *i += 1;
    let mut s = String::new();
    loop {
        let Some(&ch) = c.get(*i) else {
            return err(start, format!("unterminated literal: expected closing {q}"));
        };
        *i += 1;
        if ch == q {
            return Ok(s);
        }
        if ch != '\\' {
            s.push(ch);
            continue;
        }
        let Some(&e) = c.get(*i) else {
            return err(start, format!("unterminated literal: expected closing {q}"));
        };
        *i += 1;
        match e {
            '\'' | '"' | '`' | '\\' | '/' => s.push(e),
            'f' => s.push('\u{c}'),
            'n' => s.push('\n'),
            'r' => s.push('\r'),
            't' => s.push('\t'),
            'u' => {
                let hex: String = c.get(*i..*i + 4).unwrap_or(&[]).iter().collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(u) if hex.len() == 4 => {
                        s.push(u);
                        *i += 4;
                    }
                    _ => return err(*i - 2, "expected four hex digits after `\\u`"),
                }
            }
            other => {
                return err(
                    *i - 2,
                    format!("unknown escape `\\{other}` (expected one of \\' \\\" \\` \\\\ \\/ \\f \\n \\r \\t \\uXXXX)"),
                )
            }
        }
    }
}

/// Parses a FHIRPath expression.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        depth: 0,
    };
    let e = p.expr(0)?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        return err(
            t.pos,
            format!("expected an operator or end of expression, found {}", t.tok),
        );
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
    depth: usize,
}

const TYPE_PREC: u8 = 7;

fn binary_op(t: &Tok) -> Option<BinaryOp> {
    use BinaryOp::*;
    Some(match t {
        Tok::Punct(p) => match *p {
            "*" => Mul,
            "/" => Div,
            "+" => Add,
            "-" => Sub,
            "&" => Concat,
            "|" => Union,
            "<" => Lt,
            ">" => Gt,
            "<=" => Le,
            ">=" => Ge,
            "=" => Eq,
            "~" => Equiv,
            "!=" => Ne,
            "!~" => NotEquiv,
            _ => return None,
        },
        Tok::Ident(w) => match w.as_str() {
            "div" => IntDiv,
            "mod" => Mod,
            "in" => In,
            "contains" => Contains,
            "and" => And,
            "or" => Or,
            "xor" => Xor,
            "implies" => Implies,
            _ => return None,
        },
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(&self.peek().tok, Tok::Punct(q) if *q == p)
    }

    fn expect(&mut self, p: &str) -> Result<(), ParseError> {
        if self.is_punct(p) {
            self.next();
            Ok(())
        } else {
            let t = self.peek();
            err(t.pos, format!("expected `{p}`, found {}", t.tok))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                self.peek().pos,
                format!("expression nested more than {MAX_DEPTH} levels deep"),
            );
        }
        Ok(())
    }

    fn expr(&mut self, min_prec: u8) -> Result<Expr, ParseError> {
        self.enter()?;
        let base = self.depth;
        let mut left = self.unary()?;
        loop {
            let t = self.peek().tok.clone();
            if let Tok::Ident(w) = &t {
                if (w == "is" || w == "as") && TYPE_PREC >= min_prec {
                    self.next();
                    let spec = self.type_spec()?;
                    let op = if w == "is" { TypeOp::Is } else { TypeOp::As };
                    left = Expr::Type(op, Box::new(left), spec);
                    self.enter()?;
                    continue;
                }
            }
            let Some(op) = binary_op(&t) else { break };
            let p = op.precedence();
            if p < min_prec {
                break;
            }
            self.next();
            // each operator nests the tree one level deeper on the left
            self.enter()?;
            let right = self.expr(p + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth = base - 1;
        Ok(left)
    }

    fn type_spec(&mut self) -> Result<TypeSpecifier, ParseError> {
        let t = self.next();
        let first = match t.tok {
            Tok::Ident(s) | Tok::Delimited(s) => s,
            other => return err(t.pos, format!("expected a type name, found {other}")),
        };
        if (first == "FHIR" || first == "System") && self.is_punct(".") {
            self.next();
            let t = self.next();
            return match t.tok {
                Tok::Ident(s) | Tok::Delimited(s) => Ok(TypeSpecifier {
                    namespace: Some(first),
                    name: s,
                }),
                other => err(
                    t.pos,
                    format!("expected a type name after `{first}.`, found {other}"),
                ),
            };
        }
        Ok(TypeSpecifier {
            namespace: None,
            name: first,
        })
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        for (p, op) in [("+", UnaryOp::Plus), ("-", UnaryOp::Minus)] {
            if self.is_punct(p) {
                self.next();
                self.enter()?;
                let inner = self.unary()?;
                self.depth -= 1;
                return Ok(fold_unary(op, inner));
            }
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let base = self.depth;
        let mut e = self.term()?;
        loop {
            if self.is_punct(".") || self.is_punct("[") {
                // each step nests the tree one level deeper
                self.enter()?;
            }
            if self.is_punct(".") {
                self.next();
                let t = self.next();
                let name = match t.tok {
                    Tok::Ident(s) | Tok::Delimited(s) => s,
                    other => {
                        return err(
                            t.pos,
                            format!("expected a name or function after `.`, found {other}"),
                        )
                    }
                };
                if self.is_punct("(") {
                    let args = self.args()?;
                    e = Expr::Function {
                        target: Some(Box::new(e)),
                        name,
                        args,
                    };
                } else {
                    e = Expr::Member(Box::new(e), name);
                }
            } else if self.is_punct("[") {
                self.next();
                self.enter()?;
                let idx = self.expr(0)?;
                self.depth -= 1;
                self.expect("]")?;
                e = Expr::Index(Box::new(e), Box::new(idx));
            } else {
                self.depth = base;
                return Ok(e);
            }
        }
    }

    fn args(&mut self) -> Result<Vec<Expr>, ParseError> {
        self.expect("(")?;
        let mut args = Vec::new();
        if self.is_punct(")") {
            self.next();
            return Ok(args);
        }
        self.enter()?;
        loop {
            args.push(self.expr(0)?);
            if self.is_punct(",") {
                self.next();
                continue;
            }
            if self.is_punct(")") {
                self.next();
                break;
            }
            let t = self.peek();
            return err(
                t.pos,
                format!("expected `,` or `)` in the argument list, found {}", t.tok),
            );
        }
        self.depth -= 1;
        Ok(args)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let t = self.next();
        match t.tok {
            Tok::Ident(w) if w == "true" || w == "false" => {
                Ok(Expr::Literal(Literal::Boolean(w == "true")))
            }
            Tok::Ident(name) | Tok::Delimited(name) => {
                if self.is_punct("(") {
                    let args = self.args()?;
                    Ok(Expr::Function {
                        target: None,
                        name,
                        args,
                    })
                } else {
                    Ok(Expr::Identifier(name))
                }
            }
            Tok::Str(s) => Ok(Expr::Literal(Literal::String(s))),
            Tok::Number(n) => {
                let lit = number(&n, t.pos)?;
                // a quantity: number followed by a unit string or a calendar word
                let unit = match &self.peek().tok {
                    Tok::Str(u) => Some(u.clone()),
                    Tok::Ident(w) => calendar_singular(w).map(str::to_string),
                    _ => None,
                };
                if let Some(unit) = unit {
                    self.next();
                    let value = match lit {
                        Literal::Integer(i) => Decimal::from_i64(i),
                        Literal::Decimal(d) => d,
                        _ => unreachable_literal(),
                    };
                    return Ok(Expr::Literal(Literal::Quantity(Quantity { value, unit })));
                }
                Ok(Expr::Literal(lit))
            }
            Tok::DateTime(s) => {
                let parsed = PartialTemporal::parse_date_time(s.strip_suffix('T').unwrap_or(&s))
                    .map(|mut p| {
                        p.text = s.clone();
                        p
                    });
                match parsed {
                    Some(p) if s.contains('T') => Ok(Expr::Literal(Literal::DateTime(p))),
                    Some(p) => Ok(Expr::Literal(Literal::Date(p))),
                    None => err(t.pos, format!("`@{s}` is not a valid date or date-time")),
                }
            }
            Tok::Time(s) => match PartialTemporal::parse_time(&s) {
                Some(p) => Ok(Expr::Literal(Literal::Time(p))),
                None => err(t.pos, format!("`@T{s}` is not a valid time")),
            },
            Tok::Special(s) => match s.as_str() {
                "this" => Ok(Expr::This),
                "index" => Ok(Expr::IndexVar),
                "total" => Ok(Expr::Total),
                _ => err(
                    t.pos,
                    format!("unknown `${s}`: expected `$this`, `$index` or `$total`"),
                ),
            },
            Tok::External(s) => Ok(Expr::External(s)),
            Tok::Punct("(") => {
                self.enter()?;
                let e = self.expr(0)?;
                self.depth -= 1;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Punct("{") => {
                self.expect("}")?;
                Ok(Expr::Literal(Literal::Empty))
            }
            other => err(
                t.pos,
                format!(
                    "expected a term (literal, name, function, `$this`, `%constant` or `(`), found {other}"
                ),
            ),
        }
    }
}

fn unreachable_literal() -> Decimal {
    Decimal::from_i64(0)
}

fn number(n: &str, pos: usize) -> Result<Literal, ParseError> {
    if n.contains('.') {
        match Decimal::parse(n) {
            Some(d) => Ok(Literal::Decimal(d)),
            None => err(pos, format!("decimal `{n}` has too many digits")),
        }
    } else {
        match n.parse::<i64>() {
            Ok(i) => Ok(Literal::Integer(i)),
            Err(_) => err(pos, format!("integer `{n}` is too large")),
        }
    }
}

fn fold_unary(op: UnaryOp, e: Expr) -> Expr {
    if op == UnaryOp::Plus {
        if let Expr::Literal(Literal::Integer(_) | Literal::Decimal(_) | Literal::Quantity(_)) = e {
            return e;
        }
    }
    match (op, e) {
        (UnaryOp::Minus, Expr::Literal(Literal::Integer(i))) if i != i64::MIN => {
            Expr::Literal(Literal::Integer(-i))
        }
        (UnaryOp::Minus, Expr::Literal(Literal::Decimal(d))) => {
            Expr::Literal(Literal::Decimal(Decimal {
                mantissa: -d.mantissa,
                scale: d.scale,
            }))
        }
        (op, e) => Expr::Unary(op, Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn id(s: &str) -> Box<Expr> {
        Box::new(Expr::Identifier(s.into()))
    }

    #[test]
    fn precedence_and_associativity() {
        use BinaryOp::*;
        // and binds tighter than or; implies loosest
        assert_eq!(
            p("a or b and c implies d"),
            Expr::Binary(
                Implies,
                Box::new(Expr::Binary(
                    Or,
                    id("a"),
                    Box::new(Expr::Binary(And, id("b"), id("c")))
                )),
                id("d")
            )
        );
        // * over +, left associative -
        assert_eq!(
            p("a - b - c * d"),
            Expr::Binary(
                Sub,
                Box::new(Expr::Binary(Sub, id("a"), id("b"))),
                Box::new(Expr::Binary(Mul, id("c"), id("d")))
            )
        );
        // | above comparison above equality above in above and
        assert_eq!(
            p("a = b | c in d and e"),
            Expr::Binary(
                And,
                Box::new(Expr::Binary(
                    In,
                    Box::new(Expr::Binary(
                        Eq,
                        id("a"),
                        Box::new(Expr::Binary(Union, id("b"), id("c")))
                    )),
                    id("d")
                )),
                id("e")
            )
        );
        // is binds tighter than | and =, looser than +
        assert_eq!(
            p("a + b is Integer = c"),
            Expr::Binary(
                Eq,
                Box::new(Expr::Type(
                    TypeOp::Is,
                    Box::new(Expr::Binary(Add, id("a"), id("b"))),
                    TypeSpecifier {
                        namespace: None,
                        name: "Integer".into()
                    }
                )),
                id("c")
            )
        );
        // unary minus below invocation: -a.b is -(a.b)
        assert_eq!(
            p("-a.b"),
            Expr::Unary(UnaryOp::Minus, Box::new(Expr::Member(id("a"), "b".into())))
        );
        // xor and or share a level, left to right
        assert_eq!(
            p("a xor b or c"),
            Expr::Binary(Or, Box::new(Expr::Binary(Xor, id("a"), id("b"))), id("c"))
        );
        assert_eq!(
            p("a <= b != c"),
            Expr::Binary(Ne, Box::new(Expr::Binary(Le, id("a"), id("b"))), id("c"))
        );
        assert_eq!(
            p("a div 2 mod 3"),
            Expr::Binary(
                Mod,
                Box::new(Expr::Binary(
                    IntDiv,
                    id("a"),
                    Box::new(Expr::Literal(Literal::Integer(2)))
                )),
                Box::new(Expr::Literal(Literal::Integer(3)))
            )
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            p(r"'it\'s \u0041\\'"),
            Expr::Literal(Literal::String("it's A\\".into()))
        );
        assert_eq!(p("-5"), Expr::Literal(Literal::Integer(-5)));
        let Expr::Literal(Literal::Decimal(d)) = p("1.50") else {
            panic!()
        };
        assert_eq!(d.to_string(), "1.50");
        let Expr::Literal(Literal::Quantity(q)) = p("4.5 'mg'") else {
            panic!()
        };
        assert_eq!((q.value.to_string(), q.unit.as_str()), ("4.5".into(), "mg"));
        let Expr::Literal(Literal::Quantity(q)) = p("2 years") else {
            panic!()
        };
        assert_eq!(q.unit, "year");
        let Expr::Literal(Literal::Date(d)) = p("@2017-01") else {
            panic!()
        };
        assert_eq!((d.year, d.month, d.day), (Some(2017), Some(1), None));
        let Expr::Literal(Literal::DateTime(d)) = p("@2017-01-02T10:30:00.5+01:00") else {
            panic!()
        };
        assert_eq!(
            (d.hour, d.tz_minutes, d.nanos),
            (Some(10), Some(60), Some(500_000_000))
        );
        assert!(matches!(p("@2015T"), Expr::Literal(Literal::DateTime(_))));
        assert!(matches!(p("@T14:30"), Expr::Literal(Literal::Time(_))));
        assert_eq!(p("{}"), Expr::Literal(Literal::Empty));
        assert_eq!(p("true"), Expr::Literal(Literal::Boolean(true)));
        assert_eq!(p("`div`.x"), Expr::Member(id("div"), "x".into()));
        assert_eq!(
            p("%`vs-administrative-gender`"),
            Expr::External("vs-administrative-gender".into())
        );
        assert_eq!(p("%'x y'"), Expr::External("x y".into()));
        assert_eq!(p("%ucum"), Expr::External("ucum".into()));
        assert!(matches!(p("$this.x[0]"), Expr::Index(_, _)));
        assert_eq!(
            p("a // comment\n /* block */ "),
            Expr::Identifier("a".into())
        );
        // keywords usable as names after `.`
        assert!(matches!(
            p("a.as(uri).contains('x')"),
            Expr::Function { .. }
        ));
        assert!(matches!(p("value.is(decimal)"), Expr::Function { .. }));
    }

    #[test]
    fn errors_have_positions_and_say_what_was_expected() {
        let e = parse("a.where(b = )").unwrap_err();
        assert_eq!(e.position, 12);
        assert!(e.message.contains("expected a term"), "{e}");
        let e = parse("(a or b").unwrap_err();
        assert_eq!(e.position, 7);
        assert!(e.message.contains("expected `)`"), "{e}");
        let e = parse("a b").unwrap_err();
        assert_eq!(e.position, 2);
        assert!(e.message.contains("expected an operator"), "{e}");
        let e = parse("'abc").unwrap_err();
        assert_eq!(e.position, 0);
        assert!(e.message.contains("unterminated"), "{e}");
        let e = parse("a.f(1 2)").unwrap_err();
        assert_eq!(e.position, 6);
        assert!(e.message.contains("expected `,` or `)`"), "{e}");
        let e = parse("a # b").unwrap_err();
        assert_eq!(e.position, 2);
        let e = parse("x is 3").unwrap_err();
        assert!(e.message.contains("expected a type name"), "{e}");
        let e = parse("@2017-13-01").unwrap_err();
        assert_eq!(e.position, 0);
        let e = parse("'é' = é").unwrap_err();
        assert_eq!(e.position, 6, "positions count characters, not bytes");
        assert!(parse("").is_err());
        assert!(parse("$that").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nested"), "{e}");
        let minus = format!("{}1", "-".repeat(10_000));
        assert!(parse(&minus).is_err());
        // long chains nest the tree too, so they are bounded as well
        let chain = format!("a{}", " or a".repeat(5_000));
        assert!(parse(&chain).unwrap_err().message.contains("nested"));
        let chain = format!("a{}", ".b".repeat(5_000));
        assert!(parse(&chain).is_err());
        let chain = format!("a{}", " or a".repeat(100));
        assert!(parse(&chain).is_ok());
        let ok = format!("{}1{}", "(".repeat(50), ")".repeat(50));
        assert!(parse(&ok).is_ok());
    }
}
