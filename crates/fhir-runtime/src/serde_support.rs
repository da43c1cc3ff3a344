//! Bridges the model to `serde`, so that `serde_json::from_str::<Patient>(..)`
//! and `serde_json::to_string(&patient)` work.
//!
//! The bridge is deliberately thin: serialisation writes FHIR JSON with this
//! crate's writer and replays it to the serializer as a small tree;
//! deserialisation collects a tree and runs this crate's reader (strict mode)
//! over it. Only the tree's two small trait impls are generic, so a user's
//! crate does not compile a FHIR parser again for each serde format.
//!
//! Limits of going through serde: serde has no type for "a decimal written
//! exactly as `1.50`". Decimals travel as `f64` unless `serde_json`'s
//! `arbitrary_precision` feature is on, in which case their text is kept. For
//! exact round trips use the model's own `from_json`/`to_json`.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::element::{AnyResource, Element, ResourceType};
use crate::error::Error;
use crate::json::lexer::{Lexer, Peek};
use crate::read::{read_json, read_json_resource, ReadOptions};
use crate::write::{write_json, write_json_string, WriteOptions};

/// A JSON value that keeps each number's exact text and each object's key order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonTree {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<JsonTree>),
    /// An object, keys in order.
    Object(Vec<(String, JsonTree)>),
}

