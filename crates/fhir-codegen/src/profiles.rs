//! Typed profiles for the `fhir-profiles` crate: one Rust struct per resource
//! profile (StructureDefinition of kind `resource`, derivation `constraint`) in
//! the non-core packages.
//!
//! A profile struct has one field per element the profile allows, typed by the
//! profile's cardinality (1..1 plain, 0..1 `Option`, repeating `Vec`):
//! - elements the profile forbids (max 0) have no field;
//! - primitive elements with a fixed value have no field: the conversion to
//!   the base resource writes the value;
//! - a sliced list becomes one field per named slice (typed extensions for
//!   extension slices) and a field for the items in no slice;
//! - an element whose own elements the profile constrains becomes a nested
//!   struct of the same kind; any other element keeps the base model's type;
//! - a `code` element bound (required) to a value set of the profile's own gets
//!   a code enum of that value set.
//!
//! Each struct converts into its base type (`From`) and from it (`TryFrom`,
//! which validates against the profile first and returns every finding). The
//! logic lives once in the crate's hand-written `rt.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde_json::Value;

use crate::definitions::{expand, terminology_index, Index};
use crate::emit::{doc, emit_code_enum, primitive_alias, Files, Provenance};
use crate::ir::{CodeDef, CodeEnum, Field, FieldType, Model, TypeDef, TypeKind};
use crate::naming::{field_ident, module_ident};
use crate::packages::{Package, PackageCache};

/// Where the typed profiles go, relative to the workspace.
pub const PROFILES_DIR: &str = "crates/fhir-profiles/src/generated";

const CORE: &str = "hl7.fhir.r3.core";

fn s<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `CareConnect-ITK-Header-Organization-1` → `CareConnectItkHeaderOrganization1`: the
/// same rule as the typed extensions' names (all-capital parts lowered after their first
/// letter).
fn profile_type_name(id: &str) -> String {
    crate::extensions::base_type_name(id)
}

/// One element of a profile's snapshot, with its place in the element tree.
struct El<'a> {
    v: &'a Value,
    id: String,
    /// Children (not slices), in snapshot order.
    children: Vec<usize>,
    /// Slices of this element, in snapshot order.
    slices: Vec<usize>,
    slice: Option<String>,
}

impl El<'_> {
    fn min(&self) -> u32 {
        self.v.get("min").and_then(Value::as_u64).unwrap_or(0) as u32
    }
    /// `u32::MAX` for `*`.
    fn max(&self) -> u32 {
        max_of(self.v.get("max"))
    }
    fn base_min(&self) -> u32 {
        self.v["base"]
            .get("min")
            .and_then(Value::as_u64)
            .unwrap_or(u64::from(self.min())) as u32
    }
    fn base_max(&self) -> u32 {
        match self.v["base"].get("max") {
            Some(m) => max_of(Some(m)),
            None => self.max(),
        }
    }
    fn fixed(&self) -> Option<(&str, &Value)> {
        self.v.as_object().and_then(|o| {
            o.iter()
                .find(|(k, _)| k.starts_with("fixed"))
                .map(|(k, v)| (k.as_str(), v))
        })
    }
    fn has_pattern(&self) -> bool {
        self.v
            .as_object()
            .is_some_and(|o| o.keys().any(|k| k.starts_with("pattern")))
    }
    fn short(&self) -> &str {
        s(self.v, "short")
    }
    fn type_profile(&self) -> Option<&str> {
        self.v["type"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|t| t.get("profile").and_then(Value::as_str))
    }
    /// `required` binding's value set URL (without version).
    fn required_value_set(&self) -> Option<String> {
        let b = self.v.get("binding")?;
        if s(b, "strength") != "required" {
            return None;
        }
        let url = b
            .get("valueSetReference")
            .and_then(|r| r.get("reference"))
            .and_then(Value::as_str)
            .or_else(|| b.get("valueSetUri").and_then(Value::as_str))?;
        Some(url.split('|').next().unwrap_or(url).to_owned())
    }
    /// Differs from the element it constrains in a way the typed form shows.
    fn constrained(&self) -> bool {
        self.min() != self.base_min()
            || self.max() != self.base_max()
            || self.fixed().is_some()
            || self.slice.is_some()
            || (self.v.get("slicing").is_some() && !self.slices.is_empty())
    }
}

fn max_of(v: Option<&Value>) -> u32 {
    match v.and_then(Value::as_str) {
        Some("*") | None => u32::MAX,
        Some(m) => m.parse().unwrap_or(u32::MAX),
    }
}

fn card(min: u32, max: u32) -> String {
    if max == u32::MAX {
        format!("{min}..*")
    } else {
        format!("{min}..{max}")
    }
}

/// A profile's element tree.
struct Tree<'a> {
    els: Vec<El<'a>>,
    by_id: HashMap<String, usize>,
}

impl<'a> Tree<'a> {
    fn new(elements: &'a [Value]) -> Self {
        let mut els: Vec<El<'a>> = Vec::new();
        let mut by_id = HashMap::new();
        for v in elements {
            let id = s(v, "id").to_owned();
            let slice = v
                .get("sliceName")
                .and_then(Value::as_str)
                .map(str::to_owned);
            by_id.insert(id.clone(), els.len());
            els.push(El {
                v,
                id,
                children: Vec::new(),
                slices: Vec::new(),
                slice,
            });
        }
        for i in 0..els.len() {
            let id = els[i].id.clone();
            let Some(dot) = id.rfind('.') else { continue };
            let (parent, segment) = (&id[..dot], &id[dot + 1..]);
            if let Some(colon) = segment.find(':') {
                let sliced = format!("{parent}.{}", &segment[..colon]);
                if let Some(&b) = by_id.get(&sliced) {
                    els[b].slices.push(i);
                }
            } else if let Some(&p) = by_id.get(parent) {
                els[p].children.push(i);
            }
        }
        Tree { els, by_id }
    }

    /// Whether any element below `i` (children, slices, and theirs) is constrained.
    fn constrained_below(&self, i: usize) -> bool {
        let e = &self.els[i];
        e.children
            .iter()
            .chain(e.slices.iter())
            .any(|&c| self.els[c].constrained() || self.constrained_below(c))
    }

