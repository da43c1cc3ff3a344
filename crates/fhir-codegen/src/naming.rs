//! Every mapping from FHIR names to Rust identifiers, in one place.

/// Rust keywords (strict and reserved) that FHIR element names can collide with.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// `birthDate` → `birth_date`; keywords get a trailing `_` (`type` → `type_`).
pub fn field_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
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
            out.push('_');
            prev_lower = false;
        }
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// `Patient_contact` / `patient-contact` → `PatientContact`. Keeps existing capitals.
pub fn type_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// An enum variant for a type code or a code value: `dateTime` → `DateTime`,
/// `entered-in-error` → `EnteredInError`, `1.0.2` → `V1_0_2`. Symbol-only codes
/// (`<=`) are spelled out; anything else with no letters or digits gives "".
pub fn variant_ident(code: &str) -> String {
    match code {
        "<" => return "LessThan".to_owned(),
        "<=" => return "LessOrEqual".to_owned(),
        ">=" => return "GreaterOrEqual".to_owned(),
        ">" => return "GreaterThan".to_owned(),
        "=" => return "Equal".to_owned(),
        "!=" => return "NotEqual".to_owned(),
        "*" => return "Any".to_owned(),
        _ => {}
    }
    let mut out = String::with_capacity(code.len());
    let mut upper = true;
    let mut prev_digit = false;
    for c in code.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_digit() && prev_digit && upper && !out.is_empty() {
                out.push('_');
            }
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            prev_digit = c.is_ascii_digit();
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// True for a Rust keyword (strict or reserved), which cannot be an identifier as is.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// `HumanName` → `human_name` (module and file names).
pub fn module_ident(name: &str) -> String {
    let f = field_ident(name);
    f.trim_end_matches('_').to_owned()
}

/// The variant name for a code of a code enum: from the code, else its display,
/// else `Code<n>`; made unique among `taken` with a number (`Foo2`).
pub fn code_variant(
    code: &str,
    display: &str,
    n: usize,
    taken: &mut std::collections::BTreeSet<String>,
) -> String {
    let mut rust = variant_ident(code);
    if rust.is_empty() || rust == "_" {
        rust = variant_ident(display);
    }
    if rust.is_empty() {
        rust = format!("Code{n}");
    }
    let base = rust.clone();
    let mut k = 2;
    while !taken.insert(rust.clone()) {
        rust = format!("{base}{k}");
        k += 1;
    }
    rust
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents() {
        assert_eq!(field_ident("birthDate"), "birth_date");
        assert_eq!(field_ident("type"), "type_");
        assert_eq!(field_ident("use"), "use_");
        assert_eq!(field_ident("valueSetURI"), "value_set_uri");
        assert_eq!(type_ident("Patient_contact"), "PatientContact");
        assert_eq!(type_ident("administrative_gender"), "AdministrativeGender");
        assert_eq!(variant_ident("entered-in-error"), "EnteredInError");
        assert_eq!(variant_ident("dateTime"), "DateTime");
        assert_eq!(variant_ident("1.0.2"), "V1_0_2");
        assert_eq!(variant_ident("<="), "LessOrEqual");
        assert_eq!(module_ident("HumanName"), "human_name");
    }
}
