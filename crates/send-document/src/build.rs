//! Building a valid Send Document message and its MESH envelope.
//!
//! [`SendDocumentBuilder`] takes what only the caller knows (the patient, the
//! sending organisation and its MESH mailbox, the authoring practitioner, the
//! document type and title, the attachments, and for a new version the document it
//! replaces) and fills in everything else the way Send Document 2.0.2 and the
//! project's decisions want it: the ITK3 handling keys, the event, identifiers and
//! `fullUrl`s, references, narrative, `meta.profile` on every resource, the MESH
//! `GPPROVIDER` address, Subject and LocalId. It checks every input, reports every
//! problem at once ([`BuildError`]), validates the assembled message with
//! [`MessageValidator`](crate::MessageValidator) for the workflow's edition, and
//! refuses it if any error is found.
//!
//! `docs/send-document-building.md` explains each choice.
//!
//! ```
//! use chrono::NaiveDate;
//! use send_document::build::{
//!     Attachment, AuthoringPractitioner, DocumentType, Patient, SendDocumentBuilder,
//!     SendingOrganisation,
//! };
//!
//! let pdf = b"%PDF-1.4\n% a consultation summary\n".to_vec();
//! let built = SendDocumentBuilder::new()
//!     .patient(
//!         Patient::new("943 476 5919", "Mowers", NaiveDate::from_ymd_opt(1955, 1, 9).unwrap())
//!             .prefix("Mrs")
//!             .given("Lorne"),
//!     )
//!     .sender(SendingOrganisation::new("B82617", "Grass Heights GP Practice", "MESHGP0001"))
//!     .author(AuthoringPractitioner::new("G8133438", "Nightingale").given("Florence"))
//!     .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
//!     .title("Consultation report")
//!     .attachment(Attachment::pdf(pdf))
//!     .build()
//!     .expect("a valid message");
//!
//! let envelope = built.envelope();
//! assert_eq!(envelope.workflow_id, "GPCONNECT_SEND_DOCUMENT");
//! assert_eq!(envelope.to, "GPPROVIDER_9434765919_19550109_Mowers");
//! assert_eq!(
//!     envelope.subject,
//!     "Consultation report for Mrs Lorne Mowers, NHS Number: 943 476 5919, \
//!      seen at Grass Heights GP Practice, B82617, Version: 1"
//! );
//! assert_eq!(envelope.local_id, "B82617");
//! // What NHS systems exchange: FHIR XML (the MESH .dat), beside the .ctl.
//! let dat = built.to_xml();
//! assert!(dat.starts_with("<Bundle xmlns=\"http://hl7.org/fhir\">"));
//! let ctl = envelope.to_ctl_xml();
//! assert!(ctl.contains("<WorkflowId>GPCONNECT_SEND_DOCUMENT</WorkflowId>"));
//! // Keep these to match the ITK3 responses and to replace the document later.
//! let ids = built.identifiers();
//! assert_eq!(ids.version, 1);
//! assert_eq!(ids.sender_reference, format!("urn:uuid:{}", ids.composition_id));
//! ```

mod assemble;
mod check;
mod error;
mod ids;
mod inputs;

use std::cell::OnceCell;

use chrono::{DateTime, FixedOffset, SubsecRound, TimeZone, Utc};
use fhir_stu3::Resource;
use fhir_validator::{Finding, Severity};

pub use error::{BuildError, Input, Problem};
pub use ids::IdSource;
pub use inputs::{
    Attachment, AuthoringPractitioner, Confidentiality, DocumentStatus, DocumentType,
    NhsNumberVerificationStatus, Patient, RecipientType, SendingOrganisation, SnomedConcept,
};
/// The UUID type of the identifiers a built message reports (re-exported from the
/// `uuid` crate).
pub use uuid::Uuid;

use crate::envelope::MeshEnvelope;
use crate::identity::{DobFormat, GpProviderAddress, MeshMailbox, NhsNumber, OdsCode, Workflow};
use crate::validate::{Edition, MessageValidator, Options};
use assemble::Plan;