    fn child(&self, i: usize, name: &str) -> Option<usize> {
        let id = &self.els[i].id;
        self.by_id
            .get(&format!("{id}.{name}"))
            .or_else(|| self.by_id.get(&format!("{id}.{name}[x]")))
            .copied()
    }
}

/// How a profile field is held, given the profile's cardinality.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Card {
    One,
    Opt,
    Many,
}

impl Card {
    fn of(min: u32, max: u32, base_many: bool) -> Card {
        if base_many && max > 1 {
            Card::Many
        } else if min >= 1 {
            Card::One
        } else {
            Card::Opt
        }
    }
    fn wrap(self, t: &str) -> String {
        match self {
            Card::One => t.to_owned(),
            Card::Opt => format!("Option<{t}>"),
            Card::Many => format!("Vec<{t}>"),
        }
    }
}

/// How the base type holds a field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BaseCard {
    Opt,
    Many,
    /// `Extensions`.
    Ext,
}

/// The conversion between a profile field's items and the base field's items.
#[derive(Clone)]
enum Conv {
    /// Same type.
    Same,
    /// A nested profile struct; `boxed` when the base holds it in a `Box`.
    Nested {
        rust: String,
        base: String,
        boxed: bool,
    },
    /// A typed extension.
    Typed { rust: String },
    /// A code of the profile's value set, over the base's code type.
    Recode,
}

/// One field of a generated struct.
struct PField {
    /// Rust field name in the profile struct.
    rust: String,
    /// Rust type of one item in the profile struct.
    item: String,
    card: Card,
    conv: Conv,
    doc: String,
    /// An extension list held as `Extensions`, like the base type's.
    ext_list: bool,
}

/// A group of fields that share one base field (a sliced list, or a plain field).
enum Part {
    /// A plain field: the base field's name and holding, and the profile field.
    Plain {
        base: String,
        /// The base field's FHIR element name (for locations).
        fhir: String,
        base_card: BaseCard,
        field: PField,
    },
    /// A sliced list: the slices (with the name or URL that selects each), then the rest.
    Sliced {
        base: String,
        base_card: BaseCard,
        element_id: String,
        by_url: bool,
        slices: Vec<(String, PField)>,
        rest: PField,
    },
    /// A primitive element with a value fixed by the profile: not a field.
    Fixed {
        base: String,
        base_card: BaseCard,
        element_id: String,
        text: String,
    },
}

/// Everything one profile's file needs.
struct FileCx<'m> {
    model: &'m Model,
    ext_types: &'m BTreeMap<String, String>,
    uses: BTreeSet<String>,
    /// Nested structs, emitted after the profile's own.
    nested: String,
    names: BTreeSet<String>,
    exported: Vec<String>,
    profile_url: String,
    profile_name: String,
    codes: &'m mut CodeEnums,
}

/// Code enums of the profiles' own value sets.
#[derive(Default)]
struct CodeEnums {
    by_url: BTreeMap<String, Option<CodeEnum>>,
    used_names: BTreeSet<String>,
    /// Value sets bound from `Coding` / `CodeableConcept` elements.
    coding: BTreeSet<String>,
    /// The package each value set comes from.
    package: BTreeMap<String, String>,
}

impl CodeEnums {
    /// The enum for a required-bound `code` element's value set, when it differs
    /// from the base element's, can be listed from the packages, and every code
    /// of it is also a code of the base element's enum (if the base has one).
    fn for_element(
        &mut self,
        index: &Index<'_>,
        cache: &mut PackageCache,
        model: &Model,
        e: &El<'_>,
        base: &Field,
    ) -> Result<Option<String>, String> {
        let FieldType::Primitive { code, code_enum } = &base.ty else {
            return Ok(None);
        };
        if code != "code" {
            return Ok(None);
        }
        let Some(url) = e.required_value_set() else {
            return Ok(None);
        };
        let base_enum = code_enum.as_ref().and_then(|r| model.codes.get(r));
        if base_enum.is_some_and(|b| b.url == url) {
            return Ok(None);
        }
        if !self.by_url.contains_key(&url) {
            let made = self.make(index, cache, &url)?;
            self.by_url.insert(url.clone(), made);
        }
        let Some(Some(made)) = self.by_url.get_mut(&url) else {
            return Ok(None);
        };
        if let Some(b) = base_enum {
            if !made
                .codes
                .iter()
                .all(|c| b.codes.iter().any(|x| x.code == c.code))
            {
                return Ok(None);
            }
        }
        if !made.bound_from.contains(&e.id) {
            made.bound_from.push(e.id.clone());
        }
        Ok(Some(made.rust.clone()))
    }

    /// Records a required binding of a `Coding` or `CodeableConcept` element (`at`)
    /// to `url`: its value set gets an enum (when the packages can list it) with
    /// `to_coding` and `from_coding`.
    fn for_coding(
        &mut self,
        index: &Index<'_>,
        cache: &mut PackageCache,
        url: &str,
        at: &str,
    ) -> Result<(), String> {
        if !self.by_url.contains_key(url) {
            let made = self.make(index, cache, url)?;
            self.by_url.insert(url.to_owned(), made);
        }
        if let Some(Some(made)) = self.by_url.get_mut(url) {
            self.coding.insert(url.to_owned());
            if !made.bound_from.iter().any(|b| b == at) {
                made.bound_from.push(at.to_owned());
            }
        }
        Ok(())
    }

