//! Building the ITK3 responses a receiver sends (`../shared/spec/send-document.md`
//! §5.2, GPCM-SD-050…055, 074).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use fhir_extensions::ItkMessageHandling2;
use fhir_profiles::codes::ItkRecipientType1;
use fhir_profiles::{
    CareConnectItkHeaderOrganization1, CareConnectItkHeaderOrganization1OdsOrganisationCode,
    ItkMessageBundle1, ItkMessageBundle1Entry, ItkMessageBundle1Identifier, ItkMessageHeader2,
    ItkMessageHeader2Event, ItkMessageHeader2Response, ItkMessageHeader2ResponseDetails,
    ItkMessageHeader2Sender, ItkMessageHeader2Source, ItkResponseOperationOutcome1,
    ItkResponseOperationOutcome1Issue, ItkResponseOperationOutcome1IssueDetails,
    ItkResponseOperationOutcome1IssueDetailsCoding,
};
use fhir_runtime::value::InstantValue;
use fhir_stu3::datatypes::{AnyValue, Reference};
use fhir_stu3::primitives::{Boolean, Code, FhirString, Id, Instant, Uri};
use fhir_stu3::Resource;

use super::redact::PatientData;
use crate::{urls, MeshEnvelope, MeshMailbox, OdsCode, ReplyTo, ResponseCode};

/// The identifier system of the response Bundle's `identifier` (a UUID), as in NHS's
/// examples.
const UUID_SYSTEM: &str = "https://tools.ietf.org/html/rfc4122";

/// The display of event `ITK008M`.
const EVENT_RESPONSE_DISPLAY: &str = "ITK Response";

/// The longest SenderReference ITK3 allows.
const SENDER_REFERENCE_MAX: usize = 255;

/// Where a [`Responder`] gets the ids of what it builds: each call gives a new
/// lower-case UUID (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`).
pub trait IdSource: Send + Sync {
    /// A new UUID, as text.
    fn next_id(&self) -> String;
}

/// Random (version 4) UUIDs: the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_id(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}

/// Reproducible version-4-shaped UUIDs for tests: the same seed gives the same
/// sequence, different seeds different ones.
#[derive(Debug)]
pub struct SequentialIds {
    seed: u64,
    next: AtomicU64,
}

impl SequentialIds {
    /// A sequence starting afresh for `seed`.
    pub fn new(seed: u64) -> Self {
        SequentialIds {
            seed,
            next: AtomicU64::new(0),
        }
    }
}

impl IdSource for SequentialIds {
    fn next_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.seed.to_be_bytes());
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

/// Where a [`Responder`] gets the time a response is generated
/// (`MessageHeader.timestamp`, GPCM-SD-055).
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock: the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from(std::time::SystemTime::now())
    }
}

/// A clock that always says the same time, for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Why a response could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The request's mailbox is unknown (neither MESH `Mex-From` nor
    /// `MessageHeader.source.endpoint` could be read): there is no address to answer.
    #[error(
        "no mailbox to answer: the request's MESH Mex-From and MessageHeader.source.endpoint \
         are both unknown"
    )]
    NoMailbox,
    /// A business code (3xxxx) was given where an infrastructure response is built.
    #[error("{0} is a business response code; an infrastructure response carries 10001-20015")]
    NotInfrastructure(ResponseCode),
    /// An infrastructure code (1xxxx, 2xxxx) was given where a business response is
    /// built.
    #[error("{0} is an infrastructure response code; a business response carries 30001-30004")]
    NotBusiness(ResponseCode),
    /// A positive code was given as the reason a message was rejected.
    #[error("{0} is positive; a rejected message is answered with a negative code")]
    NotNegative(ResponseCode),
    /// A negative code without a diagnostic: GPCM-SD-074 requires the error and its
    /// context in `issue.diagnostics`.
    #[error(
        "{0} is an error: give at least one diagnostic describing it (GPCM-SD-074), without \
         patient-identifiable data"
    )]
    MissingDiagnostics(ResponseCode),
}

