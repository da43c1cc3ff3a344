//! The negative suite: for every rule the Send Document profiles state, one
//! mutation of a valid message that breaks just that rule, and a check that the
//! validator reports exactly that finding, at exactly that location.
//!
//! - **The rules come from the generated definitions** (`negative_suite/rules.rs`):
//!   each element of each profile's snapshot is compared with the element of the
//!   base definitions it constrains. A raised `min`, a lowered `max`, a `fixed`
//!   or `pattern` value, a `required` binding the base does not have, `closed` /
//!   `openAtEnd` / `ordered` slicing (slices are elements: their cardinalities
//!   are `min`/`max` rules), and every invariant key on every element. `ele-1`
//!   and `ext-1`, which sit on (nearly) every element, count once per profile.
//! - **The message** is `tests/fixtures/send-document-valid.xml`, read once and
//!   handled as `serde_json::Value`. A profile applies where a resource claims it
//!   in `meta.profile`, or where an extension has its `url`.
//! - **Mutations are made from the rule** (`negative_suite/message.rs` finds an
//!   element's items in the message, adds one that is missing, synthesises
//!   minimal valid values from the definitions): take a required element out,
//!   add one item too many, change a fixed value or a bound code, put an item of
//!   no slice before a slice item, and, for invariants, a breaker per key.
//! - **The check**: the errors and warnings of the mutated message are exactly
//!   the expected finding (severity, issue type, rule, FHIRPath location from the
//!   message root, and the profile) plus the few consequential findings listed
//!   in [`ALSO`], each with the reason it cannot be avoided.
//! - **Rules no mutation can break alone** are in [`SKIPPED`] with their reason;
//!   most reasons are checked against the definitions or by trying the mutation.
//!   A rule that is neither tested nor listed fails the suite, and so does a
//!   listed entry that no longer matches a rule, so the suite cannot shrink silently.
//! - The counts per profile are printed and pinned in [`COUNTS`].

mod negative_suite {
    pub mod message;
    pub mod rules;
}

use fhir_definitions::{
    base_definition, structure_definition, value_set, ConstraintSeverity, Max, Strength,
    StructureDefinition,
};
use fhir_stu3::Resource;
use fhir_validator::{IssueType, Severity, Validator};
use negative_suite::message::{self as m, At, Index, Seg};
use negative_suite::rules::{self, base_element, Kind, Rule};
use serde_json::{json, Value};

/// A core extension that may sit on any element, with no other rules than its
/// own: used where an extension is needed that breaks nothing.
const DATA_ABSENT_REASON: &str = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/send-document-valid.xml"
);

/// The profiles a Send Document message uses (send-document.md §2). The
/// extension definitions the message uses are added from the message itself.
const PROFILES: [&str; 10] = [
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1",
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2",
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2",
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1",
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1",
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1",
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1",
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1",
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Practitioner-1",
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1",
];

/// Mutations and skipped rules per profile, and in total: a change in the
/// definitions or in the suite shows here.
const COUNTS: &[(&str, usize, usize)] = &[
    ("ITK-Message-Bundle-1", 28, 0),
    ("ITK-MessageHeader-2", 34, 15),
    ("Extension-ITK-MessageHandling-2", 31, 7),
    ("CareConnect-ITK-Header-Organization-1", 27, 17),
    ("ITK-Document-Bundle-1", 28, 0),
    ("CareConnect-Composition-1", 12, 0),
    ("CareConnect-Patient-1", 37, 10),
    ("CareConnect-Organization-1", 17, 5),
    ("CareConnect-Practitioner-1", 11, 5),
    ("ITK-Attachment-Binary-1", 2, 2),
    ("Extension-CareConnect-NHSNumberVerificationStatus-1", 5, 1),
    ("total", 232, 62),
];

// ----- rules that cannot be broken alone ------------------------------------

/// Why a rule is not tested.
#[derive(Clone, Copy, Debug)]
enum Why {
    /// The element, or one it is inside, is prohibited (`max 0`) by the same
    /// profile: any item of it breaks that `max` first. Checked. (The entry does
    /// not claim the prohibited element's own `max 0`: that one is tested.)
    Prohibited,
    /// The element decides which slice an item is in (a value discriminator): an
    /// item with another value is simply not in the slice. Checked.
    Discriminator,
    /// `Extension.url` of an extension definition: the url is what applies the
    /// definition; another url is another (unknown) extension. Checked.
    ExtensionUrl,
    /// The only values that break it are codes outside a required value set of
    /// the base resource, which the reader rejects already. Checked by trying.
    ReaderRejects,
}

impl Why {
    fn text(self) -> &'static str {
        match self {
            Why::Prohibited => "inside (or on) an element the profile prohibits (0..0): any instance breaks that max first",
            Why::Discriminator => "a slice discriminator: an item with another value is not in the slice, so there is nothing to break",
            Why::ExtensionUrl => "the url that applies the extension definition: another url is another extension",
            Why::ReaderRejects => "the breaking codes are outside the base resource's required value set, and the reader rejects them before validation",
        }
    }
}

