//! The rules a profile states, enumerated from its generated snapshot by
//! comparison with the base definitions.

use fhir_definitions::{
    base_definition, ElementDefinition, Max, SlicingRules, Strength, StructureDefinition,
};

/// What kind of rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The minimum cardinality is raised above the base's.
    Min(u32),
    /// The maximum cardinality is lowered below the base's.
    Max(u32),
    /// A `fixed[x]` value the base does not have.
    Fixed,
    /// A `pattern[x]` value the base does not have.
    Pattern,
    /// A required binding the base does not have (or to another value set).
    Binding(&'static str),
    /// Slicing rules that can be broken: closed, openAtEnd, ordered.
    Slicing(&'static str),
    /// An invariant on the element.
    Invariant(&'static str),
    /// `ele-1` or `ext-1`: the same invariant on (nearly) every element, counted
    /// once per profile; `element` is the first element that carries it.
    EveryElement(&'static str, usize),
}

/// One rule of one profile.
pub struct Rule {
    pub profile: &'static StructureDefinition,
    pub element: &'static ElementDefinition,
    pub kind: Kind,
}

impl Rule {
    /// The index of the rule's element in the profile's snapshot.
    pub fn index(&self) -> usize {
        self.profile
            .elements
            .iter()
            .position(|e| std::ptr::eq(e, self.element))
            .expect("the element is the profile's")
    }

    /// A stable name: `ITK-MessageHeader-2 MessageHeader.event.code min 1`.
    pub fn id(&self) -> String {
        let what = match &self.kind {
            Kind::Min(n) => format!("min {n}"),
            Kind::Max(n) => format!("max {n}"),
            Kind::Fixed => "fixed".to_owned(),
            Kind::Pattern => "pattern".to_owned(),
            Kind::Binding(vs) => format!("binding {vs}"),
            Kind::Slicing(r) => format!("slicing {r}"),
            Kind::Invariant(k) => format!("invariant {k}"),
            Kind::EveryElement(k, _) => {
                return format!("{} (every element) invariant {k}", self.profile.name)
            }
        };
        format!("{} {} {what}", self.profile.name, self.element.id)
    }
}

fn max_num(m: Max) -> u64 {
    match m {
        Max::Unbounded => u64::MAX,
        Max::Count(n) => u64::from(n),
    }
}

/// `valueCoding` → `value[x]` when the base names its choice element so.
fn choice_base<'a>(seg: &'a str, names: &[&'a str]) -> Option<&'a str> {
    names.iter().copied().find(|n| {
        n.ends_with("[x]") && seg.starts_with(&n[..n.len() - 3]) && seg.len() > n.len() - 3
    })
}

/// The element of the base definitions that profile element `e` constrains:
/// the same path in the base resource (or data type) definition, following
/// data types where the profile's snapshot goes deeper than the base's.
pub fn base_element(
    sd: &StructureDefinition,
    e: &ElementDefinition,
) -> Option<&'static ElementDefinition> {
    let base = base_definition(sd.type_name)?;
    let segs: Vec<&str> = e.path.split('.').collect();
    resolve(base, segs[0], &segs[1..])
}

fn resolve(
    sd: &'static StructureDefinition,
    prefix: &str,
    rest: &[&str],
) -> Option<&'static ElementDefinition> {
    let mut path = prefix.to_owned();
    if rest.is_empty() {
        return sd
            .elements
            .iter()
            .find(|x| x.path == path && x.slice_name.is_none());
    }
    for (i, seg) in rest.iter().enumerate() {
        let parent = path.clone();
        let kids: Vec<&'static ElementDefinition> = sd
            .elements
            .iter()
            .filter(|x| {
                x.slice_name.is_none() && x.path.rsplit_once('.').is_some_and(|(p, _)| p == parent)
            })
            .collect();
        let names: Vec<&str> = kids
            .iter()
            .map(|k| k.path.rsplit('.').next().unwrap())
            .collect();
        let (el, choice_type) =
            if let Some(k) = kids.iter().find(|k| k.path.rsplit('.').next() == Some(seg)) {
                (*k, None)
            } else if let Some(n) = choice_base(seg, &names) {
                let k = kids.iter().find(|k| k.path.ends_with(&format!(".{n}")))?;
                (*k, Some(&seg[n.len() - 3..]))
            } else if kids.is_empty() {
                // The base stops here: go into the type of the element at `parent`.
                let at = sd
                    .elements
                    .iter()
                    .find(|x| x.path == parent && x.slice_name.is_none())?;
                let ty = at.types.first()?.code;
                let tsd = base_definition(ty)?;
                return resolve(tsd, tsd.type_name, &rest[i..]);
            } else {
                return None;
            };
        path = format!("{parent}.{}", el.path.rsplit('.').next().unwrap());
        if i + 1 == rest.len() {
            return Some(el);
        }
        // Does this snapshot go deeper?
        let deeper = sd
            .elements
            .iter()
            .any(|x| x.path.starts_with(&format!("{path}.")));
        if !deeper {
            // Into the element's type (for `value[x]` itself: the type that has the rest).
            return el
                .types
                .iter()
                .filter(|x| choice_type.is_none_or(|t| x.code.eq_ignore_ascii_case(t)))
                .filter_map(|x| base_definition(x.code))
                .find_map(|tsd| resolve(tsd, tsd.type_name, &rest[i + 1..]));
        }
    }
    None
}

/// Every rule `sd` states.
pub fn rules(sd: &'static StructureDefinition) -> Vec<Rule> {
    let mut out = Vec::new();
    for e in sd.elements {
        let b = base_element(sd, e);
        let push = |out: &mut Vec<Rule>, kind| {
            out.push(Rule {
                profile: sd,
                element: e,
                kind,
            })
        };
        let (bmin, bmax) = b.map_or((0, Max::Unbounded), |b| (b.min, b.max));
        if e.min > bmin {
            push(&mut out, Kind::Min(e.min));
        }
        if let Max::Count(m) = e.max {
            if u64::from(m) < max_num(bmax) {
                push(&mut out, Kind::Max(m));
            }
        }
        if e.fixed.is_some() && b.is_none_or(|b| b.fixed.is_none()) {
            push(&mut out, Kind::Fixed);
        }
        if e.pattern.is_some() && b.is_none_or(|b| b.pattern.is_none()) {
            push(&mut out, Kind::Pattern);
        }
        if let Some(bd) = &e.binding {
            if bd.strength == Strength::Required {
                let same = b.and_then(|b| b.binding.as_ref()).is_some_and(|x| {
                    x.strength == Strength::Required && x.value_set == bd.value_set
                });
                if !same {
                    push(&mut out, Kind::Binding(bd.value_set.unwrap_or("")));
                }
            }
        }
        if let Some(s) = &e.slicing {
            match s.rules {
                SlicingRules::Closed => push(&mut out, Kind::Slicing("closed")),
                SlicingRules::OpenAtEnd => push(&mut out, Kind::Slicing("openAtEnd")),
                SlicingRules::Open => {}
            }
            if s.ordered {
                push(&mut out, Kind::Slicing("ordered"));
            }
        }
        for c in e.constraints() {
            if GENERIC.contains(&c.key) {
                continue;
            }
            push(&mut out, Kind::Invariant(c.key));
        }
    }
    for key in GENERIC {
        let on: Vec<&'static ElementDefinition> = sd
            .elements
            .iter()
            .filter(|e| e.constraints().any(|c| c.key == key))
            .collect();
        if let Some(first) = on.first() {
            out.push(Rule {
                profile: sd,
                element: first,
                kind: Kind::EveryElement(key, on.len()),
            });
        }
    }
    out
}

/// The invariants every element (`ele-1`) or every extension (`ext-1`) carries.
pub const GENERIC: [&str; 2] = ["ele-1", "ext-1"];
