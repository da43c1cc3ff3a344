//! Typed extensions for the `fhir-extensions` crate: one Rust type per
//! extension definition (StructureDefinition of type `Extension`, derivation
//! `constraint`) in the non-core packages, plus the core extensions that their
//! profiles name in `type.profile` of an `extension` / `modifierExtension`
//! element.
//!
//! A simple extension (a `value[x]`) becomes a struct with a `value` field; a
//! complex one (named slices of `Extension.extension`) a struct with one field
//! per slice, typed by the slice's cardinality; a slice that is itself complex
//! becomes a nested struct. The logic (decoding with every problem reported,
//! encoding) lives once in the crate's hand-written `rt.rs`; each generated type
//! is a table of slices and a few calls.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde_json::Value;

use crate::emit::{sanitize, Files};
use crate::naming::{field_ident, module_ident, type_ident};
use crate::packages::{Package, PackageCache};

/// Where the typed extensions go, relative to the workspace.
pub const EXTENSIONS_DIR: &str = "crates/fhir-extensions/src/generated";

const CORE: &str = "hl7.fhir.r3.core";

fn s<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The value of an extension or slice.
struct ValueSpec {
    /// FHIR type codes, in definition order, without duplicates.
    types: Vec<String>,
    /// `required` → value set, as written in the definition.
    binding: Option<(String, String)>,
    /// A fixed `system` of a Coding value.
    fixed_system: Option<String>,
}

enum Shape {
    Simple(ValueSpec),
    Complex(Vec<Slice>),
}

struct Slice {
    name: String,
    url: String,
    min: u32,
    /// `u32::MAX` for `*`.
    max: u32,
    short: String,
    /// `None` for a slice that is not allowed (max 0).
    shape: Option<Shape>,
}

struct Def {
    rust: String,
    url: String,
    name: String,
    version: String,
    package: String,
    short: String,
    description: String,
    shape: Shape,
}

fn card(min: u32, max: u32) -> String {
    if max == u32::MAX {
        format!("{min}..*")
    } else {
        format!("{min}..{max}")
    }
}

fn parse_max(e: &Value) -> u32 {
    match e.get("max").and_then(Value::as_str) {
        Some("*") | None => u32::MAX,
        Some(m) => m.parse().unwrap_or(u32::MAX),
    }
}

