//! Reading an incoming ITK3 response, GP Connect's or ITK3's generic variants.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use fhir_runtime::value::InstantValue;
use fhir_stu3::codes::ResponseCode as ResponseType;
use fhir_stu3::{ReadOptions, Resource};
use fhir_validator::Node;

use crate::message::{message_kind, Message, MessageKind};
use crate::{urls, ReplyTo, ResponseCode};

/// Why a message could not be read as an ITK3 response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The bytes are neither FHIR XML nor FHIR JSON that can be read, even leniently.
    #[error("the message cannot be read as FHIR {format}: {message}")]
    Unreadable {
        /// `XML` or `JSON`, by the first character.
        format: &'static str,
        /// The reader's error.
        message: String,
    },
    /// The resource is not a Bundle.
    #[error("an ITK3 response is a message Bundle, not a {0}")]
    NotABundle(String),
    /// The Bundle has no MessageHeader entry.
    #[error("the Bundle has no MessageHeader entry: it is no ITK3 message")]
    NoMessageHeader,
    /// A sent message's MessageHeader has no `id`, which its responses quote
    /// ([`SentMessage::from_message`](super::SentMessage::from_message)).
    #[error("the MessageHeader has no id: responses quote it in response.identifier, so the message could never be matched")]
    NoMessageHeaderId,
    /// The MessageHeader's event is not `ITK008M`.
    #[error("the MessageHeader event is {}, not ITK008M: this is no ITK3 response{}",
        .event.as_deref().unwrap_or("missing"),
        if .event.as_deref() == Some(urls::EVENT_SEND_DOCUMENT) { " (it is a Send Document request)" } else { "" })]
    NotAResponse {
        /// `MessageHeader.event.code`, if any.
        event: Option<String>,
    },
    /// `MessageHeader.response` or its `identifier` is missing.
    #[error("the response has no MessageHeader.response.identifier: it cannot be matched with a sent message")]
    NoResponseIdentifier,
    /// `MessageHeader.response.code` is missing or not `ok`, `transient-error` or
    /// `fatal-error` (a lenient read drops a value outside the code list, so that too
    /// shows as missing).
    #[error("MessageHeader.response.code is {}, not ok, transient-error or fatal-error",
        .0.as_deref().unwrap_or("missing or unreadable"))]
    BadResponseCode(Option<String>),
    /// The OperationOutcome holds no ITK3 response code.
    #[error("the response carries no ITK3 response code (an OperationOutcome issue with an ITK-ResponseCodes-1 coding)")]
    NoResponseCode,
}

/// An ITK3 response code as received: one Send Document knows, or the text of
/// another (kept rather than refused, so that a new ITK3 code does not lose the
/// response).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReceivedCode {
    /// A code of [`ResponseCode`].
    Known(ResponseCode),
    /// Any other code, as written.
    Other(String),
}

impl ReceivedCode {
    /// Reads a code (`"20013"`).
    pub fn from_code(code: &str) -> Self {
        match ResponseCode::from_code(code) {
            Some(c) => ReceivedCode::Known(c),
            None => ReceivedCode::Other(code.trim().to_owned()),
        }
    }

    /// The code as written.
    pub fn code(&self) -> &str {
        match self {
            ReceivedCode::Known(c) => c.code(),
            ReceivedCode::Other(s) => s,
        }
    }

    /// The known code, if it is one.
    pub fn known(&self) -> Option<ResponseCode> {
        match self {
            ReceivedCode::Known(c) => Some(*c),
            ReceivedCode::Other(_) => None,
        }
    }

    /// Whether it belongs to the business range (3xxxx).
    pub fn is_business(&self) -> bool {
        match self {
            ReceivedCode::Known(c) => c.is_business(),
            ReceivedCode::Other(s) => s.len() == 5 && s.starts_with('3'),
        }
    }

    /// `Some(true)` for a known positive code, `Some(false)` for a known negative
    /// one, `None` for a code Send Document does not know.
    pub fn is_positive(&self) -> Option<bool> {
        self.known().map(ResponseCode::is_positive)
    }
}

impl fmt::Display for ReceivedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceivedCode::Known(c) => c.fmt(f),
            ReceivedCode::Other(s) => f.write_str(s),
        }
    }
}

/// Infrastructure or business response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// An infrastructure response (1xxxx, 2xxxx): the message could (20013) or could
    /// not be processed.
    Infrastructure,
    /// A business response (3xxxx): what the receiver found about the patient.
    Business,
}

/// One `OperationOutcome.issue` of a received response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedIssue {
    /// The ITK3 response code of `issue.details`.
    pub code: ReceivedCode,
    /// The display of that coding, if any.
    pub display: Option<String>,
    /// `issue.severity` as written (`information`, `fatal`...).
    pub severity: Option<String>,
    /// `issue.code` as written (`informational`, `invalid`...).
    pub issue_type: Option<String>,
    /// `issue.diagnostics`, if any.
    pub diagnostics: Option<String>,
}

