//! What a caller gives the builder: the patient, the sending organisation, the
//! authoring practitioner, the attachments and the coded facts about the document.
//!
//! Identifiers are taken as text and checked when the message is built, so that
//! one call to [`build`](super::SendDocumentBuilder::build) reports every problem at
//! once.

use std::borrow::Cow;

use chrono::NaiveDate;

pub use fhir_profiles::codes::ValueSetCareConnectNHSNumberVerificationStatus1 as NhsNumberVerificationStatus;

/// The patient the document is about, as the CareConnect-Patient-1 resource and the
/// MESH `GPPROVIDER` address carry them. Send Document 2.x expects nothing else to be
/// sent (PDS is the source of demographics), so gender, address and contact details
/// have no place here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patient {
    /// The NHS number, ten digits; spaces and hyphens are accepted and dropped. It is
    /// checked (Modulus 11) when the message is built.
    pub nhs_number: String,
    /// The family name (surname) as PDS holds it: the official name's `family` and the
    /// last part of the `GPPROVIDER` address.
    pub family: String,
    /// Given names, in order (optional, but GPCM-SD-036 says they SHOULD be given).
    pub given: Vec<String>,
    /// Name prefixes (`Mrs`, `Dr`), in order (optional).
    pub prefixes: Vec<String>,
    /// The date of birth (`Patient.birthDate`, and the `GPPROVIDER` address).
    pub birth_date: NaiveDate,
    /// The NHS number's verification status (ITK3 FHIR-PDS-10 makes it mandatory):
    /// `01` "Number present and verified" unless the caller says otherwise.
    pub verification: NhsNumberVerificationStatus,
}

impl Patient {
    /// A patient with an NHS number, a family name and a date of birth, no given
    /// name or prefix, and the NHS number verified (`01`).
    pub fn new(
        nhs_number: impl Into<String>,
        family: impl Into<String>,
        birth_date: NaiveDate,
    ) -> Self {
        Patient {
            nhs_number: nhs_number.into(),
            family: family.into(),
            given: Vec::new(),
            prefixes: Vec::new(),
            birth_date,
            verification: NhsNumberVerificationStatus::V01,
        }
    }

    /// Adds a given name (call once per name, in order).
    pub fn given(mut self, name: impl Into<String>) -> Self {
        self.given.push(name.into());
        self
    }

    /// Adds a prefix (`Mrs`, `Dr`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefixes.push(prefix.into());
        self
    }

    /// Sets the NHS number's verification status.
    pub fn verification(mut self, status: NhsNumberVerificationStatus) -> Self {
        self.verification = status;
        self
    }

    /// The name as people read it: prefixes, given names and the family name, each
    /// trimmed and separated by one space (`Mrs Lorne Mowers`). The narrative and the
    /// MESH Subject show it.
    pub fn display_name(&self) -> String {
        join_name(&self.prefixes, &self.given, &self.family)
    }
}

/// The organisation sending the document: its ODS code, name and MESH mailbox. It is
/// the `custodian` of the document (CareConnect-Organization-1), the sender of the
/// message (CareConnect-ITK-Header-Organization-1, ODS code only), the MESH `From`
/// and, by GPCM-SD-145/146, the MESH `LocalId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendingOrganisation {
    /// The ODS organisation code (`B82617`), checked when the message is built.
    pub ods_code: String,
    /// The organisation's name, shown in the narrative and the Subject ("seen at").
    pub name: String,
    /// The organisation's MESH mailbox ID (`MESHGP0001`): `MessageHeader.source.endpoint`
    /// and MESH `From`. Checked when the message is built.
    pub mailbox: String,
    /// A work telephone number, sent when given (GPCM-SD-031: MUST if available).
    pub telephone: Option<String>,
}

impl SendingOrganisation {
    /// An organisation with an ODS code, a name and a MESH mailbox, and no telephone.
    pub fn new(
        ods_code: impl Into<String>,
        name: impl Into<String>,
        mailbox: impl Into<String>,
    ) -> Self {
        SendingOrganisation {
            ods_code: ods_code.into(),
            name: name.into(),
            mailbox: mailbox.into(),
            telephone: None,
        }
    }

