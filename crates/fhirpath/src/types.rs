//! Type tests for `is`, `as` and `ofType()`.

use fhir_runtime::Node;

use crate::ast::TypeSpecifier;
use crate::value::Item;

/// The FHIR type of a node as FHIRPath sees it. For a choice element the type in
/// its name (`valueDateTime` → `dateTime`), which is more precise than the tree's
/// `type_name` for primitives held as plain strings (`valueUri` → `uri`).
pub fn fhir_type_of(n: &Node) -> String {
    if !n.choice_type.is_empty() && n.is_primitive() {
        let mut c = n.choice_type.chars();
        if let Some(first) = c.next() {
            return first.to_lowercase().chain(c).collect();
        }
    }
    if !n.choice_type.is_empty() {
        return n.choice_type.to_string();
    }
    n.type_name.to_string()
}

/// The data types that specialise `Quantity`.
pub fn is_quantity_type(t: &str) -> bool {
    matches!(
        t,
        "Quantity" | "Age" | "Count" | "Distance" | "Duration" | "Money" | "SimpleQuantity"
    )
}

/// The FHIR supertypes of a type, itself first.
fn fhir_ancestors(t: &str, is_resource: bool) -> Vec<String> {
    let mut out = vec![t.to_string()];
    if is_quantity_type(t) && t != "Quantity" {
        out.push("Quantity".into());
    }
    match t {
        "code" | "id" | "markdown" => out.push("string".into()),
        "unsignedInt" | "positiveInt" => out.push("integer".into()),
        "url" | "canonical" | "uuid" | "oid" => out.push("uri".into()),
        _ => {}
    }
    if is_resource {
        if !matches!(t, "Bundle" | "Binary" | "Parameters" | "Resource") {
            out.push("DomainResource".into());
        }
        out.push("Resource".into());
    } else if !t.starts_with(|c: char| c.is_ascii_lowercase()) && t != "Element" {
        if t.contains('.') {
            out.push("BackboneElement".into());
        }
        out.push("Element".into());
    } else if t != "Element" {
        out.push("Element".into());
    }
    out
}

/// The system type name a system value has (`String`, `Integer`...).
fn system_type(item: &Item<'_>) -> Option<&'static str> {
    Some(match item {
        Item::Node(_) => return None,
        Item::Boolean(_) => "Boolean",
        Item::Integer(_) => "Integer",
        Item::Decimal(_) => "Decimal",
        Item::String(_) => "String",
        Item::Date(_) => "Date",
        Item::DateTime(_) => "DateTime",
        Item::Time(_) => "Time",
        Item::Quantity(_) => "Quantity",
    })
}

/// True when the item is of the given type (or a subtype of it). Unqualified
/// names are looked up in the FHIR namespace for nodes and the System namespace for
/// system values; `System.X` and `FHIR.X` restrict to one. A FHIR primitive also
/// counts as its System type (`string` as `System.String`) only when the
/// specifier is qualified with `System`.
pub fn is_of_type(item: &Item<'_>, spec: &TypeSpecifier) -> bool {
    let ns = spec.namespace.as_deref();
    match item {
        Item::Node(n) => {
            if ns == Some("System") {
                return match item.to_system() {
                    Some(v) if n.is_primitive() => system_type(&v) == Some(spec.name.as_str()),
                    _ => false,
                };
            }
            let t = fhir_type_of(n);
            fhir_ancestors(&t, n.is_resource).contains(&spec.name)
        }
        _ => {
            if ns == Some("FHIR") {
                return false;
            }
            let st = system_type(item).unwrap_or("");
            st == spec.name || (spec.name == "Any")
        }
    }
}
