//! Why a message was not built: every problem at once.

use std::fmt;

use fhir_validator::Finding;

use crate::identity::IdentityError;

/// A message that could not be built, with **every** problem found: all the
/// inputs that are missing or wrong, or, when the inputs were right but the
/// assembled message failed validation, every error finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    problems: Vec<Problem>,
}

impl BuildError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        BuildError { problems }
    }

    /// The problems, in the order the inputs were checked (never empty).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The problems, by value.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "the Send Document message was not built: {one}"),
            many => {
                write!(
                    f,
                    "the Send Document message was not built ({} problems):",
                    many.len()
                )?;
                for (i, p) in many.iter().enumerate() {
                    write!(f, "\n  {}. {p}", i + 1)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// An input the builder needs and was not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    /// [`SendDocumentBuilder::patient`](super::SendDocumentBuilder::patient).
    Patient,
    /// [`SendDocumentBuilder::sender`](super::SendDocumentBuilder::sender).
    Sender,
    /// [`SendDocumentBuilder::author`](super::SendDocumentBuilder::author).
    Practitioner,
    /// [`SendDocumentBuilder::document_type`](super::SendDocumentBuilder::document_type)
    /// (the legacy workflow supplies it).
    DocumentType,
    /// [`SendDocumentBuilder::title`](super::SendDocumentBuilder::title) (the legacy
    /// workflow supplies it).
    Title,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Input::Patient => "the patient",
            Input::Sender => "the sending organisation",
            Input::Practitioner => {
                "the authoring practitioner (Composition.author must reference a Practitioner)"
            }
            Input::DocumentType => "the document type (Composition.type)",
            Input::Title => "the document title (Composition.title)",
        })
    }
}