/// Rules not tested, by rule id (`*` matches anything), with the reason.
const SKIPPED: &[(&str, Why)] = &[
    // ITK-MessageHeader-2 prohibits destination, enterer, author, source.contact,
    // responsible and reason, and constrains inside them all the same.
    (
        "ITK-MessageHeader-2 MessageHeader.destination*",
        Why::Prohibited,
    ),
    (
        "ITK-MessageHeader-2 MessageHeader.enterer*",
        Why::Prohibited,
    ),
    ("ITK-MessageHeader-2 MessageHeader.author*", Why::Prohibited),
    (
        "ITK-MessageHeader-2 MessageHeader.source.contact*",
        Why::Prohibited,
    ),
    (
        "ITK-MessageHeader-2 MessageHeader.responsible*",
        Why::Prohibited,
    ),
    ("ITK-MessageHeader-2 MessageHeader.reason*", Why::Prohibited),
    // The sub-extensions are told apart by their url.
    (
        "Extension-ITK-MessageHandling-2 Extension.extension:*.url fixed",
        Why::Discriminator,
    ),
    (
        "Extension-ITK-MessageHandling-2 Extension.url fixed",
        Why::ExtensionUrl,
    ),
    // The header Organization carries an identifier only.
    (
        "CareConnect-ITK-Header-Organization-1 Organization.extension:mainLocation*",
        Why::Prohibited,
    ),
    (
        "CareConnect-ITK-Header-Organization-1 Organization.telecom*",
        Why::Prohibited,
    ),
    (
        "CareConnect-ITK-Header-Organization-1 Organization.address*",
        Why::Prohibited,
    ),
    (
        "CareConnect-ITK-Header-Organization-1 Organization.partOf*",
        Why::Prohibited,
    ),
    (
        "CareConnect-ITK-Header-Organization-1 Organization.contact*",
        Why::Prohibited,
    ),
    (
        "CareConnect-ITK-Header-Organization-1 Organization.endpoint*",
        Why::Prohibited,
    ),
    (
        "CareConnect-ITK-Header-Organization-1 Organization.identifier:*.system *",
        Why::Discriminator,
    ),
    (
        "CareConnect-Organization-1 Organization.identifier:*.system *",
        Why::Discriminator,
    ),
    (
        "CareConnect-Organization-1 Organization.extension:organization-period.url fixed",
        Why::Discriminator,
    ),
    (
        "CareConnect-Practitioner-1 Practitioner.identifier:*.system *",
        Why::Discriminator,
    ),
    (
        "CareConnect-Patient-1 Patient.identifier:nhsNumber.system *",
        Why::Discriminator,
    ),
    (
        "CareConnect-Patient-1 Patient.name:official.use *",
        Why::Discriminator,
    ),
    (
        "CareConnect-Patient-1 Patient.extension:*.url fixed",
        Why::Discriminator,
    ),
    (
        "CareConnect-Patient-1 Patient.birthDate.extension:patient-birthTime.url fixed",
        Why::Discriminator,
    ),
    // CareConnect-AdministrativeGender-1 is the base's administrative-gender.
    (
        "CareConnect-Patient-1 Patient.gender binding *",
        Why::ReaderRejects,
    ),
    (
        "CareConnect-Patient-1 Patient.contact.gender binding *",
        Why::ReaderRejects,
    ),
    (
        "CareConnect-Practitioner-1 Practitioner.gender binding *",
        Why::ReaderRejects,
    ),
    // Binary has no extensions but in the prohibited securityContext.
    (
        "ITK-Attachment-Binary-1 Binary.securityContext*",
        Why::Prohibited,
    ),
    (
        "ITK-Attachment-Binary-1 (every element) invariant ext-1",
        Why::Prohibited,
    ),
    (
        "Extension-CareConnect-NHSNumberVerificationStatus-1 Extension.url fixed",
        Why::ExtensionUrl,
    ),
];

// ----- consequential findings -------------------------------------------------

