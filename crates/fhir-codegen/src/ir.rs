//! The intermediate model: types and elements read from StructureDefinition
//! snapshots, with everything the emitter needs already decided (Rust names,
//! boxing, enums for required bindings).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::naming::{field_ident, type_ident, variant_ident};
use crate::packages::{Package, PackageCache};

/// What a generated struct stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeKind {
    /// A resource (`Patient`).
    Resource,
    /// A complex data type (`HumanName`).
    Datatype,
    /// A backbone element inside a resource or data type (`Patient.contact`).
    Backbone,
}

/// A generated struct.
#[derive(Clone, Debug)]
pub struct TypeDef {
    /// Rust name (`PatientContact`).
    pub rust: String,
    /// FHIR path of the type (`Patient.contact`) or type name.
    pub fhir: String,
    /// Resource, data type or backbone.
    pub kind: TypeKind,
    /// The StructureDefinition it comes from (`Patient`), which names its file.
    pub owner: String,
    /// Canonical URL of the owning StructureDefinition.
    pub url: String,
    /// Element `short`.
    pub short: String,
    /// Element `definition`.
    pub definition: String,
    /// The elements, in FHIR order.
    pub fields: Vec<Field>,
}

/// How a field is held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// An XML attribute (`Element.id`, `Extension.url`): a plain `String`.
    Attr,
    /// A primitive: FHIR type code, and the code enum when bound to one.
    Primitive {
        /// FHIR type code.
        code: String,
        /// Rust name of the code enum, for a required binding.
        code_enum: Option<String>,
    },
    /// A complex type or backbone element, by Rust name; `boxed` to break cycles.
    Complex {
        /// Rust type name.
        rust: String,
        /// Held in a `Box`.
        boxed: bool,
    },
    /// Any resource (`Resource` enum).
    Resource,
    /// A choice element `[x]`, by the Rust name of its enum.
    Choice {
        /// Rust enum name.
        rust: String,
    },
}

/// One element of a generated struct.
#[derive(Clone, Debug)]
pub struct Field {
    /// FHIR element name (for a choice, without `[x]`).
    pub name: String,
    /// Rust field name.
    pub rust: String,
    /// Full FHIR path (`Patient.birthDate`).
    pub path: String,
    /// Minimum cardinality.
    pub min: u32,
    /// Maximum cardinality as written (`1`, `*`).
    pub max: String,
    /// Repeating (max ≠ 1).
    pub many: bool,
    /// How it is held.
    pub ty: FieldType,
    /// The FHIR type codes, for docs (`date`, `HumanName`, `boolean | dateTime`).
    pub type_codes: Vec<String>,
    /// Element `short`.
    pub short: String,
    /// Position in FHIR element order.
    pub order: u16,
}

/// A generated choice enum.
#[derive(Clone, Debug)]
pub struct ChoiceDef {
    /// Rust name (`PatientDeceased`, or `AnyValue` for the open type).
    pub rust: String,
    /// The element paths that use it.
    pub paths: Vec<String>,
    /// Element `short` of the first use.
    pub short: String,
    /// Variants, in the order FHIR lists the types.
    pub variants: Vec<Variant>,
    /// The StructureDefinition whose file holds it.
    pub owner: String,
}

/// One type of a choice element.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Name suffix and Rust variant name (`DateTime`).
    pub suffix: String,
    /// How the value is held (primitives inline, complex types boxed).
    pub ty: FieldType,
    /// The FHIR type code.
    pub code: String,
}

/// A generated code enum for a required binding.
#[derive(Clone, Debug)]
pub struct CodeEnum {
    /// Rust name (`AdministrativeGender`).
    pub rust: String,
    /// Value set canonical URL.
    pub url: String,
    /// Value set name/title.
    pub title: String,
    /// Value set description.
    pub description: String,
    /// The code systems its codes come from.
    pub systems: Vec<String>,
    /// Codes in definition order: (code, Rust variant, display, definition, system index).
    pub codes: Vec<CodeDef>,
    /// Elements bound to it.
    pub bound_from: Vec<String>,
}

/// One code of a [`CodeEnum`].
#[derive(Clone, Debug)]
pub struct CodeDef {
    /// The code.
    pub code: String,
    /// Rust variant name.
    pub rust: String,
    /// Display text.
    pub display: String,
    /// Definition text.
    pub definition: String,
    /// Index into [`CodeEnum::systems`].
    pub system: usize,
}