/// Who sent a response: `MessageHeader.sender`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseSender {
    /// A header Organization (GP Connect), with its ODS code if it has one.
    Organization {
        /// The `https://fhir.nhs.uk/Id/ods-organization-code` identifier.
        ods_code: Option<String>,
    },
    /// A header Practitioner (ITK3's generic examples), with its SDS user ID if it has
    /// one.
    Practitioner {
        /// The `https://fhir.nhs.uk/Id/sds-user-id` identifier.
        sds_user_id: Option<String>,
    },
    /// The sender is missing or does not resolve to an Organization or Practitioner in
    /// the message.
    Unknown,
}

/// An ITK3 response as read by the sender of the message it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedResponse {
    /// The response Bundle's `identifier.value`.
    pub bundle_identifier: Option<String>,
    /// The response's own `MessageHeader.id`.
    pub message_header_id: Option<String>,
    /// `MessageHeader.response.identifier`: the `MessageHeader.id` of the message
    /// answered, or `UNREADABLE-IN-ORIGINAL-MESSAGE`.
    pub response_identifier: String,
    /// `MessageHeader.response.code`.
    pub response_type: ResponseType,
    /// The issues of the OperationOutcome that carry an ITK3 response code, in order
    /// (at least one).
    pub issues: Vec<ReceivedIssue>,
    /// The SenderReference handling key; `None` when absent or ITK3's default `None`.
    pub sender_reference: Option<String>,
    /// `InfAckRequested`, if readable (`false` in GP Connect, `true` in some ITK3
    /// examples).
    pub inf_ack_requested: Option<bool>,
    /// `BusAckRequested`, if readable.
    pub bus_ack_requested: Option<bool>,
    /// `MessageHeader.sender`.
    pub sender: ResponseSender,
    /// `MessageHeader.source.endpoint`: the responder's MESH mailbox.
    pub source_endpoint: Option<String>,
    /// `MessageHeader.timestamp` as written.
    pub timestamp_text: Option<String>,
    /// `MessageHeader.timestamp`, if it is a valid instant.
    pub timestamp: Option<DateTime<FixedOffset>>,
}

