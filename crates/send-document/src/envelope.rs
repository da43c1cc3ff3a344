//! What travels beside a message on MESH: the envelope a sender gives MESH (workflow,
//! To address, Subject, LocalId), and what a receiver must remember about a request
//! to answer it.

use crate::identity::{MeshMailbox, Workflow};

/// The MESH metadata of one outgoing message: the `Mex-*` headers of the MESH API, or
/// the fields of a MESH client's `.ctl` control file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeshEnvelope {
    /// `Mex-WorkflowID` / `WorkflowId`: `GPCONNECT_SEND_DOCUMENT`, or an `_ACK`
    /// workflow for responses.
    pub workflow_id: String,
    /// `Mex-From` / `From_DTS`: the sender's mailbox (GPCM-SD-059/062).
    pub from: MeshMailbox,
    /// `Mex-To` / `To_DTS`: a `GPPROVIDER_` address for a document (GPCM-SD-060/063),
    /// the requester's mailbox for a response.
    pub to: String,
    /// `Mex-Subject` / `Subject` in the SCAL form (GPCM-SD-061/064):
    /// `<title> for <patient>, NHS Number: <nhs>, seen at <organisation>, <ODS>, Version: <n>`.
    pub subject: String,
    /// `Mex-LocalID` / `LocalId`: the sender's ODS code (GPCM-SD-145/146).
    pub local_id: String,
}

impl MeshEnvelope {
    /// The workflow this envelope's ID names, as a document or as an acknowledgement
    /// workflow (`None` for a workflow Send Document does not use).
    pub fn workflow(&self) -> Option<Workflow> {
        Workflow::from_id(&self.workflow_id).or_else(|| Workflow::from_ack_id(&self.workflow_id))
    }

    /// The envelope as a MESH client control file (`nhs_mesh::ControlFile`):
    /// `Version` `1.0` (the control-file version, never the document version:
    /// `docs/send-document.md`, decision 5), address type `DTS`, `Compress=Y`,
    /// `Encrypted=N`, `IsCompressed=N` (the payload is plain FHIR; `Compress` asks the
    /// client to gzip it in transit), `AllowChunking=Y`.
    pub fn to_control_file(&self) -> nhs_mesh::ControlFile {
        let mut cf = nhs_mesh::ControlFile::new(&self.workflow_id, self.from.as_str(), &self.to);
        cf.subject = Some(self.subject.clone());
        cf.local_id = Some(self.local_id.clone());
        cf.allow_chunking = Some(true);
        cf
    }

    /// The envelope as a `DTSControl` `.ctl` file (the one beside a `.dat` in a MESH
    /// client's OUT folder), in the field order of NHS's published examples.
    pub fn to_ctl_xml(&self) -> String {
        self.to_control_file().to_xml()
    }
}

/// What a receiver keeps from a request in order to answer it: where the ITK3
/// responses go and what they must quote. [`crate::receive`] fills it in as far as
/// the message could be read; [`crate::response`] builds the responses from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTo {
    /// The request's `MessageHeader.id`, quoted in `response.identifier`. `None`
    /// when it could not be read: the response then quotes
    /// `UNREADABLE-IN-ORIGINAL-MESSAGE` (ITK3 10009 default behaviour).
    pub message_header_id: Option<String>,
    /// The request's `SenderReference` handling key, echoed in every response
    /// (GPCM-SD-052). `None` when unreadable (responses then send `None`).
    pub sender_reference: Option<String>,
    /// The mailbox the responses go to: MESH `Mex-From` when known, else the
    /// request's `MessageHeader.source.endpoint`.
    pub mailbox: Option<MeshMailbox>,
    /// The workflow the request came on; responses go on its `_ACK` workflow.
    pub workflow: Workflow,
    /// Whether the request asked for an infrastructure response. A message whose
    /// flags cannot be read is answered anyway (ITK3 "response structure").
    pub inf_ack_requested: bool,
    /// Whether the request asked for a business response.
    pub bus_ack_requested: bool,
}

impl ReplyTo {
    /// The `response.identifier` of a response to a message whose `MessageHeader.id`
    /// could not be read.
    pub const UNREADABLE: &'static str = "UNREADABLE-IN-ORIGINAL-MESSAGE";

    /// A reply to a message nothing could be read from, on this workflow: both
    /// responses assumed requested, identifier `UNREADABLE-IN-ORIGINAL-MESSAGE`.
    pub fn unreadable(workflow: Workflow, mailbox: Option<MeshMailbox>) -> Self {
        ReplyTo {
            message_header_id: None,
            sender_reference: None,
            mailbox,
            workflow,
            inf_ack_requested: true,
            bus_ack_requested: true,
        }
    }

    /// The same reply, sending to `from` (MESH's `mex-From` / `From_DTS`) when the
    /// request named no mailbox of its own (or `from` is not a mailbox ID).
    pub fn or_mailbox(mut self, from: Option<&str>) -> Self {
        if self.mailbox.is_none() {
            self.mailbox = from.and_then(|f| MeshMailbox::new(f).ok());
        }
        self
    }

    /// The value responses put in `MessageHeader.response.identifier`.
    pub fn response_identifier(&self) -> &str {
        self.message_header_id
            .as_deref()
            .unwrap_or(Self::UNREADABLE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctl_has_the_published_field_order() {
        let env = MeshEnvelope {
            workflow_id: Workflow::SendDocument.id().into(),
            from: MeshMailbox::new("MESHGP0001").unwrap(),
            to: "GPPROVIDER_9690937278_19550109_Smith".into(),
            subject: "Consultation report for Mr John Smith & co".into(),
            local_id: "B82617".into(),
        };
        let ctl = env.to_ctl_xml();
        let names: Vec<&str> = ctl
            .lines()
            .filter_map(|l| l.trim().strip_prefix('<'))
            .filter(|l| !l.starts_with('/') && !l.starts_with("DTSControl"))
            .map(|l| l.split('>').next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "Version",
                "AddressType",
                "MessageType",
                "From_DTS",
                "To_DTS",
                "Subject",
                "LocalId",
                "DTSId",
                "PartnerId",
                "Compress",
                "Encrypted",
                "WorkflowId",
                "ProcessId",
                "DataChecksum",
                "IsCompressed",
                "AllowChunking"
            ]
        );
        assert!(ctl.contains("<IsCompressed>N</IsCompressed>"));
        assert_eq!(
            nhs_mesh::ControlFile::parse(&ctl).unwrap(),
            env.to_control_file()
        );
        assert!(ctl.contains("<DTSId></DTSId>"));
        assert!(ctl.contains("<Subject>Consultation report for Mr John Smith &amp; co</Subject>"));
        assert_eq!(env.workflow(), Some(Workflow::SendDocument));
    }

    #[test]
    fn unreadable_reply_quotes_the_itk3_literal() {
        let r = ReplyTo::unreadable(Workflow::ConsultReport, None);
        assert_eq!(r.response_identifier(), "UNREADABLE-IN-ORIGINAL-MESSAGE");
        assert!(r.inf_ack_requested);
    }
}