/// A primitive type.
#[derive(Clone, Debug)]
pub struct PrimitiveDef {
    /// FHIR type code (`date`).
    pub code: String,
    /// Description from its StructureDefinition.
    pub description: String,
    /// The regular expression of its value, if any.
    pub regex: Option<String>,
    /// Canonical URL.
    pub url: String,
}

/// The whole model.
#[derive(Debug, Default)]
pub struct Model {
    /// Structs, by Rust name.
    pub types: BTreeMap<String, TypeDef>,
    /// Choice enums, by Rust name.
    pub choices: BTreeMap<String, ChoiceDef>,
    /// Code enums, by Rust name.
    pub codes: BTreeMap<String, CodeEnum>,
    /// Primitive types, by code.
    pub primitives: BTreeMap<String, PrimitiveDef>,
    /// Resource type names, sorted.
    pub resources: Vec<String>,
    /// StructureDefinitions read: name → (url, description, kind).
    pub sources: BTreeMap<String, (String, String, TypeKind)>,
}

/// Type codes that name a constraint profile of Quantity rather than a type of
/// its own (STU3 defines Age, Count, Distance, Duration and Money as types);
/// they are held as `Quantity`.
const QUANTITY_PROFILES: &[&str] = &["SimpleQuantity"];

/// Primitive type codes (plus `xhtml`).
pub const PRIMITIVES: &[&str] = &[
    "base64Binary",
    "boolean",
    "code",
    "date",
    "dateTime",
    "decimal",
    "id",
    "instant",
    "integer",
    "markdown",
    "oid",
    "positiveInt",
    "string",
    "time",
    "unsignedInt",
    "uri",
    "uuid",
    "xhtml",
];

fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// Builds the model from the FHIR core package.
pub fn build(core: &Package, cache: &mut PackageCache) -> Result<Model, String> {
    let mut model = Model::default();
    let mut sds: Vec<(String, Value)> = Vec::new();
    let mut valuesets: HashMap<String, String> = HashMap::new();
    let mut codesystems: HashMap<String, String> = HashMap::new();
    for entry in &core.index {
        let rt = s(entry, "resourceType");
        let filename = s(entry, "filename");
        match rt.as_str() {
            "StructureDefinition" => {
                let kind = s(entry, "kind");
                let derivation = s(entry, "derivation");
                let wanted = match kind.as_str() {
                    "resource" | "complex-type" => derivation == "specialization",
                    "primitive-type" => true,
                    _ => false,
                };
                if wanted {
                    sds.push((filename, entry.clone()));
                }
            }
            "ValueSet" => {
                valuesets.insert(s(entry, "url"), filename);
            }
            "CodeSystem" => {
                codesystems.insert(s(entry, "url"), filename);
            }
            _ => {}
        }
    }
    sds.sort_by(|a, b| a.0.cmp(&b.0));

    let mut loaded = Vec::new();
    for (filename, _) in &sds {
        let sd = core.read(cache, filename)?;
        if sd.get("abstract").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        loaded.push(sd);
    }

    let mut codes = CodeBuilder {
        core,
        valuesets,
        codesystems,
        by_url: BTreeMap::new(),
        used_names: BTreeSet::new(),
    };

    for sd in &loaded {
        let kind = s(sd, "kind");
        let name = s(sd, "type");
        if kind == "primitive-type" {
            let regex = sd["snapshot"]["element"]
                .as_array()
                .and_then(|els| els.iter().find(|e| s(e, "path").ends_with(".value")))
                .and_then(|e| e["type"][0]["extension"].as_array().cloned())
                .and_then(|exts| {
                    exts.iter()
                        .find(|x| s(x, "url").ends_with("structuredefinition-regex"))
                        .map(|x| s(x, "valueString"))
                });
            model.primitives.insert(
                name.clone(),
                PrimitiveDef {
                    code: name,
                    description: s(sd, "description"),
                    regex,
                    url: s(sd, "url"),
                },
            );
            continue;
        }
        let tk = if kind == "resource" {
            TypeKind::Resource
        } else {
            TypeKind::Datatype
        };
        if tk == TypeKind::Resource {
            model.resources.push(name.clone());
        }
        model
            .sources
            .insert(name.clone(), (s(sd, "url"), s(sd, "description"), tk));
        build_sd(&mut model, &mut codes, cache, sd, &name, tk)?;
    }
    // xhtml has a StructureDefinition of kind primitive-type; uuid too.
    model.resources.sort();
    model.codes = codes
        .by_url
        .into_values()
        .collect::<Vec<_>>()
        .into_iter()
        .map(|c| (c.rust.clone(), c))
        .collect();
    decide_boxing(&mut model);
    Ok(model)
}

