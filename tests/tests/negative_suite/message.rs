//! The message as `serde_json::Value`, seen through a profile's snapshot: where
//! an element's items are (JSON pointer and FHIRPath location), how to add one
//! that is missing, and minimal valid values synthesised from the definitions.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use fhir_definitions::{
    base_definition, structure_definition, value_set, DiscriminatorKind, ElementDefinition, Max,
    Strength, StructureDefinition,
};
use serde_json::{json, Map, Value};

use super::rules::base_element;

/// One step of a JSON pointer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Where a value is in the message.
#[derive(Clone, Debug)]
pub struct At {
    pub ptr: Vec<Seg>,
    /// FHIRPath from the message root, as the validator writes it.
    pub loc: String,
}

impl At {
    fn key(&self, k: &str, loc: String) -> At {
        let mut ptr = self.ptr.clone();
        ptr.push(Seg::Key(k.to_owned()));
        At { ptr, loc }
    }
    fn index(&self, i: usize, loc: String) -> At {
        let mut ptr = self.ptr.clone();
        ptr.push(Seg::Index(i));
        At { ptr, loc }
    }
}

pub fn get<'v>(v: &'v Value, ptr: &[Seg]) -> Option<&'v Value> {
    let mut cur = v;
    for s in ptr {
        cur = match s {
            Seg::Key(k) => cur.get(k)?,
            Seg::Index(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

pub fn get_mut<'v>(v: &'v mut Value, ptr: &[Seg]) -> &'v mut Value {
    let mut cur = v;
    for s in ptr {
        cur = match s {
            Seg::Key(k) => cur.get_mut(k).unwrap_or_else(|| panic!("no key {k}")),
            Seg::Index(i) => cur.get_mut(*i).unwrap_or_else(|| panic!("no item {i}")),
        };
    }
    cur
}

pub fn obj_mut<'v>(v: &'v mut Value, ptr: &[Seg]) -> &'v mut Map<String, Value> {
    get_mut(v, ptr)
        .as_object_mut()
        .expect("an object at the pointer")
}

/// Where the children of the item at `ptr` are: the item itself, or for a
/// primitive (`"birthDate": "1957-01-09"`) its `_birthDate` object.
pub fn holder(v: &Value, ptr: &[Seg]) -> Vec<Seg> {
    if get(v, ptr).is_some_and(Value::is_object) {
        return ptr.to_vec();
    }
    match ptr.split_last() {
        Some((Seg::Key(k), up)) => {
            let mut p = up.to_vec();
            p.push(Seg::Key(format!("_{k}")));
            p
        }
        _ => panic!("children of a primitive in a list are not supported"),
    }
}

/// The object holding the children of the item at `ptr`, made if missing.
pub fn holder_mut<'v>(v: &'v mut Value, ptr: &[Seg]) -> &'v mut Map<String, Value> {
    let h = holder(v, ptr);
    if get(v, &h).is_none() {
        let (Seg::Key(k), up) = h.split_last().expect("a key") else {
            unreachable!()
        };
        obj_mut(v, up).insert(k.clone(), Value::Object(Map::new()));
    }
    obj_mut(v, &h)
}

/// A place a profile applies: a resource claiming it in `meta.profile`, or an
/// extension whose `url` is the profile's.
#[derive(Clone, Debug)]
pub struct Root {
    pub at: At,
    pub profile: String,
}

/// Every place in the message a profile applies to, in document order.
pub fn roots(msg: &Value) -> Vec<Root> {
    let mut out = Vec::new();
    let ty = msg["resourceType"].as_str().unwrap_or_default().to_owned();
    walk(
        msg,
        At {
            ptr: Vec::new(),
            loc: ty,
        },
        &mut out,
    );
    out
}

