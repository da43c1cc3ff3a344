//! What every generated profile type shares: validation through the profile,
//! splitting sliced lists, cardinality checks while decomposing, fixed values
//! and code conversions. Generated code is a list of calls to these.

use std::cell::RefCell;

use fhir_extensions::TypedExtension;
use fhir_runtime::{Element, PrimitiveValue, StrKind};
use fhir_stu3::datatypes::{Extension, Meta};
use fhir_stu3::primitives::{Primitive, Uri};
use fhir_validator::{Finding, IssueType, Severity, Validator};

thread_local! {
    /// One validator per thread: it caches snapshot indexes and parsed invariants.
    static VALIDATOR: RefCell<Validator> = RefCell::new(Validator::new());
}

/// Validates `resource` against the profile `url`; `Err` with every finding when
/// any of them is an error.
pub(crate) fn validate(resource: &dyn Element, url: &str) -> Result<(), Vec<Finding>> {
    let tree = fhir_runtime::to_tree(resource, true);
    let findings = VALIDATOR.with(|v| v.borrow().validate_against(&tree, url));
    if fhir_validator::is_valid(&findings) {
        Ok(())
    } else {
        Err(findings)
    }
}

/// The decomposition of a validated resource into a typed profile: collects the
/// problems that validation cannot see (a value the typed form cannot hold).
pub(crate) struct Cx {
    profile: &'static str,
    findings: Vec<Finding>,
}