    /// Sets the work telephone number.
    pub fn telephone(mut self, number: impl Into<String>) -> Self {
        self.telephone = Some(number.into());
        self
    }
}

/// The practitioner who wrote the document: the `Composition.author`
/// (CareConnect-Practitioner-1). The project requires one (decision 3 in
/// `docs/send-document-building.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthoringPractitioner {
    /// The SDS user ID (`https://fhir.nhs.uk/Id/sds-user-id`, GPCM-SD-032).
    pub sds_user_id: String,
    /// The family name of the official name (GPCM-SD-033).
    pub family: String,
    /// Given names, in order.
    pub given: Vec<String>,
    /// Name prefixes (`Dr`), in order.
    pub prefixes: Vec<String>,
    /// A work telephone number, sent when given (GPCM-SD-034).
    pub telephone: Option<String>,
}

impl AuthoringPractitioner {
    /// A practitioner with an SDS user ID and a family name.
    pub fn new(sds_user_id: impl Into<String>, family: impl Into<String>) -> Self {
        AuthoringPractitioner {
            sds_user_id: sds_user_id.into(),
            family: family.into(),
            given: Vec::new(),
            prefixes: Vec::new(),
            telephone: None,
        }
    }

    /// Adds a given name (call once per name, in order).
    pub fn given(mut self, name: impl Into<String>) -> Self {
        self.given.push(name.into());
        self
    }

    /// Adds a prefix (`Dr`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefixes.push(prefix.into());
        self
    }

    /// Sets the work telephone number.
    pub fn telephone(mut self, number: impl Into<String>) -> Self {
        self.telephone = Some(number.into());
        self
    }
}

/// A file sent with the document: one `Composition.section` and one
/// ITK-Attachment-Binary-1 each. The first attachment given is the primary document
/// (the PDF), and comes first.
///
/// The bytes are taken by value and encoded to base64 once, when the message is
/// built; they are dropped as soon as they are encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The MIME type (`application/pdf`), checked for syntax when the message is
    /// built, and against the file's magic number for PDF, PNG and JPEG.
    pub content_type: String,
    /// The file's content.
    pub bytes: Vec<u8>,
    /// The section title; the document title when `None`.
    pub title: Option<String>,
}

impl Attachment {
    /// An attachment of this MIME type, titled by the document title.
    pub fn new(content_type: impl Into<String>, bytes: Vec<u8>) -> Self {
        Attachment {
            content_type: content_type.into(),
            bytes,
            title: None,
        }
    }

    /// A PDF (`application/pdf`), the usual primary document.
    pub fn pdf(bytes: Vec<u8>) -> Self {
        Attachment::new("application/pdf", bytes)
    }

    /// Sets the section title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print megabytes of content.
        f.debug_struct("Attachment")
            .field("content_type", &self.content_type)
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("title", &self.title)
            .finish()
    }
}

/// A SNOMED CT concept: a code and its display. Used for the care setting
/// (Extension-CareConnect-CareSettingType-1) and the clinical event
/// (`Composition.event.code`); [`DocumentType`] wraps one for `Composition.type`.
/// The code is checked (digits, length, Verhoeff check digit, concept partition)
/// when the message is built.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SnomedConcept {
    code: Cow<'static, str>,
    display: Cow<'static, str>,
}

impl SnomedConcept {
    /// A concept with this code and display.
    pub fn new(code: impl Into<String>, display: impl Into<String>) -> Self {
        SnomedConcept {
            code: Cow::Owned(code.into()),
            display: Cow::Owned(display.into()),
        }
    }

    /// A concept from static text, usable in constants.
    pub const fn from_static(code: &'static str, display: &'static str) -> Self {
        SnomedConcept {
            code: Cow::Borrowed(code),
            display: Cow::Borrowed(display),
        }
    }

    /// The SNOMED CT concept ID.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The display text.
    pub fn display(&self) -> &str {
        &self.display
    }
}

/// The kind of document (`Composition.type`): what a Send Document 2.x receiver
/// identifies the document by. A SNOMED CT concept from the Record composition type
/// simple reference set (`1127551000000109`); the SCAL (GPCM-SD-115) names two
/// "current approved" codes, given here as constants. Any other concept is accepted
/// (the validator then warns that receivers may file it as an unknown document).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DocumentType(SnomedConcept);