fn walk(v: &Value, at: At, out: &mut Vec<Root>) {
    let Some(obj) = v.as_object() else { return };
    if obj.contains_key("resourceType") {
        for p in v["meta"]["profile"].as_array().into_iter().flatten() {
            out.push(Root {
                at: at.clone(),
                profile: p.as_str().unwrap_or_default().to_owned(),
            });
        }
    }
    if let Some(url) = obj.get("url").and_then(Value::as_str) {
        if structure_definition(url).is_some_and(|sd| sd.type_name == "Extension") {
            out.push(Root {
                at: at.clone(),
                profile: url.to_owned(),
            });
        }
    }
    for (k, child) in obj {
        // Choice elements are named `value[x]` in FHIRPath: `valueString` → `value.ofType(String)`.
        let name = match k.strip_prefix("value") {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => {
                format!("value.ofType({rest})")
            }
            _ => k.clone(),
        };
        let one = |c: &Value, at: At| {
            if let Some(t) = c.get("resourceType").and_then(Value::as_str) {
                At {
                    loc: format!("{}.ofType({t})", at.loc),
                    ptr: at.ptr,
                }
            } else {
                at
            }
        };
        match child {
            Value::Array(items) => {
                for (i, c) in items.iter().enumerate() {
                    let a = at.key(k, String::new());
                    let a = a.index(i, format!("{}.{name}[{i}]", at.loc));
                    walk(c, one(c, a), out);
                }
            }
            c => walk(c, one(c, at.key(k, format!("{}.{name}", at.loc))), out),
        }
    }
}

/// Parent, slice and child relations of one snapshot.
pub struct Index {
    pub sd: &'static StructureDefinition,
    /// The element each element belongs to.
    pub parent: Vec<Option<usize>>,
    /// For a slice: the element it slices (None for a slice whose base the snapshot lacks,
    /// such as ITK's `extension:X.valueBoolean:valueBoolean`: it then acts as a plain child).
    pub sliced: Vec<Option<usize>>,
}

impl Index {
    fn new(sd: &'static StructureDefinition) -> Self {
        let els = sd.elements;
        let by_id: HashMap<&str, usize> = els.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
        let mut parent = vec![None; els.len()];
        let mut sliced = vec![None; els.len()];
        for (i, e) in els.iter().enumerate() {
            let Some((p, last)) = e.id.rsplit_once('.') else {
                continue;
            };
            parent[i] = by_id.get(p).copied().or_else(|| {
                // `a.valueCoding:valueCoding` for `a.value[x]:valueCoding`: the element
                // with that slice name, under the same parent, with that path.
                let (pp, plast) = p.rsplit_once('.')?;
                let slice = plast.split_once(':')?.1;
                let path = e.path.rsplit_once('.')?.0;
                els.iter().position(|x| {
                    x.slice_name == Some(slice)
                        && x.path == path
                        && x.id.strip_prefix(pp).is_some_and(|r| r.starts_with('.'))
                })
            });
            if let Some((name, _)) = last.split_once(':') {
                sliced[i] = by_id.get(format!("{p}.{name}").as_str()).copied();
            }
        }
        Index { sd, parent, sliced }
    }

    pub fn el(&self, i: usize) -> &'static ElementDefinition {
        &self.sd.elements[i]
    }

    /// The direct children of `i` (slices of them excluded), in snapshot order.
    pub fn children(&self, i: usize) -> Vec<usize> {
        (0..self.sd.elements.len())
            .filter(|&j| {
                self.parent[j] == Some(i)
                    && (self.el(j).slice_name.is_none() || self.sliced[j].is_none())
            })
            .collect()
    }

    /// The slices of `i`.
    pub fn slices(&self, i: usize) -> Vec<usize> {
        (0..self.sd.elements.len())
            .filter(|&j| self.sliced[j] == Some(i))
            .collect()
    }

    /// The ancestors of `i`, nearest first.
    pub fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = self.parent[i];
        while let Some(p) = cur {
            out.push(p);
            cur = self.parent[p];
        }
        out
    }

    /// For a slice: the sliced element, else the element itself.
    pub fn unsliced(&self, i: usize) -> usize {
        self.sliced[i].unwrap_or(i)
    }

    /// The element id with `path` below slice `s` (`Patient.identifier:nhsNumber` + `system`).
    pub fn below(&self, s: usize, path: &str) -> Option<usize> {
        let id = format!("{}.{path}", self.el(s).id);
        self.sd.elements.iter().position(|e| e.id == id)
    }
}

