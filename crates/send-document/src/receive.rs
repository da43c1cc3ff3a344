//! Reading and checking an incoming Send Document message: the **receiver**.
//!
//! [`Receiver`] takes the message bytes and what MESH knows about them
//! ([`Transport`]), runs the checks of spec §7 **in order**, and either accepts the
//! message ([`Received`]: a typed view with the attachments decoded, ITK3 code
//! 20013) or rejects it ([`Rejection`]: the ITK3 [`ResponseCode`], diagnostics naming
//! each fault, and the [`ReplyTo`] the responses need). It never panics, whatever
//! the input.
//!
//! The checks, each with the code its faults give (`docs/send-document-receiving.md`
//! has the full table):
//!
//! | # | [`Check`] | code |
//! |---|---|---|
//! | 1 | transport: `DATA`, workflow `GPCONNECT_SEND_DOCUMENT`/`GPFED_CONSULT_REPORT` | 10004 |
//! | 1 | transport: size within [`ReceiveOptions::max_message_bytes`] | 20015 |
//! | 2 | parse: XML or JSON (sniffed; gzip reported), root `Bundle` | 10009 |
//! | 3 | header: `type=message`, `identifier`, MessageHeader first, profiles | 20006 |
//! | 4 | handling keys | 10001, 10002, 10003, 10010, 10007, then 10008 |
//! | 5 | MessageDefinition (`…-1`, or `…-Instance-1` with a warning) | 10004 |
//! | 6 | event `ITK007C` | 20006 |
//! | 7 | sender (header Organization with an ODS code), `source.endpoint` | 20006 |
//! | 8 | no `destination`; `receiver` | 20006 (20002) |
//! | 9 | focus → the one document Bundle | 20006 |
//! | 10 | duplicate message | 20007 |
//! | 11 | document Bundle: `type=document`, identifier, Composition first | 20009 |
//! | 12 | duplicate document | 20008 |
//! | 13 | fullUrls and `urn:uuid:` references | 20009 |
//! | 14 | Composition elements | 20009 |
//! | 15 | confidentiality `R` | 20009 |
//! | 16 | Patient (NHS number with Modulus 11, verification, official name, birth date, the GPPROVIDER address) | 20009 |
//! | 17 | custodian: ODS code and name | 20009 |
//! | 18 | attachments: base64, signature, type policy | 20009, 20004, 20005 |
//! | 19 | replacement | 20014 |
//!
//! The **first error in that order decides the code**; within one check, the
//! receiver's own checks come first, then the whole-message validator's findings
//! ([`MessageValidator`](crate::MessageValidator), mapped to a check by location), in
//! the validator's order. [`Rejection::diagnostics`] lists every error, the deciding
//! one first. Diagnostics never carry patient-identifiable data: no NHS number,
//! name or birth date is written, and any that a validator message would quote is
//! removed.
//!
//! Two [`Policy`]s: **Strict** applies the spec's rules as errors; **Tolerant** (the
//! default) turns the faults NHS's own published examples have into warnings
//! ([`Tolerance`]), so that real senders who copied them are not refused.
//!
//! ```
//! use send_document::receive::{MemoryReceiptLog, Receiver, ReceiveOptions, Transport};
//! use send_document::ResponseCode;
//!
//! let receiver = Receiver::new(ReceiveOptions::default());
//! let mut log = MemoryReceiptLog::new();
//! let transport = Transport::mesh("GPCONNECT_SEND_DOCUMENT", "MESHGP0001");
//! let rejection = receiver
//!     .receive(b"<Patient xmlns=\"http://hl7.org/fhir\"/>", &transport, &mut log)
//!     .unwrap_err();
//! assert_eq!(rejection.code, ResponseCode::Unreadable);
//! assert_eq!(rejection.reply_to.response_identifier(), "UNREADABLE-IN-ORIGINAL-MESSAGE");
//! assert_eq!(rejection.reply_to.mailbox.as_ref().unwrap().as_str(), "MESHGP0001");
//! assert!(log.is_empty());
//! ```

use std::fmt;

use crate::envelope::ReplyTo;
use crate::identity::OdsCode;
use crate::response_code::ResponseCode;
use crate::validate::{Edition, MessageValidator, Options};