fn type_codes(e: &Value) -> Vec<String> {
    e["type"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| s(t, "code").to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The shape of the extension whose elements (after its own) are `els`, at
/// element path `prefix` (`Extension`, `Extension.extension`, ...).
fn parse_shape(els: &[&Value], prefix: &str, what: &str) -> Result<Shape, String> {
    let ext_path = format!("{prefix}.extension");
    let ext_child = format!("{prefix}.extension.");
    let mut slices = Vec::new();
    let mut i = 0;
    while i < els.len() {
        let e = els[i];
        if s(e, "path") == ext_path && !s(e, "sliceName").is_empty() {
            let mut j = i + 1;
            while j < els.len() && s(els[j], "path").starts_with(&ext_child) {
                j += 1;
            }
            slices.push(parse_slice(e, &els[i + 1..j], &ext_path, what)?);
            i = j;
        } else {
            i += 1;
        }
    }
    if !slices.is_empty() {
        return Ok(Shape::Complex(slices));
    }
    let value_prefix = format!("{prefix}.value");
    let mut generic: Vec<String> = Vec::new();
    let mut specific: Vec<String> = Vec::new();
    let mut binding = None;
    let mut fixed_system = None;
    for e in els {
        let path = s(e, "path");
        let Some(rest) = path.strip_prefix(&value_prefix) else {
            continue;
        };
        match rest.split_once('.') {
            None => {
                if s(e, "max") == "0" {
                    continue;
                }
                let types = type_codes(e);
                if rest == "[x]" && s(e, "sliceName").is_empty() {
                    generic.extend(types);
                } else {
                    specific.extend(types);
                }
                if let Some(b) = e.get("binding") {
                    let vs = b["valueSetReference"]["reference"]
                        .as_str()
                        .or_else(|| b["valueSetUri"].as_str())
                        .unwrap_or("");
                    if !vs.is_empty() {
                        binding = Some((s(b, "strength").to_owned(), vs.to_owned()));
                    }
                }
            }
            Some((_, "system")) => {
                if let Some(f) = e.get("fixedUri").and_then(Value::as_str) {
                    fixed_system = Some(f.to_owned());
                }
            }
            Some(_) => {}
        }
    }
    let all = if specific.is_empty() {
        generic
    } else {
        specific
    };
    let mut types: Vec<String> = Vec::new();
    for t in all {
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        return Err(format!(
            "{what}: `{prefix}` has neither named sub-extensions nor a value type"
        ));
    }
    Ok(Shape::Simple(ValueSpec {
        types,
        binding,
        fixed_system,
    }))
}

fn parse_slice(e: &Value, owned: &[&Value], ext_path: &str, what: &str) -> Result<Slice, String> {
    let name = s(e, "sliceName").to_owned();
    if e["type"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t.get("profile").is_some())
    {
        return Err(format!(
            "{what}: slice `{name}` names an extension definition (type.profile); not supported yet"
        ));
    }
    let url_path = format!("{ext_path}.url");
    let url = owned
        .iter()
        .find(|o| s(o, "path") == url_path)
        .and_then(|o| o.get("fixedUri").and_then(Value::as_str))
        .unwrap_or(&name)
        .to_owned();
    let min = e.get("min").and_then(Value::as_u64).unwrap_or(0) as u32;
    let max = parse_max(e);
    let shape = if max == 0 {
        None
    } else {
        Some(parse_shape(
            owned,
            ext_path,
            &format!("{what} slice `{name}`"),
        )?)
    };
    let mut short = s(e, "short").to_owned();
    if short.is_empty() {
        short = s(e, "definition").to_owned();
    }
    Ok(Slice {
        name,
        url,
        min,
        max,
        short,
        shape,
    })
}

/// `Extension-ITK-MessageHandling-2` → `ItkMessageHandling2`;
/// `patient-cadavericDonor` → `PatientCadavericDonor`.
pub(crate) fn base_type_name(id: &str) -> String {
    let id = id.strip_prefix("Extension-").unwrap_or(id);
    let mut out = String::new();
    for part in id.split(|c: char| !c.is_ascii_alphanumeric()) {
        if part.is_empty() {
            continue;
        }
        let all_caps = part.len() > 1
            && part.chars().any(|c| c.is_ascii_alphabetic())
            && !part.chars().any(|c| c.is_ascii_lowercase());
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            if all_caps {
                out.extend(chars.map(|c| c.to_ascii_lowercase()));
            } else {
                out.extend(chars);
            }
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

fn package_prefix(name: &str) -> &'static str {
    match name {
        CORE => "Core",
        "nhsdigital.fhir.stu3.core" => "CareConnect",
        "gpc.stu3.fhir-assets" => "Gpc",
        _ => "Pkg",
    }
}

/// Rust facts about a FHIR type code usable in `Extension.value[x]`:
/// (module, Rust type, `rt` kind constant, `AnyValue` variant, boxed in `AnyValue`).
fn value_type(code: &str) -> Option<(&'static str, String, String, String, bool)> {
    const COMPLEX: &[&str] = &[
        "Address",
        "Age",
        "Annotation",
        "Attachment",
        "CodeableConcept",
        "Coding",
        "ContactPoint",
        "Count",
        "Distance",
        "Duration",
        "HumanName",
        "Identifier",
        "Money",
        "Period",
        "Quantity",
        "Range",
        "Ratio",
        "Reference",
        "SampledData",
        "Signature",
        "Timing",
        "Meta",
    ];
    let variant = type_ident(code);
    let konst = field_ident(&variant)
        .trim_end_matches('_')
        .to_ascii_uppercase();
    // STU3's `Extension.value[x]` takes every primitive type but `uuid` and `xhtml`.
    if crate::ir::PRIMITIVES.contains(&code) && !matches!(code, "uuid" | "xhtml") {
        let rust = crate::emit::primitive_alias(code).to_owned();
        Some(("primitives", rust, konst, variant, false))
    } else if COMPLEX.contains(&code) {
        Some(("datatypes", code.to_owned(), konst, variant, true))
    } else {
        None
    }
}

/// Doc text as paragraphs of one line each (no lists, no lazy continuations).
fn paragraphs(text: &str) -> Vec<String> {
    sanitize(text)
        .split("\n\n")
        .map(|p| p.split('\n').collect::<Vec<_>>().join(" "))
        .filter(|p| !p.trim().is_empty())
        .collect()
}

fn doc(out: &mut String, indent: &str, paras: &[String]) {
    for (i, p) in paras.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(out, "{indent}///");
        }
        let _ = writeln!(out, "{indent}/// {p}");
    }
}

/// Per-file state: imports used.
#[derive(Default)]
struct FileCx {
    datatypes: BTreeSet<String>,
    primitives: BTreeSet<String>,
    any_value: bool,
    /// Public names defined in the file, for `mod.rs`.
    names: Vec<String>,
    all_names: BTreeSet<String>,
}

/// How a value is held: the Rust type and the `rt::Kind` expression.
struct ValueRust {
    ty: String,
    kind: String,
    expected: String,
}

/// Resolves a value spec to a Rust type, emitting a narrow enum when several
/// (but not all) types are allowed.
fn value_rust(
    out: &mut String,
    cx: &mut FileCx,
    spec: &ValueSpec,
    enum_name: &str,
    owner_doc: &str,
    what: &str,
) -> Result<ValueRust, String> {
    let expected = spec
        .types
        .iter()
        .map(|t| format!("value{}", type_ident(t)))
        .collect::<Vec<_>>()
        .join(" | ");
    if spec.types.len() >= 16 {
        cx.any_value = true;
        return Ok(ValueRust {
            ty: "AnyValue".to_owned(),
            kind: "rt::ANY".to_owned(),
            expected: "any type of value".to_owned(),
        });
    }
    let mut facts = Vec::new();
    for t in &spec.types {
        let f = value_type(t)
            .ok_or_else(|| format!("{what}: value type `{t}` is not an Extension.value[x] type"))?;
        if f.0 == "primitives" {
            cx.primitives.insert(f.1.clone());
        } else {
            cx.datatypes.insert(f.1.clone());
        }
        facts.push(f);
    }
    if let [(_, ty, konst, _, _)] = facts.as_slice() {
        return Ok(ValueRust {
            ty: ty.clone(),
            kind: format!("rt::{konst}"),
            expected,
        });
    }
    cx.any_value = true;
    if !cx.all_names.insert(enum_name.to_owned()) {
        return Err(format!("{what}: type name {enum_name} is used twice"));
    }
    cx.names.push(enum_name.to_owned());
    let _ = writeln!(
        out,
        "/// The value of {owner_doc}: one of {}.",
        facts
            .iter()
            .map(|f| format!("`value{}`", f.3))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "#[derive(Clone, Debug, PartialEq)]\npub enum {enum_name} {{"
    );
    for (_, ty, _, variant, boxed) in &facts {
        let _ = writeln!(out, "    /// A `{ty}` value.");
        if *boxed {
            let _ = writeln!(out, "    {variant}(Box<{ty}>),");
        } else {
            let _ = writeln!(out, "    {variant}({ty}),");
        }
    }
    out.push_str("}\n\n");
    let _ = writeln!(
        out,
        "impl {enum_name} {{\n    const KIND: rt::Kind<Self> = rt::Kind {{\n        expected: {:?},\n        from: |v| match v {{",
        expected
    );
    for (_, _, _, variant, _) in &facts {
        let _ = writeln!(
            out,
            "            AnyValue::{variant}(x) => Some({enum_name}::{variant}(x.clone())),"
        );
    }
    out.push_str("            _ => None,\n        },\n        to: |x| match x {\n");
    for (_, _, _, variant, _) in &facts {
        let _ = writeln!(
            out,
            "            {enum_name}::{variant}(v) => AnyValue::{variant}(v.clone()),"
        );
    }
    out.push_str("        },\n    };\n}\n\n");
    Ok(ValueRust {
        ty: enum_name.to_owned(),
        kind: format!("{enum_name}::KIND"),
        expected,
    })
}

fn value_notes(spec: &ValueSpec) -> String {
    let mut notes = String::new();
    if let Some(system) = &spec.fixed_system {
        let _ = write!(notes, " Coding system fixed to `{system}`.");
    }
    if let Some((strength, vs)) = &spec.binding {
        let _ = write!(notes, " Bound ({strength}) to `{vs}`.");
    }
    notes
}

/// Emits one struct (and, first, what it needs: value enums, nested structs).
/// `url` is the canonical URL (top level) or the sub-extension url (nested).
#[allow(clippy::too_many_arguments)]
fn emit_type(
    out: &mut String,
    cx: &mut FileCx,
    name: &str,
    url: &str,
    head: &[String],
    shape: &Shape,
    what: &str,
) -> Result<(), String> {
    if !cx.all_names.insert(name.to_owned()) {
        return Err(format!("{what}: type name {name} is used twice"));
    }
    match shape {
        Shape::Simple(spec) => {
            let v = value_rust(
                out,
                cx,
                spec,
                &format!("{name}Value"),
                &format!("[`{name}`]"),
                what,
            )?;
            cx.names.push(name.to_owned());
            doc(out, "", head);
            let _ = writeln!(
                out,
                "#[derive(Clone, Debug, PartialEq)]\npub struct {name} {{\n    /// `Extension.id`, if any.\n    pub id: Option<String>,"
            );
            let _ = writeln!(
                out,
                "    /// The value: `{}`.{}\n    pub value: {},\n}}\n",
                v.expected,
                value_notes(spec),
                v.ty
            );
            let _ = writeln!(out, "impl {name} {{");
            let _ = writeln!(
                out,
                "    /// The extension's `url`.\n    pub const URL: &'static str = {url:?};\n"
            );
            let _ = writeln!(
                out,
                "    /// The extension with this value (and no `id`).\n    pub fn new(value: {}) -> Self {{\n        {name} {{ id: None, value }}\n    }}\n",
                v.ty
            );
            let _ = writeln!(
                out,
                "    /// The extension as a plain FHIR `Extension`.\n    pub fn to_extension(&self) -> Extension {{\n        rt::simple(&self.id, Self::URL, &{}, &self.value)\n    }}\n",
                v.kind
            );
            find_in(out);
            let _ = writeln!(
                out,
                "    pub(crate) fn decode(ext: &Extension, path: &str, errors: &mut Vec<ExtensionError>) -> Option<Self> {{\n        let value = rt::value(ext, path, &{}, errors)?;\n        Some({name} {{ id: ext.id.clone(), value }})\n    }}\n}}\n",
                v.kind
            );
        }
        Shape::Complex(slices) => {
            // Field names, unique, clear of `id` and `other_extensions`.
            let mut used: BTreeSet<String> = ["id", "other_extensions"]
                .iter()
                .map(|x| x.to_string())
                .collect();
            let mut fields = Vec::new();
            for sl in slices {
                let Some(sh) = &sl.shape else {
                    fields.push(None);
                    continue;
                };
                let mut f = field_ident(&sl.name);
                while !used.insert(f.clone()) {
                    f.push('_');
                }
                let sub_what = format!("{what} slice `{}`", sl.name);
                let (ty, kind, expected, nested) = match sh {
                    Shape::Simple(spec) => {
                        let v = value_rust(
                            out,
                            cx,
                            spec,
                            &format!("{name}{}Value", type_ident(&sl.name)),
                            &format!("[`{name}::{f}`]"),
                            &sub_what,
                        )?;
                        let expected = if v.ty == "AnyValue" {
                            v.expected
                        } else {
                            format!("`{}`", v.expected)
                        };
                        (v.ty, v.kind, expected, false)
                    }
                    Shape::Complex(_) => {
                        let nested = format!("{name}{}", type_ident(&sl.name));
                        let head = vec![
                            format!("The `{}` sub-extension of [`{name}`].", sl.url),
                            paragraphs(&sl.short).join(" "),
                        ];
                        emit_type(out, cx, &nested, &sl.url, &head, sh, &sub_what)?;
                        (nested.clone(), String::new(), format!("[`{nested}`]"), true)
                    }
                };
                let notes = match sh {
                    Shape::Simple(spec) => value_notes(spec),
                    Shape::Complex(_) => String::new(),
                };
                fields.push(Some((f, ty, kind, expected, nested, notes)));
            }
            cx.names.push(name.to_owned());
            doc(out, "", head);
            // With no required sub-extension, every field is an Option or a Vec.
            let all_optional = slices.iter().all(|sl| sl.min == 0 || sl.max != 1);
            let _ = writeln!(
                out,
                "#[derive(Clone, Debug, {}PartialEq)]\npub struct {name} {{\n    /// `Extension.id`, if any.\n    pub id: Option<String>,",
                if all_optional { "Default, " } else { "" }
            );
            for (sl, f) in slices.iter().zip(&fields) {
                let Some((f, ty, _, expected, _, notes)) = f else {
                    continue;
                };
                let mut paras = paragraphs(&sl.short);
                paras.push(format!(
                    "Sub-extension `{}`, {}, {expected}.{notes}",
                    sl.url,
                    card(sl.min, sl.max)
                ));
                doc(out, "    ", &paras);
                let full = if sl.max > 1 {
                    format!("Vec<{ty}>")
                } else if sl.min == 0 {
                    format!("Option<{ty}>")
                } else {
                    ty.clone()
                };
                let _ = writeln!(out, "    pub {f}: {full},");
            }
            out.push_str("    /// Sub-extensions with other urls (the slicing is open), kept in order; written after the named ones.\n    pub other_extensions: Vec<Extension>,\n}\n\n");
            let _ = writeln!(out, "impl {name} {{");
            let _ = writeln!(
                out,
                "    /// The extension's `url`.\n    pub const URL: &'static str = {url:?};\n"
            );
            out.push_str("    const SLICES: &'static [rt::Slice] = &[\n");
            for sl in slices {
                let max = if sl.max == u32::MAX {
                    "u32::MAX".to_owned()
                } else {
                    sl.max.to_string()
                };
                let _ = writeln!(
                    out,
                    "        rt::Slice {{ url: {:?}, min: {}, max: {max} }},",
                    sl.url, sl.min
                );
            }
            out.push_str("    ];\n\n");
            // new(): required fields as arguments.
            let required: Vec<_> = slices
                .iter()
                .zip(&fields)
                .filter_map(|(sl, f)| f.as_ref().filter(|_| sl.min > 0 && sl.max == 1))
                .collect();
            out.push_str("    /// The extension with the required sub-extensions; optional ones empty, no `id`.\n");
            if required.len() > 7 {
                out.push_str("    #[allow(clippy::too_many_arguments)]\n");
            }
            let args = required
                .iter()
                .map(|(f, ty, ..)| format!("{f}: {ty}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                out,
                "    pub fn new({args}) -> Self {{\n        {name} {{\n            id: None,"
            );
            for (sl, f) in slices.iter().zip(&fields) {
                let Some((f, ..)) = f else { continue };
                if sl.max > 1 {
                    let _ = writeln!(out, "            {f}: Vec::new(),");
                } else if sl.min == 0 {
                    let _ = writeln!(out, "            {f}: None,");
                } else {
                    let _ = writeln!(out, "            {f},");
                }
            }
            out.push_str("            other_extensions: Vec::new(),\n        }\n    }\n\n");
            // to_extension()
            out.push_str("    /// The extension as a plain FHIR `Extension`, sub-extensions in definition order.\n    pub fn to_extension(&self) -> Extension {\n        let mut list = Vec::new();\n");
            for (sl, f) in slices.iter().zip(&fields) {
                let Some((f, _, kind, _, nested, _)) = f else {
                    continue;
                };
                let make = |v: &str| {
                    if *nested {
                        format!("{v}.to_extension()")
                    } else {
                        format!("rt::sub({:?}, &{kind}, {v})", sl.url)
                    }
                };
                if sl.max > 1 {
                    let _ = writeln!(
                        out,
                        "        for v in &self.{f} {{\n            list.push({});\n        }}",
                        make("v")
                    );
                } else if sl.min == 0 {
                    let _ = writeln!(
                        out,
                        "        if let Some(v) = &self.{f} {{\n            list.push({});\n        }}",
                        make("v")
                    );
                } else {
                    let _ = writeln!(out, "        list.push({});", make(&format!("&self.{f}")));
                }
            }
            out.push_str("        list.extend(self.other_extensions.iter().cloned());\n        rt::complex(&self.id, Self::URL, list)\n    }\n\n");
            find_in(out);
            // decode()
            out.push_str("    pub(crate) fn decode(ext: &Extension, path: &str, errors: &mut Vec<ExtensionError>) -> Option<Self> {\n        let mut d = rt::Complex::new(ext, path, Self::SLICES, errors);\n");
            for (i, f) in fields.iter().enumerate() {
                let Some((f, ty, kind, _, nested, _)) = f else {
                    continue;
                };
                let sl = &slices[i];
                let call = match (sl.max > 1, *nested) {
                    (true, false) => format!("d.all({i}, &{kind})"),
                    (false, false) => format!("d.first({i}, &{kind})"),
                    (true, true) => format!("d.all_nested({i}, {ty}::decode)"),
                    (false, true) => format!("d.first_nested({i}, {ty}::decode)"),
                };
                let _ = writeln!(out, "        let {f} = {call};");
            }
            let _ = writeln!(
                out,
                "        let other_extensions = d.others();\n        Some({name} {{\n            id: ext.id.clone(),"
            );
            for (sl, f) in slices.iter().zip(&fields) {
                let Some((f, ..)) = f else { continue };
                if sl.min > 0 && sl.max == 1 {
                    let _ = writeln!(out, "            {f}: {f}?,");
                } else {
                    let _ = writeln!(out, "            {f},");
                }
            }
            out.push_str("            other_extensions,\n        })\n    }\n}\n\n");
        }
    }
    let _ = writeln!(
        out,
        "impl TryFrom<&Extension> for {name} {{\n    type Error = Vec<ExtensionError>;\n    /// Decodes the typed extension, reporting every problem found.\n    fn try_from(ext: &Extension) -> Result<Self, Self::Error> {{\n        rt::decode_top(ext, Self::URL, Self::decode)\n    }}\n}}\n"
    );
    let _ = writeln!(
        out,
        "impl crate::TypedExtension for {name} {{\n    const URL: &'static str = {name}::URL;\n    fn to_extension(&self) -> Extension {{\n        {name}::to_extension(self)\n    }}\n    fn from_extension(ext: &Extension) -> Result<Self, Vec<ExtensionError>> {{\n        {name}::try_from(ext)\n    }}\n}}\n"
    );
    Ok(())
}

fn find_in(out: &mut String) {
    out.push_str("    /// Finds the first extension with this URL in `extensions` and decodes it;\n    /// `None` when there is none.\n    pub fn find_in(extensions: &[Extension]) -> Option<Result<Self, Vec<ExtensionError>>> {\n        crate::find::<Self>(extensions)\n    }\n\n");
}

/// Builds every file of the extensions crate's generated folder.
pub fn emit(
    packages: &[Package],
    cache: &mut PackageCache,
) -> Result<(Files, BTreeMap<String, String>), String> {
    let core = packages
        .iter()
        .find(|p| p.id.name == CORE)
        .ok_or("profiles/packages.toml must list hl7.fhir.r3.core")?;
    let core_folder = core.id.folder();
    // Core StructureDefinitions by URL.
    let core_sds: HashMap<&str, &str> = core
        .index
        .iter()
        .filter(|e| s(e, "resourceType") == "StructureDefinition")
        .map(|e| (s(e, "url"), s(e, "filename")))
        .collect();

    // (package, filename) of every definition to type; core ones found by reference.
    let mut chosen: Vec<(&Package, String)> = Vec::new();
    let mut core_refs: BTreeSet<String> = BTreeSet::new();
    let mut known: BTreeSet<String> = BTreeSet::new();
    let mut referenced: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in packages.iter().filter(|p| p.id.name != CORE) {
        let mut entries: Vec<&Value> = p
            .index
            .iter()
            .filter(|e| s(e, "resourceType") == "StructureDefinition")
            .collect();
        entries.sort_by_key(|e| s(e, "filename"));
        for e in entries {
            let filename = s(e, "filename").to_owned();
            known.insert(s(e, "url").to_owned());
            let sd = p.read(cache, &filename)?;
            if s(&sd, "type") == "Extension" && s(&sd, "derivation") == "constraint" {
                chosen.push((p, filename.clone()));
            }
            let els = elements(&sd);
            for el in els {
                let path = s(el, "path");
                if !(path.ends_with(".extension") || path.ends_with(".modifierExtension")) {
                    continue;
                }
                for t in el["type"].as_array().into_iter().flatten() {
                    if let Some(profile) = t.get("profile").and_then(Value::as_str) {
                        referenced
                            .entry(profile.to_owned())
                            .or_default()
                            .insert(s(&sd, "name").to_owned());
                        if core_sds.contains_key(profile) {
                            core_refs.insert(profile.to_owned());
                        }
                    }
                }
            }
        }
    }
    for url in &core_refs {
        chosen.push((core, core_sds[url.as_str()].to_owned()));
    }
    let unresolved: Vec<String> = referenced
        .keys()
        .filter(|u| !known.contains(*u) && !core_sds.contains_key(u.as_str()))
        .cloned()
        .collect();

    // Parse every definition.
    let mut defs = Vec::new();
    for (p, filename) in &chosen {
        let sd = p.read(cache, filename)?;
        let els = elements(&sd);
        let what = format!("{}/{filename}", p.id.folder());
        let Some((root, rest)) = els.split_first() else {
            return Err(format!("{what}: no elements"));
        };
        let shape = parse_shape(rest, "Extension", &what)?;
        let version = match sd.get("version").and_then(Value::as_str) {
            Some(v) => v.to_owned(),
            None => String::new(),
        };
        defs.push((
            base_type_name(s(&sd, "id")),
            Def {
                rust: String::new(),
                url: s(&sd, "url").to_owned(),
                name: s(&sd, "name").to_owned(),
                version,
                package: p.id.folder(),
                short: s(root, "short").to_owned(),
                description: s(&sd, "description").to_owned(),
                shape,
            },
            p.id.name.clone(),
        ));
    }
    // Names: collisions get their package as a prefix.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (base, ..) in &defs {
        *counts.entry(base.clone()).or_default() += 1;
    }
    let mut defs: Vec<Def> = defs
        .into_iter()
        .map(|(base, mut d, pkg)| {
            d.rust = if counts[&base] > 1 {
                format!("{}{base}", package_prefix(&pkg))
            } else {
                base
            };
            d
        })
        .collect();
    defs.sort_by(|a, b| a.rust.cmp(&b.rust));
    for w in defs.windows(2) {
        if w[0].rust == w[1].rust {
            return Err(format!(
                "two extensions map to the Rust type {}: {} and {}",
                w[0].rust, w[0].url, w[1].url
            ));
        }
    }

    let mut files = Files::new();
    let mut modules: Vec<(String, Vec<String>)> = Vec::new();
    let mut all_names: BTreeSet<String> = BTreeSet::new();
    for d in &defs {
        let mut cx = FileCx {
            all_names: std::mem::take(&mut all_names),
            ..Default::default()
        };
        let what = format!("{} ({})", d.name, d.package);
        let mut body = String::new();
        let version = if d.version.is_empty() {
            "(no version of its own)".to_owned()
        } else {
            format!("version {}", d.version)
        };
        let mut head = paragraphs(&d.short);
        if head.is_empty() {
            head.push(format!("The `{}` extension.", d.name));
        }
        let desc = paragraphs(&d.description);
        if desc != head {
            head.extend(desc);
        }
        let kind = match &d.shape {
            Shape::Simple(_) => "A simple extension (one value)",
            Shape::Complex(_) => "A complex extension (named sub-extensions, no value)",
        };
        head.push(format!(
            "{kind}: `{}` {version}, URL `{}`, from {}.",
            d.name, d.url, d.package
        ));
        emit_type(&mut body, &mut cx, &d.rust, &d.url, &head, &d.shape, &what)?;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "//! `{}` (`{}`): the typed extension [`{}`].\n//!\n//! Generated by `cargo xtask codegen` from {} (value types from {core_folder}). Do not edit by hand.\n",
            d.name, d.url, d.rust, d.package
        );
        if !cx.datatypes.is_empty() || cx.any_value {
            let mut list: Vec<String> = cx.datatypes.iter().cloned().collect();
            list.push("Extension".to_owned());
            if cx.any_value {
                list.push("AnyValue".to_owned());
            }
            list.sort();
            let _ = writeln!(out, "use fhir_stu3::datatypes::{{{}}};", list.join(", "));
        } else {
            out.push_str("use fhir_stu3::datatypes::Extension;\n");
        }
        if !cx.primitives.is_empty() {
            let list: Vec<String> = cx.primitives.iter().cloned().collect();
            let _ = writeln!(out, "use fhir_stu3::primitives::{{{}}};", list.join(", "));
        }
        out.push_str("use crate::{rt, ExtensionError};\n\n");
        out.push_str(&body);
        let module = module_ident(&d.rust);
        files.insert(format!("{module}.rs"), out);
        modules.push((module, std::mem::take(&mut cx.names)));
        all_names = cx.all_names;
    }

    // mod.rs: modules, re-exports, the table.
    let mut out = String::new();
    let pkgs: Vec<String> = packages.iter().map(|p| p.id.folder()).collect();
    let _ = writeln!(
        out,
        "//! Typed extensions: {} extension definitions, from {}.\n//!\n//! Generated by `cargo xtask codegen`. Do not edit by hand.",
        defs.len(),
        pkgs.join(", ")
    );
    if !unresolved.is_empty() {
        out.push_str("//!\n//! Extension URLs the profiles name that resolve nowhere in the packages (no type here):\n");
        for u in &unresolved {
            let _ = writeln!(out, "//! `{u}`;");
        }
    }
    out.push_str("// Generated `to_extension` bodies push one sub-extension per line, in definition order.\n#![allow(clippy::vec_init_then_push)]\n\n");
    for (m, _) in &modules {
        let _ = writeln!(out, "mod {m};");
    }
    out.push('\n');
    for (m, names) in &modules {
        let _ = writeln!(out, "pub use {m}::{{{}}};", names.join(", "));
    }
    let mut by_url: Vec<&Def> = defs.iter().collect();
    by_url.sort_by(|a, b| a.url.cmp(&b.url));
    out.push_str("\n/// Every extension type in this crate, sorted by canonical URL.\npub static EXTENSION_TYPES: &[crate::ExtensionInfo] = &[\n");
    for d in by_url {
        let _ = writeln!(
            out,
            "    crate::ExtensionInfo {{ url: {:?}, name: {:?}, version: {:?}, package: {:?}, rust_type: {:?}, complex: {} }},",
            d.url,
            d.name,
            d.version,
            d.package,
            d.rust,
            matches!(d.shape, Shape::Complex(_))
        );
    }
    out.push_str("];\n");
    files.insert("mod.rs".to_owned(), out);
    let types = defs
        .iter()
        .map(|d| (d.url.clone(), d.rust.clone()))
        .collect();
    Ok((files, types))
}

/// The snapshot's elements, or the differential's when there is no snapshot.
fn elements(sd: &Value) -> Vec<&Value> {
    let snap = sd["snapshot"]["element"].as_array();
    let list = match snap {
        Some(l) if !l.is_empty() => l,
        _ => match sd["differential"]["element"].as_array() {
            Some(l) => l,
            None => return Vec::new(),
        },
    };
    list.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            base_type_name("Extension-ITK-MessageHandling-2"),
            "ItkMessageHandling2"
        );
        assert_eq!(
            base_type_name("Extension-CareConnect-GPC-NHSNumberVerificationStatus-1"),
            "CareConnectGpcNHSNumberVerificationStatus1"
        );
        assert_eq!(
            base_type_name("patient-cadavericDonor"),
            "PatientCadavericDonor"
        );
        assert_eq!(
            base_type_name("Extension-coding-sctdescid"),
            "CodingSctdescid"
        );
    }
}