/// What the receiver decided about a request, for [`Responder::responses`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The message failed a technical check (§7 of the spec): a negative
    /// infrastructure code (1xxxx, 2xxxx) and what went wrong. It is fatal: only this
    /// infrastructure response is sent, whatever the request asked for.
    Rejected {
        /// The negative infrastructure code.
        code: ResponseCode,
        /// What went wrong (at least one; no patient data).
        diagnostics: Vec<String>,
    },
    /// The message passed the technical checks; the patient is not matched yet. Only
    /// the infrastructure acknowledgement (20013, if requested) is sent now; the
    /// business response follows with [`Responder::business_response`].
    Accepted,
    /// The message passed the technical checks and the patient was matched: 20013 (if
    /// requested), then the business code (if requested).
    Processed {
        /// The business code (30001–30004).
        code: ResponseCode,
        /// Diagnostics of the business response (required for 30002 and 30003).
        diagnostics: Vec<String>,
    },
}

impl Outcome {
    /// [`Outcome::Rejected`] with `code` and `diagnostics`.
    pub fn rejected<S: Into<String>>(
        code: ResponseCode,
        diagnostics: impl IntoIterator<Item = S>,
    ) -> Self {
        Outcome::Rejected {
            code,
            diagnostics: diagnostics.into_iter().map(Into::into).collect(),
        }
    }

    /// [`Outcome::Processed`] with `code` and no diagnostic (enough for the positive
    /// 30001 and 30004).
    pub fn processed(code: ResponseCode) -> Self {
        Outcome::Processed {
            code,
            diagnostics: Vec::new(),
        }
    }

    /// [`Outcome::Processed`] with `code` and `diagnostics`.
    pub fn processed_with<S: Into<String>>(
        code: ResponseCode,
        diagnostics: impl IntoIterator<Item = S>,
    ) -> Self {
        Outcome::Processed {
            code,
            diagnostics: diagnostics.into_iter().map(Into::into).collect(),
        }
    }
}

/// One built ITK3 response: the message and the MESH envelope that sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    code: ResponseCode,
    resource: Resource,
    envelope: MeshEnvelope,
    bundle_identifier: String,
    message_header_id: String,
    response_identifier: String,
    sender_reference: String,
    timestamp: DateTime<Utc>,
}

impl Response {
    /// The ITK3 response code it carries.
    pub fn code(&self) -> ResponseCode {
        self.code
    }

    /// Whether it is a business response (3xxxx) rather than an infrastructure one.
    pub fn is_business(&self) -> bool {
        self.code.is_business()
    }

    /// The response message (an ITK-Message-Bundle-1).
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The response message, taken out.
    pub fn into_resource(self) -> Resource {
        self.resource
    }

    /// The message as FHIR XML, the default form on MESH.
    pub fn to_xml(&self) -> String {
        self.resource.to_xml()
    }

    /// The message as FHIR JSON.
    pub fn to_json(&self) -> String {
        self.resource.to_json()
    }

    /// The MESH envelope: the request's `_ACK` workflow, from the responder's mailbox
    /// to the requester's, Subject `ITK3 <infrastructure|business> response <code> for
    /// message <response.identifier>`, LocalId the responder's ODS code.
    pub fn envelope(&self) -> &MeshEnvelope {
        &self.envelope
    }

    /// The response Bundle's `identifier.value` (a new UUID).
    pub fn bundle_identifier(&self) -> &str {
        &self.bundle_identifier
    }

    /// The response's own `MessageHeader.id` (a new UUID).
    pub fn message_header_id(&self) -> &str {
        &self.message_header_id
    }

    /// `MessageHeader.response.identifier`: the request's `MessageHeader.id`, or
    /// `UNREADABLE-IN-ORIGINAL-MESSAGE`.
    pub fn response_identifier(&self) -> &str {
        &self.response_identifier
    }

    /// The SenderReference handling key: the request's, echoed, or `None`.
    pub fn sender_reference(&self) -> &str {
        &self.sender_reference
    }

    /// `MessageHeader.timestamp`: when it was generated.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }
}