    fn make(
        &mut self,
        index: &Index<'_>,
        cache: &mut PackageCache,
        url: &str,
    ) -> Result<Option<CodeEnum>, String> {
        let Some((pkg, filename)) = index.value_sets.get(url) else {
            return Ok(None);
        };
        let vs = pkg.read(cache, filename)?;
        let Ok(concepts) = expand(&vs, index, cache, 0) else {
            return Ok(None);
        };
        self.package.insert(url.to_owned(), pkg.id.folder());
        let mut systems: Vec<String> = Vec::new();
        let mut codes = Vec::new();
        let mut variants = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for (system, code, display) in concepts {
            if !seen.insert(code.clone()) {
                // The same code from two systems cannot be one `code` value.
                return Ok(None);
            }
            let sys = match systems.iter().position(|x| *x == system) {
                Some(i) => i,
                None => {
                    systems.push(system.clone());
                    systems.len() - 1
                }
            };
            let rust = crate::naming::code_variant(&code, &display, codes.len(), &mut variants);
            codes.push(CodeDef {
                code,
                rust,
                display,
                definition: String::new(),
                system: sys,
            });
        }
        let mut rust = profile_type_name(s(&vs, "id"));
        let base = rust.clone();
        let mut n = 2;
        while !self.used_names.insert(rust.clone()) {
            rust = format!("{base}{n}");
            n += 1;
        }
        let title = match s(&vs, "title") {
            "" => s(&vs, "name").to_owned(),
            t => t.to_owned(),
        };
        Ok(Some(CodeEnum {
            rust,
            url: url.to_owned(),
            title,
            description: s(&vs, "description").to_owned(),
            systems,
            codes,
            bound_from: Vec::new(),
        }))
    }
}

impl FileCx<'_> {
    fn fresh_name(&mut self, want: &str) -> String {
        let mut name = want.to_owned();
        let mut n = 2;
        while !self.names.insert(name.clone()) {
            name = format!("{want}{n}");
            n += 1;
        }
        name
    }

    /// The Rust type of one item of a base field, importing what it names.
    fn base_item(&mut self, ty: &FieldType) -> String {
        match ty {
            FieldType::Attr => "String".to_owned(),
            FieldType::Primitive { code, code_enum } => {
                let alias = primitive_alias(code);
                self.uses.insert(format!("fhir_stu3::primitives::{alias}"));
                match code_enum {
                    Some(e) => {
                        self.uses.insert(format!("fhir_stu3::codes::{e}"));
                        format!("{alias}<{e}>")
                    }
                    None => alias.to_owned(),
                }
            }
            FieldType::Complex { rust, boxed } => {
                self.import_type(rust);
                if *boxed {
                    format!("Box<{rust}>")
                } else {
                    rust.clone()
                }
            }
            FieldType::Resource => {
                self.uses.insert("fhir_stu3::Resource".to_owned());
                "Resource".to_owned()
            }
            FieldType::Choice { rust } => {
                let module = match self.model.choices.get(rust) {
                    Some(c) if rust != "AnyValue" => match self.model.sources.get(&c.owner) {
                        Some((_, _, TypeKind::Resource)) => "resources",
                        _ => "datatypes",
                    },
                    _ => "datatypes",
                };
                self.uses.insert(format!("fhir_stu3::{module}::{rust}"));
                rust.clone()
            }
        }
    }

    fn import_type(&mut self, rust: &str) {
        let owner_kind = self
            .model
            .types
            .get(rust)
            .and_then(|t| self.model.sources.get(&t.owner))
            .map(|s| s.2);
        let module = match owner_kind {
            Some(TypeKind::Resource) => "resources",
            _ => "datatypes",
        };
        self.uses.insert(format!("fhir_stu3::{module}::{rust}"));
    }
}

fn is_extension_list(f: &Field) -> bool {
    f.many && matches!(&f.ty, FieldType::Complex { rust, .. } if rust == "Extension")
}

