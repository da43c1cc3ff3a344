//! Emits the `fhir-stu3-proptest` crate's generated half: one
//! `impl Generate` per struct, choice enum and the `Resource` enum of the model,
//! so that property tests can draw any STU3 resource.
//!
//! The generated code is data-like: each impl lists the type's elements in FHIR
//! order and says, per element, how many (`g.opt`, `Some`, `g.list(min, …)`) and
//! of what (`g.child::<T>()`, `g.primitive(Gen::date)`, a code from a required
//! value set). How values are drawn — budgets, depth, awkward primitives — lives
//! once in the crate's hand-written `Gen`.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::emit::{header, sanitize, Files, Provenance};
use crate::ir::{ChoiceDef, Field, FieldType, Model, TypeDef, TypeKind};
use crate::naming::module_ident;

/// The folder the strategies are written to, relative to the workspace.
pub const STRATEGIES_DIR: &str = "crates/fhir-stu3-proptest/src/generated";

/// Where each generated Rust name lives in `fhir_stu3`: `r` (resources) or `d`
/// (data types).
struct Paths(BTreeMap<String, &'static str>);

impl Paths {
    fn new(model: &Model) -> Self {
        let module = |owner: &str| match model.sources[owner].2 {
            TypeKind::Resource => "r",
            _ => "d",
        };
        let mut map = BTreeMap::new();
        for t in model.types.values() {
            map.insert(t.rust.clone(), module(&t.owner));
        }
        for c in model.choices.values() {
            map.insert(c.rust.clone(), module(&c.owner));
        }
        Paths(map)
    }

    fn of(&self, rust: &str) -> String {
        format!("{}::{rust}", self.0.get(rust).copied().unwrap_or("d"))
    }
}

/// The `Gen` method drawing a value of a primitive type code.
fn primitive_fn(code: &str) -> &'static str {
    match code {
        "base64Binary" => "base64_binary",
        "boolean" => "boolean",
        "code" => "code",
        "date" => "date",
        "dateTime" => "date_time",
        "decimal" => "decimal",
        "id" => "id",
        "instant" => "instant",
        "integer" => "integer",
        "markdown" => "markdown",
        "oid" => "oid",
        "positiveInt" => "positive_int",
        "time" => "time",
        "unsignedInt" => "unsigned_int",
        "uri" => "uri",
        "uuid" => "uuid",
        _ => "string",
    }
}

/// An expression drawing one value held as `ty`.
fn value_expr(ty: &FieldType, name: &str, paths: &Paths) -> String {
    match ty {
        FieldType::Attr if name == "id" => "g.element_id()".to_owned(),
        FieldType::Attr if name == "url" => "g.uri()".to_owned(),
        FieldType::Attr => "g.string()".to_owned(),
        FieldType::Primitive {
            code_enum: Some(e), ..
        } => format!("g.primitive(|g| g.code_of(c::{e}::ALL))"),
        FieldType::Primitive { code, .. } if code == "xhtml" => "g.xhtml()".to_owned(),
        FieldType::Primitive { code, .. } => format!("g.primitive(Gen::{})", primitive_fn(code)),
        FieldType::Complex { rust, boxed: true } => {
            format!("Box::new(g.child::<{}>())", paths.of(rust))
        }
        FieldType::Complex { rust, .. } | FieldType::Choice { rust } => {
            format!("g.child::<{}>()", paths.of(rust))
        }
        FieldType::Resource => "g.child::<Resource>()".to_owned(),
    }
}

/// An expression drawing a whole field: absent or present, one or a list, at
/// least its minimum cardinality.
fn field_expr(f: &Field, paths: &Paths) -> String {
    if f.many && matches!(&f.ty, FieldType::Complex { rust, .. } if rust == "Extension") {
        return "g.extensions()".to_owned();
    }
    let value = value_expr(&f.ty, &f.name, paths);
    if f.many {
        format!("g.list({}, |g| {value})", f.min)
    } else if f.min >= 1 {
        format!("Some({value})")
    } else {
        format!("g.opt(|g| {value})")
    }
}

fn emit_struct(t: &TypeDef, paths: &Paths, out: &mut String) {
    let ty = paths.of(&t.rust);
    let _ = writeln!(
        out,
        "/// Draws a `{}`: {}.",
        t.fhir,
        sanitize(&t.short).replace('\n', " ")
    );
    let _ = writeln!(out, "impl Generate for {ty} {{");
    out.push_str("    fn generate(g: &mut Gen<'_>) -> Self {\n");
    let can_be_empty = t.kind != TypeKind::Resource;
    let id_attr = t
        .fields
        .iter()
        .any(|f| f.name == "id" && f.ty == FieldType::Attr);
    let binding = if can_be_empty && id_attr {
        "let mut v = "
    } else {
        ""
    };
    let _ = writeln!(out, "        {binding}{ty} {{");
    for f in &t.fields {
        let _ = writeln!(
            out,
            "            // `{}` {}..{}\n            {}: {},",
            f.path,
            f.min,
            f.max,
            f.rust,
            field_expr(f, paths)
        );
    }
    out.push_str("            xml_comments: Default::default(),\n        }");
    if can_be_empty && id_attr {
        // FHIR has no empty elements: one that drew nothing gets an id.
        let _ = write!(
            out,
            ";\n        if v == {ty}::default() {{\n            v.id = Some(g.element_id());\n        }}\n        v"
        );
    }
    out.push_str("\n    }\n}\n\n");
}