/// Builds the ITK3 responses of one receiving organisation.
///
/// Every response it builds has a fresh Bundle id and identifier, MessageHeader id,
/// header Organization id and OperationOutcome id (from its [`IdSource`]), and the
/// generation time (from its [`Clock`]). Both default to the real thing
/// ([`RandomIds`], [`SystemClock`]); [`Responder::with_ids`] and
/// [`Responder::with_clock`] make the output reproducible.
#[derive(Clone)]
pub struct Responder {
    ods_code: OdsCode,
    mailbox: MeshMailbox,
    ids: Arc<dyn IdSource>,
    clock: Arc<dyn Clock>,
    patient: PatientData,
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder")
            .field("ods_code", &self.ods_code)
            .field("mailbox", &self.mailbox)
            .field("redacted_terms", &self.patient.terms().len())
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// The responder of the organisation `ods_code` (named by the header Organization
    /// of each response) whose MESH mailbox is `mailbox` (`source.endpoint`, MESH
    /// `From`).
    pub fn new(ods_code: OdsCode, mailbox: MeshMailbox) -> Self {
        Responder {
            ods_code,
            mailbox,
            ids: Arc::new(RandomIds),
            clock: Arc::new(SystemClock),
            patient: PatientData::new(),
        }
    }

    /// The same responder taking its ids from `ids`.
    pub fn with_ids(mut self, ids: impl IdSource + 'static) -> Self {
        self.ids = Arc::new(ids);
        self
    }

    /// The same responder taking the time from `clock`.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// A copy of this responder that also masks `patient`'s identifiable values out of
    /// every diagnostic ([`PatientData::from_message`] of the request). Without it,
    /// only NHS-number shapes are masked.
    pub fn redacting(&self, patient: PatientData) -> Self {
        Responder {
            patient,
            ..self.clone()
        }
    }

    /// The responder's ODS code.
    pub fn ods_code(&self) -> &OdsCode {
        &self.ods_code
    }

    /// The responder's MESH mailbox.
    pub fn mailbox(&self) -> &MeshMailbox {
        &self.mailbox
    }

    /// The infrastructure response to the request `reply` describes: 20013 Success, or
    /// a negative 1xxxx/2xxxx code with at least one diagnostic. A business code is
    /// refused ([`ResponseError::NotInfrastructure`]).
    pub fn infrastructure_response(
        &self,
        reply: &ReplyTo,
        code: ResponseCode,
        diagnostics: &[String],
    ) -> Result<Response, ResponseError> {
        if code.is_business() {
            return Err(ResponseError::NotInfrastructure(code));
        }
        self.build(reply, code, diagnostics)
    }

    /// The business response to the request `reply` describes: 30001 or 30004
    /// (positive), or 30002 or 30003 with at least one diagnostic. An infrastructure
    /// code is refused ([`ResponseError::NotBusiness`]). Send it only after a 20013.
    pub fn business_response(
        &self,
        reply: &ReplyTo,
        code: ResponseCode,
        diagnostics: &[String],
    ) -> Result<Response, ResponseError> {
        if !code.is_business() {
            return Err(ResponseError::NotBusiness(code));
        }
        self.build(reply, code, diagnostics)
    }

    /// Every response to send for `outcome`, in sending order:
    ///
    /// - [`Outcome::Rejected`]: the negative infrastructure response alone, sent
    ///   whatever `InfAckRequested` says (the requester must learn its message was not
    ///   processed; ITK3 "always reply" for an unreadable message). A negative code is
    ///   fatal: nothing follows.
    /// - [`Outcome::Accepted`]: 20013 if `InfAckRequested`.
    /// - [`Outcome::Processed`]: 20013 if `InfAckRequested`, then the business code if
    ///   `BusAckRequested`.
    ///
    /// The list is empty when the request asked for nothing that applies. Nothing is
    /// built unless everything can be: an error names the first problem.
    pub fn responses(
        &self,
        reply: &ReplyTo,
        outcome: &Outcome,
    ) -> Result<Vec<Response>, ResponseError> {
        match outcome {
            Outcome::Rejected { code, diagnostics } => {
                if code.is_positive() {
                    return Err(ResponseError::NotNegative(*code));
                }
                Ok(vec![self.infrastructure_response(
                    reply,
                    *code,
                    diagnostics,
                )?])
            }
            Outcome::Accepted => {
                let mut out = Vec::new();
                if reply.inf_ack_requested {
                    out.push(self.infrastructure_response(reply, ResponseCode::Success, &[])?);
                }
                Ok(out)
            }
            Outcome::Processed { code, diagnostics } => {
                if !code.is_business() {
                    return Err(ResponseError::NotBusiness(*code));
                }
                self.check(reply, *code, diagnostics)?;
                let mut out = Vec::new();
                if reply.inf_ack_requested {
                    out.push(self.infrastructure_response(reply, ResponseCode::Success, &[])?);
                }
                if reply.bus_ack_requested {
                    out.push(self.business_response(reply, *code, diagnostics)?);
                }
                Ok(out)
            }
        }
    }

