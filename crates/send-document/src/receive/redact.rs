//! The last guard of the no-patient-data rule: every diagnostic's text is scrubbed
//! of the patient details the message carries, in case a validator message quotes
//! one. The receiver's own reasons never contain them in the first place.

use fhir_validator::Node;

/// What replaces a patient detail found in a diagnostic.
pub(crate) const REMOVED: &str = "[patient data removed]";

/// The patient details to remove.
#[derive(Default)]
pub(crate) struct Redactor {
    needles: Vec<String>,
}

impl Redactor {
    /// The details of every Patient in `tree`, and of the GPPROVIDER address.
    pub fn new(tree: Option<&Node>, to: Option<&str>) -> Self {
        let mut r = Redactor::default();
        if let Some(tree) = tree {
            for p in tree
                .descendants()
                .into_iter()
                .chain(std::iter::once(tree))
                .filter(|n| n.is_resource && n.type_name == "Patient")
            {
                r.patient(p);
            }
        }
        if let Some(rest) = to.and_then(|t| t.trim().strip_prefix("GPPROVIDER_")) {
            for part in rest.split('_') {
                r.add(part);
            }
            r.add(rest);
        }
        r.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        r.needles.dedup();
        r
    }

    fn patient(&mut self, p: &Node) {
        for id in p.children_named("identifier") {
            if let Some(v) = id.child_value("value") {
                self.add(v);
                let digits: String = v.chars().filter(char::is_ascii_digit).collect();
                if digits.len() == 10 {
                    self.add(&format!(
                        "{} {} {}",
                        &digits[..3],
                        &digits[3..6],
                        &digits[6..]
                    ));
                    self.add(&digits);
                }
            }
        }
        for name in p.children_named("name") {
            for part in ["family", "given", "text"] {
                for n in name.children_named(part) {
                    if let Some(v) = n.value.as_deref() {
                        self.add(v);
                    }
                }
            }
        }
        if let Some(d) = p.child_value("birthDate") {
            self.add(d);
            let b = d.as_bytes();
            if d.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
                let (y, m, day) = (&d[..4], &d[5..7], &d[8..10]);
                self.add(&format!("{y}{m}{day}"));
                self.add(&format!("{day}{m}{y}"));
                self.add(&format!("{day}/{m}/{y}"));
            }
        }
        for t in p.children_named("telecom") {
            if let Some(v) = t.child_value("value") {
                self.add(v);
            }
        }
    }

    fn add(&mut self, value: &str) {
        let v = value.trim();
        // Very short values (an initial) would remove ordinary words.
        if v.chars().count() >= 3 {
            self.needles.push(v.to_owned());
        }
    }

    /// `text` with every patient detail replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), REMOVED);
            }
        }
        out
    }
}