/// Builds the fields of the struct for element `i` of `tree`, whose base type is
/// `base`; emits nested structs into `cx.nested`.
#[allow(clippy::too_many_arguments)]
fn parts_of(
    cx: &mut FileCx<'_>,
    tree: &Tree<'_>,
    i: usize,
    base: &TypeDef,
    rust_name: &str,
    index: &Index<'_>,
    cache: &mut PackageCache,
    is_root: bool,
) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    for f in &base.fields {
        let base_card = if is_extension_list(f) {
            BaseCard::Ext
        } else if f.many {
            BaseCard::Many
        } else {
            BaseCard::Opt
        };
        let base_item = if base_card == BaseCard::Ext {
            cx.uses.insert("fhir_stu3::datatypes::Extension".to_owned());
            "Extension".to_owned()
        } else {
            cx.base_item(&f.ty)
        };
        let Some(c) = tree.child(i, &f.name) else {
            // Not in the snapshot: the base element, as it is.
            parts.push(Part::Plain {
                base: f.rust.clone(),
                fhir: f.name.clone(),
                base_card,
                field: PField {
                    rust: f.rust.clone(),
                    item: base_item,
                    card: Card::of(f.min, if f.many { u32::MAX } else { 1 }, f.many),
                    conv: Conv::Same,
                    doc: field_doc(
                        &f.short,
                        &f.path,
                        &card(f.min, if f.many { u32::MAX } else { 1 }),
                        "",
                    ),
                    ext_list: base_card == BaseCard::Ext,
                },
            });
            continue;
        };
        let e = &tree.els[c];
        if e.max() == 0 {
            continue;
        }
        let live_slices: Vec<usize> = e
            .slices
            .iter()
            .copied()
            .filter(|&s| tree.els[s].max() != 0)
            .collect();
        if let (Some((_, value)), FieldType::Primitive { .. }) = (e.fixed(), &f.ty) {
            let text = match value {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            parts.push(Part::Fixed {
                base: f.rust.clone(),
                base_card,
                element_id: e.id.clone(),
                text,
            });
            continue;
        }
        let many = base_card != BaseCard::Opt;
        let card_here = Card::of(e.min(), e.max(), many);
        if many && !live_slices.is_empty() {
            let by_url = base_card == BaseCard::Ext;
            let mut slices = Vec::new();
            let mut taken: BTreeSet<String> = base.fields.iter().map(|f| f.rust.clone()).collect();
            for &si in &live_slices {
                let sl = &tree.els[si];
                let slice_name = sl.slice.clone().unwrap_or_default();
                let mut rust = field_ident(&snake_acronyms(&slice_name));
                while !taken.insert(rust.clone()) {
                    rust.push_str("_slice");
                }
                let sc = Card::of(sl.min(), sl.max(), true);
                let selector;
                let (item, conv) = if by_url {
                    let url = sl.type_profile().map(str::to_owned).or_else(|| {
                        tree.child(si, "url")
                            .and_then(|u| tree.els[u].fixed())
                            .and_then(|(_, v)| v.as_str().map(str::to_owned))
                    });
                    let Some(url) = url else {
                        // No URL to tell it by: its items stay with the rest.
                        continue;
                    };
                    selector = url.clone();
                    match cx.ext_types.get(&url) {
                        Some(t) => {
                            cx.uses.insert(format!("fhir_extensions::{t}"));
                            (t.clone(), Conv::Typed { rust: t.clone() })
                        }
                        None => ("Extension".to_owned(), Conv::Same),
                    }
                } else {
                    selector = slice_name.clone();
                    nested_or_same(
                        cx,
                        tree,
                        si,
                        f,
                        &base_item,
                        rust_name,
                        &slice_name,
                        index,
                        cache,
                    )?
                };
                let what = if by_url {
                    format!("Extension `{selector}`.")
                } else {
                    String::new()
                };
                slices.push((
                    selector,
                    PField {
                        rust,
                        item,
                        card: sc,
                        conv,
                        doc: field_doc(sl.short(), &sl.id, &card(sl.min(), sl.max()), &what),
                        ext_list: false,
                    },
                ));
            }
            let rest_doc = field_doc(
                &format!(
                    "{} (items in none of the slices above)",
                    e.short().trim_end_matches('.')
                ),
                &e.id,
                &card(e.min(), e.max()),
                "",
            );
            parts.push(Part::Sliced {
                base: f.rust.clone(),
                base_card,
                element_id: e.id.clone(),
                by_url,
                slices,
                rest: PField {
                    rust: f.rust.clone(),
                    item: base_item,
                    card: Card::Many,
                    conv: Conv::Same,
                    doc: rest_doc,
                    ext_list: by_url,
                },
            });
            continue;
        }
        let (item, conv) = if is_root && f.name == "meta" {
            (base_item, Conv::Same)
        } else if let Some(code_enum) = cx.codes.for_element(index, cache, cx.model, e, f)? {
            cx.uses.insert(format!("crate::codes::{code_enum}"));
            cx.uses.insert("fhir_stu3::primitives::Code".to_owned());
            (format!("Code<{code_enum}>"), Conv::Recode)
        } else {
            let seg = f.name.clone();
            nested_or_same(cx, tree, c, f, &base_item, rust_name, &seg, index, cache)?
        };
        let card_here = if base_card == BaseCard::Ext {
            Card::Many
        } else {
            card_here
        };
        let mut notes = String::new();
        if let Some(vs) = e.required_value_set() {
            if let Conv::Same = conv {
                let _ = write!(notes, "Bound (required) to `{vs}`.");
            }
        }
        let targets: Vec<&str> = e.v["type"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("targetProfile").and_then(Value::as_str))
            .collect();
        if !targets.is_empty() {
            if !notes.is_empty() {
                notes.push(' ');
            }
            let _ = write!(
                notes,
                "References {}.",
                targets
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            );
        }
        if e.has_pattern() {
            if !notes.is_empty() {
                notes.push(' ');
            }
            notes.push_str(
                "The profile sets a pattern its value must match (checked by validation).",
            );
        }
        parts.push(Part::Plain {
            base: f.rust.clone(),
            fhir: f.name.clone(),
            base_card,
            field: PField {
                rust: f.rust.clone(),
                item,
                card: card_here,
                conv,
                doc: field_doc(e.short(), &e.id, &card(e.min(), e.max()), &notes),
                ext_list: base_card == BaseCard::Ext,
            },
        });
    }
    Ok(parts)
}

/// The item type of element `c` (a child or a slice of base field `f`): a
/// nested struct when the profile constrains what is inside it, else the base type.
#[allow(clippy::too_many_arguments)]
fn nested_or_same(
    cx: &mut FileCx<'_>,
    tree: &Tree<'_>,
    c: usize,
    f: &Field,
    base_item: &str,
    parent_rust: &str,
    segment: &str,
    index: &Index<'_>,
    cache: &mut PackageCache,
) -> Result<(String, Conv), String> {
    let FieldType::Complex {
        rust: base_rust,
        boxed,
    } = &f.ty
    else {
        return Ok((base_item.to_owned(), Conv::Same));
    };
    if base_rust == "Extension" || base_rust == "Meta" || !tree.constrained_below(c) {
        return Ok((base_item.to_owned(), Conv::Same));
    }
    let Some(base_td) = cx.model.types.get(base_rust) else {
        return Ok((base_item.to_owned(), Conv::Same));
    };
    let want = format!(
        "{parent_rust}{}",
        crate::naming::type_ident(&snake_acronyms(segment))
    );
    let rust = cx.fresh_name(&want);
    let mut out = String::new();
    emit_struct(cx, tree, c, base_td, &rust, index, cache, false, &mut out)?;
    cx.nested.push_str(&out);
    cx.exported.push(rust.clone());
    Ok((
        rust.clone(),
        Conv::Nested {
            rust,
            base: base_rust.clone(),
            boxed: *boxed,
        },
    ))
}

/// `ITKMessageHandling` → `ItkMessageHandling`, so that `field_ident` gives
/// `itk_message_handling`; `sdsUserID` → `sdsUserId`.
fn snake_acronyms(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
        let next_upper_or_end = chars.get(i + 1).is_none_or(|n| !n.is_ascii_lowercase());
        if c.is_ascii_uppercase() && prev_upper && next_upper_or_end {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A doc comment of our own words (intra-doc links kept), one paragraph per line.
fn doc_raw(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "/// {line}");
    }
}