    /// The diagnostics as sent (trimmed, scrubbed, blank ones dropped), after checking
    /// there is an address and, for a negative code, a diagnostic.
    fn check(
        &self,
        reply: &ReplyTo,
        code: ResponseCode,
        diagnostics: &[String],
    ) -> Result<(MeshMailbox, Vec<String>), ResponseError> {
        let mailbox = reply.mailbox.clone().ok_or(ResponseError::NoMailbox)?;
        let diagnostics: Vec<String> = diagnostics
            .iter()
            .map(|d| d.trim())
            .filter(|d| !d.is_empty())
            .map(|d| self.patient.scrub(d))
            .collect();
        if !code.is_positive() && diagnostics.is_empty() {
            return Err(ResponseError::MissingDiagnostics(code));
        }
        Ok((mailbox, diagnostics))
    }

    fn build(
        &self,
        reply: &ReplyTo,
        code: ResponseCode,
        diagnostics: &[String],
    ) -> Result<Response, ResponseError> {
        let (to, diagnostics) = self.check(reply, code, diagnostics)?;
        let response_identifier = response_identifier(reply).to_owned();
        let sender_reference = echoed_sender_reference(reply).to_owned();
        let timestamp = self.clock.now().trunc_subsecs(0);

        let bundle_id = self.ids.next_id();
        let bundle_identifier = self.ids.next_id();
        let header_id = self.ids.next_id();
        let organization_id = self.ids.next_id();
        let outcome_id = self.ids.next_id();

        let handling = ItkMessageHandling2::new(
            Boolean::new(false),
            Boolean::new(false),
            ItkRecipientType1::FA.to_coding(),
            Reference {
                reference: Some(FhirString::new(urls::RESPONSE_DEFINITION)),
                ..Default::default()
            },
            FhirString::new(sender_reference.as_str()),
            AnyValue::String(FhirString::new("None")),
        );
        let mut header = ItkMessageHeader2::new(
            handling,
            ItkMessageHeader2Event::new(
                Code::new(urls::EVENT_RESPONSE),
                FhirString::new(EVENT_RESPONSE_DISPLAY),
            ),
            ItkMessageHeader2Sender::new(FhirString::new(urn(&organization_id))),
            Instant::new(InstantValue::from_datetime(&timestamp)),
            ItkMessageHeader2Source::new(Uri::new(self.mailbox.as_str())),
        );
        header.id = Some(Id::new(header_id.as_str()));
        header.response = Some(ItkMessageHeader2Response::new(
            Id::new(response_identifier.as_str()),
            Code::new(code.response_type()),
            ItkMessageHeader2ResponseDetails::new(FhirString::new(urn(&outcome_id))),
        ));

        let mut organization = CareConnectItkHeaderOrganization1::new();
        organization.id = Some(Id::new(organization_id.as_str()));
        organization.ods_organisation_code =
            Some(CareConnectItkHeaderOrganization1OdsOrganisationCode::new(
                FhirString::new(self.ods_code.as_str()),
            ));

        let issue = |diagnostic: Option<&String>| {
            let mut issue = ItkResponseOperationOutcome1Issue::new(
                Code::new(code.severity()),
                Code::new(code.issue_type()),
                ItkResponseOperationOutcome1IssueDetails::new(
                    ItkResponseOperationOutcome1IssueDetailsCoding::new(
                        Code::new(code.code()),
                        FhirString::new(code.display()),
                    ),
                ),
            );
            issue.diagnostics = diagnostic.map(|d| FhirString::new(d.as_str()));
            issue
        };
        let mut outcome = ItkResponseOperationOutcome1::new();
        outcome.id = Some(Id::new(outcome_id.as_str()));
        outcome.issue = if diagnostics.is_empty() {
            vec![issue(None)]
        } else {
            diagnostics.iter().map(|d| issue(Some(d))).collect()
        };

        let entry = |id: &str, resource: Resource| {
            let mut e = ItkMessageBundle1Entry::new(resource);
            e.full_url = Some(Uri::new(urn(id)));
            e
        };
        let mut identifier =
            ItkMessageBundle1Identifier::new(FhirString::new(bundle_identifier.as_str()));
        identifier.system = Some(Uri::new(UUID_SYSTEM));
        let mut bundle = ItkMessageBundle1::new(identifier);
        bundle.id = Some(Id::new(bundle_id.as_str()));
        bundle.entry = vec![
            entry(&header_id, header.into()),
            entry(&organization_id, organization.into()),
            entry(&outcome_id, outcome.into()),
        ];

        let kind = if code.is_business() {
            "business"
        } else {
            "infrastructure"
        };
        let envelope = MeshEnvelope {
            workflow_id: reply.workflow.ack_id().to_owned(),
            from: self.mailbox.clone(),
            to: to.as_str().to_owned(),
            subject: format!(
                "ITK3 {kind} response {} for message {response_identifier}",
                code.code()
            ),
            local_id: self.ods_code.as_str().to_owned(),
        };
        Ok(Response {
            code,
            resource: bundle.into(),
            envelope,
            bundle_identifier,
            message_header_id: header_id,
            response_identifier,
            sender_reference,
            timestamp,
        })
    }
}

