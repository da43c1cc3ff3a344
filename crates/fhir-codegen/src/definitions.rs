//! Static conformance tables for the `fhir-definitions` crate: every
//! StructureDefinition with a snapshot in the packages, the invariants they use
//! (de-duplicated), and the value sets they bind, expanded where the packages
//! allow it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde_json::Value;

use crate::emit::Files;
use crate::packages::{Package, PackageCache};

/// Where the tables go, relative to the workspace.
pub const DEFINITIONS_DIR: &str = "crates/fhir-definitions/src/generated";

fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn lit(text: &str) -> String {
    format!("{text:?}")
}

fn opt(text: Option<&str>) -> String {
    match text {
        Some(t) => format!("Some({t:?})"),
        None => "None".to_owned(),
    }
}

/// A module name for a resource id: lower snake case, a valid identifier.
fn module_name(id: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in id.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.starts_with(|c: char| c.is_ascii_digit()) || is_keyword(&out) {
        format!("m_{out}")
    } else {
        out
    }
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "break"
            | "const"
            | "continue"
            | "crate"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "async"
            | "await"
            | "dyn"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
    )
}

/// The short folder of a package.
fn package_dir(name: &str) -> &'static str {
    match name {
        "hl7.fhir.r3.core" => "core",
        "nhsdigital.fhir.stu3.core" => "careconnect",
        _ => "itk",
    }
}

