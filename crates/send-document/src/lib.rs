//! GP Connect **Send Document**: ITK3 FHIR STU3 messages carried over NHS MESH.
//!
//! This crate is the Send Document layer of the toolkit:
//!
//! - [`build`]: the **builder**, which turns "this PDF, about this patient, from us"
//!   into a valid message and its MESH envelope ([`MeshEnvelope`]), or every problem;
//! - [`receive`]: the **receiver**, which takes any incoming message apart safely,
//!   runs the spec's receiver checks in order and gives a typed view or the ITK3
//!   [`ResponseCode`] with diagnostics naming each fault;
//! - [`response`]: **ITK3 acknowledgements**, built from a receiver's [`ReplyTo`],
//!   read back, and correlated with the messages sent;
//! - checked identities ([`NhsNumber`], [`OdsCode`], [`MeshMailbox`], [`Workflow`],
//!   [`GpProviderAddress`]);
//! - **validation of a whole message**, which the builder and the receiver both use,
//!   described below.
//!
//! `docs/send-document.md` records the decisions taken where NHS's documents
//! contradict each other, and links the design notes of each part.
//!
//! A Send Document message is an ITK message Bundle holding a MessageHeader, the
//! sender's header Organization and a document Bundle (Composition, Patient,
//! Organization, Practitioner, Binary attachments). Validating it resource by resource
//! against each `meta.profile` is not enough: a message with no `meta.profile`
//! (NHS's own 2.0.2 generic example) would be checked against nothing but base FHIR.
//! [`validate_message`] instead:
//!
//! 1. finds the **role** of each resource from its place in the message: the message
//!    Bundle; its first MessageHeader; the Organization `MessageHeader.sender`
//!    references (the header Organization); the Bundle `MessageHeader.focus`
//!    references (the document Bundle); and in that Bundle, the Composition, Patient,
//!    Organization, Practitioner and Binary entries ([`roles`], [`Role`]);
//! 2. validates each resource against the profile its role demands
//!    ([`Role::profile`]), whatever its `meta.profile` says, in one walk of the
//!    message with [`fhir_validator::Validator::validate_with_profiles`] (so a resource
//!    is never checked twice, and locations are FHIRPath from the message root:
//!    `Bundle.entry[2].resource.ofType(Bundle).entry[0].resource.ofType(Composition).custodian`);
//! 3. adds the Send Document rules no profile expresses (every resource names its
//!    profile, the custodian is the sending Organization, `focus` is the document
//!    Bundle, event `ITK007C`, both acknowledgements requested, `fullUrl` is
//!    `urn:uuid:` + id...), each a [`Finding`] whose `rule` is the NHS requirement ID
//!    (`GPCM-SD-105`) or, where NHS gives none, a short rule name (`fullurl`).
//!
//! ITK3 responses (event `ITK008M`) are recognised too and checked by their own
//! roles and GP Connect's response rules ([`MessageKind::Response`]).
//!
//! `docs/validation.md` ("Validating a Send Document message") lists every rule with
//! its ID, severity and source, and the decisions taken where NHS's documents
//! contradict each other.
//!
//! ```no_run
//! use fhir_stu3::{ReadOptions, Resource};
//!
//! let xml = std::fs::read("message.xml").unwrap();
//! // NHS's examples break FHIR XML element order: read them leniently.
//! let message = Resource::from_xml_with(&xml, &ReadOptions::lenient()).unwrap().value;
//! for finding in send_document::validate_message(&message) {
//!     println!("{finding}");
//! }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod build;
mod envelope;
mod identity;
mod message;
pub mod receive;
pub mod response;
mod response_code;
mod rules;
mod validate;

pub use envelope::{MeshEnvelope, ReplyTo};
pub use fhir_validator::{Finding, IssueType, Node, Severity};
pub use identity::{
    DobFormat, GpProviderAddress, IdentityError, MeshMailbox, NhsNumber, OdsCode, Workflow,
};
pub use message::{message_kind, roles, MessageKind, Role, RoleAt};
pub use response_code::ResponseCode;
pub use validate::{validate_message, Edition, MessageValidator, Options};

/// Canonical URLs and codes of the Send Document and ITK3 assets.
pub mod urls {
    /// ITK-Message-Bundle-1: the outer Bundle of every ITK3 message.
    pub const MESSAGE_BUNDLE: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1";
    /// ITK-MessageHeader-2.
    pub const MESSAGE_HEADER: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2";
    /// CareConnect-ITK-Header-Organization-1: the sender named by the MessageHeader.
    pub const HEADER_ORGANIZATION: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1";
    /// CareConnect-ITK-Header-Practitioner-1: the other sender ITK-MessageHeader-2
    /// allows (used by the generic ITK3 response examples).
    pub const HEADER_PRACTITIONER: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Practitioner-1";
    /// ITK-Document-Bundle-1: the payload, referenced by `MessageHeader.focus`.
    pub const DOCUMENT_BUNDLE: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1";
    /// CareConnect-Composition-1.
    pub const COMPOSITION: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1";
    /// CareConnect-Patient-1.
    pub const PATIENT: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1";
    /// CareConnect-Organization-1: the sending organisation in the document.
    pub const ORGANIZATION: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1";
    /// CareConnect-Practitioner-1.
    pub const PRACTITIONER: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Practitioner-1";
    /// ITK-Attachment-Binary-1: an attachment (the PDF).
    pub const BINARY: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1";
    /// ITK-Response-OperationOutcome-1: the outcome an ITK3 response carries.
    pub const RESPONSE_OUTCOME: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Response-OperationOutcome-1";

    /// The Send Document MessageDefinition, named by the `MessageDefinition`
    /// handling key (GPCM-SD-043). It is also the `profile` of the Send Document
    /// rules' findings.
    pub const SEND_DOCUMENT_DEFINITION: &str =
        "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1";
    /// The spelling of the SCAL text of GPCM-SD-043, which receivers accept.
    pub const SEND_DOCUMENT_DEFINITION_INSTANCE: &str =
        "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-Instance-1";
    /// The ITK3 response MessageDefinition. It is also the `profile` of the response
    /// rules' findings.
    pub const RESPONSE_DEFINITION: &str =
        "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1";

    /// The handling-keys extension on the MessageHeader.
    pub const MESSAGE_HANDLING: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2";
    /// The code system of `MessageHeader.event`.
    pub const MESSAGE_EVENT_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2";
    /// Event code of a Send Document message.
    pub const EVENT_SEND_DOCUMENT: &str = "ITK007C";
    /// Event code of an ITK3 response.
    pub const EVENT_RESPONSE: &str = "ITK008M";
    /// The code system of ITK3 response codes (`20013`, `30001`...).
    pub const RESPONSE_CODES_SYSTEM: &str =
        "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1";

    /// NHS number identifier system.
    pub const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";
    /// ODS organisation code identifier system.
    pub const ODS_ORGANIZATION_CODE: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
    /// SDS user ID identifier system.
    pub const SDS_USER_ID: &str = "https://fhir.nhs.uk/Id/sds-user-id";
    /// SNOMED CT.
    pub const SNOMED_CT: &str = "http://snomed.info/sct";
}