thread_local! {
    static INDEXES: RefCell<HashMap<&'static str, Rc<Index>>> = RefCell::new(HashMap::new());
}

pub fn index(sd: &'static StructureDefinition) -> Rc<Index> {
    INDEXES.with(|m| {
        m.borrow_mut()
            .entry(sd.url)
            .or_insert_with(|| Rc::new(Index::new(sd)))
            .clone()
    })
}

/// How element `i` appears in instances: its JSON keys (several for a choice),
/// its FHIRPath name, whether it is a choice, whether it is a list.
pub struct Shape {
    pub keys: Vec<String>,
    pub name: String,
    pub choice: bool,
    pub list: bool,
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

pub fn shape(sd: &'static StructureDefinition, i: usize) -> Shape {
    let e = &sd.elements[i];
    let seg = e.path.rsplit('.').next().unwrap_or(e.path);
    let base = base_element(sd, e);
    let list = base.is_some_and(|b| b.max != Max::Count(1) && b.max != Max::Count(0));
    if let Some(stem) = seg.strip_suffix("[x]") {
        return Shape {
            keys: e
                .types
                .iter()
                .map(|t| format!("{stem}{}", upper_first(t.code)))
                .collect(),
            name: stem.to_owned(),
            choice: true,
            list,
        };
    }
    // A choice element written with its type (`valueBoolean`).
    if let Some(stem) = base
        .and_then(|b| b.path.rsplit('.').next())
        .and_then(|b| b.strip_suffix("[x]"))
    {
        return Shape {
            keys: vec![seg.to_owned()],
            name: stem.to_owned(),
            choice: true,
            list,
        };
    }
    Shape {
        keys: vec![seg.to_owned()],
        name: seg.to_owned(),
        choice: false,
        list,
    }
}

/// The FHIRPath location of an item under `parent_loc`.
pub fn item_loc(parent_loc: &str, sh: &Shape, key: &str, i: Option<usize>) -> String {
    let mut loc = format!("{parent_loc}.{}", sh.name);
    if let Some(i) = i {
        loc.push_str(&format!("[{i}]"));
    }
    if sh.choice {
        loc.push_str(&format!(".ofType({})", &key[sh.name.len()..]));
    }
    loc
}

/// Whether a JSON item belongs to slice `s` of the sliced element `k`, by the
/// slicing's value discriminators (type slices are told apart by their keys).
pub fn in_slice(ix: &Index, k: usize, s: usize, item: &Value) -> bool {
    let Some(slicing) = &ix.el(k).slicing else {
        return true;
    };
    slicing.discriminators.iter().all(|d| match d.kind {
        DiscriminatorKind::Value | DiscriminatorKind::Pattern => {
            let want = slice_value(ix, s, d.path)
                .unwrap_or_else(|| panic!("no value for {} at {}", ix.el(s).id, d.path));
            let mut cur = Some(item);
            for seg in d.path.split('.') {
                cur = cur.and_then(|c| c.get(seg));
            }
            cur == Some(&want)
        }
        DiscriminatorKind::Type => true,
        other => panic!("{other:?} discriminators are not used by the Send Document profiles"),
    })
}

/// The value slice `s` has at a discriminator path: fixed, pattern, or the
/// profile of an extension slice for `url`.
pub fn slice_value(ix: &Index, s: usize, path: &str) -> Option<Value> {
    if let Some(e) = ix.below(s, path).map(|b| ix.el(b)) {
        if let Some(v) = e.fixed.as_ref().or(e.pattern.as_ref()) {
            return serde_json::from_str(v.json).ok();
        }
    }
    if path == "url" {
        return ix
            .el(s)
            .types
            .iter()
            .find_map(|t| t.profile)
            .map(|p| Value::String(p.to_owned()));
    }
    None
}

/// Whether element `i` is at a discriminator path of the slice it is in: a
/// value that decides which slice an item belongs to.
pub fn is_discriminator(ix: &Index, i: usize) -> bool {
    ix.ancestors(i).into_iter().chain([i]).any(|s| {
        let Some(k) = ix.sliced[s] else { return false };
        let Some(slicing) = &ix.el(k).slicing else {
            return false;
        };
        slicing
            .discriminators
            .iter()
            .any(|d| ix.below(s, d.path) == Some(i) || (s == i && d.path == "$this"))
    })
}

/// The items of element `i` found at `root` (a place the profile applies).
pub fn instances(msg: &Value, ix: &Index, i: usize, root: &At) -> Vec<At> {
    let Some(p) = ix.parent[i] else {
        return vec![root.clone()];
    };
    let mut out = Vec::new();
    for parent in instances(msg, ix, p, root) {
        out.extend(items_under(msg, ix, i, &parent));
    }
    out
}

/// The items of element `i` directly under one item of its parent.
pub fn items_under(msg: &Value, ix: &Index, i: usize, parent: &At) -> Vec<At> {
    let sh = shape(ix.sd, i);
    let parent = &At {
        ptr: holder(msg, &parent.ptr),
        loc: parent.loc.clone(),
    };
    let Some(obj) = get(msg, &parent.ptr).and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in &sh.keys {
        let Some(v) = obj.get(key) else { continue };
        let is_item = |item: &Value| match ix.sliced[i] {
            Some(k) => in_slice(ix, k, i, item),
            None => true,
        };
        match v {
            Value::Array(items) => {
                for (n, item) in items.iter().enumerate() {
                    if is_item(item) {
                        let a = parent.key(key, String::new());
                        out.push(a.index(n, item_loc(&parent.loc, &sh, key, Some(n))));
                    }
                }
            }
            item => {
                if is_item(item) {
                    out.push(parent.key(key, item_loc(&parent.loc, &sh, key, None)));
                }
            }
        }
    }
    out
}

/// The first item of element `i` at `root`, added (with its ancestors) as a
/// minimal valid value when there is none.
pub fn ensure(msg: &mut Value, ix: &Index, i: usize, root: &At) -> At {
    if let Some(a) = instances(msg, ix, i, root).into_iter().next() {
        return a;
    }
    let p = ix.parent[i].expect("the root is always there");
    let parent = ensure(msg, ix, p, root);
    if let Some(a) = items_under(msg, ix, i, &parent).into_iter().next() {
        return a;
    }
    add_item(msg, ix, i, &parent, minimal(ix.sd, i))
}

/// Adds `value` as an item of element `i` under `parent`; returns where it went.
pub fn add_item(msg: &mut Value, ix: &Index, i: usize, parent: &At, value: Value) -> At {
    let sh = shape(ix.sd, i);
    let key = chosen_key(ix.sd, i, &sh);
    let hptr = holder(msg, &parent.ptr);
    holder_mut(msg, &parent.ptr);
    let parent = &At {
        ptr: hptr,
        loc: parent.loc.clone(),
    };
    let obj = obj_mut(msg, &parent.ptr);
    if sh.list {
        let arr = obj
            .entry(key.clone())
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .expect("a list");
        arr.push(value);
        let n = arr.len() - 1;
        parent
            .key(&key, String::new())
            .index(n, item_loc(&parent.loc, &sh, &key, Some(n)))
    } else {
        obj.insert(key.clone(), value);
        parent.key(&key, item_loc(&parent.loc, &sh, &key, None))
    }
}

/// The JSON key a new item of element `i` gets (a choice: its preferred type).
pub fn chosen_key(sd: &'static StructureDefinition, i: usize, sh: &Shape) -> String {
    let e = &sd.elements[i];
    if sh.choice && sh.keys.len() > 1 {
        let t = preferred_type(e);
        return format!("{}{}", sh.name, upper_first(t));
    }
    sh.keys[0].clone()
}

fn preferred_type(e: &ElementDefinition) -> &'static str {
    e.types
        .iter()
        .find(|t| t.code == "string")
        .or(e.types.first())
        .map_or("", |t| t.code)
}