impl ReceivedResponse {
    /// Reads a response from FHIR XML or JSON (told by the first non-blank
    /// character), leniently: NHS's examples break FHIR XML element order.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ReadError> {
        // A UTF-8 byte order mark and blanks may come first.
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let start = text
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(&[][..], |i| &text[i..]);
        let options = ReadOptions::lenient();
        let (format, read) = if start.first() == Some(&b'{') {
            ("JSON", Resource::from_json_with(text, &options))
        } else {
            ("XML", Resource::from_xml_with(text, &options))
        };
        let resource = read
            .map_err(|e| ReadError::Unreadable {
                format,
                message: e.to_string(),
            })?
            .value;
        Self::from_resource(&resource)
    }

    /// Reads a response from a resource.
    pub fn from_resource(resource: &Resource) -> Result<Self, ReadError> {
        Self::from_tree(&resource.to_tree())
    }

    /// Reads a response from an element tree (`Resource::to_tree()`).
    pub fn from_tree(tree: &Node) -> Result<Self, ReadError> {
        if tree.type_name != "Bundle" {
            return Err(ReadError::NotABundle(tree.type_name.to_owned()));
        }
        let msg = Message::read(tree);
        let Some((header, _)) = msg.header() else {
            return Err(ReadError::NoMessageHeader);
        };
        if message_kind(tree) != Some(MessageKind::Response) {
            return Err(ReadError::NotAResponse {
                event: header
                    .child("event")
                    .and_then(|e| e.child_value("code"))
                    .map(str::to_owned),
            });
        }
        let response = header.child("response");
        let response_identifier = response
            .and_then(|r| r.child_value("identifier"))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(ReadError::NoResponseIdentifier)?
            .to_owned();
        let code_text = response.and_then(|r| r.child_value("code"));
        let response_type = code_text
            .and_then(|c| ResponseType::from_code(c.trim()))
            .ok_or_else(|| ReadError::BadResponseCode(code_text.map(str::to_owned)))?;

        let outcome = msg.outcome_entry.and_then(|i| msg.entries[i].resource);
        let issues: Vec<ReceivedIssue> = outcome
            .into_iter()
            .flat_map(|oo| oo.children_named("issue"))
            .filter_map(read_issue)
            .collect();
        if issues.is_empty() {
            return Err(ReadError::NoResponseCode);
        }

        let sender = match msg.sender_entry.and_then(|i| msg.entries[i].resource) {
            Some(r) if r.type_name == "Organization" => ResponseSender::Organization {
                ods_code: identifier(r, urls::ODS_ORGANIZATION_CODE),
            },
            Some(r) if r.type_name == "Practitioner" => ResponseSender::Practitioner {
                sds_user_id: identifier(r, urls::SDS_USER_ID),
            },
            _ => ResponseSender::Unknown,
        };
        let timestamp_text = header.child_value("timestamp").map(str::to_owned);
        let timestamp = timestamp_text
            .as_deref()
            .and_then(|t| InstantValue::parse(t).ok())
            .and_then(|t| t.to_datetime());

        Ok(ReceivedResponse {
            bundle_identifier: tree
                .child("identifier")
                .and_then(|i| i.child_value("value"))
                .map(str::to_owned),
            message_header_id: header.child_value("id").map(str::to_owned),
            response_identifier,
            response_type,
            issues,
            sender_reference: handling_key(header, "SenderReference")
                .and_then(|v| v.value.as_deref())
                .map(str::trim)
                .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("none"))
                .map(str::to_owned),
            inf_ack_requested: flag(header, "InfAckRequested"),
            bus_ack_requested: flag(header, "BusAckRequested"),
            sender,
            source_endpoint: header
                .child("source")
                .and_then(|s| s.child_value("endpoint"))
                .map(str::to_owned),
            timestamp_text,
            timestamp,
        })
    }

    /// The response's ITK3 code: that of its first issue (an empty
    /// [`ReceivedCode::Other`] for a value built by hand with no issue; a read one
    /// always has one).
    pub fn code(&self) -> &ReceivedCode {
        static NONE: ReceivedCode = ReceivedCode::Other(String::new());
        self.issues.first().map_or(&NONE, |i| &i.code)
    }

    /// Every ITK3 code, in issue order (repeats removed).
    pub fn codes(&self) -> Vec<&ReceivedCode> {
        let mut out: Vec<&ReceivedCode> = Vec::new();
        for issue in &self.issues {
            if !out.contains(&&issue.code) {
                out.push(&issue.code);
            }
        }
        out
    }

    /// Business if any code is in the 3xxxx range, else infrastructure.
    pub fn kind(&self) -> ResponseKind {
        if self.issues.iter().any(|i| i.code.is_business()) {
            ResponseKind::Business
        } else {
            ResponseKind::Infrastructure
        }
    }

    /// Whether the response is positive: `response.code` is `ok` and no code is a
    /// known negative one. A disagreement counts as negative.
    pub fn is_positive(&self) -> bool {
        self.response_type == ResponseType::Ok
            && self
                .issues
                .iter()
                .all(|i| i.code.is_positive() != Some(false))
    }

    /// The diagnostics of every issue, in order.
    pub fn diagnostics(&self) -> Vec<&str> {
        self.issues
            .iter()
            .filter_map(|i| i.diagnostics.as_deref())
            .collect()
    }

    /// Whether the responder could not read the original message's id
    /// (`response.identifier` = `UNREADABLE-IN-ORIGINAL-MESSAGE`).
    pub fn is_for_unreadable_message(&self) -> bool {
        self.response_identifier == ReplyTo::UNREADABLE
    }

    /// The responder's ODS code, when the sender is a header Organization with one.
    pub fn sender_ods_code(&self) -> Option<&str> {
        match &self.sender {
            ResponseSender::Organization { ods_code } => ods_code.as_deref(),
            _ => None,
        }
    }
}

/// An issue with an ITK3 response code: the coding of the ITK-ResponseCodes-1
/// system, or, if no coding names a system, the first coding with a code (read
/// leniently).
fn read_issue(issue: &Node) -> Option<ReceivedIssue> {
    let codings: Vec<&Node> = issue
        .child("details")
        .into_iter()
        .flat_map(|d| d.children_named("coding"))
        .collect();
    let coding = codings
        .iter()
        .find(|c| c.child_value("system") == Some(urls::RESPONSE_CODES_SYSTEM))
        .or_else(|| {
            codings
                .iter()
                .find(|c| c.child("system").is_none() && c.child_value("code").is_some())
        })?;
    let code = coding.child_value("code")?.trim();
    if code.is_empty() {
        return None;
    }
    Some(ReceivedIssue {
        code: ReceivedCode::from_code(code),
        display: coding.child_value("display").map(str::to_owned),
        severity: issue.child_value("severity").map(str::to_owned),
        issue_type: issue.child_value("code").map(str::to_owned),
        diagnostics: issue.child_value("diagnostics").map(str::to_owned),
    })
}

fn identifier(resource: &Node, system: &str) -> Option<String> {
    resource
        .children_named("identifier")
        .find(|i| i.child_value("system") == Some(system))
        .and_then(|i| i.child_value("value"))
        .map(str::to_owned)
}

/// The value node of a handling key.
pub(super) fn handling_key<'n>(header: &'n Node, key: &str) -> Option<&'n Node> {
    header
        .children_named("extension")
        .find(|e| e.child_value("url") == Some(urls::MESSAGE_HANDLING))?
        .children_named("extension")
        .find(|e| e.child_value("url") == Some(key))?
        .child("value")
}

pub(super) fn flag(header: &Node, key: &str) -> Option<bool> {
    match handling_key(header, key)?.value.as_deref()? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}
