//! The conformance resources of the FHIR packages in `profiles/packages.toml`,
//! compiled into static tables by `cargo xtask codegen`.
//!
//! Every StructureDefinition with a snapshot in the three packages (FHIR STU3 core,
//! CareConnect, ITK3/GP Connect) is here with its elements: cardinality, types and
//! target profiles, `fixed[x]` and `pattern[x]` values, bindings, slicing and
//! invariants. Value sets bound by them are here expanded, when they can be expanded
//! from the packages alone; the rest say why not (SNOMED CT is not in the packages).
//! Nothing is read at run time: a validator finds what it needs by canonical URL with
//! a binary search over sorted tables.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod generated;

pub use generated::{
    CONSTRAINTS, PACKAGES, SKIPPED_DEFINITIONS, STRUCTURE_DEFINITIONS, VALUE_SETS,
};

/// What a StructureDefinition defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A primitive type (`string`, `dateTime`).
    PrimitiveType,
    /// A complex data type (`HumanName`), or an extension definition.
    ComplexType,
    /// A resource type or a profile of one.
    Resource,
    /// A logical model.
    Logical,
}

/// How a StructureDefinition relates to its base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivation {
    /// A new type (the base resources and data types).
    Specialization,
    /// A profile: constraints on an existing type.
    Constraint,
}

/// One StructureDefinition.
#[derive(Debug)]
pub struct StructureDefinition {
    /// Canonical URL.
    pub url: &'static str,
    /// Computer-friendly name (`CareConnect-Patient-1`).
    pub name: &'static str,
    /// Business version.
    pub version: &'static str,
    /// The package it came from (`nhsdigital.fhir.stu3.core#1.0.0`).
    pub package: &'static str,
    /// What it defines.
    pub kind: Kind,
    /// Abstract types cannot be instantiated.
    pub is_abstract: bool,
    /// The type constrained or defined (`Patient`, `Extension`).
    pub type_name: &'static str,
    /// The definition this one is based on, if any.
    pub base_definition: Option<&'static str>,
    /// Specialization or constraint.
    pub derivation: Derivation,
    /// The natural-language description (first paragraph).
    pub description: &'static str,
    /// The snapshot: every element, in order.
    pub elements: &'static [ElementDefinition],
}

/// The maximum cardinality of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Max {
    /// `*`.
    Unbounded,
    /// A number (`0` prohibits the element).
    Count(u32),
}

/// One element of a snapshot.
#[derive(Debug)]
pub struct ElementDefinition {
    /// Element id (`Patient.identifier:nhsNumber.system`).
    pub id: &'static str,
    /// Path (`Patient.identifier.system`).
    pub path: &'static str,
    /// The slice this element starts, if it starts one.
    pub slice_name: Option<&'static str>,
    /// Minimum cardinality.
    pub min: u32,
    /// Maximum cardinality.
    pub max: Max,
    /// Allowed types.
    pub types: &'static [TypeRef],
    /// For elements defined by reference to another (`#Questionnaire.item`): that element's id.
    pub content_reference: Option<&'static str>,
    /// A fixed value: the FHIR type suffix (`Uri`, `Coding`) and its FHIR JSON.
    pub fixed: Option<TypedValue>,
    /// A pattern value: the FHIR type suffix and its FHIR JSON.
    pub pattern: Option<TypedValue>,
    /// The terminology binding.
    pub binding: Option<Binding>,
    /// How the element is sliced, if it is.
    pub slicing: Option<Slicing>,
    /// Indexes into [`CONSTRAINTS`] of the invariants that apply here.
    pub constraints: &'static [u16],
    /// The element's short description.
    pub short: &'static str,
    /// Maximum length of a string value, if limited.
    pub max_length: Option<u32>,
}

/// One allowed type of an element.
#[derive(Debug)]
pub struct TypeRef {
    /// Type code (`string`, `Reference`, `Extension`).
    pub code: &'static str,
    /// Profile the value must conform to (an extension definition for `Extension`).
    pub profile: Option<&'static str>,
    /// For `Reference`: the profile (resource type) the target must conform to.
    pub target_profile: Option<&'static str>,
}

/// A `fixed[x]` or `pattern[x]` value.
#[derive(Debug)]
pub struct TypedValue {
    /// The type suffix as written in the property name (`Uri`, `Coding`, `CodeableConcept`).
    pub type_suffix: &'static str,
    /// The value as FHIR JSON (`"https://fhir.nhs.uk/Id/nhs-number"`, `{"system":...}`).
    pub json: &'static str,
}