fn is_primitive(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
}

/// A lexically valid value of a primitive type.
pub fn sample(code: &str) -> Value {
    match code {
        "boolean" => json!(true),
        "integer" | "positiveInt" | "unsignedInt" => json!(1),
        "decimal" => json!(1.5),
        "uri" => json!("urn:example:value"),
        "oid" => json!("urn:oid:1.2.3.4"),
        "id" => json!("example"),
        "date" => json!("2020-01-01"),
        "dateTime" | "instant" => json!("2020-01-01T00:00:00+00:00"),
        "time" => json!("10:00:00"),
        "base64Binary" => json!("AAAA"),
        "xhtml" => json!("<div xmlns=\"http://www.w3.org/1999/xhtml\">Example</div>"),
        _ => json!("example"),
    }
}

/// The first code of the value set element `e` is bound to (required or
/// extensible), when it can be expanded here; with `system` when it is fixed.
fn bound_concept(
    e: &ElementDefinition,
    system: Option<&str>,
) -> Option<&'static fhir_definitions::Concept> {
    let b = e.binding.as_ref()?;
    if !matches!(b.strength, Strength::Required | Strength::Extensible) {
        return None;
    }
    let concepts = value_set(b.value_set?)?.expansion.ok()?;
    concepts
        .iter()
        .find(|c| system.is_none_or(|s| s == c.system))
}