fn build_sd(
    model: &mut Model,
    codes: &mut CodeBuilder<'_>,
    cache: &mut PackageCache,
    sd: &Value,
    name: &str,
    kind: TypeKind,
) -> Result<(), String> {
    let url = s(sd, "url");
    let elements = sd["snapshot"]["element"]
        .as_array()
        .ok_or_else(|| format!("StructureDefinition {name} has no snapshot"))?;
    // Map element path -> Rust type name for the root and each backbone element.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    owners.insert(name.to_owned(), type_ident(name));
    for e in elements.iter().skip(1) {
        let path = s(e, "path");
        let codes_here: Vec<String> = type_codes(e);
        if (codes_here == ["BackboneElement"] || codes_here == ["Element"])
            && e.get("contentReference").is_none()
        {
            owners.insert(path.clone(), type_ident(&path.replace('.', "_")));
        }
    }
    for (path, rust) in &owners {
        if path != name && model.types.contains_key(rust) {
            return Err(format!(
                "generated type name {rust} for {path} is already taken"
            ));
        }
    }
    let root = &elements[0];
    for (path, rust) in &owners {
        let def_el = elements
            .iter()
            .find(|e| s(e, "path") == *path)
            .unwrap_or(root);
        model.types.insert(
            rust.clone(),
            TypeDef {
                rust: rust.clone(),
                fhir: path.clone(),
                kind: if path == name {
                    kind
                } else {
                    TypeKind::Backbone
                },
                owner: name.to_owned(),
                url: url.clone(),
                short: s(def_el, "short"),
                definition: s(def_el, "definition"),
                fields: Vec::new(),
            },
        );
    }
    let mut order_counter: BTreeMap<String, u16> = BTreeMap::new();
    for e in elements.iter().skip(1) {
        let path = s(e, "path");
        let Some((parent, last)) = path.rsplit_once('.') else {
            continue;
        };
        let Some(owner) = owners.get(parent).cloned() else {
            return Err(format!("{path}: parent {parent} is not a backbone element"));
        };
        let order = {
            let c = order_counter.entry(owner.clone()).or_insert(0);
            *c += 1;
            *c - 1
        };
        let max = s(e, "max");
        let min = e.get("min").and_then(Value::as_u64).unwrap_or(0) as u32;
        let many = max != "1" && max != "0";
        let short = s(e, "short");
        let xml_attr = e
            .get("representation")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|x| x.as_str() == Some("xmlAttr")));
        let tcodes = type_codes(e);
        let (fname, ty) = if let Some(base) = last.strip_suffix("[x]") {
            let rust_enum = if tcodes.len() >= 30 {
                "AnyValue".to_owned()
            } else {
                type_ident(&format!("{}_{}", parent.replace('.', "_"), base))
            };
            let variants: Vec<Variant> = tcodes
                .iter()
                .map(|c| Variant {
                    suffix: variant_ident(c),
                    ty: value_type(c, None, true),
                    code: c.clone(),
                })
                .collect();
            match model.choices.get_mut(&rust_enum) {
                Some(existing) => {
                    let same = existing
                        .variants
                        .iter()
                        .map(|v| &v.code)
                        .eq(variants.iter().map(|v| &v.code));
                    if !same {
                        return Err(format!(
                            "choice enum {rust_enum} is used with different types at {path}"
                        ));
                    }
                    existing.paths.push(path.clone());
                }
                None => {
                    model.choices.insert(
                        rust_enum.clone(),
                        ChoiceDef {
                            rust: rust_enum.clone(),
                            paths: vec![path.clone()],
                            short: short.clone(),
                            variants,
                            owner: if rust_enum == "AnyValue" {
                                "Extension".to_owned()
                            } else {
                                name.to_owned()
                            },
                        },
                    );
                }
            }
            (base.to_owned(), FieldType::Choice { rust: rust_enum })
        } else if let Some(cr) = e.get("contentReference").and_then(Value::as_str) {
            let target = cr.trim_start_matches('#');
            let rust = owners
                .get(target)
                .cloned()
                .ok_or_else(|| format!("{path}: contentReference {cr} does not resolve"))?;
            (last.to_owned(), FieldType::Complex { rust, boxed: false })
        } else if xml_attr {
            (last.to_owned(), FieldType::Attr)
        } else {
            if tcodes.len() != 1 {
                return Err(format!("{path}: expected one type, found {tcodes:?}"));
            }
            let code = &tcodes[0];
            let code_enum = if code == "code" {
                codes.enum_for(cache, e, &path)?
            } else {
                None
            };
            let ty = if code == "BackboneElement" || code == "Element" {
                FieldType::Complex {
                    rust: owners[&path].clone(),
                    boxed: false,
                }
            } else {
                value_type(code, code_enum, false)
            };
            (last.to_owned(), ty)
        };
        let rust = field_ident(&fname);
        let field = Field {
            name: fname,
            rust,
            path: path.clone(),
            min,
            max,
            many,
            ty,
            type_codes: tcodes,
            short,
            order,
        };
        model
            .types
            .get_mut(&owner)
            .expect("owner inserted above")
            .fields
            .push(field);
    }
    Ok(())
}