/// Where a consequential finding is, relative to the mutation.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// Where the rule's own finding is.
    Same,
    /// The place the profile applies (the resource or extension).
    Root,
    /// `Root` followed by a path.
    Below(&'static str),
    /// The parent of the rule's own finding location (its last step removed).
    Up,
    /// The rule's own finding location followed by a path.
    Under(&'static str),
    /// The rule's own finding location without its `.ofType(T)`: the choice element.
    Bare,
}

/// A consequential finding: severity, issue type, rule, where.
type Extra = (Severity, IssueType, &'static str, Place);

/// Findings a mutation cannot avoid besides the rule's own, by rule id (`*`
/// matches anything), with the reason.
const ALSO: &[(&str, &[Extra], &str)] = &[
    // Both Bundle profiles prohibit what the core Bundle invariants restrict to
    // other Bundle types: breaking one breaks the other.
    ("ITK-*-Bundle-1 Bundle invariant bdl-1", &[(E, S, "cardinality", Place::Below(".total"))], "total is prohibited (0..0)"),
    ("ITK-*-Bundle-1 Bundle.total max 0", &[(E, I, "bdl-1", Place::Root)], "bdl-1 allows total in searchset and history Bundles only"),
    ("ITK-*-Bundle-1 Bundle invariant bdl-2", &[(E, S, "cardinality", Place::Below(".entry[0].search"))], "entry.search is prohibited (0..0)"),
    ("ITK-*-Bundle-1 Bundle.entry.search max 0", &[(E, I, "bdl-2", Place::Root)], "bdl-2 allows entry.search in searchset Bundles only"),
    ("ITK-*-Bundle-1 Bundle invariant bdl-3", &[(E, S, "cardinality", Place::Below(".entry[0].request"))], "entry.request is prohibited (0..0)"),
    ("ITK-*-Bundle-1 Bundle.entry.request max 0", &[(E, I, "bdl-3", Place::Root)], "bdl-3 allows entry.request in batch, transaction and history Bundles only"),
    ("ITK-*-Bundle-1 Bundle invariant bdl-4", &[(E, S, "cardinality", Place::Below(".entry[0].response"))], "entry.response is prohibited (0..0)"),
    ("ITK-*-Bundle-1 Bundle.entry.response max 0", &[(E, I, "bdl-4", Place::Root)], "bdl-4 allows entry.response in batch-response and transaction-response Bundles only"),
    ("ITK-*-Bundle-1 Bundle.entry invariant bdl-5", &[(E, R, "cardinality", Place::Under(".resource"))], "entry.resource is required (1..1), and bdl-5 is about an entry with no resource"),
    ("ITK-*-Bundle-1 Bundle.entry.resource min 1", &[(E, I, "bdl-5", Place::Up)], "an entry with no resource (nor request or response) is what bdl-5 forbids"),
    ("ITK-Message-Bundle-1 Bundle invariant bdl-9", &[(E, V, "fixed", Place::Below(".type"))], "bdl-9 is about document Bundles, and the message Bundle's type is fixed to message"),
    ("ITK-Document-Bundle-1 Bundle.identifier min 1", &[(E, I, "bdl-9", Place::Root)], "bdl-9: a document Bundle needs identifier.system and identifier.value"),
    ("ITK-Document-Bundle-1 Bundle.identifier.value min 1", &[(E, I, "bdl-9", Place::Root)], "bdl-9: a document Bundle needs identifier.system and identifier.value"),
    ("ITK-MessageHeader-2 MessageHeader.event.system fixed", &[(W, C, "binding", Place::Up)], "the event codes of ITK-MessageEvent-2 are in the fixed system only, so the coding also leaves the (extensible) value set"),
    // An extension with no value and no extensions breaks ext-1; so does one with both.
    ("Extension-ITK-MessageHandling-2 Extension.extension:BusAckRequested.valueBoolean:valueBoolean min 1", &[(E, I, "ext-1", Place::Up)], "the sub-extension is left with neither a value nor extensions"),
    ("Extension-ITK-MessageHandling-2 Extension.extension:InfAckRequested.valueBoolean:valueBoolean min 1", &[(E, I, "ext-1", Place::Up)], "the sub-extension is left with neither a value nor extensions"),
    ("Extension-ITK-MessageHandling-2 Extension.extension:RecipientType.value[x]:valueCoding min 1", &[(E, I, "ext-1", Place::Up)], "the sub-extension is left with neither a value nor extensions"),
    ("Extension-ITK-MessageHandling-2 Extension.extension:MessageDefinition.value[x]:valueReference min 1", &[(E, I, "ext-1", Place::Up)], "the sub-extension is left with neither a value nor extensions"),
    ("Extension-ITK-MessageHandling-2 Extension.extension:SenderReference.valueString:valueString min 1", &[(E, I, "ext-1", Place::Up)], "the sub-extension is left with neither a value nor extensions"),
    ("Extension-ITK-MessageHandling-2 Extension.extension:LocalExtension.value[x] min 1", &[(E, I, "ext-1", Place::Up)], "the sub-extension is left with neither a value nor extensions"),
    ("Extension-ITK-MessageHandling-2 Extension.value[x] max 0", &[(E, I, "ext-1", Place::Up)], "the extension has sub-extensions (required), so a value gives it both"),
    ("Extension-ITK-MessageHandling-2 Extension.extension:RecipientType.valueCoding:valueCoding.system fixed", &[(E, C, "binding", Place::Up)], "FA and FI are codes of the fixed system only: another system takes the coding out of the required value set"),
    ("Extension-CareConnect-NHSNumberVerificationStatus-1 Extension.value[x]:valueCodeableConcept min 1", &[(E, I, "ext-1", Place::Up)], "the extension is left with neither a value nor extensions"),
    ("Extension-CareConnect-NHSNumberVerificationStatus-1 Extension.value[x] slicing closed", &[(E, R, "cardinality", Place::Bare), (E, V, "type", Place::Same)], "value[x] holds one value and allows CodeableConcept only, which the one (required) slice takes: a value in no slice is of another type and leaves the slice empty"),
    ("Extension-CareConnect-NHSNumberVerificationStatus-1 (every element) invariant ele-1", &[(E, C, "binding", Place::Same)], "every element of the extension is the url, an extension (which needs a url) or the value, bound (required) to the verification statuses: a value with only an id has no code"),
    ("CareConnect-Patient-1 Patient.telecom.system min 1", &[(E, I, "cpt-2", Place::Up)], "a telecom value without a system is also what cpt-2 forbids"),
    ("CareConnect-Patient-1 Patient.maritalStatus binding *", &[(W, C, "binding", Place::Same)], "every code of the base's (extensible) marital-status value set is in CareConnect-MaritalStatus-1 too, so a code outside the profile's is outside the base's"),
    ("CareConnect-Patient-1 Patient.maritalStatus.coding min 1", &[(E, C, "binding", Place::Up)], "the required binding needs a coding with a code"),
    ("CareConnect-Patient-1 Patient.maritalStatus.coding.code min 1", &[(E, C, "binding", Place::Below(".maritalStatus"))], "the required binding needs a coding with a code"),
    ("CareConnect-Patient-1 Patient.contact invariant pat-1", &[(E, R, "cardinality", Place::Under(".name"))], "the profile requires contact.name, and a name alone satisfies pat-1"),
];

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;
const S: IssueType = IssueType::Structure;
const R: IssueType = IssueType::Required;
const I: IssueType = IssueType::Invariant;
const V: IssueType = IssueType::Value;
const C: IssueType = IssueType::CodeInvalid;

// ----- the suite ---------------------------------------------------------------

/// A finding as compared: severity, issue type, rule, location.
type Key = (Severity, IssueType, String, String);

struct Planned {
    msg: Value,
    main: Key,
    /// The definitions allowed to be named by the rule's own finding: the profile,
    /// and, for an invariant it shares with them, the core definitions (the
    /// validator reports a rule reached through two definitions once).
    profiles: Vec<String>,
}

#[test]
fn negative_suite_covers_every_profile_rule() {
    let xml = std::fs::read(FIXTURE).expect("the fixture");
    let resource = Resource::from_xml(&xml).expect("the fixture reads");
    let base: Value = serde_json::from_str(&resource.to_json()).expect("JSON");
    let validator = Validator::new();
    let problems = errors_and_warnings(&validator, &base).expect("the fixture reads back");
    assert!(
        problems.is_empty(),
        "the fixture is not valid: {problems:#?}"
    );

    let roots = m::roots(&base);
    let mut profiles: Vec<&'static StructureDefinition> = PROFILES
        .iter()
        .map(|u| structure_definition(u).unwrap_or_else(|| panic!("{u} is not generated")))
        .collect();
    for r in &roots {
        let sd = structure_definition(&r.profile).expect("known");
        if sd.type_name == "Extension" && !profiles.iter().any(|p| p.url == sd.url) {
            profiles.push(sd);
        }
    }

    // Mutations that panic are reported as failures with their rule; keep the
    // default hook from printing each one.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // NEGATIVE_SUITE_VERBOSE=1 prints every rule with the findings it expects.
    let verbose = std::env::var_os("NEGATIVE_SUITE_VERBOSE").is_some();
    let mut failures: Vec<String> = Vec::new();
    let mut counts: Vec<(&str, usize, usize)> = Vec::new();
    let mut skip_used = vec![false; SKIPPED.len()];
    let mut also_used = vec![false; ALSO.len()];
    for sd in &profiles {
        let root = roots
            .iter()
            .find(|r| r.profile == sd.url)
            .unwrap_or_else(|| panic!("{} is not used in the message", sd.name))
            .at
            .clone();
        let (mut tested, mut skipped) = (0, 0);
        for rule in rules::rules(sd) {
            let id = rule.id();
            // The `max 0` of a prohibited element not inside another is tested.
            let own_max0 = {
                let ix = m::index(sd);
                matches!(rule.kind, Kind::Max(0))
                    && !ix
                        .ancestors(rule.index())
                        .iter()
                        .any(|&a| ix.el(a).max == Max::Count(0))
            };
            if let Some(s) = SKIPPED
                .iter()
                .position(|(p, why)| glob(p, &id) && !(own_max0 && matches!(why, Why::Prohibited)))
            {
                skip_used[s] = true;
                skipped += 1;
                println!("skipped: {id}: {}", SKIPPED[s].1.text());
                if let Err(e) = check_skip(SKIPPED[s].1, &rule, &base, &root) {
                    failures.push(format!("{id}: listed as skipped, but {e}"));
                }
                continue;
            }
            tested += 1;
            let planned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                plan(&rule, &base, &root)
            }))
            .unwrap_or_else(|p| {
                Err(format!(
                    "panicked: {}",
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                ))
            });
            let planned = match planned {
                Ok(p) => p,
                Err(e) => {
                    failures.push(format!("{id}: no mutation ({e}); write one or list the rule in SKIPPED with the reason"));
                    continue;
                }
            };
            let mut expected = vec![planned.main.clone()];
            if let Some(a) = ALSO.iter().position(|(r, _, _)| glob(r, &id)) {
                also_used[a] = true;
                for (sev, issue, key, place) in ALSO[a].1 {
                    let loc = match place {
                        Place::Same => planned.main.3.clone(),
                        Place::Root => root.loc.clone(),
                        Place::Below(p) => format!("{}{p}", root.loc),
                        Place::Up => up(&planned.main.3),
                        Place::Under(p) => format!("{}{p}", planned.main.3),
                        Place::Bare => planned
                            .main
                            .3
                            .rsplit_once(".ofType(")
                            .map_or(planned.main.3.clone(), |(a, _)| a.to_owned()),
                    };
                    expected.push((*sev, *issue, (*key).to_owned(), loc));
                }
            }
            expected.sort();
            if verbose {
                println!("{id}\n    {}", show(&expected));
            }
            let actual = match errors_and_warnings(&validator, &planned.msg) {
                Ok(a) => a,
                Err(e) => {
                    failures.push(format!("{id}: the mutated message does not read: {e}"));
                    continue;
                }
            };
            let keys: Vec<Key> = actual.iter().map(|(k, _)| k.clone()).collect();
            if keys != expected {
                failures.push(format!(
                    "{id}:\n    expected {}\n    found    {}",
                    show(&expected),
                    show_found(&actual)
                ));
                continue;
            }
            let own = actual
                .iter()
                .find(|(k, _)| *k == planned.main)
                .map(|(_, p)| p);
            if !own.is_some_and(|p| planned.profiles.contains(p)) {
                failures.push(format!(
                    "{id}: the finding names {own:?}, expected one of {:?}",
                    planned.profiles
                ));
            }
        }
        counts.push((sd.name, tested, skipped));
    }
    std::panic::set_hook(hook);
    for (i, used) in skip_used.iter().enumerate() {
        if !used {
            failures.push(format!("SKIPPED entry {:?} matches no rule", SKIPPED[i].0));
        }
    }
    for (i, used) in also_used.iter().enumerate() {
        if !used {
            failures.push(format!("ALSO entry {:?} is for no tested rule", ALSO[i].0));
        }
    }
    let (t, s) = counts
        .iter()
        .fold((0, 0), |(t, s), (_, a, b)| (t + a, s + b));
    for (name, tested, skipped) in &counts {
        println!("{name:55} {tested:4} mutations, {skipped:3} skipped");
    }
    println!("{t} mutations, {s} skipped with reasons");
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    let mut pinned: Vec<(&str, usize, usize)> = counts.clone();
    pinned.push(("total", t, s));
    assert_eq!(pinned, COUNTS, "the counts changed");
}