impl DocumentType {
    /// `371531000` Report of clinical encounter (record artifact): the consultation
    /// summary, and the only type of the legacy `GPFED_CONSULT_REPORT` workflow.
    pub const REPORT_OF_CLINICAL_ENCOUNTER: DocumentType =
        DocumentType(SnomedConcept::from_static(
            "371531000",
            "Report of clinical encounter (record artifact)",
        ));
    /// `149701000000109` Remote health correspondence (record artifact).
    pub const REMOTE_HEALTH_CORRESPONDENCE: DocumentType =
        DocumentType(SnomedConcept::from_static(
            "149701000000109",
            "Remote health correspondence (record artifact)",
        ));

    /// Any other SNOMED CT document type.
    pub fn snomed(code: impl Into<String>, display: impl Into<String>) -> Self {
        DocumentType(SnomedConcept::new(code, display))
    }

    /// The concept.
    pub fn concept(&self) -> &SnomedConcept {
        &self.0
    }

    /// The SNOMED CT concept ID.
    pub fn code(&self) -> &str {
        self.0.code()
    }

    /// The display text.
    pub fn display(&self) -> &str {
        self.0.display()
    }
}

impl From<SnomedConcept> for DocumentType {
    fn from(concept: SnomedConcept) -> Self {
        DocumentType(concept)
    }
}

/// `ITK-RecipientType-1`: whether the receiving practice must act on the document or
/// only file it (ITK3 FHIR-SR-01/02; receivers show it prominently).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RecipientType {
    /// `FA` "For Action": the default, and the only value of the legacy workflow
    /// (GPCM-SD-039).
    #[default]
    ForAction,
    /// `FI` "For Information" (Send Document 2.x only).
    ForInformation,
}

impl RecipientType {
    /// The code (`FA`, `FI`).
    pub fn code(self) -> &'static str {
        self.coded().code()
    }

    pub(crate) fn coded(self) -> fhir_profiles::codes::ItkRecipientType1 {
        match self {
            RecipientType::ForAction => fhir_profiles::codes::ItkRecipientType1::FA,
            RecipientType::ForInformation => fhir_profiles::codes::ItkRecipientType1::FI,
        }
    }
}

/// `Composition.confidentiality`. Send Document 2.0.2 sends no confidential item:
/// the builder refuses [`Restricted`](Confidentiality::Restricted) (a receiver would
/// reject it with 20009). Saying `Normal` writes `N`; saying nothing writes no
/// confidentiality in 2.x, and `N` in the legacy workflow, where it is required.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Confidentiality {
    /// `N` normal.
    Normal,
    /// `R` restricted: the patient asked for it not to be shared. Never built.
    Restricted,
}

/// `Composition.status`. `preliminary` is not offered: Send Document is not meant
/// for work in progress (SD2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DocumentStatus {
    /// `final`: the default, and the only status of the legacy workflow
    /// (GPCM-SD-114).
    #[default]
    Final,
    /// `amended`: a changed version (usually with a [`Replacement`](super::Replacement)).
    Amended,
    /// `entered-in-error`: the document should not have been sent (usually with a
    /// [`Replacement`](super::Replacement) of it).
    EnteredInError,
}

impl DocumentStatus {
    /// The FHIR code (`final`).
    pub fn code(self) -> &'static str {
        match self {
            DocumentStatus::Final => "final",
            DocumentStatus::Amended => "amended",
            DocumentStatus::EnteredInError => "entered-in-error",
        }
    }

    pub(crate) fn coded(self) -> fhir_stu3::codes::CompositionStatus {
        use fhir_stu3::codes::CompositionStatus;
        match self {
            DocumentStatus::Final => CompositionStatus::Final,
            DocumentStatus::Amended => CompositionStatus::Amended,
            DocumentStatus::EnteredInError => CompositionStatus::EnteredInError,
        }
    }
}

/// Prefixes, given names and family, trimmed, blanks dropped, one space apart.
pub(crate) fn join_name(prefixes: &[String], given: &[String], family: &str) -> String {
    prefixes
        .iter()
        .chain(given)
        .map(|s| s.trim())
        .chain(std::iter::once(family.trim()))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
