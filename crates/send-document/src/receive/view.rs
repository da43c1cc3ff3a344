//! The typed view of an accepted message.

use crate::envelope::ReplyTo;
use crate::identity::{MeshMailbox, NhsNumber, OdsCode, Workflow};
use crate::validate::Edition;

use super::log::{DocumentRecord, IdentifierKey, Receipt};
use super::{Diagnostic, Format};

/// A coded value (`Coding`): system, code and display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coded {
    /// `system` (`http://snomed.info/sct`), when given.
    pub system: Option<String>,
    /// `code`.
    pub code: String,
    /// `display`, when given.
    pub display: Option<String>,
}

/// A person's name (`HumanName`): prefixes, given names, family name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonName {
    /// `prefix` (`Mrs`, `Dr`).
    pub prefix: Vec<String>,
    /// `given`, in order.
    pub given: Vec<String>,
    /// `family`.
    pub family: Option<String>,
}

/// The patient the document is about (`Composition.subject`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientView {
    /// The NHS number (10 digits), as the message gives it. Under
    /// [`Policy::Tolerant`](super::Policy::Tolerant) with no GPPROVIDER address to
    /// compare with, it may fail the Modulus 11 check (a warning says so): use
    /// [`PatientView::checked_nhs_number`] before relying on it.
    pub nhs_number: String,
    /// The official name.
    pub name: PersonName,
    /// `birthDate`.
    pub birth_date: chrono::NaiveDate,
}

impl PatientView {
    /// The NHS number when it passes the Modulus 11 check.
    pub fn checked_nhs_number(&self) -> Option<NhsNumber> {
        NhsNumber::new(&self.nhs_number).ok()
    }
}

/// Who sent the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderView {
    /// The sending Organization's name (the custodian).
    pub organisation_name: String,
    /// The sending Organization's ODS code, as given (see [`SenderView::checked_ods_code`]).
    pub ods_code: String,
    /// The sending Organization's first telephone number, if any.
    pub telephone: Option<String>,
    /// The ODS code of the header Organization (`MessageHeader.sender`).
    pub header_ods_code: String,
    /// `MessageHeader.source.endpoint`, as given.
    pub endpoint: String,
    /// The endpoint as a MESH mailbox, when it is one.
    pub mailbox: Option<MeshMailbox>,
}

impl SenderView {
    /// The sending Organization's ODS code when it is a well-formed one (NHS's
    /// generic example carries the placeholder `A(*)`).
    pub fn checked_ods_code(&self) -> Option<OdsCode> {
        OdsCode::new(&self.ods_code).ok()
    }
}

/// The authoring Practitioner (`Composition.author` → Practitioner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorView {
    /// The official name (or the first name when none is official).
    pub name: PersonName,
    /// The SDS user ID, if given.
    pub sds_user_id: Option<String>,
    /// The first telephone number, if any.
    pub telephone: Option<String>,
}

/// `RecipientType`: whether the document is for action or for information (show it
/// prominently, spec §7.25).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecipientType {
    /// `FA` For Action.
    ForAction,
    /// `FI` For Information.
    ForInformation,
}

impl RecipientType {
    /// `FA` or `FI`.
    pub fn code(self) -> &'static str {
        match self {
            RecipientType::ForAction => "FA",
            RecipientType::ForInformation => "FI",
        }
    }
}

/// The document a replacement replaces (`Composition.relatesTo`, code `replaces`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    /// The replaced document's `Composition.identifier` (`relatesTo.targetIdentifier`).
    pub target: IdentifierKey,
    /// The replaced document's version as recorded, if known.
    pub previous_version: Option<u32>,
}

/// The identifiers of the message and its document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentIds {
    /// The message Bundle's `identifier` (duplicate messages, 20007).
    pub message_identifier: IdentifierKey,
    /// `MessageHeader.id` (quoted by the responses).
    pub message_header_id: String,
    /// The `SenderReference` handling key (echoed by the responses).
    pub sender_reference: String,
    /// The document Bundle's `identifier` (duplicate documents, 20008).
    pub document_identifier: IdentifierKey,
    /// `Composition.identifier` (what a later replacement names).
    pub composition_identifier: IdentifierKey,
    /// `Composition.meta.versionId`, as given.
    pub version_id: Option<String>,
}