/// The errors and warnings of a message, with the definition each names.
fn errors_and_warnings(v: &Validator, msg: &Value) -> Result<Vec<(Key, String)>, String> {
    let r = Resource::from_json(msg.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let mut out: Vec<(Key, String)> = v
        .validate(&r.to_tree())
        .into_iter()
        .filter(|f| f.severity != Severity::Information)
        .map(|f| ((f.severity, f.issue, f.rule, f.location), f.profile))
        .collect();
    out.sort();
    Ok(out)
}

fn show(keys: &[Key]) -> String {
    keys.iter()
        .map(|(s, i, r, l)| format!("{} {} {r} @ {l}", s.code(), i.code()))
        .collect::<Vec<_>>()
        .join("\n             ")
}

fn show_found(found: &[(Key, String)]) -> String {
    if found.is_empty() {
        return "nothing".to_owned();
    }
    found
        .iter()
        .map(|((s, i, r, l), p)| format!("{} {} {r} @ {l} [{p}]", s.code(), i.code()))
        .collect::<Vec<_>>()
        .join("\n             ")
}

/// A location without its last step (`a.b[0].c` → `a.b[0]`).
fn up(loc: &str) -> String {
    let loc = loc.strip_suffix(')').map_or(loc, |l| {
        // `x.value.ofType(T)` → `x.value`
        l.rsplit_once(".ofType(").map_or(loc, |(a, _)| a)
    });
    loc.rsplit_once('.').map_or(loc, |(a, _)| a).to_owned()
}

/// `*` matches any text.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (n, p) in parts.iter().enumerate() {
        if n == 0 {
            let Some(r) = rest.strip_prefix(p) else {
                return false;
            };
            rest = r;
        } else if n == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            let Some(at) = rest.find(p) else { return false };
            rest = &rest[at + p.len()..];
        }
    }
    true
}

/// Whether element `i` (or one it is inside) is prohibited.
fn prohibited(ix: &Index, i: usize) -> bool {
    std::iter::once(i)
        .chain(ix.ancestors(i))
        .any(|a| ix.el(a).max == Max::Count(0))
}

fn check_skip(why: Why, rule: &Rule, base: &Value, root: &At) -> Result<(), String> {
    let ix = m::index(rule.profile);
    let i = rule.index();
    match why {
        Why::Prohibited => {
            let own_max = matches!(rule.kind, Kind::Max(0));
            let inside = ix
                .ancestors(i)
                .iter()
                .any(|&a| ix.el(a).max == Max::Count(0));
            if inside || (!own_max && ix.el(i).max == Max::Count(0)) {
                Ok(())
            } else {
                Err("the element is not prohibited".to_owned())
            }
        }
        Why::Discriminator => {
            if m::is_discriminator(&ix, i) {
                Ok(())
            } else {
                Err("the element is no slice discriminator".to_owned())
            }
        }
        Why::ExtensionUrl => {
            if rule.profile.type_name == "Extension" && rule.element.id == "Extension.url" {
                Ok(())
            } else {
                Err("it is not an extension definition's url".to_owned())
            }
        }
        Why::ReaderRejects => {
            let planned = plan(rule, base, root)?;
            match Resource::from_json(planned.msg.to_string().as_bytes()) {
                Err(_) => Ok(()),
                Ok(_) => Err("the reader accepts the mutation".to_owned()),
            }
        }
    }
}