const SERDE_JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl JsonTree {
    /// Parses JSON text into a tree (exact number text, key order kept).
    pub fn parse(text: &str) -> Result<JsonTree, String> {
        let mut lex = Lexer::new(text);
        let tree = parse_tree(&mut lex, 0)?;
        if lex.peek() != Peek::End {
            return Err("unexpected characters after the JSON value".to_owned());
        }
        Ok(tree)
    }

    /// Writes the tree as compact JSON.
    pub fn write(&self, out: &mut String) {
        match self {
            JsonTree::Null => out.push_str("null"),
            JsonTree::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonTree::Number(n) => out.push_str(n),
            JsonTree::String(s) => write_json_string(out, s),
            JsonTree::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            JsonTree::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

const TREE_MAX_DEPTH: usize = 512;

fn parse_tree(lex: &mut Lexer<'_>, depth: usize) -> Result<JsonTree, String> {
    if depth > TREE_MAX_DEPTH {
        return Err(format!("nesting deeper than {TREE_MAX_DEPTH} levels"));
    }
    let m = |e: crate::json::lexer::LexError| e.message;
    Ok(match lex.peek() {
        Peek::Null => {
            lex.literal("null").map_err(m)?;
            JsonTree::Null
        }
        Peek::True => {
            lex.literal("true").map_err(m)?;
            JsonTree::Bool(true)
        }
        Peek::False => {
            lex.literal("false").map_err(m)?;
            JsonTree::Bool(false)
        }
        Peek::Number => JsonTree::Number(lex.number().map_err(m)?.to_owned()),
        Peek::String => JsonTree::String(lex.string().map_err(m)?.into_owned()),
        Peek::Array => {
            lex.pos += 1;
            let mut items = Vec::new();
            if !lex.eat(b']') {
                loop {
                    items.push(parse_tree(lex, depth + 1)?);
                    if !lex.next_or_close(b']').map_err(m)? {
                        break;
                    }
                }
            }
            JsonTree::Array(items)
        }
        Peek::Object => {
            lex.pos += 1;
            let mut members = Vec::new();
            if !lex.eat(b'}') {
                loop {
                    let k = lex.string().map_err(m)?.into_owned();
                    lex.expect(b':', "`:`").map_err(m)?;
                    members.push((k, parse_tree(lex, depth + 1)?));
                    if !lex.next_or_close(b'}').map_err(m)? {
                        break;
                    }
                }
            }
            JsonTree::Object(members)
        }
        Peek::End | Peek::Other(_) => return Err("expected a JSON value".to_owned()),
    })
}

impl Serialize for JsonTree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonTree::Null => s.serialize_unit(),
            JsonTree::Bool(b) => s.serialize_bool(*b),
            JsonTree::Number(n) => {
                if let Ok(i) = n.parse::<i64>() {
                    s.serialize_i64(i)
                } else if let Ok(u) = n.parse::<u64>() {
                    s.serialize_u64(u)
                } else {
                    s.serialize_f64(n.parse::<f64>().unwrap_or(f64::NAN))
                }
            }
            JsonTree::String(v) => s.serialize_str(v),
            JsonTree::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            JsonTree::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = JsonTree;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<JsonTree, E> {
        Ok(JsonTree::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<JsonTree, E> {
        Ok(JsonTree::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonTree, E> {
        Ok(JsonTree::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonTree, E> {
        Ok(JsonTree::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonTree, E> {
        Ok(JsonTree::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonTree, E> {
        if v.is_finite() {
            Ok(JsonTree::Number(format!("{v:?}")))
        } else {
            Err(E::custom("non-finite numbers are not FHIR decimals"))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonTree, E> {
        Ok(JsonTree::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<JsonTree, E> {
        Ok(JsonTree::String(v))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<JsonTree, D::Error> {
        JsonTree::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonTree, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<JsonTree>()? {
            items.push(v);
        }
        Ok(JsonTree::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonTree, A::Error> {
        let mut members = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value::<JsonTree>()?;
            // serde_json with `arbitrary_precision` hands numbers over as this map.
            if members.is_empty() && k == SERDE_JSON_NUMBER_TOKEN {
                if let JsonTree::String(text) = v {
                    return Ok(JsonTree::Number(text));
                }
            }
            members.push((k, v));
        }
        Ok(JsonTree::Object(members))
    }
}

impl<'de> Deserialize<'de> for JsonTree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsonTree, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

fn tree_of(value: &dyn Element, is_resource: bool) -> JsonTree {
    let text = write_json(value, is_resource, &WriteOptions::compact());
    // The writer's output is always well-formed JSON.
    JsonTree::parse(&text).unwrap_or(JsonTree::Null)
}

/// `Serialize` body for generated resources and data types.
pub fn serialize_element<S: Serializer>(
    value: &dyn Element,
    is_resource: bool,
    s: S,
) -> Result<S::Ok, S::Error> {
    tree_of(value, is_resource).serialize(s)
}

/// `Serialize` body for the generated `Resource` enum.
pub fn serialize_any_resource<R: AnyResource, S: Serializer>(
    value: &R,
    s: S,
) -> Result<S::Ok, S::Error> {
    tree_of(value.as_element(), true).serialize(s)
}

fn read_tree_into(
    tree: &JsonTree,
    target: &mut dyn Element,
    rt: Option<&str>,
) -> Result<(), Error> {
    let mut text = String::new();
    tree.write(&mut text);
    read_json(text.as_bytes(), target, rt, &ReadOptions::strict()).map(|_| ())
}

/// `Deserialize` body for generated resource types (strict reading).
pub fn deserialize_resource<'de, T: ResourceType, D: Deserializer<'de>>(
    d: D,
) -> Result<T, D::Error> {
    let tree = JsonTree::deserialize(d)?;
    let mut v = T::default();
    read_tree_into(&tree, &mut v, Some(T::TYPE)).map_err(de::Error::custom)?;
    Ok(v)
}

/// `Deserialize` body for generated data types (strict reading).
pub fn deserialize_datatype<'de, T: Element + Default, D: Deserializer<'de>>(
    d: D,
) -> Result<T, D::Error> {
    let tree = JsonTree::deserialize(d)?;
    let mut v = T::default();
    read_tree_into(&tree, &mut v, None).map_err(de::Error::custom)?;
    Ok(v)
}

/// `Deserialize` body for the generated `Resource` enum (strict reading).
pub fn deserialize_any_resource<'de, R: AnyResource, D: Deserializer<'de>>(
    d: D,
) -> Result<R, D::Error> {
    let tree = JsonTree::deserialize(d)?;
    let mut text = String::new();
    tree.write(&mut text);
    read_json_resource::<R>(text.as_bytes(), &ReadOptions::strict())
        .map(|p| p.value)
        .map_err(de::Error::custom)
}
