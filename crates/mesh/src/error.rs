//! The one error type of the MESH API client.

use crate::report::Report;
use crate::status::StatusCode;

/// Why a MESH API call failed. No variant carries a password, shared key, private key
/// or `Authorization` header: errors can be logged as they are.
#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    /// MESH refused the credentials (HTTP 401/403 on authentication): a wrong mailbox
    /// ID, password or shared key, a token for another mailbox, or a refused client
    /// certificate.
    #[error("MESH refused the credentials of mailbox {mailbox} (HTTP {status}: {detail}); check the mailbox ID, password, shared key and client certificate")]
    Authentication {
        /// The mailbox whose credentials were refused.
        mailbox: String,
        /// The HTTP status.
        status: u16,
        /// MESH's explanation.
        detail: String,
    },
    /// The To address is not a registered mailbox (MESH code 12).
    #[error("MESH does not know the recipient {to:?} (code 12: {detail})")]
    UnknownRecipient {
        /// The To address sent.
        to: String,
        /// MESH's explanation.
        detail: String,
    },
    /// The message does not exist in the mailbox (or has gone).
    #[error(
        "{operation}: message {message_id} does not exist in mailbox {mailbox} (HTTP {status})"
    )]
    NotFound {
        /// What was being done.
        operation: String,
        /// The message asked for.
        message_id: String,
        /// The mailbox asked.
        mailbox: String,
        /// 404, or 410 for a message that has gone.
        status: u16,
    },
    /// MESH refused the request for another reason (validation, permissions, chunk
    /// order, …), with its code when it gave one.
    #[error("{operation}: MESH refused the request (HTTP {status}{}): {detail}", code.as_ref().map(|c| format!(", code {c}")).unwrap_or_default())]
    Refused {
        /// What was being done.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// MESH's error event (`SEND`, `TRANSFER`, …), when given.
        event: Option<String>,
        /// MESH's error code, when given.
        code: Option<StatusCode>,
        /// MESH's explanation (or the validation fault: which header, and why).
        detail: String,
    },
    /// A REPORT says a message failed (`EPL-15x` lookup errors, non-collection, …).
    /// [`Report::linked_message_id`] names the message.
    #[error("{}", .0.summary())]
    Reported(Box<Report>),
    /// The request was not sent: something in it is not acceptable to MESH.
    #[error("not sent: {0}")]
    InvalidRequest(String),
    /// The server could not be reached or the connection failed, after every retry
    /// allowed.
    #[error("{operation}: {detail} (gave up after {attempts} attempt{})", if *attempts == 1 { "" } else { "s" })]
    Transport {
        /// What was being done.
        operation: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure (connection refused, reset, timed out, TLS, …).
        detail: String,
    },
    /// The server kept answering with a retryable status (429 or 5xx).
    #[error("{operation}: MESH answered HTTP {status} {attempts} time{} in a row: {detail}", if *attempts == 1 { "" } else { "s" })]
    Unavailable {
        /// What was being done.
        operation: String,
        /// The last HTTP status.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
        /// The last response body, shortened.
        detail: String,
    },
    /// MESH answered in a way the client cannot use (missing ID, bad chunk range,
    /// undecodable gzip, a payload over the configured limit).
    #[error("{operation}: unexpected answer from MESH: {detail}")]
    Protocol {
        /// What was being done.
        operation: String,
        /// What was wrong with the answer.
        detail: String,
    },
    /// The client configuration is unusable (a certificate or key that does not
    /// parse, a bad base URL).
    #[error("MESH client configuration: {0}")]
    Config(String),
}

impl MeshError {
    /// The MESH status code the error carries, if any.
    pub fn code(&self) -> Option<&StatusCode> {
        match self {
            MeshError::Refused { code, .. } => code.as_ref(),
            MeshError::Reported(report) => report.code(),
            _ => None,
        }
    }
}