// ----- mutations ---------------------------------------------------------------

struct Cx<'a> {
    msg: Value,
    ix: std::rc::Rc<Index>,
    sd: &'static StructureDefinition,
    root: &'a At,
}

impl Cx<'_> {
    fn find(&self, id: &str) -> Result<usize, String> {
        self.sd
            .elements
            .iter()
            .position(|e| e.id == id)
            .ok_or_else(|| format!("no element {id} in {}", self.sd.name))
    }
    fn ensure(&mut self, i: usize) -> At {
        m::ensure(&mut self.msg, &self.ix, i, self.root)
    }
    fn obj(&mut self, at: &At) -> &mut serde_json::Map<String, Value> {
        m::obj_mut(&mut self.msg, &at.ptr)
    }
    fn parent(&mut self, i: usize) -> Result<At, String> {
        let p = self.ix.parent[i].ok_or("the root has no parent")?;
        Ok(self.ensure(p))
    }
    /// Takes items out of the message (array items from the end, empty arrays too).
    fn remove(&mut self, items: &[At]) {
        let mut items: Vec<&At> = items.iter().collect();
        items.sort_by_key(|a| std::cmp::Reverse(a.ptr.clone()));
        for a in items {
            let (last, up) = a.ptr.split_last().expect("not the root");
            let holder = m::get_mut(&mut self.msg, up);
            match last {
                Seg::Key(k) => {
                    holder.as_object_mut().expect("object").remove(k);
                }
                Seg::Index(n) => {
                    let arr = holder.as_array_mut().expect("array");
                    arr.remove(*n);
                    if arr.is_empty() {
                        let (Seg::Key(k), upper) = up.split_last().expect("key") else {
                            unreachable!()
                        };
                        m::obj_mut(&mut self.msg, upper).remove(k);
                    }
                }
            }
        }
    }
}

/// The mutation that breaks `rule`, and the finding it should give.
fn plan(rule: &Rule, base: &Value, root: &At) -> Result<Planned, String> {
    let sd = rule.profile;
    let mut cx = Cx {
        msg: base.clone(),
        ix: m::index(sd),
        sd,
        root,
    };
    let i = rule.index();
    let e = rule.element;
    let err = Severity::Error;
    let mut profiles = vec![sd.url.to_owned()];
    let main: Key = match &rule.kind {
        Kind::Min(_) => {
            let parent = cx.parent(i)?;
            let items = m::items_under(&cx.msg, &cx.ix, i, &parent);
            if items.is_empty() {
                return Err("no item to take out".to_owned());
            }
            cx.remove(&items);
            let p = cx.ix.parent[i].expect("a parent");
            if cx.obj(&parent).is_empty() {
                match m::filler(&cx.ix, p, i) {
                    Some(f) => {
                        let v = m::minimal(sd, f);
                        m::add_item(&mut cx.msg, &cx.ix, f, &parent, v);
                    }
                    // Nothing else may be there: say why the value is absent.
                    None => {
                        let dar = structure_definition(DATA_ABSENT_REASON)
                            .ok_or("no data-absent-reason")?;
                        cx.obj(&parent)
                            .insert("extension".into(), json!([m::minimal(dar, 0)]));
                    }
                }
            }
            let sh = m::shape(sd, i);
            (
                err,
                IssueType::Required,
                "cardinality".into(),
                format!("{}.{}", parent.loc, sh.name),
            )
        }
        Kind::Max(mx) => {
            let parent = cx.parent(i)?;
            let items = m::items_under(&cx.msg, &cx.ix, i, &parent);
            let template = match items.first() {
                Some(a) => m::get(&cx.msg, &a.ptr).expect("there").clone(),
                None => m::minimal(sd, i),
            };
            for _ in items.len()..=(*mx as usize) {
                m::add_item(&mut cx.msg, &cx.ix, i, &parent, template.clone());
            }
            let sh = m::shape(sd, i);
            (
                err,
                IssueType::Structure,
                "cardinality".into(),
                format!("{}.{}", parent.loc, sh.name),
            )
        }
        Kind::Fixed | Kind::Pattern => {
            let at = cx.ensure(i);
            let cur = m::get(&cx.msg, &at.ptr).expect("there").clone();
            let new = other_value(e, &cur)?;
            *m::get_mut(&mut cx.msg, &at.ptr) = new;
            let rule = if rule.kind == Kind::Fixed {
                "fixed"
            } else {
                "pattern"
            };
            (err, IssueType::Value, rule.into(), at.loc)
        }
        Kind::Binding(vs) => {
            let at = cx.ensure(i);
            let code = outside(sd, i, vs)?;
            let v = m::get_mut(&mut cx.msg, &at.ptr);
            let coding = match e.types.first().map(|t| t.code) {
                Some("CodeableConcept") => Some(&mut v["coding"][0]),
                Some("Coding") => Some(v),
                _ => {
                    *v = json!(code.code);
                    None
                }
            };
            if let Some(c) = coding {
                c["code"] = json!(code.code);
                if let Some(s) = code.system {
                    c["system"] = json!(s);
                }
                if let Some(d) = code.display {
                    c["display"] = json!(d);
                }
            }
            (err, IssueType::CodeInvalid, "binding".into(), at.loc)
        }
        Kind::Slicing("openAtEnd") => {
            let parent = cx.parent(i)?;
            let slices = cx.ix.slices(i);
            if m::items_under(&cx.msg, &cx.ix, i, &parent).is_empty() {
                let v = m::minimal(sd, slices[0]);
                m::add_item(&mut cx.msg, &cx.ix, slices[0], &parent, v);
            }
            let other = unsliced_item(&cx.ix, i)?;
            let sh = m::shape(sd, i);
            let key = sh.keys[0].clone();
            let ix = cx.ix.clone();
            let arr = cx.obj(&parent)[&key].as_array_mut().ok_or("not a list")?;
            arr.insert(0, other);
            let first_sliced = arr
                .iter()
                .position(|it| slices.iter().any(|&s| m::in_slice(&ix, i, s, it)))
                .ok_or("no slice item")?;
            (
                err,
                IssueType::Structure,
                "slicing".into(),
                m::item_loc(&parent.loc, &sh, &key, Some(first_sliced)),
            )
        }
        Kind::Slicing("closed") => {
            let parent = cx.parent(i)?;
            let slices = cx.ix.slices(i);
            let sliced_types: Vec<&str> = slices
                .iter()
                .flat_map(|&s| cx.ix.el(s).types.iter().map(|t| t.code))
                .collect();
            // A type outside the slices: of the element, else of its base element.
            let base_types = base_element(sd, e).map_or(&[][..], |b| b.types);
            let ty = e
                .types
                .iter()
                .chain(base_types)
                .map(|t| t.code)
                .filter(|t| !sliced_types.contains(t))
                .find(|t| *t == "string")
                .ok_or("no type outside the slices")?;
            let sh = m::shape(sd, i);
            let items = m::items_under(&cx.msg, &cx.ix, i, &parent);
            if !sh.list {
                cx.remove(&items);
            }
            let key = format!("{}String", sh.name);
            let at = if sh.list {
                return Err("closed slicing of a list".to_owned());
            } else {
                cx.obj(&parent).insert(key.clone(), m::sample(ty));
                m::item_loc(&parent.loc, &sh, &key, None)
            };
            (err, IssueType::Structure, "slicing".into(), at)
        }
        Kind::Slicing(other) => return Err(format!("no mutation for {other} slicing")),
        Kind::Invariant(key) => {
            let c = e
                .constraints()
                .find(|c| c.key == *key)
                .expect("the rule's invariant");
            let loc = break_invariant(&mut cx, i, key)?;
            profiles.extend(core_definitions(sd, i));
            (
                severity(c.severity),
                IssueType::Invariant,
                (*key).into(),
                loc,
            )
        }
        Kind::EveryElement("ele-1", _) => {
            let (j, loc) = break_ele1(&mut cx)?;
            profiles.extend(core_definitions(sd, j));
            (err, IssueType::Invariant, "ele-1".into(), loc)
        }
        Kind::EveryElement("ext-1", _) => {
            let (j, loc, url) = break_ext1(&mut cx)?;
            profiles.extend(core_definitions(sd, j));
            profiles.push("http://hl7.org/fhir/StructureDefinition/Extension".to_owned());
            // The extension's own definition states it too.
            profiles.push(url);
            (err, IssueType::Invariant, "ext-1".into(), loc)
        }
        Kind::EveryElement(other, _) => return Err(format!("no mutation for {other}")),
    };
    Ok(Planned {
        msg: cx.msg,
        main,
        profiles,
    })
}