impl Cx {
    pub(crate) fn new(profile: &'static str) -> Self {
        Cx {
            profile,
            findings: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, at: &str, message: String) {
        self.findings.push(Finding {
            severity: Severity::Error,
            issue: IssueType::Structure,
            location: at.to_owned(),
            rule: "typed-profile".to_owned(),
            profile: self.profile.to_owned(),
            message,
        });
    }

    /// The value, or every finding when something could not be represented.
    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, Vec<Finding>> {
        if !self.findings.is_empty() {
            return Err(self.findings);
        }
        value.ok_or_else(|| {
            vec![Finding {
                severity: Severity::Error,
                issue: IssueType::Structure,
                location: String::new(),
                rule: "typed-profile".to_owned(),
                profile: self.profile.to_owned(),
                message: "the resource could not be represented by the typed profile".to_owned(),
            }]
        })
    }
}

/// How a decomposed element is turned into its typed form.
pub(crate) type Conv<B, P> = fn(B, &mut Cx, &str) -> Option<P>;

/// The identity conversion.
pub(crate) fn same<T>(v: T, _: &mut Cx, _: &str) -> Option<T> {
    Some(v)
}

/// A required (1..1) element held as an `Option` in the base type.
pub(crate) fn one<B, P>(cx: &mut Cx, at: &str, v: Option<B>, f: Conv<B, P>) -> Option<P> {
    match v {
        Some(b) => f(b, cx, at),
        None => {
            cx.error(at, format!("`{at}` is required (1..1) and is missing"));
            None
        }
    }
}

/// An optional element: `None` inside when absent, `None` outside on failure.
pub(crate) fn opt<B, P>(cx: &mut Cx, at: &str, v: Option<B>, f: Conv<B, P>) -> Option<Option<P>> {
    match v {
        Some(b) => f(b, cx, at).map(Some),
        None => Some(None),
    }
}

/// Every item of a list, each converted; `None` if any failed (all are tried).
pub(crate) fn many<B, P>(cx: &mut Cx, at: &str, v: Vec<B>, f: Conv<B, P>) -> Option<Vec<P>> {
    let mut out = Vec::with_capacity(v.len());
    let mut ok = true;
    for (i, b) in v.into_iter().enumerate() {
        match f(b, cx, &format!("{at}[{i}]")) {
            Some(p) => out.push(p),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Exactly one item of a list (a 1..1 slice, or a 1..1 element that repeats in the base type).
pub(crate) fn one_of<B, P>(cx: &mut Cx, at: &str, v: Vec<B>, f: Conv<B, P>) -> Option<P> {
    let n = v.len();
    if n != 1 {
        cx.error(
            at,
            format!("`{at}` must occur exactly once (1..1), found {n}"),
        );
        return None;
    }
    v.into_iter().next().and_then(|b| f(b, cx, at))
}

/// At most one item of a list (a 0..1 slice, or a 0..1 element that repeats in the base type).
pub(crate) fn opt_of<B, P>(cx: &mut Cx, at: &str, v: Vec<B>, f: Conv<B, P>) -> Option<Option<P>> {
    let n = v.len();
    if n > 1 {
        cx.error(
            at,
            format!("`{at}` may occur at most once (0..1), found {n}"),
        );
        return None;
    }
    opt(cx, at, v.into_iter().next(), f)
}

/// Decodes a typed extension.
pub(crate) fn typed<T: TypedExtension>(e: Extension, cx: &mut Cx, at: &str) -> Option<T> {
    match T::from_extension(&e) {
        Ok(t) => Some(t),
        Err(errors) => {
            for err in errors {
                cx.error(at, err.to_string());
            }
            None
        }
    }
}

/// A boxed value, unboxed and converted (the base model boxes some elements to
/// keep its structs small; the typed profile holds them unboxed).
#[allow(clippy::boxed_local)]
pub(crate) fn unboxed<B, P>(b: Box<B>, cx: &mut Cx, at: &str, f: Conv<B, P>) -> Option<P> {
    f(*b, cx, at)
}

/// Splits the items of a sliced list by the slice each belongs to (as the
/// validator judges it): one list per name in `slices`, and the rest in order.
pub(crate) fn split_slices<T: Element>(
    profile: &str,
    element_id: &str,
    items: Vec<T>,
    slices: &[&str],
) -> (Vec<Vec<T>>, Vec<T>) {
    let mut parts: Vec<Vec<T>> = slices.iter().map(|_| Vec::new()).collect();
    let mut rest = Vec::new();
    VALIDATOR.with(|v| {
        let v = v.borrow();
        for item in items {
            let tree = fhir_runtime::to_tree(&item, false);
            match v
                .slice_of(profile, element_id, &tree)
                .and_then(|name| slices.iter().position(|s| *s == name))
            {
                Some(i) => parts[i].push(item),
                None => rest.push(item),
            }
        }
    });
    (parts, rest)
}

/// Splits extensions by URL: one list per URL in `urls`, and the rest in order.
pub(crate) fn split_extensions(
    items: Vec<Extension>,
    urls: &[&str],
) -> (Vec<Vec<Extension>>, Vec<Extension>) {
    let mut parts: Vec<Vec<Extension>> = urls.iter().map(|_| Vec::new()).collect();
    let mut rest = Vec::new();
    for e in items {
        match urls.iter().position(|u| e.url.as_deref() == Some(*u)) {
            Some(i) => parts[i].push(e),
            None => rest.push(e),
        }
    }
    (parts, rest)
}

/// Takes the list of slice `i` out of `parts`.
pub(crate) fn part<T>(parts: &mut [Vec<T>], i: usize) -> Vec<T> {
    std::mem::take(&mut parts[i])
}

/// A primitive holding a value the profile fixes (taken from the profile by the
/// generator, so it always parses).
pub(crate) fn fixed<T: PrimitiveValue, L>(text: &str) -> fhir_runtime::Primitive<T, L> {
    match T::parse(text, StrKind::String) {
        Ok(v) => fhir_runtime::Primitive {
            value: Some(v),
            extras: None,
        },
        // Unreachable for values the generator emits; kept empty rather than
        // panicking, and the profile's validation reports the missing value.
        Err(_) => fhir_runtime::Primitive::default(),
    }
}

/// An element the profile fixes is not a field of the typed form: it must not
/// carry an `id` or extensions, which would be lost.
pub(crate) fn check_fixed<T>(cx: &mut Cx, at: &str, p: Option<&Primitive<T>>) {
    if p.is_some_and(|p| p.has_extras()) {
        cx.error(
            at,
            format!("`{at}` has a value fixed by the profile and also an id or extensions, which the typed profile cannot hold"),
        );
    }
}

/// A code between two code types (a profile's value set and the base
/// element's), through its text.
pub(crate) fn recode<T: PrimitiveValue, U: PrimitiveValue>(
    p: Primitive<T>,
    cx: &mut Cx,
    at: &str,
) -> Option<Primitive<U>> {
    let value = match &p.value {
        Some(v) => match U::parse(&v.lexical(), StrKind::Code) {
            Ok(u) => Some(u),
            Err(m) => {
                cx.error(at, m);
                return None;
            }
        },
        None => None,
    };
    Some(fhir_runtime::Primitive {
        value,
        extras: p.extras,
    })
}

/// [`recode`] in the direction that cannot fail: a profile's codes are a subset
/// of the base element's (the generator only emits a profile code enum when
/// they are), or the base element takes any code.
pub(crate) fn recode_into<T: PrimitiveValue, U: PrimitiveValue>(p: Primitive<T>) -> Primitive<U> {
    let value = p
        .value
        .and_then(|v| U::parse(&v.lexical(), StrKind::Code).ok());
    fhir_runtime::Primitive {
        value,
        extras: p.extras,
    }
}

/// `meta` with the profile's URL in `meta.profile` (first, unless already there).
pub(crate) fn with_profile(meta: Option<Meta>, url: &str) -> Meta {
    let mut meta = meta.unwrap_or_default();
    if !meta
        .profile
        .iter()
        .any(|p| p.value().map(String::as_str) == Some(url))
    {
        meta.profile.insert(0, Uri::new(url));
    }
    meta
}

/// A finding for a resource of the wrong type.
pub(crate) fn wrong_type(profile: &str, expected: &str, found: &str) -> Vec<Finding> {
    vec![Finding {
        severity: Severity::Error,
        issue: IssueType::Structure,
        location: found.to_owned(),
        rule: "profile".to_owned(),
        profile: profile.to_owned(),
        message: format!("the profile is for {expected}, the resource is a {found}"),
    }]
}
