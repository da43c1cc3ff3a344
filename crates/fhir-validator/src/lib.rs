//! Validates FHIR STU3 resources against StructureDefinitions.
//!
//! Every StructureDefinition of the packages is compiled into
//! [`fhir_definitions`]; nothing is read at run time. A resource is validated as
//! a format-neutral [`Node`] tree (`Resource::to_tree()`), so the findings are the
//! same whether it came from JSON or XML. Checked:
//!
//! - **cardinality** of every element and of every slice;
//! - **types** of choice elements, and of resources in `contained` and
//!   `Bundle.entry.resource` (each against its own type and `meta.profile`s);
//! - **`fixed[x]`** (exact) and **`pattern[x]`** (the pattern's parts present);
//! - **bindings**: `required` → error when the code is outside a value set that
//!   could be expanded from the packages, `extensible` → warning,
//!   `preferred`/`example` → nothing. A value set that cannot be expanded here
//!   (SNOMED CT, filters) gives an *information* finding saying it was not
//!   checked — never a silent pass;
//! - **slicing** with `value`, `pattern`, `type`, `profile` and `exists`
//!   discriminators; `closed`, `open`, `openAtEnd`; `ordered`;
//! - **extensions**, resolved by URL (a slice's profile, or the extension's own
//!   `url`) and validated against their own definitions;
//! - **string length** (`maxLength`);
//! - **invariants** (FHIRPath, by the [`fhirpath`] crate). An invariant that cannot
//!   be evaluated is reported as "not evaluated" with its key, never counted as a pass;
//! - **reference targets**: a Reference whose element lists target profiles and that
//!   resolves as FHIRPath's `resolve()` does (a contained `#id`, an entry of a Bundle
//!   it is in) must point at a resource of an allowed type and, where only profiles
//!   of that type are allowed, one the walk validated against one of them (claimed
//!   in `meta.profile` or chosen by location) or that conforms to one when validated
//!   quietly (rule `reference-target`). References that do not resolve are not checked.
//!
//! Lexical rules of primitives (regexes) are enforced when the resource is read.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod outcome;
mod walk;

use std::fmt;

pub use fhir_runtime::Node;
pub use outcome::to_operation_outcome;
pub use walk::Validator;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The resource does not conform.
    Error,
    /// Probably a problem (an extensible binding not followed, an unknown extension).
    Warning,
    /// For the record (a binding that could not be checked here).
    Information,
}

impl Severity {
    /// The FHIR `issue-severity` code.
    pub fn code(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// What kind of problem a finding is (FHIR `issue-type` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IssueType {
    /// Cardinality or structure (`structure`).
    Structure,
    /// A required element is missing (`required`).
    Required,
    /// A value is wrong: fixed, pattern, type, length (`value`).
    Value,
    /// A code is outside its value set (`code-invalid`).
    CodeInvalid,
    /// An invariant is violated (`invariant`).
    Invariant,
    /// Something could not be checked (`not-supported`).
    NotSupported,
    /// A note (`informational`).
    Informational,
}

impl IssueType {
    /// The FHIR `issue-type` code.
    pub fn code(self) -> &'static str {
        match self {
            IssueType::Structure => "structure",
            IssueType::Required => "required",
            IssueType::Value => "value",
            IssueType::CodeInvalid => "code-invalid",
            IssueType::Invariant => "invariant",
            IssueType::NotSupported => "not-supported",
            IssueType::Informational => "informational",
        }
    }
}

/// One finding of a validation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Finding {
    /// Error, warning or information.
    pub severity: Severity,
    /// The kind of problem.
    pub issue: IssueType,
    /// Where: a FHIRPath location (`Bundle.entry[3].resource.ofType(Patient).birthDate`).
    pub location: String,
    /// The rule: an invariant key (`ele-1`), or `cardinality`, `fixed`, `pattern`,
    /// `binding`, `type`, `slicing`, `maxLength`, `extension`, `profile`,
    /// `reference-target`.
    pub rule: String,
    /// The StructureDefinition the rule comes from.
    pub profile: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}: {} [{}; {}]",
            self.severity.code(),
            self.location,
            self.message,
            self.rule,
            self.profile
        )
    }
}

/// True when no finding is an error.
pub fn is_valid(findings: &[Finding]) -> bool {
    !findings.iter().any(|f| f.severity == Severity::Error)
}