fn severity(s: ConstraintSeverity) -> Severity {
    match s {
        ConstraintSeverity::Error => Severity::Error,
        ConstraintSeverity::Warning => Severity::Warning,
    }
}

/// Core definitions that state the same invariant as profile element `i`: the
/// base resource, the data type the base element belongs to, the element's type.
fn core_definitions(sd: &'static StructureDefinition, i: usize) -> Vec<String> {
    let e = &sd.elements[i];
    let mut out = Vec::new();
    let mut add = |name: &str| {
        if let Some(d) = base_definition(name) {
            out.push(d.url.to_owned());
        }
    };
    add(sd.type_name);
    if let Some(b) = base_element(sd, e) {
        add(b.path.split('.').next().unwrap_or(""));
    }
    for t in e.types {
        add(t.code);
    }
    out
}

/// Another value than `cur` for an element with a fixed (or pattern) value: a
/// different code of its value set, or a changed text.
fn other_value(e: &fhir_definitions::ElementDefinition, cur: &Value) -> Result<Value, String> {
    if let Some(vs) = e
        .binding
        .as_ref()
        .and_then(|b| b.value_set)
        .and_then(value_set)
        .and_then(|vs| vs.expansion.ok())
    {
        if let Some(c) = vs.iter().find(|c| Some(c.code) != cur.as_str()) {
            return Ok(json!(c.code));
        }
    }
    match cur {
        Value::String(s) => Ok(json!(format!("{s}-changed"))),
        Value::Bool(b) => Ok(json!(!b)),
        other => Err(format!("cannot change {other}")),
    }
}

/// A code outside value set `vs` for element `i`: one the base element's own
/// binding allows, if there is one (so that only the profile's binding breaks),
/// else a made-up code (keeping the system).
fn outside(sd: &'static StructureDefinition, i: usize, vs: &str) -> Result<Outside, String> {
    let own = value_set(vs)
        .ok_or_else(|| format!("{vs} is not generated"))?
        .expansion
        .map_err(|why| format!("{vs} cannot be expanded: {why}"))?;
    let base = base_element(sd, &sd.elements[i])
        .and_then(|b| b.binding.as_ref())
        .filter(|b| matches!(b.strength, Strength::Required | Strength::Extensible))
        .and_then(|b| b.value_set)
        .and_then(value_set)
        .and_then(|v| v.expansion.ok());
    if let Some(c) = base
        .into_iter()
        .flatten()
        .find(|c| !own.iter().any(|o| o.code == c.code && o.system == c.system))
    {
        return Ok(Outside {
            system: Some(c.system),
            code: c.code,
            display: Some(c.display),
        });
    }
    Ok(Outside {
        system: None,
        code: "not-in-value-set",
        display: None,
    })
}

/// A code for a binding mutation; `None` parts keep what the item has.
struct Outside {
    system: Option<&'static str>,
    code: &'static str,
    display: Option<&'static str>,
}

/// A minimal item of sliced element `k` that is in none of its slices.
fn unsliced_item(ix: &Index, k: usize) -> Result<Value, String> {
    let mut v = m::minimal(ix.sd, k);
    let slicing = ix.el(k).slicing.as_ref().ok_or("not sliced")?;
    for d in slicing.discriminators {
        let taken: Vec<Value> = ix
            .slices(k)
            .iter()
            .filter_map(|&s| m::slice_value(ix, s, d.path))
            .collect();
        // The discriminator's element in a slice tells its type and binding.
        let proto = ix
            .slices(k)
            .iter()
            .find_map(|&s| ix.below(s, d.path))
            .map(|b| ix.el(b))
            .ok_or("no discriminator element")?;
        let codes = proto
            .binding
            .as_ref()
            .and_then(|b| b.value_set)
            .and_then(value_set)
            .and_then(|vs| vs.expansion.ok());
        let new = match codes {
            Some(cs) => cs
                .iter()
                .map(|c| json!(c.code))
                .find(|c| !taken.contains(c))
                .ok_or("every code is a slice's")?,
            None => json!("urn:example:in-no-slice"),
        };
        if d.path.contains('.') {
            return Err(format!("discriminator path {}", d.path));
        }
        v[d.path] = new;
    }
    Ok(v)
}

