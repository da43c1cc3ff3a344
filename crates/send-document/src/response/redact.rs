//! Keeping patient-identifiable data out of responses (FHIR-BA-02): what a
//! response's diagnostics may not contain.

use fhir_stu3::{ReadOptions, Resource};
use fhir_validator::Node;

/// What replaces patient-identifiable text in a response's diagnostics.
pub const REDACTED: &str = "[redacted]";

/// The patient-identifiable values of one request, masked out of every diagnostic of
/// the responses to it ([`Responder::redacting`](super::Responder::redacting)).
///
/// Whatever the terms, [`PatientData::scrub`] also masks anything shaped like an NHS
/// number (ten digits, or `3 3 4` digits separated by spaces or hyphens, standing
/// alone), so that a diagnostic copied from a validation finding ("the NHS number
/// 9434765919 is not...") never carries one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatientData {
    /// The terms to mask, longest first.
    terms: Vec<String>,
}

impl PatientData {
    /// No terms: only NHS-number shapes are masked.
    pub fn new() -> Self {
        PatientData::default()
    }

    /// [`PatientData::from_message`] of a serialised request (XML when it starts with
    /// `<`, else JSON), read leniently; no terms when it cannot be read at all (only
    /// NHS-number shapes are masked then).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let opts = ReadOptions::lenient();
        let parsed = match crate::build::Format::sniff(bytes) {
            Some(crate::build::Format::Xml) => Resource::from_xml_with(bytes, &opts),
            _ => Resource::from_json_with(bytes, &opts),
        };
        parsed
            .map(|p| PatientData::from_message(&p.value))
            .unwrap_or_default()
    }

    /// The patient-identifiable values of every Patient in `message` (a Send Document
    /// request, read however leniently): each identifier value (the NHS number and any
    /// local number), each name part (family, given, text; not prefixes), the birth
    /// date in the forms it may be quoted in (`1957-01-09`, `19570109`, `09011957`,
    /// `09/01/1957`), address lines, postcode and text, and telecom values.
    pub fn from_message(message: &Resource) -> Self {
        let tree = message.to_tree();
        let mut data = PatientData::new();
        let mut patients: Vec<&Node> = Vec::new();
        if tree.type_name == "Patient" {
            patients.push(&tree);
        }
        patients.extend(
            tree.descendants()
                .into_iter()
                .filter(|n| n.is_resource && n.type_name == "Patient"),
        );
        for p in patients {
            data.add_patient(p);
        }
        data
    }

    fn add_patient(&mut self, p: &Node) {
        for id in p.children_named("identifier") {
            self.add_value(id.child_value("value"));
        }
        for name in p.children_named("name") {
            self.add_value(name.child_value("text"));
            self.add_value(name.child_value("family"));
            for given in name.children_named("given") {
                self.add_value(given.value.as_deref());
            }
        }
        if let Some(dob) = p.child_value("birthDate") {
            self.add_birth_date(dob);
        }
        for address in p.children_named("address") {
            for line in address.children_named("line") {
                self.add_value(line.value.as_deref());
            }
            self.add_value(address.child_value("postalCode"));
            self.add_value(address.child_value("text"));
        }
        for telecom in p.children_named("telecom") {
            self.add_value(telecom.child_value("value"));
        }
    }

    fn add_value(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            self.add(v);
        }
    }

    fn add_birth_date(&mut self, dob: &str) {
        self.add(dob);
        let parts: Vec<&str> = dob.split('-').collect();
        if let [y, m, d] = parts[..] {
            for form in [
                format!("{y}{m}{d}"),
                format!("{d}{m}{y}"),
                format!("{d}/{m}/{y}"),
                format!("{d}-{m}-{y}"),
                format!("{d}.{m}.{y}"),
            ] {
                self.add(&form);
            }
        }
    }

    /// Adds a term to mask. A term of fewer than two characters (after trimming) is
    /// ignored: masking single letters would destroy every diagnostic.
    pub fn add(&mut self, term: &str) {
        let term = term.trim();
        if term.chars().count() < 2 || self.terms.iter().any(|t| t == term) {
            return;
        }
        self.terms.push(term.to_owned());
        self.terms
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// The terms masked, longest first.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// `text` with every term (ASCII case ignored, as a whole word) and every
    /// NHS-number shape replaced by [`REDACTED`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for term in &self.terms {
            out = replace_word(&out, term);
        }
        mask_nhs_numbers(&out)
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