/// Whether `text` names the identifier `name` outside doc comments.
fn mentions(text: &str, name: &str) -> bool {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| {
            // Outside string literals only.
            l.split('"').step_by(2).collect::<Vec<_>>().join(" ")
        })
        .any(|l| {
            l.match_indices(name).any(|(i, _)| {
                let before = l[..i].chars().next_back();
                let after = l[i + name.len()..].chars().next();
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        })
}

fn field_doc(short: &str, id: &str, cardinality: &str, notes: &str) -> String {
    let mut out = String::new();
    let short = short.trim();
    if !short.is_empty() {
        out.push_str(short);
        out.push_str("\n\n");
    }
    let _ = write!(out, "`{id}`, {cardinality}.");
    if !notes.is_empty() {
        out.push(' ');
        out.push_str(notes);
    }
    out
}

/// Emits the struct `rust` for element `i` (base type `base`) and its impls.
#[allow(clippy::too_many_arguments)]
fn emit_struct(
    cx: &mut FileCx<'_>,
    tree: &Tree<'_>,
    i: usize,
    base: &TypeDef,
    rust: &str,
    index: &Index<'_>,
    cache: &mut PackageCache,
    is_root: bool,
    out: &mut String,
) -> Result<(), String> {
    let parts = parts_of(cx, tree, i, base, rust, index, cache, is_root)?;
    let e = &tree.els[i];
    cx.import_type(&base.rust);
    cx.uses.insert("fhir_runtime::XmlComments".to_owned());
    let base_rust = &base.rust;

    // Doc comment.
    if !is_root {
        let head = e.short().trim();
        if !head.is_empty() {
            doc(out, "", head);
            out.push_str("///\n");
        }
        let _ = writeln!(
            out,
            "/// `{}` as profiled by `{}`: a [`{base_rust}`] with the profile's constraints.",
            e.id, cx.profile_name
        );
    }
    let fixed: Vec<String> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Fixed {
                element_id, text, ..
            } => Some(format!("`{element_id}` = `{text}`")),
            _ => None,
        })
        .collect();
    if !is_root && !fixed.is_empty() {
        out.push_str("///\n");
        doc_raw(
            out,
            &format!(
                "Fixed by the profile (written by the conversion to [`{base_rust}`]): {}.",
                fixed.join(", ")
            ),
        );
    }
    let required: Vec<&PField> = all_fields(&parts)
        .into_iter()
        .filter(|f| f.card == Card::One)
        .collect();
    let derive_default = required.is_empty();
    let _ = writeln!(
        out,
        "#[derive(Clone, Debug, PartialEq{})]\npub struct {rust} {{",
        if derive_default { ", Default" } else { "" }
    );
    for f in all_fields(&parts) {
        doc(out, "    ", &f.doc);
        let ty = if f.ext_list {
            cx.uses.insert("fhir_stu3::Extensions".to_owned());
            "Extensions".to_owned()
        } else {
            f.card.wrap(&f.item)
        };
        let _ = writeln!(out, "    pub {}: {ty},", f.rust);
    }
    out.push_str("    /// XML comments around and inside the element, kept for XML round trips.\n    pub xml_comments: XmlComments,\n}\n\n");

    // impl: new, take.
    let _ = writeln!(out, "impl {rust} {{");
    if is_root {
        let _ = writeln!(
            out,
            "    /// The profile's canonical URL (written into `meta.profile`).\n    pub const URL: &'static str = {:?};\n",
            cx.profile_url
        );
    }
    let args: Vec<String> = required
        .iter()
        .map(|f| format!("{}: {}", f.rust, f.card.wrap(&f.item)))
        .collect();
    let _ = writeln!(
        out,
        "    /// A value with the required elements (1..1) given and every other element empty.\n    pub fn new({}) -> Self {{\n        {rust} {{",
        args.join(", ")
    );
    for f in all_fields(&parts) {
        if f.card == Card::One {
            let _ = writeln!(out, "            {},", f.rust);
        } else if f.ext_list {
            let _ = writeln!(out, "            {}: Default::default(),", f.rust);
        } else if f.card == Card::Many {
            let _ = writeln!(out, "            {}: Vec::new(),", f.rust);
        } else {
            let _ = writeln!(out, "            {}: None,", f.rust);
        }
    }
    out.push_str("            xml_comments: XmlComments::default(),\n        }\n    }\n\n");

    // take: base → profile.
    let _ = writeln!(
        out,
        "    pub(crate) fn take(b: {base_rust}, cx: &mut rt::Cx, at: &str) -> Option<Self> {{\n        let _ = (&cx, at);"
    );
    let mut lits: Vec<String> = Vec::new();
    for p in &parts {
        match p {
            Part::Fixed {
                base,
                base_card,
                element_id,
                ..
            } => match base_card {
                BaseCard::Opt => {
                    let _ = writeln!(
                        out,
                        "        rt::check_fixed(cx, {element_id:?}, b.{base}.as_ref());"
                    );
                }
                _ => {
                    let _ = writeln!(out, "        for p in &b.{base} {{ rt::check_fixed(cx, {element_id:?}, Some(p)); }}");
                }
            },
            Part::Plain {
                base,
                fhir,
                base_card,
                field,
            } => {
                let identity = matches!(field.conv, Conv::Same)
                    && matches!(
                        (base_card, field.card),
                        (BaseCard::Opt, Card::Opt) | (BaseCard::Many | BaseCard::Ext, Card::Many)
                    );
                if identity {
                    lits.push(format!("{}: b.{base}", field.rust));
                    continue;
                }
                let at = format!("{}.{fhir}", e.id);
                let expr = take_expr(&format!("b.{base}"), *base_card, field, &at);
                let _ = writeln!(out, "        let {} = {expr};", field.rust);
                lits.push(lit_of(field));
            }
            Part::Sliced {
                base,
                base_card,
                element_id,
                by_url,
                slices,
                rest,
            } => {
                let selectors: Vec<String> = slices.iter().map(|(s, _)| format!("{s:?}")).collect();
                let list = if *base_card == BaseCard::Ext {
                    format!("b.{base}.into_vec()")
                } else {
                    format!("b.{base}")
                };
                if *by_url {
                    let _ = writeln!(
                        out,
                        "        let (mut {base}_parts, {base}_rest) = rt::split_extensions({list}, &[{}]);",
                        selectors.join(", ")
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "        let (mut {base}_parts, {base}_rest) = rt::split_slices({:?}, {element_id:?}, {list}, &[{}]);",
                        cx.profile_url,
                        selectors.join(", ")
                    );
                }
                for (k, (sel, f)) in slices.iter().enumerate() {
                    let at = if *by_url {
                        format!("{element_id}('{sel}')")
                    } else {
                        format!("{element_id}:{sel}")
                    };
                    let expr = take_expr(
                        &format!("rt::part(&mut {base}_parts, {k})"),
                        BaseCard::Many,
                        f,
                        &at,
                    );
                    let _ = writeln!(out, "        let {} = {expr};", f.rust);
                    lits.push(lit_of(f));
                }
                let _ = writeln!(out, "        let _ = &mut {base}_parts;");
                let rest_expr = if *base_card == BaseCard::Ext {
                    format!("{base}_rest.into()")
                } else {
                    format!("{base}_rest")
                };
                let _ = writeln!(out, "        let {} = {rest_expr};", rest.rust);
                lits.push(rest.rust.clone());
            }
        }
    }
    let _ = writeln!(
        out,
        "        Some({rust} {{\n            {},\n            xml_comments: b.xml_comments,\n        }})\n    }}\n}}\n",
        lits.join(",\n            ")
    );

    // From<profile> for base.
    let _ = writeln!(
        out,
        "impl From<{rust}> for {base_rust} {{\n    fn from(v: {rust}) -> Self {{"
    );
    let mut assigns: Vec<String> = Vec::new();
    for p in &parts {
        match p {
            Part::Fixed {
                base,
                base_card,
                text,
                ..
            } => {
                let value = match base_card {
                    BaseCard::Opt => format!("Some(rt::fixed({text:?}))"),
                    _ => format!("vec![rt::fixed({text:?})]"),
                };
                assigns.push(format!("{base}: {value}"));
            }
            Part::Plain {
                base,
                base_card,
                field,
                ..
            } => {
                let value = if is_root && base == "meta" {
                    match field.card {
                        Card::One => {
                            "Some(rt::with_profile(Some(v.meta), Self::URL_OF_PROFILE))".to_owned()
                        }
                        _ => "Some(rt::with_profile(v.meta, Self::URL_OF_PROFILE))".to_owned(),
                    }
                    .replace("Self::URL_OF_PROFILE", &format!("{rust}::URL"))
                } else {
                    give_expr(&format!("v.{}", field.rust), *base_card, field)
                };
                assigns.push(format!("{base}: {value}"));
            }
            Part::Sliced {
                base,
                base_card,
                slices,
                rest,
                ..
            } => {
                let _ = writeln!(out, "        let mut {base} = Vec::new();");
                for (_, f) in slices {
                    let conv = give_conv(f);
                    let src = format!("v.{}", f.rust);
                    let line = match (f.card, conv) {
                        (Card::One, _) => format!("{base}.push({});", give_apply(f, &src)),
                        (_, None) => format!("{base}.extend({src});"),
                        (_, Some(c)) => format!("{base}.extend({src}.into_iter().map({c}));"),
                    };
                    let _ = writeln!(out, "        {line}");
                }
                if *base_card == BaseCard::Ext {
                    let _ = writeln!(out, "        {base}.extend(v.{}.into_vec());", rest.rust);
                } else {
                    let _ = writeln!(out, "        {base}.extend(v.{});", rest.rust);
                }
                if *base_card == BaseCard::Ext {
                    assigns.push(format!("{base}: {base}.into()"));
                } else {
                    assigns.push(base.clone());
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "        {base_rust} {{\n            {},\n            xml_comments: v.xml_comments,\n            ..Default::default()\n        }}\n    }}\n}}\n",
        assigns.join(",\n            ")
    );
    Ok(())
}

fn all_fields(parts: &[Part]) -> Vec<&PField> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Part::Plain { field, .. } => out.push(field),
            Part::Sliced { slices, rest, .. } => {
                out.extend(slices.iter().map(|(_, f)| f));
                out.push(rest);
            }
            Part::Fixed { .. } => {}
        }
    }
    out
}