/// The longest SenderReference ITK3 allows (FHIR-SR-03), in characters.
pub const MAX_SENDER_REFERENCE: usize = 255;
/// The longest MESH Subject (`Mex-Subject`) MESH accepts, in characters.
pub const MAX_SUBJECT: usize = 500;
/// The longest MESH To address (`Mex-To`) MESH accepts, in characters.
pub const MAX_ADDRESS: usize = 100;
/// The title (and section title) of a legacy 1.3 consultation summary (GPCM-SD-118).
pub const LEGACY_TITLE: &str = "Consultation report";

/// The document a new version replaces: its `Composition.identifier` and version.
/// [`MessageIdentifiers::replacement`] gives it for a message built earlier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Replacement {
    /// The replaced document's `Composition.identifier` value (system
    /// `https://tools.ietf.org/html/rfc4122`). Each replacement names the version
    /// just before it, not the original (GPCM-SD-129).
    pub previous_composition_identifier: Uuid,
    /// The replaced document's version (the original is 1). The new document is
    /// one higher.
    pub previous_version: u32,
}

impl Replacement {
    /// A replacement of the document with this identifier and version.
    pub fn new(previous_composition_identifier: Uuid, previous_version: u32) -> Self {
        Replacement {
            previous_composition_identifier,
            previous_version,
        }
    }
}

/// How a message is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// FHIR XML: what NHS systems exchange over MESH (the default).
    #[default]
    Xml,
    /// FHIR JSON.
    Json,
}

impl Format {
    /// The MIME type of the format (`application/fhir+xml`).
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Xml => "application/fhir+xml",
            Format::Json => "application/fhir+json",
        }
    }

    /// The format of a serialised resource, by its first character after a byte-order
    /// mark and blanks: `<` XML, `{` JSON, anything else `None`.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        match b.iter().find(|c| !c.is_ascii_whitespace()) {
            Some(b'<') => Some(Format::Xml),
            Some(b'{') => Some(Format::Json),
            _ => None,
        }
    }
}

/// The identifiers a sender keeps for a message it built: to match the ITK3
/// responses (`response.identifier` quotes the MessageHeader id; SenderReference is
/// echoed), to detect duplicates, and to replace the document later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageIdentifiers {
    /// The MESH workflow the message travels on.
    pub workflow: Workflow,
    /// The message Bundle's `identifier` (receivers' duplicate-message check, 20007).
    pub message_bundle_identifier: Uuid,
    /// The MessageHeader's `id`, which ITK3 responses quote in `response.identifier`.
    pub message_header_id: Uuid,
    /// The `SenderReference` handling key, echoed by GP Connect responses.
    pub sender_reference: String,
    /// The document Bundle's `identifier` (receivers' duplicate-document check, 20008).
    pub document_bundle_identifier: Uuid,
    /// The Composition's `id` (and the `urn:uuid:` of its `fullUrl`).
    pub composition_id: Uuid,
    /// The Composition's `identifier`, which a later replacement targets.
    pub composition_identifier: Uuid,
    /// The document version (`Composition.meta.versionId`, and in the Subject).
    pub version: u32,
    /// When the message was created (`Composition.date`, `MessageHeader.timestamp`,
    /// the document Bundle's `meta.lastUpdated`).
    pub created_at: DateTime<FixedOffset>,
}

impl MessageIdentifiers {
    /// The [`Replacement`] a new version of this document gives the builder.
    pub fn replacement(&self) -> Replacement {
        Replacement::new(self.composition_identifier, self.version)
    }
}

/// A message that was built and validated: the FHIR message, its MESH envelope, the
/// identifiers to keep, and the validation's warnings and notes.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltMessage {
    message: Resource,
    envelope: MeshEnvelope,
    identifiers: MessageIdentifiers,
    findings: Vec<Finding>,
}

impl BuiltMessage {
    /// The message: an ITK-Message-Bundle-1 Bundle.
    pub fn message(&self) -> &Resource {
        &self.message
    }

    /// The message, by value (without copying it).
    pub fn into_message(self) -> Resource {
        self.message
    }

    /// The message, envelope and identifiers, by value.
    pub fn into_parts(self) -> (Resource, MeshEnvelope, MessageIdentifiers) {
        (self.message, self.envelope, self.identifiers)
    }