/// Values for data types nothing in them is required of: content that breaks
/// none of the type's invariants (a first child such as `Address.use` could be
/// `home`, which Organization's org-2 forbids; a `ContactPoint.value` alone breaks cpt-2).
const TYPICAL: &[(&str, &str)] = &[
    ("Address", r#"{"line": ["1 Example Street"]}"#),
    (
        "ContactPoint",
        r#"{"system": "phone", "value": "0113 496 0000"}"#,
    ),
    ("HumanName", r#"{"family": "Example"}"#),
    (
        "Identifier",
        r#"{"system": "urn:example:identifier", "value": "example"}"#,
    ),
    ("Period", r#"{"start": "2020-01-01"}"#),
    ("Reference", r#"{"reference": "urn:example:reference"}"#),
];

/// A minimal valid value for element `i` of `sd`: its fixed value, a bound
/// code, or an object with every required child (and required slice), each
/// minimal in turn; never an empty object.
pub fn minimal(sd: &'static StructureDefinition, i: usize) -> Value {
    let e = &sd.elements[i];
    if let Some(f) = &e.fixed {
        return serde_json::from_str(f.json).expect("fixed values are JSON");
    }
    if let Some(r) = e.content_reference {
        let r = r.trim_start_matches('#');
        let j = sd
            .elements
            .iter()
            .position(|x| x.id == r)
            .expect("the referenced element");
        return minimal(sd, j);
    }
    let ty = if i == 0 {
        sd.type_name
    } else {
        preferred_type(e)
    };
    let ix = index(sd);
    let kids = ix.children(i);
    if is_primitive(ty) {
        return match bound_concept(e, None) {
            Some(c) if ty == "code" || ty == "string" || ty == "uri" => json!(c.code),
            _ => sample(ty),
        };
    }
    if ty == "Coding" || ty == "CodeableConcept" {
        let fixed_system = kids
            .iter()
            .chain(
                kids.iter()
                    .flat_map(|&k| ix.children(k))
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .map(|&k| ix.el(k))
            .find(|k| k.path.ends_with(".system"))
            .and_then(|k| k.fixed.as_ref())
            .and_then(|f| serde_json::from_str::<String>(f.json).ok());
        if let Some(c) = bound_concept(e, fixed_system.as_deref()) {
            let coding = json!({"system": c.system, "code": c.code, "display": c.display});
            return if ty == "Coding" {
                coding
            } else {
                json!({ "coding": [coding] })
            };
        }
    }
    if e.types.len() == 1 && ty == "Extension" {
        if let Some(p) = e.types[0].profile.and_then(structure_definition) {
            return minimal(p, 0);
        }
    }
    if kids.is_empty() && i != 0 {
        let t = e.types.iter().find(|t| t.code == ty);
        let tsd = t
            .and_then(|t| t.profile)
            .and_then(structure_definition)
            .or_else(|| base_definition(ty))
            .unwrap_or_else(|| panic!("no definition for type {ty} of {}", e.id));
        return minimal(tsd, 0);
    }
    let mut obj = Map::new();
    for &k in &kids {
        let c = ix.el(k);
        if c.max == Max::Count(0) {
            continue;
        }
        let sh = shape(sd, k);
        let mut items: Vec<Value> = Vec::new();
        for s in ix.slices(k) {
            for _ in 0..ix.el(s).min {
                items.push(minimal(sd, s));
            }
        }
        while items.len() < c.min as usize {
            items.push(minimal(sd, k));
        }
        if items.is_empty() {
            continue;
        }
        let key = chosen_key(sd, k, &sh);
        if sh.list {
            obj.insert(key, Value::Array(items));
        } else {
            obj.insert(key, items.remove(0));
        }
    }
    let is_extension = ty == "Extension";
    let has = |o: &Map<String, Value>, p: &str| o.keys().any(|k| k.starts_with(p));
    if is_extension && !has(&obj, "value") && !has(&obj, "extension") {
        // ext-1: an extension needs a value or extensions.
        if let Some(&v) = kids
            .iter()
            .find(|&&k| shape(sd, k).name == "value" && ix.el(k).max != Max::Count(0))
        {
            let target = ix.slices(v).first().copied().unwrap_or(v);
            let sh = shape(sd, target);
            obj.insert(chosen_key(sd, target, &sh), minimal(sd, target));
        }
    }
    if ty == "Coding" {
        // A coding says what it is.
        obj.entry("system")
            .or_insert_with(|| json!("urn:example:code-system"));
        obj.entry("code").or_insert_with(|| json!("example"));
    }
    if ty == "CodeableConcept" && !obj.contains_key("coding") {
        let coding = match kids.iter().find(|&&k| ix.el(k).path.ends_with(".coding")) {
            Some(&k) => minimal(sd, k),
            None => minimal(base_definition("Coding").expect("Coding"), 0),
        };
        obj.insert("coding".into(), json!([coding]));
    }
    let meaningful = obj.keys().any(|k| k != "url");
    if !meaningful {
        if let Some((_, v)) = TYPICAL.iter().find(|(t, _)| *t == ty) {
            return serde_json::from_str(v).expect("JSON");
        }
    }
    if !meaningful && !is_extension {
        // Nothing is required: the first child that may be there, so that the
        // object is not empty (ele-1).
        if let Some(&k) = kids.iter().find(|&&k| {
            let c = ix.el(k);
            let name = c.path.rsplit('.').next().unwrap_or("");
            c.max != Max::Count(0) && !matches!(name, "id" | "extension" | "modifierExtension")
        }) {
            let sh = shape(sd, k);
            let v = minimal(sd, k);
            obj.insert(
                chosen_key(sd, k, &sh),
                if sh.list { Value::Array(vec![v]) } else { v },
            );
        }
    }
    Value::Object(obj)
}

/// A child of `i` that may be present and is not `except`: to keep an object
/// non-empty after a required child is taken out.
pub fn filler(ix: &Index, i: usize, except: usize) -> Option<usize> {
    let mut kids = ix.children(i);
    if kids.is_empty() {
        return None;
    }
    kids.retain(|&k| {
        let c = ix.el(k);
        let name = c.path.rsplit('.').next().unwrap_or("");
        k != except
            && c.max != Max::Count(0)
            && !matches!(name, "id" | "extension" | "modifierExtension")
            && !name.ends_with("[x]")
            && ix.el(ix.unsliced(except)).id != c.id
    });
    // Rather a child the parent's invariants ask for (pat-1: name, telecom...).
    let asked = |k: &usize| {
        let name = ix.el(*k).path.rsplit('.').next().unwrap_or("");
        ix.el(i).constraints().any(|c| {
            c.key != "ele-1"
                && c.expression
                    .split(|ch: char| !ch.is_alphanumeric())
                    .any(|w| w == name)
        })
    };
    kids.iter().find(|k| asked(k)).or(kids.first()).copied()
}