mod attachments;
mod checks;
mod log;
mod redact;
mod view;

pub use attachments::{AttachmentPolicy, AttachmentType, Signature, TypeVerdict};
pub use log::{DocumentRecord, IdentifierKey, MemoryReceiptLog, Receipt, ReceiptLog};
pub use view::{
    Attachment, AuthorView, Coded, DocumentIds, PatientView, PersonName, Received, RecipientType,
    Replacement, SenderView,
};

/// The default [`ReceiveOptions::max_message_bytes`]: 7 MiB.
///
/// ITK3 20015 recommends at most **5 MB of payload**. The limit applies to the
/// message as received (after MESH has joined chunks and undone gzip), where the
/// attachments travel as base64 (4/3 of their size) inside XML: 5 MiB of attachments
/// make about 6.7 MiB of base64, and 7 MiB leaves room for the rest of the message.
/// So a message carrying up to 5 MiB of attachments is accepted, and larger ones are
/// refused with 20015.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 7 * 1024 * 1024;

/// How strictly the receiver judges a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Policy {
    /// The spec's rules as errors: every MUST broken (profile conformance, element
    /// order, `meta.profile`, custodian, Binary id, only Binaries in `section.entry`,
    /// a date and time in `Composition.date`...) rejects the message.
    Strict,
    /// The faults of NHS's own published examples become warnings ([`Tolerance`]);
    /// every other error still rejects the message. The default: a receiver should
    /// not refuse what senders copied from the guide (spec §7.27: parse leniently).
    #[default]
    Tolerant,
}

/// A fault [`Policy::Tolerant`] accepts with a warning (and [`Policy::Strict`]
/// refuses), each one found in a published NHS example.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tolerance {
    /// FHIR XML elements out of order (every published example; spec §2.12).
    ElementOrder,
    /// A resource without `meta.profile` (GPCM-SD-108; the 2.0.2 generic example).
    MissingMetaProfile,
    /// No `Composition.custodian`, when the document Bundle holds exactly one
    /// Organization, which is then read as the sender (GPCM-SD-105; generic example).
    MissingCustodian,
    /// A Binary without `id` (SD2; generic example).
    BinaryWithoutId,
    /// A `section.entry` referencing something other than a Binary (GPCM-SD-110;
    /// generic example; spec §2.12 says receivers tolerate it).
    NonBinarySectionEntry,
    /// `Composition.date` without a time (GPCM-SD-116; generic example).
    DateOnlyCompositionDate,
    /// The NHS number's verification status under the GPC extension URL rather than
    /// the CareConnect one (spec §8.23; generic example).
    GpcNhsNumberVerification,
    /// A Practitioner name without `use = official` (GPCM-SD-033; generic example).
    PractitionerNameNotOfficial,
    /// An NHS number failing the Modulus 11 check when no GPPROVIDER address is
    /// given to compare it with (all three examples: 9989453456, 4857773456). With a
    /// GPPROVIDER address, whose NHS number MESH has checked, it must agree: 20009.
    NhsNumberChecksum,
    /// An ODS code that is not 3–10 letters and digits (the placeholder `A(*)`;
    /// generic example).
    PlaceholderOdsCode,
    /// A `source.endpoint` that is not a MESH mailbox ID (`SENDER_MESH_MAILBOX_ID`;
    /// generic example). Responses go to `Mex-From` when MESH gives it.
    PlaceholderMailbox,
    /// A GPPROVIDER address whose date of birth or surname differs from the
    /// Patient's, while the NHS number agrees (PDS and local spellings differ; a
    /// different NHS number is always 20009).
    GpProviderDemographics,
}

/// The MESH message type (`Mex-MessageType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MeshMessageType {
    /// `DATA`: a message to process.
    Data,
    /// `REPORT`: a MESH report about a message this side sent; never a document.
    Report,
}