fn type_codes(e: &Value) -> Vec<String> {
    e.get("type")
        .and_then(Value::as_array)
        .map(|ts| {
            let mut out: Vec<String> = Vec::new();
            for code in ts
                .iter()
                .filter_map(|t| t.get("code").and_then(Value::as_str))
            {
                // A Reference with several target profiles lists the code once per target.
                if !out.iter().any(|c| c == code) {
                    out.push(code.to_owned());
                }
            }
            out
        })
        .unwrap_or_default()
}

fn value_type(code: &str, code_enum: Option<String>, in_choice: bool) -> FieldType {
    if PRIMITIVES.contains(&code) {
        FieldType::Primitive {
            code: code.to_owned(),
            code_enum,
        }
    } else if code == "Resource" {
        FieldType::Resource
    } else {
        let rust = if QUANTITY_PROFILES.contains(&code) {
            "Quantity".to_owned()
        } else {
            type_ident(code)
        };
        FieldType::Complex {
            rust,
            boxed: in_choice,
        }
    }
}

/// Boxes single-valued complex fields that would otherwise make a type contain itself.
fn decide_boxing(model: &mut Model) {
    // Inline edges: single-valued, unboxed complex fields.
    let edges: BTreeMap<String, Vec<String>> = model
        .types
        .values()
        .map(|t| {
            let out = t
                .fields
                .iter()
                .filter(|f| !f.many)
                .filter_map(|f| match &f.ty {
                    FieldType::Complex { rust, boxed: false } => Some(rust.clone()),
                    _ => None,
                })
                .collect();
            (t.rust.clone(), out)
        })
        .collect();
    let reaches = |from: &str, to: &str| -> bool {
        let mut stack = vec![from.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                if let Some(next) = edges.get(&n) {
                    stack.extend(next.iter().cloned());
                }
            }
        }
        false
    };
    let mut to_box = Vec::new();
    for t in model.types.values() {
        for (i, f) in t.fields.iter().enumerate() {
            if let FieldType::Complex { rust, boxed: false } = &f.ty {
                if !f.many && reaches(rust, &t.rust) {
                    to_box.push((t.rust.clone(), i));
                }
            }
        }
    }
    for (t, i) in to_box {
        if let Some(FieldType::Complex { boxed, .. }) =
            model.types.get_mut(&t).map(|t| &mut t.fields[i].ty)
        {
            *boxed = true;
        }
    }
}

/// A code system concept: (code, display, definition).
type Concept = (String, String, String);

struct CodeBuilder<'p> {
    core: &'p Package,
    valuesets: HashMap<String, String>,
    codesystems: HashMap<String, String>,
    by_url: BTreeMap<String, CodeEnum>,
    used_names: BTreeSet<String>,
}