/// How strongly a value set binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    /// Codes must come from the value set.
    Required,
    /// Codes must come from the value set if a suitable one is there.
    Extensible,
    /// Codes should come from the value set.
    Preferred,
    /// The value set is an example.
    Example,
}

/// A terminology binding.
#[derive(Debug)]
pub struct Binding {
    /// Strength.
    pub strength: Strength,
    /// The value set's canonical URL (version suffix `|x` removed), if given.
    pub value_set: Option<&'static str>,
}

/// How a repeating element is divided into slices.
#[derive(Debug)]
pub struct Slicing {
    /// What tells the slices apart.
    pub discriminators: &'static [Discriminator],
    /// Slices must appear in the order defined.
    pub ordered: bool,
    /// Whether other items are allowed.
    pub rules: SlicingRules,
}

/// One discriminator of a slicing.
#[derive(Debug)]
pub struct Discriminator {
    /// How the value at `path` is compared.
    pub kind: DiscriminatorKind,
    /// FHIRPath (restricted) from the sliced element to the value.
    pub path: &'static str,
}

/// The discriminator types of STU3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscriminatorKind {
    /// The value equals the slice's fixed value.
    Value,
    /// The value exists or not.
    Exists,
    /// The value matches the slice's pattern.
    Pattern,
    /// The value is of the slice's type.
    Type,
    /// The value conforms to the slice's profile.
    Profile,
}

/// Whether items that fit no slice are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlicingRules {
    /// Only the defined slices.
    Closed,
    /// Other items anywhere.
    Open,
    /// Other items after the slices.
    OpenAtEnd,
}

/// An invariant (`ele-1`, `ext-1`, `nhs-1`...).
#[derive(Debug)]
pub struct Constraint {
    /// Key.
    pub key: &'static str,
    /// An error or a warning.
    pub severity: ConstraintSeverity,
    /// What it means, for people.
    pub human: &'static str,
    /// The FHIRPath expression.
    pub expression: &'static str,
}

/// The severity of an invariant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintSeverity {
    /// A violation is an error.
    Error,
    /// A violation is a warning.
    Warning,
}

/// A value set, expanded if the packages allow it.
#[derive(Debug)]
pub struct ValueSet {
    /// Canonical URL.
    pub url: &'static str,
    /// Name.
    pub name: &'static str,
    /// Business version.
    pub version: &'static str,
    /// Every code, sorted by (system, code), when it could be expanded from the packages.
    pub expansion: Result<&'static [Concept], &'static str>,
}

/// A code in an expansion.
#[derive(Debug)]
pub struct Concept {
    /// Code system URL.
    pub system: &'static str,
    /// Code.
    pub code: &'static str,
    /// Display text.
    pub display: &'static str,
}

/// Finds a StructureDefinition by canonical URL (a `|version` suffix is ignored).
pub fn structure_definition(url: &str) -> Option<&'static StructureDefinition> {
    let url = url.split('|').next().unwrap_or(url);
    STRUCTURE_DEFINITIONS
        .binary_search_by(|sd| sd.url.cmp(url))
        .ok()
        .map(|i| STRUCTURE_DEFINITIONS[i])
}

/// The base definition of a type (`Patient`, `HumanName`, `string`).
pub fn base_definition(type_name: &str) -> Option<&'static StructureDefinition> {
    structure_definition(&format!(
        "http://hl7.org/fhir/StructureDefinition/{type_name}"
    ))
}

/// Finds a value set by canonical URL (a `|version` suffix is ignored).
pub fn value_set(url: &str) -> Option<&'static ValueSet> {
    let url = url.split('|').next().unwrap_or(url);
    VALUE_SETS
        .binary_search_by(|vs| vs.url.cmp(url))
        .ok()
        .map(|i| &VALUE_SETS[i])
}

impl ValueSet {
    /// Whether the expansion holds `code` (in `system`, when given). `None` when
    /// the value set could not be expanded from the packages.
    pub fn contains(&self, system: Option<&str>, code: &str) -> Option<bool> {
        let concepts = self.expansion.ok()?;
        Some(
            concepts
                .iter()
                .any(|c| c.code == code && system.is_none_or(|s| s == c.system)),
        )
    }
}

impl ElementDefinition {
    /// The invariants that apply to this element.
    pub fn constraints(&self) -> impl Iterator<Item = &'static Constraint> + '_ {
        self.constraints
            .iter()
            .map(|&i| &CONSTRAINTS[usize::from(i)])
    }
}