/// What the transport knows beside the bytes. Every field is optional: a message
/// picked up from a folder has none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transport {
    /// `Mex-WorkflowID`. When absent the workflow is inferred: a 1.3
    /// LocalExtension (`SendDocument-ConsultationSummary`/`-Report`) means
    /// `GPFED_CONSULT_REPORT`, anything else `GPCONNECT_SEND_DOCUMENT`.
    pub workflow_id: Option<String>,
    /// `Mex-MessageType`.
    pub message_type: Option<MeshMessageType>,
    /// `Mex-From`: the sender's mailbox, where the responses go.
    pub from: Option<String>,
    /// `Mex-To`: the `GPPROVIDER_…` address, compared with the Patient (GPCM-SD-038).
    pub to: Option<String>,
    /// `Mex-Subject`, shown to the user (GPCM-SD-092).
    pub subject: Option<String>,
}

impl Transport {
    /// Nothing known (a message read from a folder).
    pub fn folder() -> Self {
        Transport::default()
    }

    /// A `DATA` message on `workflow_id` from mailbox `from`.
    pub fn mesh(workflow_id: &str, from: &str) -> Self {
        Transport {
            workflow_id: Some(workflow_id.to_owned()),
            message_type: Some(MeshMessageType::Data),
            from: Some(from.to_owned()),
            ..Transport::default()
        }
    }

    /// The same, with the `Mex-To` address.
    pub fn to(mut self, to: &str) -> Self {
        self.to = Some(to.to_owned());
        self
    }

    /// The same, with the `Mex-Subject`.
    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_owned());
        self
    }
}

/// How the receiver works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// Strict or tolerant (default tolerant).
    pub policy: Policy,
    /// The largest message accepted, in bytes (20015 above it); default
    /// [`DEFAULT_MAX_MESSAGE_BYTES`].
    pub max_message_bytes: usize,
    /// Which attachment types are accepted (default [`AttachmentPolicy::sd2`]).
    pub attachments: AttachmentPolicy,
    /// The receiving organisation's ODS codes. When given, a `MessageHeader.receiver`
    /// that names an Organization with another ODS code gives 20002. Empty by
    /// default: `receiver` is then only noted (MESH routes by patient).
    pub local_ods_codes: Vec<OdsCode>,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        ReceiveOptions {
            policy: Policy::Tolerant,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            attachments: AttachmentPolicy::sd2(),
            local_ods_codes: Vec::new(),
        }
    }
}

impl ReceiveOptions {
    /// The default options with another policy.
    pub fn with_policy(policy: Policy) -> Self {
        ReceiveOptions {
            policy,
            ..ReceiveOptions::default()
        }
    }
}

/// The message's syntax: the builder's [`Format`](crate::build::Format), which a
/// received message is told to be by its first character.
pub use crate::build::Format;

/// The receiver's checks, in the order they are applied (spec §7). A fault of an
/// earlier check decides the response code before any fault of a later one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// MESH message type, workflow and size (§7.1–3).
    Transport,
    /// Well-formed XML or JSON with a Bundle root (§7.4).
    Parse,
    /// The message Bundle and the MessageHeader's own elements (§7.5).
    Header,
    /// The handling keys (§7.6).
    HandlingKeys,
    /// The MessageDefinition key (§7.7).
    MessageDefinition,
    /// `MessageHeader.event` (§7.8).
    Event,
    /// `MessageHeader.sender` and `source` (§7.9).
    Sender,
    /// `MessageHeader.destination` and `receiver` (§7.10).
    Destination,
    /// `MessageHeader.focus` (§7.11).
    Focus,
    /// The message was received before (§7.12).
    DuplicateMessage,
    /// The document Bundle (§7.13).
    DocumentBundle,
    /// The document was received before (§7.13).
    DuplicateDocument,
    /// fullUrls and references (§7.14).
    References,
    /// The Composition (§7.15–16).
    Composition,
    /// `Composition.confidentiality` (§7.17).
    Confidentiality,
    /// The Patient (§7.18).
    Patient,
    /// The custodian, the sending Organization (§7.19).
    Custodian,
    /// The attachments (§7.20).
    Attachments,
    /// The replacement (§7.21).
    Replacement,
}