fn urn(id: &str) -> String {
    format!("urn:uuid:{id}")
}

/// `response.identifier`: the request's `MessageHeader.id` when it is a valid FHIR
/// `id` (1–64 of `A-Z a-z 0-9 - .`), else `UNREADABLE-IN-ORIGINAL-MESSAGE` (a value
/// that is no valid id cannot be quoted in a valid response).
fn response_identifier(reply: &ReplyTo) -> &str {
    match reply.message_header_id.as_deref().map(str::trim) {
        Some(id) if is_fhir_id(id) => id,
        _ => ReplyTo::UNREADABLE,
    }
}

fn is_fhir_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The SenderReference to echo (GPCM-SD-052): the request's, unless it is unknown,
/// blank or longer than ITK3's 255 characters, when ITK3's default `None` is sent.
fn echoed_sender_reference(reply: &ReplyTo) -> &str {
    match reply.sender_reference.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() && s.chars().count() <= SENDER_REFERENCE_MAX => s,
        _ => "None",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_are_reproducible_uuids() {
        let a = SequentialIds::new(1);
        let b = SequentialIds::new(1);
        let first = a.next_id();
        assert_eq!(first, b.next_id());
        assert_ne!(first, a.next_id());
        assert_ne!(first, SequentialIds::new(2).next_id());
        let u = uuid::Uuid::parse_str(&first).unwrap();
        assert_eq!(u.get_version_num(), 4);
        assert_eq!(first, first.to_ascii_lowercase());
    }

    #[test]
    fn identifiers_and_references_that_cannot_be_quoted() {
        let mut reply = ReplyTo::unreadable(crate::Workflow::SendDocument, None);
        assert_eq!(response_identifier(&reply), ReplyTo::UNREADABLE);
        reply.message_header_id = Some("not an id".into());
        assert_eq!(response_identifier(&reply), ReplyTo::UNREADABLE);
        reply.message_header_id = Some("ea7221b8-3cc0-4b11-bc95-585b056b5428".into());
        assert_eq!(
            response_identifier(&reply),
            "ea7221b8-3cc0-4b11-bc95-585b056b5428"
        );
        assert_eq!(echoed_sender_reference(&reply), "None");
        reply.sender_reference = Some("x".repeat(256));
        assert_eq!(echoed_sender_reference(&reply), "None");
        reply.sender_reference = Some(" urn:uuid:abc ".into());
        assert_eq!(echoed_sender_reference(&reply), "urn:uuid:abc");
    }
}