/// Breaks invariant `key` on element `i`; returns the location it is reported at.
fn break_invariant(cx: &mut Cx, i: usize, key: &str) -> Result<String, String> {
    let root = cx.root.clone();
    let entry = || At {
        ptr: {
            let mut p = root.ptr.clone();
            p.push(Seg::Key("entry".into()));
            p.push(Seg::Index(0));
            p
        },
        loc: format!("{}.entry[0]", root.loc),
    };
    match key {
        "dom-1" => contained(cx, true, |c| {
            c["text"] = json!({"status": "generated", "div": m::sample("xhtml")})
        }),
        // The nested resource has the id of the contained one: with the
        // validator's rule that a contained resource's `%resource` is its
        // container, the container's `#contained` refers to it too (dom-3 of the
        // contained Organization), so only dom-2 breaks. (No `partOf` to refer to
        // it: CareConnect-ITK-Header-Organization-1, which MessageHeader.receiver
        // requires of its target, prohibits it.)
        "dom-2" => contained(cx, true, |c| {
            c["contained"] =
                json!([{"resourceType": "Organization", "id": "contained", "name": "Inner"}]);
        }),
        "dom-3" => contained(cx, false, |_| {}),
        "dom-4" => contained(cx, true, |c| c["meta"] = json!({"versionId": "1"})),
        "bdl-1" => {
            cx.obj(&root).insert("total".into(), json!(1));
            Ok(root.loc)
        }
        "bdl-2" | "bdl-3" | "bdl-4" => {
            let name = match key {
                "bdl-2" => "search",
                "bdl-3" => "request",
                _ => "response",
            };
            let el = cx.find(&format!("Bundle.entry.{name}"))?;
            let v = m::minimal(cx.sd, el);
            let e = entry();
            cx.obj(&e).insert(name.into(), v);
            Ok(root.loc)
        }
        "bdl-5" => {
            let e = entry();
            cx.obj(&e).remove("resource");
            Ok(e.loc)
        }
        "bdl-7" => {
            let first = m::get(&cx.msg, &entry().ptr)
                .and_then(|e| e.get("fullUrl"))
                .cloned();
            let mut second = entry();
            *second.ptr.last_mut().expect("index") = Seg::Index(1);
            cx.obj(&second)
                .insert("fullUrl".into(), first.ok_or("no fullUrl")?);
            Ok(root.loc)
        }
        "bdl-8" => {
            let e = entry();
            cx.obj(&e).insert(
                "fullUrl".into(),
                json!("https://example.org/fhir/Thing/1/_history/1"),
            );
            Ok(e.loc)
        }
        "bdl-9" => {
            let ident = cx.find("Bundle.identifier")?;
            let at = cx.ensure(ident);
            cx.obj(&at).remove("system");
            cx.obj(&root).insert("type".into(), json!("document"));
            Ok(root.loc)
        }
        "per-1" => {
            let at = cx.ensure(i);
            *m::get_mut(&mut cx.msg, &at.ptr) = json!({"start": "2020-02-01", "end": "2020-01-01"});
            Ok(at.loc)
        }
        "ref-1" => {
            let at = cx.ensure(i);
            cx.obj(&at).insert("reference".into(), json!("#missing"));
            Ok(at.loc)
        }
        "org-1" => {
            cx.obj(&root).remove("identifier");
            cx.obj(&root).remove("name");
            Ok(root.loc)
        }
        "org-2" | "org-3" => {
            let at = cx.ensure(i);
            cx.obj(&at).insert("use".into(), json!("home"));
            Ok(at.loc)
        }
        "cmp-1" => {
            let at = cx.ensure(i);
            for k in ["text", "entry", "section"] {
                cx.obj(&at).remove(k);
            }
            Ok(at.loc)
        }
        "cmp-2" => {
            let at = cx.ensure(i);
            let el = cx.find("Composition.section.emptyReason")?;
            let v = m::minimal(cx.sd, el);
            cx.obj(&at).insert("emptyReason".into(), v);
            Ok(at.loc)
        }
        "pat-1" => {
            let parent = cx.parent(i)?;
            let at = m::add_item(&mut cx.msg, &cx.ix, i, &parent, json!({"gender": "female"}));
            Ok(at.loc)
        }
        other => Err(format!("no breaker for invariant {other}")),
    }
}

/// A contained Organization (changed by `change`), referred to from the first
/// Reference element of the profile that may be there and is not (unless
/// `referred` is false: dom-3). The finding is on the resource. The Organization
/// has only an ODS code, so it conforms to the Organization profiles such a
/// Reference may require (CareConnect-ITK-Header-Organization-1 prohibits `name`),
/// and the reference's target is right.
fn contained(
    cx: &mut Cx,
    referred: bool,
    change: impl FnOnce(&mut Value),
) -> Result<String, String> {
    let root = cx.root.clone();
    let mut c = json!({"resourceType": "Organization", "id": "contained",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "X1"}]});
    change(&mut c);
    cx.obj(&root).insert("contained".into(), json!([c]));
    if referred {
        let ix = cx.ix.clone();
        let slot = (1..cx.sd.elements.len()).find_map(|j| {
            let e = ix.el(j);
            if e.types.is_empty()
                || e.types.iter().any(|t| t.code != "Reference")
                || prohibited(&ix, j)
            {
                return None;
            }
            let p = ix.parent[j]?;
            let parent = m::instances(&cx.msg, &ix, p, &root).into_iter().next()?;
            m::items_under(&cx.msg, &ix, j, &parent)
                .is_empty()
                .then_some((j, parent))
        });
        let (j, parent) = slot.ok_or("no Reference element to refer to the contained resource")?;
        m::add_item(
            &mut cx.msg,
            &ix,
            j,
            &parent,
            json!({"reference": "#contained"}),
        );
    }
    Ok(root.loc)
}