fn lit_of(f: &PField) -> String {
    format!("{0}: {0}?", f.rust)
}

/// The `rt::Conv` function for base → profile items, or `None` for identity.
fn take_conv(f: &PField) -> String {
    match &f.conv {
        Conv::Same => "rt::same".to_owned(),
        Conv::Nested { rust, boxed, .. } => {
            if *boxed {
                format!("|b, cx, at| rt::unboxed(b, cx, at, {rust}::take)")
            } else {
                format!("{rust}::take")
            }
        }
        Conv::Typed { .. } => "rt::typed".to_owned(),
        Conv::Recode => "rt::recode".to_owned(),
    }
}

/// The expression giving `Option<field value>` from the base value `src`.
fn take_expr(src: &str, base_card: BaseCard, f: &PField, at: &str) -> String {
    let conv = take_conv(f);
    let identity = matches!(f.conv, Conv::Same);
    let ext = base_card == BaseCard::Ext;
    let list = if ext {
        format!("{src}.into_vec()")
    } else {
        src.to_owned()
    };
    match (base_card, f.card) {
        (BaseCard::Opt, Card::One) => format!("rt::one(cx, {at:?}, {src}, {conv})"),
        (BaseCard::Opt, Card::Opt) if identity => format!("Some({src})"),
        (BaseCard::Opt, _) => format!("rt::opt(cx, {at:?}, {src}, {conv})"),
        (_, Card::One) => format!("rt::one_of(cx, {at:?}, {list}, {conv})"),
        (_, Card::Opt) => format!("rt::opt_of(cx, {at:?}, {list}, {conv})"),
        (_, Card::Many) if identity => format!("Some({src})"),
        (_, Card::Many) => format!("rt::many(cx, {at:?}, {list}, {conv})"),
    }
}

/// The closure turning one profile item into one base item, or `None` for identity.
fn give_conv(f: &PField) -> Option<String> {
    match &f.conv {
        Conv::Same => None,
        Conv::Nested { base, boxed, .. } => Some(if *boxed {
            format!("|x| Box::new({base}::from(x))")
        } else {
            format!("{base}::from")
        }),
        Conv::Typed { rust } => Some(format!("|x: {rust}| x.to_extension()")),
        Conv::Recode => Some("rt::recode_into".to_owned()),
    }
}

/// One profile item `src` turned into one base item.
fn give_apply(f: &PField, src: &str) -> String {
    match &f.conv {
        Conv::Same => src.to_owned(),
        Conv::Nested { base, boxed, .. } => {
            if *boxed {
                format!("Box::new({base}::from({src}))")
            } else {
                format!("{base}::from({src})")
            }
        }
        Conv::Typed { .. } => format!("{src}.to_extension()"),
        Conv::Recode => format!("rt::recode_into({src})"),
    }
}