    /// The message as compact FHIR XML, the MESH `.dat` payload NHS systems
    /// exchange.
    pub fn to_xml(&self) -> String {
        self.message.to_xml()
    }

    /// The message as compact FHIR JSON.
    pub fn to_json(&self) -> String {
        self.message.to_json()
    }

    /// The message in this format.
    pub fn serialize(&self, format: Format) -> String {
        match format {
            Format::Xml => self.to_xml(),
            Format::Json => self.to_json(),
        }
    }

    /// The MESH envelope: workflow, From mailbox, `GPPROVIDER` To address, Subject and
    /// LocalId (`.ctl` with [`MeshEnvelope::to_ctl_xml`], or the `Mex-*` headers).
    pub fn envelope(&self) -> &MeshEnvelope {
        &self.envelope
    }

    /// The identifiers to keep for correlation and later replacement.
    pub fn identifiers(&self) -> &MessageIdentifiers {
        &self.identifiers
    }

    /// The validation findings that are not errors (warnings and notes, such as a
    /// document type outside the SCAL's approved two). Empty for most messages.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

/// Builds a GP Connect Send Document message: an ITK3 message Bundle with its
/// MessageHeader, the sender's header Organization and the document Bundle
/// (Composition, Patient, sending Organization, Practitioner, one Binary per
/// attachment), plus its MESH envelope.
///
/// Set the inputs with the chained setters, then call [`build`](Self::build). The
/// patient, sender, author, at least one attachment, and (on the default Send
/// Document 2.x workflow) the document type and title are required. See the
/// [module documentation](self) for an example.
#[derive(Clone, Debug, Default)]
pub struct SendDocumentBuilder {
    workflow: Workflow,
    patient: Option<Patient>,
    sender: Option<SendingOrganisation>,
    author: Option<AuthoringPractitioner>,
    document_type: Option<DocumentType>,
    title: Option<String>,
    status: Option<DocumentStatus>,
    confidentiality: Option<Confidentiality>,
    recipient_type: Option<RecipientType>,
    care_setting: Option<SnomedConcept>,
    event: Option<SnomedConcept>,
    attachments: Vec<Attachment>,
    replacement: Option<Replacement>,
    sender_reference: Option<String>,
    dob_format: DobFormat,
    created_at: Option<DateTime<FixedOffset>>,
    ids: IdSource,
}

/// Swaps the `content` of every Binary in `message` (at any depth, in document
/// order) with `replacements` (a short valid stand-in when `replacements` runs out),
/// and returns what was there.
fn swap_contents(
    message: &mut Resource,
    replacements: Vec<Option<fhir_stu3::value::Base64Value>>,
) -> Vec<Option<fhir_stu3::value::Base64Value>> {
    fn walk(
        r: &mut Resource,
        with: &mut std::vec::IntoIter<Option<fhir_stu3::value::Base64Value>>,
        taken: &mut Vec<Option<fhir_stu3::value::Base64Value>>,
    ) {
        match r {
            Resource::Binary(b) => {
                if let Some(content) = b.content.as_mut() {
                    let stand_in = with.next().unwrap_or_else(|| {
                        Some(fhir_stu3::value::Base64Value::from_bytes(b"%PDF-"))
                    });
                    taken.push(std::mem::replace(&mut content.value, stand_in));
                }
            }
            Resource::Bundle(bundle) => {
                for e in bundle.entry.iter_mut() {
                    if let Some(inner) = e.resource.as_mut() {
                        walk(inner, with, taken);
                    }
                }
            }
            _ => {}
        }
    }
    let mut taken = Vec::new();
    walk(message, &mut replacements.into_iter(), &mut taken);
    taken
}

impl SendDocumentBuilder {
    /// A builder for the default Send Document 2.0.2 workflow
    /// (`GPCONNECT_SEND_DOCUMENT`), with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The MESH workflow, which decides the edition. [`Workflow::ConsultReport`]
    /// (`GPFED_CONSULT_REPORT`, the legacy 1.3 consultation summary) brings its fixed
    /// values: LocalExtension `SendDocument-ConsultationSummary`, RecipientType `FA`,
    /// `Composition.type` 371531000, title `Consultation report`, status `final`,
    /// confidentiality `N`; a conflicting input is refused, not overridden.
    pub fn workflow(mut self, workflow: Workflow) -> Self {
        self.workflow = workflow;
        self
    }