/// ele-1: an element with nothing but an `id`. The first complex element of the
/// profile that ele-1 applies to (the profile or its base states it there), that
/// may be there and is not, needs no children and has no required binding, under
/// an item the message has; else the first such primitive (not a url, not an
/// id), written as `_name` with only an `id`.
fn break_ele1(cx: &mut Cx) -> Result<(usize, String), String> {
    let ix = cx.ix.clone();
    let root = cx.root.clone();
    let sd = cx.sd;
    // ele-1 applies where the profile, the base element or the element's type states it.
    let applies = |j: usize| {
        let has =
            |e: &fhir_definitions::ElementDefinition| e.constraints().any(|c| c.key == "ele-1");
        let e = ix.el(j);
        has(e)
            || base_element(sd, e).is_some_and(has)
            || e.types
                .iter()
                .any(|t| base_definition(t.code).is_some_and(|d| has(&d.elements[0])))
    };
    let open = |j: usize, cx: &Cx| -> Option<At> {
        let e = ix.el(j);
        if !applies(j) || prohibited(&ix, j) || e.types.len() != 1 || e.fixed.is_some() {
            return None;
        }
        if e.binding
            .as_ref()
            .is_some_and(|b| b.strength == Strength::Required)
        {
            return None;
        }
        let parent = m::instances(&cx.msg, &ix, ix.parent[j]?, &root)
            .into_iter()
            .next()?;
        m::items_under(&cx.msg, &ix, j, &parent)
            .is_empty()
            .then_some(parent)
    };
    for j in 1..sd.elements.len() {
        let code = ix.el(j).types.first().map_or("", |t| t.code);
        if code.starts_with(|c: char| c.is_ascii_lowercase())
            || matches!(
                code,
                "" | "Extension" | "Resource" | "BackboneElement" | "Element"
            )
        {
            continue;
        }
        let kids = ix.children(j);
        let needs = if kids.is_empty() {
            base_definition(code).is_none_or(|t| {
                t.elements
                    .iter()
                    .any(|x| x.min > 0 && x.path.matches('.').count() == 1)
            })
        } else {
            kids.iter().any(|&k| ix.el(k).min > 0)
        };
        if needs {
            continue;
        }
        if let Some(parent) = open(j, cx) {
            let at = m::add_item(&mut cx.msg, &ix, j, &parent, json!({"id": "ele-1"}));
            return Ok((j, at.loc));
        }
    }
    for j in 1..sd.elements.len() {
        let e = ix.el(j);
        let code = e.types.first().map_or("", |t| t.code);
        let name = e.path.rsplit('.').next().unwrap_or("");
        if !code.starts_with(|c: char| c.is_ascii_lowercase()) || matches!(name, "url" | "id") {
            continue;
        }
        if m::shape(sd, j).list {
            continue;
        }
        let present = m::instances(&cx.msg, &ix, j, &root).into_iter().next();
        let parent = match &present {
            Some(_) => {
                ix.parent[j].and_then(|p| m::instances(&cx.msg, &ix, p, &root).into_iter().next())
            }
            None => open(j, cx),
        };
        let (Some(parent), true) = (
            parent,
            applies(j) && !prohibited(&ix, j) && e.fixed.is_none() && e.binding.is_none(),
        ) else {
            continue;
        };
        let sh = m::shape(sd, j);
        let key = present
            .as_ref()
            .and_then(|a| match a.ptr.last() {
                Some(Seg::Key(k)) => Some(k.clone()),
                _ => None,
            })
            .unwrap_or_else(|| m::chosen_key(sd, j, &sh));
        let holder = m::holder_mut(&mut cx.msg, &parent.ptr);
        holder.remove(&key);
        holder.insert(format!("_{key}"), json!({"id": "ele-1"}));
        return Ok((j, m::item_loc(&parent.loc, &sh, &key, None)));
    }
    // Else a complex element the message has, emptied but for an id.
    for j in 1..sd.elements.len() {
        let code = ix.el(j).types.first().map_or("", |t| t.code);
        if !applies(j)
            || code.starts_with(|c: char| c.is_ascii_lowercase())
            || matches!(code, "" | "Extension" | "Resource")
        {
            continue;
        }
        if let Some(at) = m::instances(&cx.msg, &ix, j, &root).into_iter().next() {
            *m::get_mut(&mut cx.msg, &at.ptr) = json!({"id": "ele-1"});
            return Ok((j, at.loc));
        }
    }
    Err("no element to break ele-1 at".to_owned())
}

/// ext-1: an extension with both a value and extensions. An extension the
/// message has with a value gets a nested (known, valid) extension; else the
/// first extension element under an item the message has gets a new extension
/// with both.
fn break_ext1(cx: &mut Cx) -> Result<(usize, String, String), String> {
    let ix = cx.ix.clone();
    let root = cx.root.clone();
    let dar = structure_definition(DATA_ABSENT_REASON).ok_or("no data-absent-reason")?;
    let nested = m::minimal(dar, 0);
    let carries = |j: usize| ix.el(j).constraints().any(|c| c.key == "ext-1");
    for j in 0..cx.sd.elements.len() {
        if !carries(j) || prohibited(&ix, j) {
            continue;
        }
        for at in m::instances(&cx.msg, &ix, j, &root) {
            let v = m::get(&cx.msg, &at.ptr).expect("there");
            let has_value = v
                .as_object()
                .is_some_and(|o| o.keys().any(|k| k.starts_with("value")));
            if has_value && v.get("extension").is_none() {
                let url = v["url"].as_str().unwrap_or_default().to_owned();
                cx.obj(&at)
                    .insert("extension".into(), json!([nested.clone()]));
                return Ok((j, at.loc, url));
            }
        }
    }
    for j in 0..cx.sd.elements.len() {
        if !carries(j)
            || prohibited(&ix, j)
            || ix.el(j).types.first().map(|t| t.code) != Some("Extension")
        {
            continue;
        }
        let Some(p) = ix.parent[j] else { continue };
        let Some(parent) = m::instances(&cx.msg, &ix, p, &root).into_iter().next() else {
            continue;
        };
        let mut both = nested.clone();
        both["extension"] = json!([nested.clone()]);
        let at = m::add_item(&mut cx.msg, &ix, j, &parent, both);
        return Ok((j, at.loc, dar.url.to_owned()));
    }
    Err("no extension to break ext-1 at".to_owned())
}
