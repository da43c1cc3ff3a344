//! ITK3 response codes a Send Document receiver sends and a sender reads, with the
//! FHIR values each one maps to (`../shared/spec/send-document.md` §5.4).

use std::fmt;

use fhir_profiles::codes::ItkResponseCodes1;
use fhir_stu3::codes::{IssueSeverity, IssueType, ResponseCode as ResponseType};

/// An ITK3 response code of the infrastructure (1xxxx, 2xxxx) or business (3xxxx)
/// range that Send Document uses. The codes 30005–30025 (referral, pharmacy and
/// registration outcomes) belong to other ITK3 payloads and are not here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ResponseCode {
    /// 10001 Handling Specification Error: the generic handling-key failure.
    HandlingSpecificationError,
    /// 10002 Infrastructure Level Response Value – Processing Error (`InfAckRequested`).
    InfAckValueError,
    /// 10003 Business Level Response Value – Processing Error (`BusAckRequested`).
    BusAckValueError,
    /// 10004 Message Definition Value – Processing Error (also: message type not supported).
    MessageDefinitionError,
    /// 10005 Message Definition Version Value – Processing Error.
    MessageDefinitionVersionError,
    /// 10007 Sender Reference Value – Processing Error.
    SenderReferenceError,
    /// 10008 Handling Specification Business Rule Error (an ack flag Send Document fixes to `true` is not).
    HandlingBusinessRuleError,
    /// 10009 Unreadable message received.
    Unreadable,
    /// 10010 Recipient Type – Processing Error.
    RecipientTypeError,
    /// 20001 Unrecognised Recipient Person.
    UnrecognisedRecipientPerson,
    /// 20002 Unrecognised Recipient Organisation.
    UnrecognisedRecipientOrganisation,
    /// 20003 Unrecognised Sender (not to be used with MESH GP look-up).
    UnrecognisedSender,
    /// 20004 Non-Approved file type received as an attachment.
    NonApprovedFileType,
    /// 20005 Unsupported file type received as an attachment.
    UnsupportedFileType,
    /// 20006 ITK3 header validation failure.
    HeaderValidationFailure,
    /// 20007 Duplicate Message received.
    DuplicateMessage,
    /// 20008 Duplicate Document received.
    DuplicateDocument,
    /// 20009 Payload validation failure (also `Composition.confidentiality = R`).
    PayloadValidationFailure,
    /// 20010 Unrecognised Payload Recipient Organisation.
    UnrecognisedPayloadRecipientOrganisation,
    /// 20011 Unrecognised Payload Recipient Person.
    UnrecognisedPayloadRecipientPerson,
    /// 20012 Unauthorised Sender (not with MESH GP look-up).
    UnauthorisedSender,
    /// 20013 Success: the infrastructure acknowledgement.
    Success,
    /// 20014 Unable to Process Replacement Document (both are marked bad).
    ReplacementFailed,
    /// 20015 Message too large.
    TooLarge,
    /// 30001 Patient known here (the business acknowledgement).
    PatientKnown,
    /// 30002 Patient not known here.
    PatientNotKnown,
    /// 30003 Patient no longer at this clinical setting.
    PatientNoLongerHere,
    /// 30004 Patient known here and recently deceased.
    PatientRecentlyDeceased,
}

use ResponseCode::*;

impl ResponseCode {
    /// Every code, in numeric order.
    pub const ALL: [ResponseCode; 28] = [
        HandlingSpecificationError,
        InfAckValueError,
        BusAckValueError,
        MessageDefinitionError,
        MessageDefinitionVersionError,
        SenderReferenceError,
        HandlingBusinessRuleError,
        Unreadable,
        RecipientTypeError,
        UnrecognisedRecipientPerson,
        UnrecognisedRecipientOrganisation,
        UnrecognisedSender,
        NonApprovedFileType,
        UnsupportedFileType,
        HeaderValidationFailure,
        DuplicateMessage,
        DuplicateDocument,
        PayloadValidationFailure,
        UnrecognisedPayloadRecipientOrganisation,
        UnrecognisedPayloadRecipientPerson,
        UnauthorisedSender,
        Success,
        ReplacementFailed,
        TooLarge,
        PatientKnown,
        PatientNotKnown,
        PatientNoLongerHere,
        PatientRecentlyDeceased,
    ];