    /// The patient (required).
    pub fn patient(mut self, patient: Patient) -> Self {
        self.patient = Some(patient);
        self
    }

    /// The sending organisation and its MESH mailbox (required).
    pub fn sender(mut self, sender: SendingOrganisation) -> Self {
        self.sender = Some(sender);
        self
    }

    /// The practitioner who wrote the document, `Composition.author` (required).
    pub fn author(mut self, practitioner: AuthoringPractitioner) -> Self {
        self.author = Some(practitioner);
        self
    }

    /// `Composition.type`: what receivers identify the document by (required on
    /// the 2.x workflow; the legacy workflow supplies 371531000).
    pub fn document_type(mut self, document_type: DocumentType) -> Self {
        self.document_type = Some(document_type);
        self
    }

    /// `Composition.title`, also the start of the narrative and the Subject, and the
    /// title of attachments given none (required on the 2.x workflow; the legacy
    /// workflow supplies `Consultation report`).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// `Composition.status` (`final` unless set).
    pub fn status(mut self, status: DocumentStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// `Composition.confidentiality`. [`Confidentiality::Restricted`] is refused.
    pub fn confidentiality(mut self, confidentiality: Confidentiality) -> Self {
        self.confidentiality = Some(confidentiality);
        self
    }

    /// The RecipientType handling key (`FA` unless set; `FI` is refused on the legacy
    /// workflow).
    pub fn recipient_type(mut self, recipient_type: RecipientType) -> Self {
        self.recipient_type = Some(recipient_type);
        self
    }

    /// The care setting (Extension-CareConnect-CareSettingType-1), a SNOMED CT
    /// service such as `788007007` General practice service (optional).
    pub fn care_setting(mut self, care_setting: SnomedConcept) -> Self {
        self.care_setting = Some(care_setting);
        self
    }

    /// The clinical event the document is about (`Composition.event.code`), a SNOMED
    /// CT concept (optional).
    pub fn event(mut self, event: SnomedConcept) -> Self {
        self.event = Some(event);
        self
    }

    /// Adds an attachment. The first is the primary document (usually the PDF).
    pub fn attachment(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Adds several attachments, in order.
    pub fn attachments(mut self, attachments: impl IntoIterator<Item = Attachment>) -> Self {
        self.attachments.extend(attachments);
        self
    }

    /// Makes the document a new version of an earlier one: `Composition.relatesTo`
    /// `replaces` its identifier, and the version is one higher.
    pub fn replaces(mut self, replacement: Replacement) -> Self {
        self.replacement = Some(replacement);
        self
    }

    /// The SenderReference handling key: the unique ID of the activity at the sender,
    /// at most 255 characters (`urn:uuid:` + the Composition id unless set).
    pub fn sender_reference(mut self, reference: impl Into<String>) -> Self {
        self.sender_reference = Some(reference.into());
        self
    }

    /// How the date of birth is written in the `GPPROVIDER` address (`YYYYMMDD`
    /// unless set).
    pub fn dob_format(mut self, format: DobFormat) -> Self {
        self.dob_format = format;
        self
    }

    /// When the message is created (`Composition.date`, `MessageHeader.timestamp`,
    /// the document Bundle's `meta.lastUpdated`); now, to the second, in UTC, unless
    /// set.
    pub fn created_at<Tz: TimeZone>(mut self, at: DateTime<Tz>) -> Self {
        self.created_at = Some(at.fixed_offset());
        self
    }

    /// Where the UUIDs come from ([`IdSource::Random`] unless set).
    pub fn ids(mut self, source: IdSource) -> Self {
        self.ids = source;
        self
    }

    /// Checks every input, assembles the message and its envelope, and validates the
    /// message for the workflow's edition.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] with every problem: each missing or invalid input (no
    /// patient, a bad NHS number, a confidential document, `FI` on the legacy
    /// workflow...), or, when the inputs are all right, each error the validation
    /// found. Nothing here panics on bad input.
    pub fn build(self) -> Result<BuiltMessage, BuildError> {
        let workflow = self.workflow;
        let source = self.ids;
        let (plan, envelope) = self.check().map_err(BuildError::new)?;
        let version = plan.version;
        let created_at = plan.created_at;
        let (mut message, chosen) = assemble::assemble(plan, &mut ids::Ids::new(source));
        // The attachments' base64 was made here from their bytes, so it is valid by
        // construction: validate the message with a short stand-in in its place, which
        // spares the validation tree a copy of every attachment (the larger part of
        // the message), then put the content back.
        let contents = swap_contents(&mut message, Vec::new());
        let mut findings = validate(workflow.edition(), &message);
        swap_contents(&mut message, contents);
        let errors: Vec<Problem> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .cloned()
            .map(Problem::Validation)
            .collect();
        if !errors.is_empty() {
            return Err(BuildError::new(errors));
        }
        findings.retain(|f| f.severity != Severity::Error);
        Ok(BuiltMessage {
            message,
            envelope,
            identifiers: MessageIdentifiers {
                workflow,
                message_bundle_identifier: chosen.message_bundle_identifier,
                message_header_id: chosen.message_header_id,
                sender_reference: chosen.sender_reference,
                document_bundle_identifier: chosen.document_bundle_identifier,
                composition_id: chosen.composition_id,
                composition_identifier: chosen.composition_identifier,
                version,
                created_at,
            },
            findings,
        })
    }

    /// Every input checked: the plan and envelope, or every problem.
    fn check(self) -> Result<(Plan, MeshEnvelope), Vec<Problem>> {
        let mut problems = Vec::new();
        let p = &mut problems;
        let legacy = self.workflow == Workflow::ConsultReport;
        let created_at = self.created_at.unwrap_or_else(|| {
            DateTime::<Utc>::from(std::time::SystemTime::now())
                .trunc_subsecs(0)
                .fixed_offset()
        });

        // Patient.
        let mut nhs_number = None;
        let patient = match self.patient {
            None => {
                p.push(Problem::Missing(Input::Patient));
                None
            }
            Some(patient) => {
                nhs_number = NhsNumber::new(&patient.nhs_number)
                    .map_err(|error| {
                        p.push(Problem::InvalidIdentifier {
                            field: "patient NHS number",
                            error,
                        })
                    })
                    .ok();
                let family = check::text("patient family name", &patient.family, p);
                let given = check::texts("patient given name", &patient.given, p);
                let prefixes = check::texts("patient name prefix", &patient.prefixes, p);
                if patient.birth_date > created_at.date_naive() {
                    p.push(Problem::BirthDateInFuture {
                        birth_date: patient.birth_date,
                        created: created_at.date_naive(),
                    });
                }
                family.map(|family| Patient {
                    nhs_number: patient.nhs_number,
                    family,
                    given,
                    prefixes,
                    birth_date: patient.birth_date,
                    verification: patient.verification,
                })
            }
        };

        // Sending organisation.
        let (mut ods_code, mut mailbox, mut org_name, mut org_phone) = (None, None, None, None);
        match self.sender {
            None => p.push(Problem::Missing(Input::Sender)),
            Some(org) => {
                ods_code = OdsCode::new(&org.ods_code)
                    .map_err(|error| {
                        p.push(Problem::InvalidIdentifier {
                            field: "sender ODS code",
                            error,
                        })
                    })
                    .ok();
                org_name = check::text("sender name", &org.name, p);
                mailbox = MeshMailbox::new(&org.mailbox)
                    .map_err(|error| {
                        p.push(Problem::InvalidIdentifier {
                            field: "sender MESH mailbox",
                            error,
                        })
                    })
                    .ok();
                org_phone = org
                    .telephone
                    .as_deref()
                    .map(|t| check::text("sender telephone", t, p));
            }
        }

        // Authoring practitioner.
        let practitioner = match self.author {
            None => {
                p.push(Problem::Missing(Input::Practitioner));
                None
            }
            Some(pr) => {
                let sds = check::text("practitioner SDS user ID", &pr.sds_user_id, p);
                let family = check::text("practitioner family name", &pr.family, p);
                let given = check::texts("practitioner given name", &pr.given, p);
                let prefixes = check::texts("practitioner name prefix", &pr.prefixes, p);
                let telephone = pr
                    .telephone
                    .as_deref()
                    .map(|t| check::text("practitioner telephone", t, p));
                match (sds, family, telephone) {
                    (Some(sds_user_id), Some(family), None) => Some(AuthoringPractitioner {
                        sds_user_id,
                        family,
                        given,
                        prefixes,
                        telephone: None,
                    }),
                    (Some(sds_user_id), Some(family), Some(Some(t))) => {
                        Some(AuthoringPractitioner {
                            sds_user_id,
                            family,
                            given,
                            prefixes,
                            telephone: Some(t),
                        })
                    }
                    _ => None,
                }
            }
        };

        // The document: type, title, status, confidentiality, recipient type.
        let document_type = match (self.document_type, legacy) {
            (None, false) => {
                p.push(Problem::Missing(Input::DocumentType));
                None
            }
            (None, true) => Some(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER),
            (Some(t), true) if t.code() != DocumentType::REPORT_OF_CLINICAL_ENCOUNTER.code() => {
                p.push(Problem::LegacyConflict {
                    what: "the document type",
                    given: t.code().to_owned(),
                    required: "371531000 (Report of clinical encounter)",
                });
                None
            }
            (Some(t), _) => {
                concept_ok("document type", "document type display", t.concept(), p).then_some(t)
            }
        };
        let title = match (self.title, legacy) {
            (None, false) => {
                p.push(Problem::Missing(Input::Title));
                None
            }
            (None, true) => Some(LEGACY_TITLE.to_owned()),
            (Some(t), true) if t.trim() != LEGACY_TITLE => {
                p.push(Problem::LegacyConflict {
                    what: "the title",
                    given: t,
                    required: "\"Consultation report\"",
                });
                None
            }
            (Some(t), _) => check::text("title", &t, p),
        };
        let status = self.status.unwrap_or_default();
        if legacy && status != DocumentStatus::Final {
            p.push(Problem::LegacyConflict {
                what: "the status",
                given: status.code().to_owned(),
                required: "final",
            });
        }
        let confidentiality = match self.confidentiality {
            Some(Confidentiality::Restricted) => {
                p.push(Problem::Confidential);
                None
            }
            None if legacy => Some(Confidentiality::Normal),
            other => other,
        };
        let recipient_type = self.recipient_type.unwrap_or_default();
        if legacy && recipient_type != RecipientType::ForAction {
            p.push(Problem::LegacyConflict {
                what: "the RecipientType",
                given: recipient_type.code().to_owned(),
                required: "FA",
            });
        }
        let care_setting = self
            .care_setting
            .filter(|c| concept_ok("care setting", "care setting display", c, p));
        let event = self
            .event
            .filter(|c| concept_ok("event", "event display", c, p));

        // Replacement and version.
        let (replaces, version) = match self.replacement {
            None => (None, Some(1)),
            Some(r) => match r.previous_version.checked_add(1) {
                Some(v) if r.previous_version >= 1 => {
                    (Some(r.previous_composition_identifier), Some(v))
                }
                _ => {
                    p.push(Problem::InvalidPreviousVersion {
                        previous_version: r.previous_version,
                    });
                    (None, None)
                }
            },
        };

        // SenderReference.
        let sender_reference = match self.sender_reference {
            None => None,
            Some(r) => {
                let length = r.chars().count();
                if length > MAX_SENDER_REFERENCE {
                    p.push(Problem::SenderReferenceTooLong { length });
                    None
                } else {
                    check::text("SenderReference", &r, p).filter(|r| {
                        let none = r.eq_ignore_ascii_case("none");
                        if none {
                            p.push(Problem::SenderReferenceNone);
                        }
                        !none
                    })
                }
            }
        };

        // Attachments.
        if self.attachments.is_empty() {
            p.push(Problem::NoAttachment);
        }
        let mut attachments = Vec::with_capacity(self.attachments.len());
        for (i, a) in self.attachments.into_iter().enumerate() {
            let mut ok = true;
            if let Some(reason) = check::mime_problem(&a.content_type) {
                p.push(Problem::InvalidContentType {
                    attachment: i,
                    content_type: a.content_type.clone(),
                    reason,
                });
                ok = false;
            }
            if a.bytes.is_empty() {
                p.push(Problem::EmptyAttachment { attachment: i });
                ok = false;
            } else if let Some((magic, expected)) = check::magic(&a.content_type) {
                if !a.bytes.starts_with(magic) {
                    p.push(Problem::ContentMismatch {
                        attachment: i,
                        content_type: a.content_type.clone(),
                        expected,
                    });
                    ok = false;
                }
            }
            let section_title = match &a.title {
                Some(t) => check::text("attachment title", t, p),
                None => title.clone(),
            };
            if let (true, Some(section_title)) = (ok, section_title) {
                attachments.push((a.content_type, a.bytes, section_title));
            }
        }

        // Everything needed for the envelope and the plan.
        let (
            Some(nhs_number),
            Some(patient),
            Some(ods_code),
            Some(organisation_name),
            Some(mailbox),
            Some(practitioner),
            Some(document_type),
            Some(title),
            Some(version),
        ) = (
            nhs_number,
            patient,
            ods_code,
            org_name,
            mailbox,
            practitioner,
            document_type,
            title,
            version,
        )
        else {
            return Err(problems);
        };

        let summary = format!(
            "{title} for {}, NHS Number: {}, seen at {organisation_name}, {ods_code}, Version: {version}",
            patient.display_name(),
            nhs_number.spaced(),
        );
        let length = summary.chars().count();
        if length > MAX_SUBJECT {
            problems.push(Problem::SubjectTooLong { length });
        }
        let address = GpProviderAddress {
            nhs_number: nhs_number.clone(),
            birth_date: patient.birth_date,
            surname: patient.family.clone(),
            dob_format: self.dob_format,
        }
        .to_string();
        if address.chars().count() > MAX_ADDRESS {
            problems.push(Problem::AddressTooLong {
                address: address.clone(),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }

        let envelope = MeshEnvelope {
            workflow_id: self.workflow.id().to_owned(),
            from: mailbox.clone(),
            to: address,
            subject: summary.clone(),
            local_id: ods_code.as_str().to_owned(),
        };
        let plan = Plan {
            workflow: self.workflow,
            nhs_number,
            patient,
            ods_code,
            organisation_name,
            organisation_telephone: org_phone.flatten(),
            mailbox,
            practitioner,
            document_type,
            title,
            status,
            confidentiality,
            recipient_type,
            care_setting,
            event,
            attachments,
            replaces,
            version,
            sender_reference,
            created_at,
            summary,
        };
        Ok((plan, envelope))
    }
}

/// Whether the concept's code is a SNOMED CT concept ID (a problem if not).
fn snomed(field: &'static str, concept: &SnomedConcept, p: &mut Vec<Problem>) -> bool {
    match check::snomed_problem(concept.code()) {
        None => true,
        Some(reason) => {
            p.push(Problem::InvalidSnomedCode {
                field,
                code: concept.code().to_owned(),
                reason,
            });
            false
        }
    }
}

/// Whether the concept's code is a SNOMED CT concept ID and its display usable (a
/// problem for each that is not).
fn concept_ok(
    field: &'static str,
    display_field: &'static str,
    concept: &SnomedConcept,
    p: &mut Vec<Problem>,
) -> bool {
    let code = snomed(field, concept, p);
    let display = check::text(display_field, concept.display(), p).is_some();
    code && display
}

thread_local! {
    /// One validator per edition and thread, so its caches serve every build.
    static VALIDATORS: [OnceCell<MessageValidator>; 2] = const { [OnceCell::new(), OnceCell::new()] };
}

fn validate(edition: Edition, message: &Resource) -> Vec<Finding> {
    let slot = match edition {
        Edition::V2 => 0,
        Edition::V1_3 => 1,
    };
    VALIDATORS.with(|v| {
        v[slot]
            .get_or_init(|| MessageValidator::new(Options::with_edition(edition)))
            .validate(message)
    })
}