impl Check {
    /// The check in words.
    pub fn describe(self) -> &'static str {
        match self {
            Check::Transport => "transport",
            Check::Parse => "parse",
            Check::Header => "message header",
            Check::HandlingKeys => "handling keys",
            Check::MessageDefinition => "message definition",
            Check::Event => "event",
            Check::Sender => "sender",
            Check::Destination => "destination",
            Check::Focus => "focus",
            Check::DuplicateMessage => "duplicate message",
            Check::DocumentBundle => "document bundle",
            Check::DuplicateDocument => "duplicate document",
            Check::References => "references",
            Check::Composition => "composition",
            Check::Confidentiality => "confidentiality",
            Check::Patient => "patient",
            Check::Custodian => "custodian",
            Check::Attachments => "attachments",
            Check::Replacement => "replacement",
        }
    }
}

/// One fault (or, among warnings, one note), safe to send in a response: it names
/// where and why, never the patient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The check that found it.
    pub check: Check,
    /// The response code it gives (as an error).
    pub code: ResponseCode,
    /// A FHIRPath location from the message root
    /// (`Bundle.entry[2].resource.ofType(Bundle).entry[1].resource.ofType(Patient).birthDate`),
    /// or `MESH` for the transport.
    pub location: String,
    /// The NHS requirement ID (`GPCM-SD-037`) or rule name (`fullurl`), if any.
    pub rule: Option<String>,
    /// The reason, in plain English.
    pub reason: String,
    /// The tolerance that made an error a warning, if one did.
    pub tolerated: Option<Tolerance>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)?;
        if let Some(rule) = &self.rule {
            write!(f, " [{rule}]")?;
        }
        Ok(())
    }
}

/// A refused message: the ITK3 code, why, and where the response goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The (negative) infrastructure response code.
    pub code: ResponseCode,
    /// Every error found, in check order; the first decided `code`. Each gives its
    /// own code; the checks after a transport or parse failure do not run.
    pub diagnostics: Vec<Diagnostic>,
    /// Warnings (tolerated faults, notes), in check order.
    pub warnings: Vec<Diagnostic>,
    /// Where the response goes, as far as the message could be read: the
    /// `MessageHeader.id` if readable (else `UNREADABLE-IN-ORIGINAL-MESSAGE`), the
    /// SenderReference, the mailbox (`Mex-From`, else `source.endpoint`). A MESH
    /// `REPORT` is never answered: both flags are `false`.
    pub reply_to: ReplyTo,
}

impl Rejection {
    /// The diagnostics as one text for `OperationOutcome.issue.diagnostics`: each
    /// diagnostic with the code it gives, separated by `; `.
    pub fn diagnostics_text(&self) -> String {
        self.diagnostics
            .iter()
            .map(|d| format!("{} ({})", d, d.code.code()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.diagnostics_text())
    }
}

impl std::error::Error for Rejection {}

/// Reads and checks incoming Send Document messages. Reuse one for many messages:
/// it keeps the validators' caches.
pub struct Receiver {
    options: ReceiveOptions,
    v2: MessageValidator,
    v1_3: MessageValidator,
}

impl Receiver {
    /// A receiver with these options.
    pub fn new(options: ReceiveOptions) -> Self {
        Receiver {
            options,
            v2: MessageValidator::new(Options::with_edition(Edition::V2)),
            v1_3: MessageValidator::new(Options::with_edition(Edition::V1_3)),
        }
    }

    /// The options.
    pub fn options(&self) -> &ReceiveOptions {
        &self.options
    }

    /// Checks a message without recording it: the duplicate and replacement checks
    /// ask `log`, nothing is written.
    // `Received` (the Ok side) is larger still: boxing the rejection would not
    // make the Result smaller.
    #[allow(clippy::result_large_err)]
    pub fn check(
        &self,
        bytes: &[u8],
        transport: &Transport,
        log: &dyn ReceiptLog,
    ) -> Result<Received, Rejection> {
        checks::run(self, bytes, transport, log)
    }

    /// Checks a message and, when it is accepted (20013), records it in `log`
    /// ([`Received::receipt`]). A rejected message is not recorded.
    // `Received` (the Ok side) is larger still: boxing the rejection would not
    // make the Result smaller.
    #[allow(clippy::result_large_err)]
    pub fn receive(
        &self,
        bytes: &[u8],
        transport: &Transport,
        log: &mut dyn ReceiptLog,
    ) -> Result<Received, Rejection> {
        let received = self.check(bytes, transport, &*log)?;
        log.record(&received.receipt());
        Ok(received)
    }
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new(ReceiveOptions::default())
    }
}