/// One reason a message was not built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A required input was not given.
    Missing(Input),
    /// An NHS number, ODS code or MESH mailbox ID is not valid.
    InvalidIdentifier {
        /// Which input (`patient NHS number`, `sender ODS code`, `sender MESH mailbox`).
        field: &'static str,
        /// Why.
        error: IdentityError,
    },
    /// A text input is empty or only blanks.
    EmptyText {
        /// Which input (`patient family name`).
        field: &'static str,
    },
    /// A text input cannot be carried (a control character, a line break in a name).
    InvalidText {
        /// Which input.
        field: &'static str,
        /// The value as given.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// The patient's date of birth is after the document's creation date.
    BirthDateInFuture {
        /// The date of birth.
        birth_date: chrono::NaiveDate,
        /// The creation date.
        created: chrono::NaiveDate,
    },
    /// No attachment was given: the document itself travels as an attachment
    /// (ITK-Attachment-Binary-1, 1..*).
    NoAttachment,
    /// An attachment's MIME type is not syntactically a MIME type.
    InvalidContentType {
        /// The attachment's position (0 is the primary document).
        attachment: usize,
        /// The MIME type as given.
        content_type: String,
        /// Why.
        reason: &'static str,
    },
    /// An attachment has no bytes (`Binary.content` cannot be empty).
    EmptyAttachment {
        /// The attachment's position.
        attachment: usize,
    },
    /// An attachment's bytes do not start with the magic number of its MIME type (a
    /// receiver checks them against `contentType`).
    ContentMismatch {
        /// The attachment's position.
        attachment: usize,
        /// The MIME type as given.
        content_type: String,
        /// What such a file starts with (`%PDF-`).
        expected: &'static str,
    },
    /// The document is confidential (`R`): Send Document 2.0.2 never sends one, and a
    /// receiver rejects it with 20009.
    Confidential,
    /// An input contradicts the legacy `GPFED_CONSULT_REPORT` workflow, which fixes
    /// it (RecipientType `FA`, `Composition.type` 371531000, title `Consultation
    /// report`, status `final`).
    LegacyConflict {
        /// What (`RecipientType`).
        what: &'static str,
        /// The value given.
        given: String,
        /// The value the legacy workflow requires.
        required: &'static str,
    },
    /// A SNOMED CT code is not a valid concept ID.
    InvalidSnomedCode {
        /// Which input (`document type`, `care setting`, `event`).
        field: &'static str,
        /// The code as given.
        code: String,
        /// Why.
        reason: &'static str,
    },
    /// The SenderReference is longer than ITK3's 255 characters (FHIR-SR-03).
    SenderReferenceTooLong {
        /// Its length in characters.
        length: usize,
    },
    /// The SenderReference is `None`, ITK3's "no reference": Send Document requires
    /// the unique ID of the activity (GPCM-SD-042).
    SenderReferenceNone,
    /// The previous version of a replacement is 0 (the original is version 1), or
    /// the next version does not fit.
    InvalidPreviousVersion {
        /// The version given.
        previous_version: u32,
    },
    /// The MESH Subject would be longer than MESH accepts (500 characters).
    SubjectTooLong {
        /// Its length in characters.
        length: usize,
    },
    /// The `GPPROVIDER` address would be longer than MESH accepts (100 characters).
    AddressTooLong {
        /// The address.
        address: String,
    },
    /// The inputs were accepted, but the assembled message failed validation with
    /// this error finding. This is a defect of the builder; please report it.
    Validation(Finding),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing(input) => write!(f, "{input} was not given"),
            Problem::InvalidIdentifier { field, error } => write!(f, "{field}: {error}"),
            Problem::EmptyText { field } => write!(f, "{field} is empty"),
            Problem::InvalidText {
                field,
                value,
                reason,
            } => write!(f, "{field} {value:?} {reason}"),
            Problem::BirthDateInFuture {
                birth_date,
                created,
            } => write!(
                f,
                "the patient's date of birth {birth_date} is after the document's creation \
                 date {created}"
            ),
            Problem::NoAttachment => f.write_str(
                "no attachment was given; the document itself (usually a PDF) is the first \
                 attachment",
            ),
            Problem::InvalidContentType {
                attachment,
                content_type,
                reason,
            } => write!(
                f,
                "attachment {attachment}: {content_type:?} is not a MIME type: {reason}"
            ),
            Problem::EmptyAttachment { attachment } => {
                write!(f, "attachment {attachment} has no content")
            }
            Problem::ContentMismatch {
                attachment,
                content_type,
                expected,
            } => write!(
                f,
                "attachment {attachment} is declared {content_type} but does not start with \
                 {expected}; a receiver checks the content against its type"
            ),
            Problem::Confidential => f.write_str(
                "the document is confidential (R): Send Document 2.0.2 sends no confidential \
                 item, and a receiver would reject it (20009)",
            ),
            Problem::LegacyConflict {
                what,
                given,
                required,
            } => write!(
                f,
                "{what} is {given}, but the legacy GPFED_CONSULT_REPORT workflow (a 1.3 \
                 consultation summary) requires {required}"
            ),
            Problem::InvalidSnomedCode {
                field,
                code,
                reason,
            } => write!(
                f,
                "{field}: {code:?} is not a SNOMED CT concept ID: {reason}"
            ),
            Problem::SenderReferenceTooLong { length } => write!(
                f,
                "the SenderReference is {length} characters long; ITK3 allows 255"
            ),
            Problem::SenderReferenceNone => f.write_str(
                "the SenderReference is None; Send Document requires the unique ID of the \
                 activity (GPCM-SD-042)",
            ),
            Problem::InvalidPreviousVersion { previous_version } => write!(
                f,
                "the replaced document's version is {previous_version}; versions start at 1 \
                 and the replacement's is one higher"
            ),
            Problem::SubjectTooLong { length } => write!(
                f,
                "the MESH Subject would be {length} characters long; MESH accepts 500"
            ),
            Problem::AddressTooLong { address } => write!(
                f,
                "the MESH To address {address} is {} characters long; MESH accepts 100",
                address.chars().count()
            ),
            Problem::Validation(finding) => {
                write!(f, "the assembled message is not valid: {finding}")
            }
        }
    }
}