/// `text` with each whole-word occurrence of `term` (ASCII case ignored) masked.
fn replace_word(text: &str, term: &str) -> String {
    let hay = text.to_ascii_lowercase();
    let needle = term.to_ascii_lowercase();
    let starts_word = term.chars().next().is_some_and(is_word);
    let ends_word = term.chars().next_back().is_some_and(is_word);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = hay[from..].find(&needle) {
        let start = from + found;
        let end = start + needle.len();
        let before_ok = !starts_word || !text[..start].chars().next_back().is_some_and(is_word);
        let after_ok = !ends_word || !text[end..].chars().next().is_some_and(is_word);
        if before_ok && after_ok {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = end;
            from = end;
        } else {
            // Step over one character (not one byte) to stay on a char boundary.
            from = start + text[start..].chars().next().map_or(1, char::len_utf8);
        }
        if from >= text.len() {
            break;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// `text` with each stand-alone NHS-number shape masked: ten digits, or three, three
/// and four digits separated by one space or hyphen each.
fn mask_nhs_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let boundary_before = i == 0 || !is_word(chars[i - 1]);
        if boundary_before {
            if let Some(len) = nhs_shape_at(&chars[i..]) {
                let boundary_after = chars.get(i + len).is_none_or(|c| !is_word(*c));
                if boundary_after {
                    out.push_str(REDACTED);
                    i += len;
                    continue;
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The length of the NHS-number shape starting `s`, if one does.
fn nhs_shape_at(s: &[char]) -> Option<usize> {
    let digits = |from: usize, n: usize| {
        s.get(from..from + n)
            .is_some_and(|d| d.iter().all(char::is_ascii_digit))
    };
    if digits(0, 10) {
        return Some(10);
    }
    let sep = *s.get(3)?;
    if (sep == ' ' || sep == '-')
        && digits(0, 3)
        && digits(4, 3)
        && s.get(7) == Some(&sep)
        && digits(8, 4)
    {
        return Some(12);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_masked_as_whole_words_whatever_the_case() {
        let mut p = PatientData::new();
        p.add("Smith");
        p.add("Al");
        p.add("x");
        assert_eq!(p.terms(), ["Smith", "Al"]);
        assert_eq!(
            p.scrub("SMITH, smith; Smithers. Also al!"),
            "[redacted], [redacted]; Smithers. Also [redacted]!"
        );
    }

    #[test]
    fn nhs_number_shapes_are_masked() {
        let p = PatientData::new();
        assert_eq!(
            p.scrub("NHS 9989453456 and 998 945 3456 and 998-945-3456."),
            "NHS [redacted] and [redacted] and [redacted]."
        );
        // Longer digit runs, UUIDs and SDS user IDs are not NHS numbers.
        for keep in [
            "12345678901",
            "099945750518",
            "846ebe66-5ff8-4499-bc57-a112d3d0daa3",
            "a9989453456",
            "998 945 34567",
        ] {
            assert_eq!(p.scrub(keep), keep);
        }
    }

    #[test]
    fn birth_date_forms() {
        let mut p = PatientData::new();
        p.add_birth_date("1957-01-09");
        assert_eq!(
            p.scrub("born 09/01/1957 (19570109, 09011957, 1957-01-09)"),
            "born [redacted] ([redacted], [redacted], [redacted])"
        );
    }

    #[test]
    fn non_ascii_text_survives() {
        let mut p = PatientData::new();
        p.add("Zoë");
        assert_eq!(p.scrub("é Zoë ü"), "é [redacted] ü");
        assert_eq!(p.scrub("ééé"), "ééé");
    }
}
