//! MESH reports: messages MESH puts in a sender's inbox to say that one of its
//! messages failed (a `GPPROVIDER_` lookup error `EPL-15x`, non-collection `14`, …).
//! The API marks them `mex-MessageType: REPORT`; the MESH client writes them to `IN`
//! as a control file with an error `StatusRecord` and no `.dat`.

use crate::control::{ControlFile, StatusRecord};
use crate::status::StatusCode;

/// A MESH report about another message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The report's own message ID (`mex-MessageID`, or the control file's `DTSId`);
    /// acknowledge this to remove the report from the inbox.
    pub message_id: Option<String>,
    /// The ID of the message the report concerns (`mex-LinkedMsgID`). `None` when the
    /// report does not say (MESH client control files carry no such field).
    pub linked_message_id: Option<String>,
    /// The failed message's workflow.
    pub workflow_id: Option<String>,
    /// The failed message's `LocalId`.
    pub local_id: Option<String>,
    /// The report's subject (for non-delivery, `NDR: ` + the message's subject).
    pub subject: Option<String>,
    /// The failed message's To address.
    pub to: Option<String>,
    /// What happened: event, `SUCCESS`/`ERROR`, code, description, time.
    pub status: StatusRecord,
}

impl Report {
    /// The report's status code (`EPL-152`, `14`, …).
    pub fn code(&self) -> Option<&StatusCode> {
        self.status.status_code.as_ref()
    }

    /// Whether the report says the linked message failed.
    pub fn is_error(&self) -> bool {
        self.status.is_error()
    }

    /// The report a MESH client control file describes (`IN` folder), taking the
    /// report's ID from `DTSId`.
    pub fn from_control(control: &ControlFile) -> Self {
        Report {
            message_id: control.dts_id.clone(),
            linked_message_id: control
                .other
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("LinkedMsgId"))
                .map(|(_, v)| v.clone()),
            workflow_id: control.workflow_id.clone(),
            local_id: control.local_id.clone(),
            subject: control.subject.clone(),
            to: control.to_dts.clone(),
            status: control.status_record.clone().unwrap_or_default(),
        }
    }

    /// One line for people: `EPL-152 (invalid NHS number) for message X: Invalid NHS
    /// Number`. Names no patient data beyond what MESH wrote in its description.
    pub fn summary(&self) -> String {
        let code = self.code().map_or("no code", StatusCode::as_str);
        let meaning = self
            .code()
            .and_then(StatusCode::meaning)
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        let linked = self
            .linked_message_id
            .as_deref()
            .map(|id| format!(" for message {id}"))
            .unwrap_or_default();
        let description = self
            .status
            .description
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        format!("MESH report {code}{meaning}{linked}{description}")
    }
}