/// One attachment, decoded, checked against its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The index of the `Composition.section` that references it.
    pub section: usize,
    /// That section's `title`, if any.
    pub section_title: Option<String>,
    /// `Binary.id` (NHS's generic example has none).
    pub binary_id: Option<String>,
    /// The MIME type: the declared `contentType` in lower case without parameters,
    /// or the approved type an alias stands for (`image/jpeg` for `image/jpg`).
    pub content_type: String,
    /// The decoded bytes, whose signature agrees with `content_type`.
    pub bytes: Vec<u8>,
}

/// An accepted Send Document message (ITK3 **20013**), as a typed view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The workflow it came on (given by MESH, or inferred on the folder route).
    pub workflow: Workflow,
    /// The edition it was validated against (`GPFED_CONSULT_REPORT` → 1.3).
    pub edition: Edition,
    /// XML or JSON.
    pub format: Format,
    /// The patient.
    pub patient: PatientView,
    /// The sender.
    pub sender: SenderView,
    /// The authoring Practitioner, if the Composition names one.
    pub author: Option<AuthorView>,
    /// `Composition.type`: its SNOMED CT coding (else its first coding). Receivers
    /// identify the document by it (2.x), never by LocalExtension.
    pub document_type: Coded,
    /// `Composition.title`.
    pub title: String,
    /// `Composition.date`, as given.
    pub date: String,
    /// `RecipientType`: FA or FI.
    pub recipient_type: RecipientType,
    /// The care setting (`Extension-CareConnect-CareSettingType-1`), if given.
    pub care_setting: Option<Coded>,
    /// `Composition.event.code` codings, in order.
    pub events: Vec<Coded>,
    /// `Composition.status` (`final`, `amended`...).
    pub status: String,
    /// `Composition.confidentiality` (`N`), if given.
    pub confidentiality: Option<String>,
    /// The document it replaces, for a replacement.
    pub replaces: Option<Replacement>,
    /// `Composition.meta.versionId` as a number, when it is one.
    pub version: Option<u32>,
    /// The message's and document's identifiers.
    pub ids: DocumentIds,
    /// The `LocalExtension` handling key: kept for analytics, never used to identify
    /// the document.
    pub local_extension: Option<String>,
    /// The MESH `Mex-Subject`, when the transport gave one (GPCM-SD-092).
    pub subject: Option<String>,
    /// `Composition.text.div`, the narrative, if any.
    pub narrative: Option<String>,
    /// The attachments in section order; the first is the primary one (GPCM-SD-112).
    pub attachments: Vec<Attachment>,
    /// Faults found and tolerated, and notes (SHOULDs not met), in check order.
    pub warnings: Vec<Diagnostic>,
    /// Where and how to answer.
    pub reply_to: ReplyTo,
}

impl Received {
    /// The infrastructure response code: always 20013 Success.
    pub fn response_code(&self) -> crate::ResponseCode {
        crate::ResponseCode::Success
    }

    /// The primary attachment (the first `section.entry`).
    pub fn primary_attachment(&self) -> Option<&Attachment> {
        self.attachments.first()
    }

    /// What a [`ReceiptLog`](super::ReceiptLog) records of this message.
    pub fn receipt(&self) -> Receipt {
        Receipt {
            message_identifier: self.ids.message_identifier.clone(),
            message_header_id: self.ids.message_header_id.clone(),
            document_identifier: self.ids.document_identifier.clone(),
            composition_identifier: self.ids.composition_identifier.clone(),
            document: DocumentRecord {
                sender_ods: self.sender.header_ods_code.clone(),
                nhs_number: self.patient.nhs_number.clone(),
                version: self.version,
                superseded: false,
            },
            replaces: self.replaces.as_ref().map(|r| r.target.clone()),
        }
    }
}