struct Index<'p> {
    /// url → (package, filename), over every package, for value sets and code systems.
    value_sets: HashMap<String, (&'p Package, String)>,
    code_systems: HashMap<String, (&'p Package, String)>,
}

/// Builds every file of the definitions crate.
pub fn emit(packages: &[Package], cache: &mut PackageCache) -> Result<Files, String> {
    let mut index = Index {
        value_sets: HashMap::new(),
        code_systems: HashMap::new(),
    };
    let mut sd_entries: Vec<(&Package, String)> = Vec::new();
    for p in packages {
        for e in &p.index {
            let url = s(e, "url");
            let filename = s(e, "filename");
            match s(e, "resourceType").as_str() {
                "StructureDefinition" => sd_entries.push((p, filename)),
                "ValueSet" => {
                    index.value_sets.entry(url).or_insert((p, filename));
                }
                "CodeSystem" => {
                    index.code_systems.entry(url).or_insert((p, filename));
                }
                _ => {}
            }
        }
    }
    sd_entries.sort_by(|a, b| (&a.0.id.name, &a.1).cmp(&(&b.0.id.name, &b.1)));

    let mut files = Files::new();
    let mut constraints: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
    let mut constraint_list: Vec<(String, String, String, String)> = Vec::new();
    let mut bound: BTreeSet<String> = BTreeSet::new();
    // (url, package dir, module)
    let mut table: Vec<(String, String, String)> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut modules: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut used_modules: BTreeSet<(String, String)> = BTreeSet::new();

    for (pkg, filename) in &sd_entries {
        let sd = pkg.read(cache, filename)?;
        let url = s(&sd, "url");
        let Some(elements) = sd["snapshot"]["element"].as_array() else {
            skipped.push((url, format!("{} has no snapshot", pkg.id.folder())));
            continue;
        };
        let dir = package_dir(&pkg.id.name);
        let mut module = module_name(&s(&sd, "id"));
        while !used_modules.insert((dir.to_owned(), module.clone())) {
            module.push('_');
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "//! `{}` ({}), from {}.\n//!\n//! Generated by `cargo xtask codegen`. Do not edit by hand.\nuse crate::*;\n",
            s(&sd, "name"),
            url,
            pkg.id.folder()
        );
        let kind = match s(&sd, "kind").as_str() {
            "primitive-type" => "Kind::PrimitiveType",
            "complex-type" => "Kind::ComplexType",
            "logical" => "Kind::Logical",
            _ => "Kind::Resource",
        };
        let derivation = if s(&sd, "derivation") == "constraint" {
            "Derivation::Constraint"
        } else {
            "Derivation::Specialization"
        };
        let description = s(&sd, "description");
        let description = description.split("\n\n").next().unwrap_or("").trim();
        let base = sd.get("baseDefinition").and_then(Value::as_str);
        let _ = writeln!(
            out,
            "pub(crate) static SD: StructureDefinition = StructureDefinition {{ url: {}, name: {}, version: {}, package: {}, kind: {kind}, is_abstract: {}, type_name: {}, base_definition: {}, derivation: {derivation}, description: {}, elements: &[",
            lit(&url),
            lit(&s(&sd, "name")),
            lit(&s(&sd, "version")),
            lit(&pkg.id.folder()),
            sd.get("abstract").and_then(Value::as_bool).unwrap_or(false),
            lit(&s(&sd, "type")),
            opt(base),
            lit(description),
        );
        for e in elements {
            let mut cons = Vec::new();
            for c in e["constraint"].as_array().into_iter().flatten() {
                let expr = s(c, "expression");
                if expr.is_empty() {
                    continue;
                }
                let k = (s(c, "key"), s(c, "severity"), s(c, "human"), expr);
                let next = constraint_list.len();
                let i = *constraints.entry(k.clone()).or_insert(next);
                if i == next {
                    constraint_list.push(k);
                }
                if !cons.contains(&i) {
                    cons.push(i);
                }
            }
            out.push_str(&element(e, &cons, &mut bound));
        }
        out.push_str("]};\n");
        files.insert(format!("{dir}/{module}.rs"), out);
        modules.entry(dir).or_default().push(module.clone());
        table.push((url, dir.to_owned(), module));
    }

    // Value sets bound (required or extensible) by any element.
    let mut vs_out = String::from(
        "//! Value sets bound by the StructureDefinitions, expanded from the packages where possible.\n//!\n//! Generated by `cargo xtask codegen`. Do not edit by hand.\nuse crate::*;\n\n/// Every value set bound (required or extensible) by an element, sorted by URL.\npub static VALUE_SETS: &[ValueSet] = &[\n",
    );
    for url in &bound {
        let Some((pkg, filename)) = index.value_sets.get(url) else {
            let _ = writeln!(
                vs_out,
                "ValueSet {{ url: {}, name: \"\", version: \"\", expansion: Err(\"the value set is not in the packages\") }},",
                lit(url)
            );
            continue;
        };
        let vs = pkg.read(cache, filename)?;
        let expansion = match expand(&vs, &index, cache, 0) {
            Ok(concepts) => {
                let mut t = String::from("Ok(&[");
                for (system, code, display) in concepts {
                    let _ = write!(
                        t,
                        "Concept {{ system: {}, code: {}, display: {} }},",
                        lit(&system),
                        lit(&code),
                        lit(&display)
                    );
                }
                t.push_str("])");
                t
            }
            Err(why) => format!("Err({})", lit(&why)),
        };
        let _ = writeln!(
            vs_out,
            "ValueSet {{ url: {}, name: {}, version: {}, expansion: {expansion} }},",
            lit(url),
            lit(&s(&vs, "name")),
            lit(&s(&vs, "version"))
        );
    }
    vs_out.push_str("];\n");
    files.insert("value_sets.rs".to_owned(), vs_out);

    // Invariants.
    let mut c_out = String::from(
        "//! Every invariant of the StructureDefinitions, de-duplicated.\n//!\n//! Generated by `cargo xtask codegen`. Do not edit by hand.\nuse crate::*;\n\n/// Every distinct invariant (key, severity, description, expression); elements refer to them by index.\npub static CONSTRAINTS: &[Constraint] = &[\n",
    );
    for (key, severity, human, expr) in &constraint_list {
        let sev = if severity == "warning" {
            "ConstraintSeverity::Warning"
        } else {
            "ConstraintSeverity::Error"
        };
        let _ = writeln!(
            c_out,
            "Constraint {{ key: {}, severity: {sev}, human: {}, expression: {} }},",
            lit(key),
            lit(human),
            lit(expr)
        );
    }
    c_out.push_str("];\n");
    files.insert("constraints.rs".to_owned(), c_out);

    // Package module lists and the sorted table.
    for (dir, mods) in &modules {
        let mut m = String::from("//! Generated by `cargo xtask codegen`. Do not edit by hand.\n");
        for module in mods {
            let _ = writeln!(m, "pub(crate) mod {module};");
        }
        files.insert(format!("{dir}/mod.rs"), m);
    }
    table.sort();
    let mut root = String::from(
        "//! The conformance tables, generated by `cargo xtask codegen` from the packages in `profiles/packages.toml`. Do not edit by hand.\nuse crate::*;\n\nmod constraints;\nmod value_sets;\n",
    );
    for dir in modules.keys() {
        let _ = writeln!(root, "mod {dir};");
    }
    root.push_str("pub use constraints::CONSTRAINTS;\npub use value_sets::VALUE_SETS;\n\n");
    let _ = writeln!(
        root,
        "/// The packages these tables come from.\npub static PACKAGES: &[&str] = &[{}];\n",
        packages
            .iter()
            .map(|p| lit(&p.id.folder()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    root.push_str("/// Every StructureDefinition with a snapshot, sorted by canonical URL.\npub static STRUCTURE_DEFINITIONS: &[&StructureDefinition] = &[\n");
    for (_, dir, module) in &table {
        let _ = writeln!(root, "&{dir}::{module}::SD,");
    }
    root.push_str("];\n\n/// StructureDefinitions in the packages that are not in the tables, and why.\npub static SKIPPED_DEFINITIONS: &[(&str, &str)] = &[\n");
    skipped.sort();
    for (url, why) in &skipped {
        let _ = writeln!(root, "({}, {}),", lit(url), lit(why));
    }
    root.push_str("];\n");
    files.insert("mod.rs".to_owned(), root);
    Ok(files)
}

/// One `ElementDefinition { ... },` entry; records bound value sets.
fn element(e: &Value, cons: &[usize], bound: &mut BTreeSet<String>) -> String {
    let max = match s(e, "max").as_str() {
        "*" | "" => "Max::Unbounded".to_owned(),
        n => format!("Max::Count({})", n.parse::<u32>().unwrap_or(u32::MAX)),
    };
    let mut types = String::from("&[");
    for t in e["type"].as_array().into_iter().flatten() {
        let _ = write!(
            types,
            "TypeRef {{ code: {}, profile: {}, target_profile: {} }},",
            lit(&s(t, "code")),
            opt(t.get("profile").and_then(Value::as_str)),
            opt(t.get("targetProfile").and_then(Value::as_str))
        );
    }
    types.push(']');
    let mut fixed = "None".to_owned();
    let mut pattern = "None".to_owned();
    if let Some(obj) = e.as_object() {
        for (k, v) in obj {
            for (prefix, slot) in [("fixed", &mut fixed), ("pattern", &mut pattern)] {
                if let Some(suffix) = k.strip_prefix(prefix) {
                    if suffix.starts_with(|c: char| c.is_ascii_uppercase()) {
                        *slot = format!(
                            "Some(TypedValue {{ type_suffix: {}, json: {} }})",
                            lit(suffix),
                            lit(&v.to_string())
                        );
                    }
                }
            }
        }
    }
    let binding = match e.get("binding") {
        Some(b) => {
            let strength = match s(b, "strength").as_str() {
                "required" => "Strength::Required",
                "extensible" => "Strength::Extensible",
                "preferred" => "Strength::Preferred",
                _ => "Strength::Example",
            };
            let vs = b
                .get("valueSetReference")
                .and_then(|r| r.get("reference"))
                .and_then(Value::as_str)
                .or_else(|| b.get("valueSetUri").and_then(Value::as_str))
                .map(|u| u.split('|').next().unwrap_or(u).to_owned());
            if let Some(u) = &vs {
                if matches!(strength, "Strength::Required" | "Strength::Extensible") {
                    bound.insert(u.clone());
                }
            }
            format!(
                "Some(Binding {{ strength: {strength}, value_set: {} }})",
                opt(vs.as_deref())
            )
        }
        None => "None".to_owned(),
    };
    let slicing = match e.get("slicing") {
        Some(sl) => {
            let mut d = String::from("&[");
            for x in sl["discriminator"].as_array().into_iter().flatten() {
                let kind = match s(x, "type").as_str() {
                    "exists" => "DiscriminatorKind::Exists",
                    "pattern" => "DiscriminatorKind::Pattern",
                    "type" => "DiscriminatorKind::Type",
                    "profile" => "DiscriminatorKind::Profile",
                    _ => "DiscriminatorKind::Value",
                };
                let _ = write!(
                    d,
                    "Discriminator {{ kind: {kind}, path: {} }},",
                    lit(&s(x, "path"))
                );
            }
            d.push(']');
            let rules = match s(sl, "rules").as_str() {
                "closed" => "SlicingRules::Closed",
                "openAtEnd" => "SlicingRules::OpenAtEnd",
                _ => "SlicingRules::Open",
            };
            format!(
                "Some(Slicing {{ discriminators: {d}, ordered: {}, rules: {rules} }})",
                sl.get("ordered").and_then(Value::as_bool).unwrap_or(false)
            )
        }
        None => "None".to_owned(),
    };
    let content_reference = e
        .get("contentReference")
        .and_then(Value::as_str)
        .map(|r| r.trim_start_matches('#'));
    format!(
        "ElementDefinition {{ id: {}, path: {}, slice_name: {}, min: {}, max: {max}, types: {types}, content_reference: {}, fixed: {fixed}, pattern: {pattern}, binding: {binding}, slicing: {slicing}, constraints: &[{}], short: {}, max_length: {} }},\n",
        lit(&s(e, "id")),
        lit(&s(e, "path")),
        opt(e.get("sliceName").and_then(Value::as_str)),
        e.get("min").and_then(Value::as_u64).unwrap_or(0),
        opt(content_reference),
        cons.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
        lit(&s(e, "short")),
        match e.get("maxLength").and_then(Value::as_u64) {
            Some(n) => format!("Some({n})"),
            None => "None".to_owned(),
        }
    )
}

type Concepts = Vec<(String, String, String)>;

/// Expands a value set from the packages alone, or says why it cannot be.
fn expand(
    vs: &Value,
    index: &Index<'_>,
    cache: &mut PackageCache,
    depth: usize,
) -> Result<Concepts, String> {
    if depth > 8 {
        return Err("value set imports nest too deeply".to_owned());
    }
    if let Some(contains) = vs["expansion"]["contains"].as_array() {
        let mut out = Vec::new();
        flatten_expansion(contains, &mut out);
        return Ok(sorted(out));
    }
    let compose = &vs["compose"];
    let mut out = Vec::new();
    for inc in compose["include"].as_array().into_iter().flatten() {
        out.extend(include(inc, index, cache, depth)?);
    }
    let mut excluded = Vec::new();
    for exc in compose["exclude"].as_array().into_iter().flatten() {
        excluded.extend(include(exc, index, cache, depth)?);
    }
    out.retain(|c| !excluded.iter().any(|x| x.0 == c.0 && x.1 == c.1));
    if out.is_empty() {
        return Err("the value set has no codes that can be listed from the packages".to_owned());
    }
    Ok(sorted(out))
}

fn sorted(mut v: Concepts) -> Concepts {
    v.sort();
    v.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    v
}

fn flatten_expansion(contains: &[Value], out: &mut Concepts) {
    for c in contains {
        let code = s(c, "code");
        if !code.is_empty() && c.get("abstract").and_then(Value::as_bool) != Some(true) {
            out.push((s(c, "system"), code, s(c, "display")));
        }
        if let Some(inner) = c["contains"].as_array() {
            flatten_expansion(inner, out);
        }
    }
}

fn include(
    inc: &Value,
    index: &Index<'_>,
    cache: &mut PackageCache,
    depth: usize,
) -> Result<Concepts, String> {
    if inc["filter"].as_array().is_some_and(|f| !f.is_empty()) {
        let system = s(inc, "system");
        return Err(format!(
            "it selects codes of {system} by a filter, which needs a terminology server"
        ));
    }
    let mut from_sets: Option<Concepts> = None;
    for vs_url in inc["valueSet"].as_array().into_iter().flatten() {
        let url = vs_url.as_str().unwrap_or("");
        let url = url.split('|').next().unwrap_or(url);
        let Some((pkg, filename)) = index.value_sets.get(url) else {
            return Err(format!("it includes {url}, which is not in the packages"));
        };
        let vs = pkg.read(cache, filename)?;
        let codes = expand(&vs, index, cache, depth + 1)?;
        from_sets = Some(match from_sets {
            None => codes,
            Some(prev) => prev
                .into_iter()
                .filter(|c| codes.iter().any(|x| x.0 == c.0 && x.1 == c.1))
                .collect(),
        });
    }
    let system = s(inc, "system");
    if system.is_empty() {
        return from_sets.ok_or_else(|| "an include with neither system nor value set".to_owned());
    }
    let listed: Concepts = inc["concept"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (system.clone(), s(c, "code"), s(c, "display")))
        .collect();
    let codes = if !listed.is_empty() {
        // Displays from the code system when the value set gives none.
        match index.code_systems.get(&system) {
            Some((pkg, filename)) => {
                let cs = pkg.read(cache, filename)?;
                let mut all = Vec::new();
                flatten_code_system(&system, cs["concept"].as_array(), &mut all);
                listed
                    .into_iter()
                    .map(|(sys, code, display)| {
                        let display = if display.is_empty() {
                            all.iter()
                                .find(|c| c.1 == code)
                                .map(|c| c.2.clone())
                                .unwrap_or_default()
                        } else {
                            display
                        };
                        (sys, code, display)
                    })
                    .collect()
            }
            None => listed,
        }
    } else {
        let Some((pkg, filename)) = index.code_systems.get(&system) else {
            return Err(format!(
                "it includes all of {system}, which is not in the packages"
            ));
        };
        let cs = pkg.read(cache, filename)?;
        let content = s(&cs, "content");
        if !content.is_empty() && content != "complete" {
            return Err(format!(
                "the packages hold only part of {system} (content `{content}`)"
            ));
        }
        let mut all = Vec::new();
        flatten_code_system(&system, cs["concept"].as_array(), &mut all);
        all
    };
    Ok(match from_sets {
        None => codes,
        Some(sets) => codes
            .into_iter()
            .filter(|c| sets.iter().any(|x| x.0 == c.0 && x.1 == c.1))
            .collect(),
    })
}

fn flatten_code_system(system: &str, concepts: Option<&Vec<Value>>, out: &mut Concepts) {
    for c in concepts.into_iter().flatten() {
        out.push((system.to_owned(), s(c, "code"), s(c, "display")));
        flatten_code_system(system, c["concept"].as_array(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::module_name;

    #[test]
    fn module_names_are_identifiers() {
        assert_eq!(
            module_name("CareConnect-Patient-1"),
            "care_connect_patient_1"
        );
        assert_eq!(
            module_name("Extension-ITK-MessageHandling-2"),
            "extension_itk_message_handling_2"
        );
        assert_eq!(
            module_name("11179-permitted-value-conceptmap"),
            "m_11179_permitted_value_conceptmap"
        );
        assert_eq!(module_name("type"), "m_type");
    }
}