/// The expression giving the base field's value from the profile value `src`.
fn give_expr(src: &str, base_card: BaseCard, f: &PField) -> String {
    let conv = give_conv(f);
    let collect = if base_card == BaseCard::Ext {
        ".collect::<Extensions>()"
    } else {
        ".collect()"
    };
    match (base_card, f.card, conv) {
        (BaseCard::Opt, Card::One, _) => format!("Some({})", give_apply(f, src)),
        (BaseCard::Opt, _, None) => src.to_owned(),
        (BaseCard::Opt, _, Some(c)) => format!("{src}.map({c})"),
        (_, Card::One, _) => format!(
            "vec![{}]{}",
            give_apply(f, src),
            if base_card == BaseCard::Ext {
                ".into()"
            } else {
                ""
            }
        ),
        (_, Card::Many, None) => src.to_owned(),
        (_, _, None) => format!("{src}.into_iter(){collect}"),
        (_, _, Some(c)) => format!("{src}.into_iter().map({c}){collect}"),
    }
}

/// One generated module: (module, exported types, name, url, version, package).
type ModuleRow = (String, Vec<String>, String, String, String, String);

/// Builds every file of the profiles crate's generated folder.
pub fn emit(
    packages: &[Package],
    cache: &mut PackageCache,
    model: &Model,
    ext_types: &BTreeMap<String, String>,
    prov: &Provenance,
) -> Result<Files, String> {
    let index = terminology_index(packages);
    let mut chosen: Vec<(&Package, String)> = Vec::new();
    for p in packages.iter().filter(|p| p.id.name != CORE) {
        let mut entries: Vec<&Value> = p
            .index
            .iter()
            .filter(|e| s(e, "resourceType") == "StructureDefinition")
            .collect();
        entries.sort_by_key(|e| s(e, "filename"));
        for e in entries {
            chosen.push((p, s(e, "filename").to_owned()));
        }
    }
    let mut files = Files::new();
    let mut codes = CodeEnums::default();
    // (module, exported types, name, url, version, package)
    let mut modules: Vec<ModuleRow> = Vec::new();
    let mut used_types: BTreeSet<String> = BTreeSet::new();
    for (p, filename) in chosen {
        let sd = p.read(cache, &filename)?;
        if s(&sd, "derivation") == "constraint" {
            for e in sd["snapshot"]["element"].as_array().into_iter().flatten() {
                let coded = e["type"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| matches!(s(t, "code"), "Coding" | "CodeableConcept"));
                let b = &e["binding"];
                if !coded || s(b, "strength") != "required" {
                    continue;
                }
                let url = b["valueSetReference"]["reference"]
                    .as_str()
                    .or_else(|| b["valueSetUri"].as_str())
                    .unwrap_or("");
                let url = url.split('|').next().unwrap_or(url);
                if !url.is_empty() {
                    let at = format!("{}: {}", s(&sd, "name"), s(e, "id"));
                    codes.for_coding(&index, cache, url, &at)?;
                }
            }
        }
        if s(&sd, "kind") != "resource" || s(&sd, "derivation") != "constraint" {
            continue;
        }
        let Some(elements) = sd["snapshot"]["element"].as_array() else {
            continue;
        };
        let type_name = s(&sd, "type");
        let Some(base) = model.types.get(type_name) else {
            return Err(format!("{filename}: no base type {type_name} in the model"));
        };
        let tree = Tree::new(elements);
        if tree.els.is_empty() {
            continue;
        }
        let mut rust = profile_type_name(s(&sd, "id"));
        while !used_types.insert(rust.clone()) {
            rust.push('_');
        }
        let url = s(&sd, "url").to_owned();
        let name = s(&sd, "name").to_owned();
        let version = s(&sd, "version").to_owned();
        let mut cx = FileCx {
            model,
            ext_types,
            uses: BTreeSet::new(),
            nested: String::new(),
            names: BTreeSet::from([rust.clone()]),
            exported: vec![rust.clone()],
            profile_url: url.clone(),
            profile_name: name.clone(),
            codes: &mut codes,
        };
        let mut body = String::new();
        // The profile's doc comment.
        let title = match s(&sd, "title") {
            "" => name.clone(),
            t => t.to_owned(),
        };
        doc(&mut body, "", &title);
        let description = s(&sd, "description").trim();
        if !description.is_empty() && description != title {
            body.push_str("///\n");
            doc(&mut body, "", description);
        }
        let purpose = s(&sd, "purpose").trim();
        if !purpose.is_empty() {
            body.push_str("///\n");
            doc(&mut body, "", &format!("Purpose: {purpose}"));
        }
        body.push_str("///\n");
        doc_raw(
            &mut body,
            &format!(
                "Profile `{name}` version {}, URL `{url}`, from {}; constrains the [`{type_name}`] resource. Converts into [`{type_name}`] and [`Resource`] with `From` (writing the URL into `meta.profile` and the fixed values), and from them with `TryFrom`, which validates against the profile and returns every finding.",
                if version.is_empty() { "(none)" } else { &version },
                p.id.folder()
            ),
        );
        emit_struct(
            &mut cx, &tree, 0, base, &rust, &index, cache, true, &mut body,
        )?;
        // Root conversions.
        let _ = writeln!(
            body,
            "impl TryFrom<{type_name}> for {rust} {{\n    type Error = Vec<Finding>;\n    /// Validates against the profile, then takes the resource apart; every finding when it does not conform.\n    fn try_from(b: {type_name}) -> Result<Self, Vec<Finding>> {{\n        rt::validate(&b, Self::URL)?;\n        let mut cx = rt::Cx::new(Self::URL);\n        let v = Self::take(b, &mut cx, {type_name:?});\n        cx.finish(v)\n    }}\n}}\n"
        );
        let _ = writeln!(
            body,
            "impl TryFrom<Resource> for {rust} {{\n    type Error = Vec<Finding>;\n    /// As `TryFrom<{type_name}>`; a resource of another type is an error.\n    fn try_from(r: Resource) -> Result<Self, Vec<Finding>> {{\n        match r {{\n            Resource::{type_name}(b) => Self::try_from(b.into_inner()),\n            other => Err(rt::wrong_type(Self::URL, {type_name:?}, other.resource_type())),\n        }}\n    }}\n}}\n"
        );
        let _ = writeln!(
            body,
            "impl From<{rust}> for Resource {{\n    fn from(v: {rust}) -> Self {{\n        Resource::from({type_name}::from(v))\n    }}\n}}\n"
        );
        cx.uses.insert("fhir_stu3::Resource".to_owned());
        cx.uses.insert("fhir_validator::Finding".to_owned());
        let nested = std::mem::take(&mut cx.nested);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "//! `{name}` (`{url}`): the typed profile [`{rust}`].\n//!\n//! Generated by `cargo xtask codegen` from {} (base types from {}). Do not edit by hand.\n",
            p.id.folder(),
            prov.core
        );
        out.push_str("use crate::rt;\n");
        for u in &cx.uses {
            let name = u.rsplit("::").next().unwrap_or(u);
            if !mentions(&body, name) && !mentions(&nested, name) {
                continue;
            }
            let _ = writeln!(out, "use {u};");
        }
        out.push('\n');
        out.push_str(&body);
        out.push_str(&nested);
        let module = module_ident(&rust);
        files.insert(format!("{module}.rs"), out);
        modules.push((
            module,
            cx.exported.clone(),
            name,
            url,
            version,
            p.id.folder(),
        ));
    }

    // Code enums.
    let mut enums: Vec<CodeEnum> = codes.by_url.into_values().flatten().collect();
    enums.sort_by(|a, b| a.rust.cmp(&b.rust));
    let mut codes_mod = String::from("//! Code enums of the value sets the profiles and extensions bind (required): `code` elements whose value set differs from the base resource's, and `Coding` / `CodeableConcept` elements (with `to_coding` and `from_coding`), for every value set the packages can list.\n//!\n//! Generated by `cargo xtask codegen`. Do not edit by hand.\n\n");
    for e in &enums {
        let m = module_ident(&e.rust);
        let _ = writeln!(codes_mod, "mod {m};\npub use self::{m}::{};", e.rust);
        let from = Provenance {
            core: codes
                .package
                .get(&e.url)
                .cloned()
                .unwrap_or_else(|| prov.core.clone()),
        };
        let mut text = emit_code_enum(e, &from);
        if codes.coding.contains(&e.url) {
            let _ = write!(
                text,
                "\nimpl {0} {{\n    /// The code as a `Coding`: system, code and display.\n    pub fn to_coding(self) -> fhir_stu3::datatypes::Coding {{\n        fhir_stu3::datatypes::Coding {{\n            system: Some(fhir_stu3::primitives::Uri::new(self.system())),\n            code: Some(fhir_stu3::primitives::Code::new(self.code())),\n            display: Some(fhir_stu3::primitives::FhirString::new(self.display())),\n            ..Default::default()\n        }}\n    }}\n    /// The code a `Coding` holds, when its system and code are one of this value set's.\n    pub fn from_coding(coding: &fhir_stu3::datatypes::Coding) -> Option<Self> {{\n        let code = Self::from_code(coding.code.as_ref()?.value()?)?;\n        (coding.system.as_ref()?.value()? == code.system()).then_some(code)\n    }}\n    /// The code as a `CodeableConcept` with that one coding.\n    pub fn to_codeable_concept(self) -> fhir_stu3::datatypes::CodeableConcept {{\n        fhir_stu3::datatypes::CodeableConcept {{\n            coding: vec![self.to_coding()],\n            ..Default::default()\n        }}\n    }}\n}}\n",
                e.rust
            );
        }
        files.insert(format!("codes/{m}.rs"), text);
    }
    files.insert("codes/mod.rs".to_owned(), codes_mod);

    // mod.rs.
    let mut out = String::new();
    let pkgs: Vec<String> = packages.iter().map(|p| p.id.folder()).collect();
    let _ = writeln!(
        out,
        "//! Typed profiles: {} resource profiles, from {}.\n//!\n//! Generated by `cargo xtask codegen`. Do not edit by hand.\n#![allow(clippy::needless_update, clippy::redundant_closure, clippy::vec_init_then_push, clippy::let_unit_value)]\n\npub mod codes;\n",
        modules.len(),
        pkgs.join(", ")
    );
    for (m, ..) in &modules {
        let _ = writeln!(out, "mod {m};");
    }
    out.push('\n');
    for (m, names, ..) in &modules {
        let _ = writeln!(out, "pub use {m}::{{{}}};", names.join(", "));
    }
    out.push_str("\n/// Every typed profile in this crate, sorted by canonical URL.\npub static PROFILE_TYPES: &[crate::ProfileInfo] = &[\n");
    let mut by_url: Vec<&ModuleRow> = modules.iter().collect();
    by_url.sort_by(|a, b| a.3.cmp(&b.3));
    for (_, names, name, url, version, package) in by_url {
        let _ = writeln!(
            out,
            "    crate::ProfileInfo {{ url: {url:?}, name: {name:?}, version: {version:?}, package: {package:?}, rust_type: {:?} }},",
            names[0]
        );
    }
    out.push_str("];\n");
    out.push_str("\n/// Reads `resource` into the typed profile for `url` and converts it back: `None` when no\n/// typed profile has that URL, `Err` with every finding when the resource does not\n/// conform. What comes back is what the typed form holds, so a conforming resource\n/// comes back unchanged except for the profile's URL in `meta.profile`.\npub fn through_typed(url: &str, resource: fhir_stu3::Resource) -> Option<Result<fhir_stu3::Resource, Vec<fhir_validator::Finding>>> {\n    Some(match url {\n");
    for (_, names, _, url, ..) in &modules {
        let _ = writeln!(
            out,
            "        {url:?} => {}::try_from(resource).map(fhir_stu3::Resource::from),",
            names[0]
        );
    }
    out.push_str("        _ => return None,\n    })\n}\n");
    files.insert("mod.rs".to_owned(), out);
    Ok(files)
}
