//! MESH status and error codes: the `mex-StatusCode` of a delivered or failed message,
//! the `errorCode` of a refused request, and the `StatusCode` of a control file's
//! `StatusRecord`.

use std::fmt;

/// A MESH status code. The codes MESH documents are named; anything else is kept as
/// written in [`StatusCode::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// `00`: success (transferred to the recipient's mailbox).
    Success,
    /// `02`: the data file is missing or inaccessible (an empty send).
    DataFileMissing,
    /// `06`: malformed control file or headers.
    MalformedControlFile,
    /// `07`: the From address is invalid or not the authenticated mailbox.
    InvalidFromAddress,
    /// `08`: the To address is missing.
    MissingToAddress,
    /// `09`: invalid version of the control file.
    InvalidControlFileVersion,
    /// `11`: invalid message type for the transfer.
    InvalidMessageType,
    /// `12`: the To address is not a registered mailbox.
    UnregisteredRecipient,
    /// `14`: not collected by the recipient within 5 days (non-delivery report).
    NotCollected,
    /// `15`: a bad CP-IS file.
    InvalidCpisFile,
    /// `16`: the sender is not allowed to send this message type.
    SenderNotAllowed,
    /// `17`: the workflow ID is not registered for the mailbox.
    WorkflowNotRegistered,
    /// `20`: the message does not exist.
    MessageDoesNotExist,
    /// `EPL-150`: the `GPPROVIDER` lookup matched several mailboxes.
    MultipleMailboxesMatched,
    /// `EPL-151`: the `GPPROVIDER` lookup matched no mailbox (the practice has none
    /// registered for the workflow).
    NoMailboxMatched,
    /// `EPL-152`: the NHS number in the `GPPROVIDER` address is invalid.
    InvalidNhsNumber,
    /// `EPL-153`: the NHS number is not known to PDS.
    NhsNumberNotFound,
    /// `EPL-154`: the NHS number does not match the date of birth and surname given.
    DemographicsMismatch,
    /// Any other code, as written.
    Other(String),
}

const KNOWN: &[(&str, StatusCode)] = &[
    ("00", StatusCode::Success),
    ("02", StatusCode::DataFileMissing),
    ("06", StatusCode::MalformedControlFile),
    ("07", StatusCode::InvalidFromAddress),
    ("08", StatusCode::MissingToAddress),
    ("09", StatusCode::InvalidControlFileVersion),
    ("11", StatusCode::InvalidMessageType),
    ("12", StatusCode::UnregisteredRecipient),
    ("14", StatusCode::NotCollected),
    ("15", StatusCode::InvalidCpisFile),
    ("16", StatusCode::SenderNotAllowed),
    ("17", StatusCode::WorkflowNotRegistered),
    ("20", StatusCode::MessageDoesNotExist),
    ("EPL-150", StatusCode::MultipleMailboxesMatched),
    ("EPL-151", StatusCode::NoMailboxMatched),
    ("EPL-152", StatusCode::InvalidNhsNumber),
    ("EPL-153", StatusCode::NhsNumberNotFound),
    ("EPL-154", StatusCode::DemographicsMismatch),
];

impl StatusCode {
    /// Reads a code as MESH writes it (`12`, `EPL-152`); unknown codes are kept.
    pub fn parse(code: &str) -> Self {
        let code = code.trim();
        KNOWN
            .iter()
            .find(|(text, _)| text.eq_ignore_ascii_case(code))
            .map_or_else(|| StatusCode::Other(code.to_owned()), |(_, c)| c.clone())
    }

    /// The code as MESH writes it.
    pub fn as_str(&self) -> &str {
        match self {
            StatusCode::Other(code) => code,
            known => KNOWN
                .iter()
                .find(|(_, c)| c == known)
                .map_or("", |(text, _)| text),
        }
    }

    /// Whether this is `00`.
    pub fn is_success(&self) -> bool {
        *self == StatusCode::Success
    }

    /// Whether this is one of the endpoint-lookup codes `EPL-150`…`EPL-154`, which
    /// MESH sends only as reports about a `GPPROVIDER_` addressed message.
    pub fn is_endpoint_lookup(&self) -> bool {
        self.as_str().starts_with("EPL-")
    }

    /// MESH's documented meaning of a known code; `None` for [`StatusCode::Other`].
    pub fn meaning(&self) -> Option<&'static str> {
        Some(match self {
            StatusCode::Success => "transferred to the recipient's mailbox",
            StatusCode::DataFileMissing => "data file is missing or inaccessible",
            StatusCode::MalformedControlFile => "malformed control file or headers",
            StatusCode::InvalidFromAddress => "invalid From address",
            StatusCode::MissingToAddress => "missing To address",
            StatusCode::InvalidControlFileVersion => "invalid version of the control file",
            StatusCode::InvalidMessageType => "invalid message type for the transfer",
            StatusCode::UnregisteredRecipient => "unregistered To address",
            StatusCode::NotCollected => "message not collected by the recipient after 5 days",
            StatusCode::InvalidCpisFile => "invalid CP-IS file",
            StatusCode::SenderNotAllowed => "sender is not allowed to send this message type",
            StatusCode::WorkflowNotRegistered => "workflow ID is not registered for the mailbox",
            StatusCode::MessageDoesNotExist => "message does not exist",
            StatusCode::MultipleMailboxesMatched => "endpoint lookup matched several mailboxes",
            StatusCode::NoMailboxMatched => "endpoint lookup matched no mailbox",
            StatusCode::InvalidNhsNumber => "invalid NHS number",
            StatusCode::NhsNumberNotFound => "NHS number not found",
            StatusCode::DemographicsMismatch => {
                "NHS number supplied does not match the demographics"
            }
            StatusCode::Other(_) => return None,
        })
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_and_write_back() {
        for (text, code) in KNOWN {
            assert_eq!(&StatusCode::parse(text), code);
            assert_eq!(code.as_str(), *text);
            assert!(code.meaning().is_some());
        }
        assert_eq!(StatusCode::parse("epl-152"), StatusCode::InvalidNhsNumber);
        assert_eq!(StatusCode::parse("99"), StatusCode::Other("99".into()));
        assert_eq!(StatusCode::parse("99").as_str(), "99");
        assert!(StatusCode::parse("EPL-153").is_endpoint_lookup());
        assert!(!StatusCode::UnregisteredRecipient.is_endpoint_lookup());
    }
}