fn emit_choice(c: &ChoiceDef, paths: &Paths, out: &mut String) {
    let ty = paths.of(&c.rust);
    let paths_doc: Vec<String> = c.paths.iter().map(|p| format!("`{p}`")).collect();
    let _ = writeln!(
        out,
        "/// Draws one of the {} types of {}.",
        c.variants.len(),
        paths_doc.join(", ")
    );
    let _ = writeln!(
        out,
        "impl Generate for {ty} {{\n    fn generate(g: &mut Gen<'_>) -> Self {{\n        match g.pick({}) {{",
        c.variants.len()
    );
    for (i, v) in c.variants.iter().enumerate() {
        let arm = if i + 1 == c.variants.len() {
            "_".to_owned()
        } else {
            i.to_string()
        };
        let _ = writeln!(
            out,
            "            {arm} => {ty}::{}({}),",
            v.suffix,
            value_expr(&v.ty, "", paths)
        );
    }
    out.push_str("        }\n    }\n}\n\n");
}

fn emit_resource_enum(model: &Model, prov: &Provenance) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "Draws any of the STU3 resources, a Bundle one time in four so that nested Bundles are common.",
        "the resource StructureDefinitions",
        prov,
    );
    out.push_str(
        "use crate::{Gen, Generate};\nuse fhir_stu3::resources as r;\nuse fhir_stu3::Resource;\n\n",
    );
    let bundle = model
        .resources
        .iter()
        .position(|r| r == "Bundle")
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "/// Draws one of the {} resource types.\nimpl Generate for Resource {{\n    fn generate(g: &mut Gen<'_>) -> Self {{\n        match g.pick_resource({}, {bundle}) {{",
        model.resources.len(),
        model.resources.len()
    );
    for (i, r) in model.resources.iter().enumerate() {
        let arm = if i + 1 == model.resources.len() {
            "_".to_owned()
        } else {
            i.to_string()
        };
        let _ = writeln!(out, "            {arm} => g.child::<r::{r}>().into(),");
    }
    out.push_str("        }\n    }\n}\n");
    out
}

/// Whether `body` names something through the module alias `alias` (`r::X`,
/// not `Period::default`).
fn names_module(body: &str, alias: &str) -> bool {
    let pat = format!("{alias}::");
    body.match_indices(&pat).any(|(i, _)| {
        !body[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Every generated file of the strategies crate, relative to [`STRATEGIES_DIR`].
pub fn emit(model: &Model, prov: &Provenance) -> Files {
    let paths = Paths::new(model);
    let mut by_owner: BTreeMap<&str, (Vec<&TypeDef>, Vec<&ChoiceDef>)> = BTreeMap::new();
    for t in model.types.values() {
        by_owner.entry(&t.owner).or_default().0.push(t);
    }
    for c in model.choices.values() {
        by_owner.entry(&c.owner).or_default().1.push(c);
    }
    let mut files = Files::new();
    let mut mods: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (owner, (types, choices)) in &by_owner {
        let kind = model.sources[*owner].2;
        let mut types = types.clone();
        types.sort_by_key(|t| (t.kind == TypeKind::Backbone, t.fhir.clone()));
        let mut body = String::new();
        for t in &types {
            emit_struct(t, &paths, &mut body);
        }
        for c in choices {
            emit_choice(c, &paths, &mut body);
        }
        let mut out = String::new();
        let what = if kind == TypeKind::Resource {
            "resource"
        } else {
            "data type"
        };
        header(
            &mut out,
            &format!("Draws the `{owner}` {what}, its backbone elements and choices."),
            &format!("`{}`", model.sources[*owner].0),
            prov,
        );
        // Only what the body names, so that no import is unused.
        let mut uses = vec!["use crate::{Gen, Generate};".to_owned()];
        if names_module(&body, "c") {
            uses.push("use fhir_stu3::codes as c;".to_owned());
        }
        if names_module(&body, "d") {
            uses.push("use fhir_stu3::datatypes as d;".to_owned());
        }
        if names_module(&body, "r") {
            uses.push("use fhir_stu3::resources as r;".to_owned());
        }
        if body.contains("<Resource>") {
            uses.push("use fhir_stu3::Resource;".to_owned());
        }
        out.push_str(&uses.join("\n"));
        out.push_str("\n\n");
        out.push_str(&body);
        let dir = if kind == TypeKind::Resource {
            "resources"
        } else {
            "datatypes"
        };
        let module = module_ident(owner);
        files.insert(format!("{dir}/{module}.rs"), out);
        mods.entry(dir).or_default().push(module);
    }
    for (dir, modules) in &mods {
        let mut m = String::new();
        header(
            &mut m,
            &format!(
                "`Generate` for every STU3 {}, one module each.",
                if *dir == "resources" {
                    "resource"
                } else {
                    "complex data type"
                }
            ),
            "the StructureDefinitions",
            prov,
        );
        for module in modules {
            let _ = writeln!(m, "mod {module};");
        }
        files.insert(format!("{dir}/mod.rs"), m);
    }
    files.insert("resource.rs".to_owned(), emit_resource_enum(model, prov));
    let mut m = String::new();
    header(
        &mut m,
        "`Generate` implementations for the whole STU3 model.",
        "the core package",
        prov,
    );
    m.push_str("mod datatypes;\nmod resource;\nmod resources;\n");
    files.insert("mod.rs".to_owned(), m);
    files
}