impl CodeBuilder<'_> {
    /// The code enum for a `code` element with a required binding whose value set
    /// can be fully enumerated from code systems in the package; else `None`.
    fn enum_for(
        &mut self,
        cache: &mut PackageCache,
        e: &Value,
        path: &str,
    ) -> Result<Option<String>, String> {
        let Some(b) = e.get("binding") else {
            return Ok(None);
        };
        if s(b, "strength") != "required" {
            return Ok(None);
        }
        let vs_url = b
            .get("valueSetReference")
            .and_then(|r| r.get("reference"))
            .and_then(Value::as_str)
            .or_else(|| b.get("valueSetUri").and_then(Value::as_str))
            .unwrap_or("");
        let vs_url = vs_url.split('|').next().unwrap_or("").to_owned();
        if let Some(existing) = self.by_url.get_mut(&vs_url) {
            existing.bound_from.push(path.to_owned());
            return Ok(Some(existing.rust.clone()));
        }
        let Some(vs_file) = self.valuesets.get(&vs_url).cloned() else {
            return Ok(None);
        };
        let vs = self.core.read(cache, &vs_file)?;
        let includes = vs["compose"]["include"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if includes.is_empty() || vs["compose"].get("exclude").is_some() {
            return Ok(None);
        }
        let mut systems = Vec::new();
        let mut raw: Vec<(String, String, String, usize)> = Vec::new();
        for inc in &includes {
            if inc.get("filter").is_some() || inc.get("valueSet").is_some() {
                return Ok(None);
            }
            let system = s(inc, "system");
            let sys_index = systems.len();
            systems.push(system.clone());
            if let Some(concepts) = inc.get("concept").and_then(Value::as_array) {
                // Displays and definitions come from the code system when it is here.
                let cs_concepts = self
                    .code_system_concepts(cache, &system)?
                    .unwrap_or_default();
                for c in concepts {
                    let code = s(c, "code");
                    let from_cs = cs_concepts.iter().find(|x| x.0 == code);
                    let display = match s(c, "display") {
                        d if !d.is_empty() => d,
                        _ => from_cs.map(|x| x.1.clone()).unwrap_or_default(),
                    };
                    let def = from_cs.map(|x| x.2.clone()).unwrap_or_default();
                    raw.push((code, display, def, sys_index));
                }
            } else {
                let Some(concepts) = self.code_system_concepts(cache, &system)? else {
                    return Ok(None);
                };
                for (code, display, def) in concepts {
                    raw.push((code, display, def, sys_index));
                }
            }
        }
        if raw.is_empty() {
            return Ok(None);
        }
        let mut seen = BTreeSet::new();
        let mut variant_names = BTreeSet::new();
        let mut defs = Vec::new();
        for (code, display, definition, system) in raw {
            if !seen.insert(code.clone()) {
                continue;
            }
            let rust = crate::naming::code_variant(&code, &display, defs.len(), &mut variant_names);
            defs.push(CodeDef {
                code,
                rust,
                display,
                definition,
                system,
            });
        }
        let id = s(&vs, "id");
        let mut rust = type_ident(&id.replace('-', "_"));
        let base = rust.clone();
        let mut n = 2;
        while !self.used_names.insert(rust.clone()) {
            rust = format!("{base}{n}");
            n += 1;
        }
        let title = match s(&vs, "title") {
            t if !t.is_empty() => t,
            _ => s(&vs, "name"),
        };
        self.by_url.insert(
            vs_url.clone(),
            CodeEnum {
                rust: rust.clone(),
                url: vs_url,
                title,
                description: s(&vs, "description"),
                systems,
                codes: defs,
                bound_from: vec![path.to_owned()],
            },
        );
        Ok(Some(rust))
    }

    /// All concepts of a complete code system in the package, flattened in order.
    fn code_system_concepts(
        &mut self,
        cache: &mut PackageCache,
        url: &str,
    ) -> Result<Option<Vec<Concept>>, String> {
        let Some(file) = self.codesystems.get(url).cloned() else {
            return Ok(None);
        };
        let cs = self.core.read(cache, &file)?;
        if s(&cs, "content") != "complete" {
            return Ok(None);
        }
        let mut out = Vec::new();
        fn walk(concepts: &[Value], out: &mut Vec<Concept>) {
            for c in concepts {
                out.push((s(c, "code"), s(c, "display"), s(c, "definition")));
                if let Some(sub) = c.get("concept").and_then(Value::as_array) {
                    walk(sub, out);
                }
            }
        }
        walk(
            cs["concept"].as_array().map(Vec::as_slice).unwrap_or(&[]),
            &mut out,
        );
        Ok(Some(out))
    }
}