    /// The code in the ITK-ResponseCodes-1 code system.
    pub fn itk(self) -> ItkResponseCodes1 {
        use ItkResponseCodes1 as I;
        match self {
            HandlingSpecificationError => I::V10001,
            InfAckValueError => I::V10002,
            BusAckValueError => I::V10003,
            MessageDefinitionError => I::V10004,
            MessageDefinitionVersionError => I::V10005,
            SenderReferenceError => I::V10007,
            HandlingBusinessRuleError => I::V10008,
            Unreadable => I::V10009,
            RecipientTypeError => I::V10010,
            UnrecognisedRecipientPerson => I::V20001,
            UnrecognisedRecipientOrganisation => I::V20002,
            UnrecognisedSender => I::V20003,
            NonApprovedFileType => I::V20004,
            UnsupportedFileType => I::V20005,
            HeaderValidationFailure => I::V20006,
            DuplicateMessage => I::V20007,
            DuplicateDocument => I::V20008,
            PayloadValidationFailure => I::V20009,
            UnrecognisedPayloadRecipientOrganisation => I::V20010,
            UnrecognisedPayloadRecipientPerson => I::V20011,
            UnauthorisedSender => I::V20012,
            Success => I::V20013,
            ReplacementFailed => I::V20014,
            TooLarge => I::V20015,
            PatientKnown => I::V30001,
            PatientNotKnown => I::V30002,
            PatientNoLongerHere => I::V30003,
            PatientRecentlyDeceased => I::V30004,
        }
    }

    /// The code as written (`"20013"`).
    pub fn code(self) -> &'static str {
        self.itk().code()
    }

    /// The display text of the code system.
    pub fn display(self) -> &'static str {
        self.itk().display()
    }

    /// Reads a code (`"20013"`); `None` for a code Send Document does not use.
    pub fn from_code(code: &str) -> Option<ResponseCode> {
        ResponseCode::ALL
            .into_iter()
            .find(|c| c.code() == code.trim())
    }

    /// Whether the code is positive (20013, 30001, 30004). A negative code is fatal:
    /// the message is not processed and no further response follows.
    pub fn is_positive(self) -> bool {
        matches!(self, Success | PatientKnown | PatientRecentlyDeceased)
    }

    /// Whether the code belongs to the business acknowledgement (3xxxx) rather than
    /// the infrastructure one.
    pub fn is_business(self) -> bool {
        matches!(
            self,
            PatientKnown | PatientNotKnown | PatientNoLongerHere | PatientRecentlyDeceased
        )
    }

    /// `MessageHeader.response.code`: `ok` for a positive code, `fatal-error` otherwise.
    pub fn response_type(self) -> ResponseType {
        if self.is_positive() {
            ResponseType::Ok
        } else {
            ResponseType::FatalError
        }
    }

    /// `OperationOutcome.issue.severity`: `information` for a positive code, `fatal`
    /// otherwise.
    pub fn severity(self) -> IssueSeverity {
        if self.is_positive() {
            IssueSeverity::Information
        } else {
            IssueSeverity::Fatal
        }
    }

    /// `OperationOutcome.issue.code`, per the ITK3 response-structure table.
    pub fn issue_type(self) -> IssueType {
        match self {
            Success | PatientKnown | PatientRecentlyDeceased => IssueType::Informational,
            UnrecognisedRecipientPerson
            | UnrecognisedRecipientOrganisation
            | UnrecognisedSender
            | UnrecognisedPayloadRecipientOrganisation
            | UnrecognisedPayloadRecipientPerson
            | PatientNotKnown => IssueType::NotFound,
            NonApprovedFileType | UnsupportedFileType | UnauthorisedSender => IssueType::Security,
            HeaderValidationFailure | PayloadValidationFailure => IssueType::Invalid,
            DuplicateMessage | DuplicateDocument => IssueType::Duplicate,
            PatientNoLongerHere => IssueType::BusinessRule,
            HandlingSpecificationError
            | InfAckValueError
            | BusAckValueError
            | MessageDefinitionError
            | MessageDefinitionVersionError
            | SenderReferenceError
            | HandlingBusinessRuleError
            | Unreadable
            | RecipientTypeError
            | ReplacementFailed
            | TooLarge => IssueType::Processing,
        }
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_map_per_itk3() {
        for c in ResponseCode::ALL {
            assert_eq!(ResponseCode::from_code(c.code()), Some(c));
        }
        assert_eq!(Success.code(), "20013");
        assert_eq!(PatientRecentlyDeceased.code(), "30004");
        assert!(Success.is_positive() && !Success.is_business());
        assert!(PatientKnown.is_positive() && PatientKnown.is_business());
        assert!(!PatientNotKnown.is_positive());
        assert_eq!(
            PayloadValidationFailure.response_type(),
            ResponseType::FatalError
        );
        assert_eq!(DuplicateDocument.issue_type(), IssueType::Duplicate);
        assert_eq!(ResponseCode::from_code("30005"), None);
        assert_eq!(ResponseCode::ALL.len(), 28);
        let mut sorted = ResponseCode::ALL;
        sorted.sort_by_key(|c| c.code());
        assert_eq!(sorted, ResponseCode::ALL);
    }
}
