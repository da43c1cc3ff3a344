//! The receiving side: download, check, answer, acknowledge.

use fhir_stu3::{ReadOptions, Resource};
use nhs_mesh::{InboxMessage, MeshClient, Report};
use send_document::build::Format;
use send_document::receive::{ReceiptLog, Received, Receiver, Rejection, Transport};
use send_document::response::{Outcome, PatientData, Responder};
use send_document::{MeshMailbox, ReplyTo, ResponseCode, Workflow};

use crate::send::send_response;
use crate::ExchangeError;

/// One document taken from the inbox, with what was done about it.
#[derive(Debug)]
pub struct IncomingDocument {
    /// Its MESH message ID (acknowledged by the time you see it).
    pub mesh_message_id: String,
    /// `mex-From`: the sender's mailbox.
    pub from: Option<String>,
    /// The checked message, or why it was rejected.
    pub result: Result<Box<Received>, Rejection>,
    /// Where later responses (a business response sent after the patient is matched)
    /// go, and what they quote.
    pub reply_to: ReplyTo,
    /// The ITK3 responses sent, in order: code and MESH message ID.
    pub responses: Vec<(ResponseCode, String)>,
}

/// What one inbox entry turned out to be.
#[derive(Debug)]
pub enum Incoming {
    /// A Send Document message: checked, answered and acknowledged.
    Document(Box<IncomingDocument>),
    /// A MESH report (acknowledged).
    Report(Report),
    /// An entry that could not be handled; it stays in the inbox for the next run.
    Failed {
        /// Its MESH message ID.
        mesh_message_id: String,
        /// What went wrong.
        error: ExchangeError,
    },
}

/// A practice's inbox of Send Document messages: each waiting message is downloaded,
/// checked by the [`Receiver`], answered by the [`Responder`] on the `_ACK` workflow,
/// recorded in the receipt log, and acknowledged on MESH.
pub struct DocumentInbox<'a> {
    client: &'a MeshClient,
    receiver: &'a Receiver,
    responder: &'a Responder,
    log: &'a mut dyn ReceiptLog,
    workflows: Vec<Workflow>,
}

impl<'a> DocumentInbox<'a> {
    /// An inbox polling both Send Document workflows (`GPCONNECT_SEND_DOCUMENT`
    /// and the legacy `GPFED_CONSULT_REPORT`).
    pub fn new(
        client: &'a MeshClient,
        receiver: &'a Receiver,
        responder: &'a Responder,
        log: &'a mut dyn ReceiptLog,
    ) -> Self {
        DocumentInbox {
            client,
            receiver,
            responder,
            log,
            workflows: vec![Workflow::SendDocument, Workflow::ConsultReport],
        }
    }

    /// Polls only these workflows.
    pub fn workflows(mut self, workflows: &[Workflow]) -> Self {
        self.workflows = workflows.to_vec();
        self
    }

    /// Receives every waiting message of the inbox's workflows.
    ///
    /// `decide` is asked about each accepted document and returns what to answer:
    /// [`Outcome::Accepted`] sends the infrastructure response (20013) only, leaving
    /// the business response for later ([`Responder::business_response`] +
    /// [`send_response`]); [`Outcome::Processed`] sends both. A rejected document is
    /// answered with its negative infrastructure response without asking. Responses
    /// go in the format the request came in.
    ///
    /// Fails only when the inbox cannot be listed; a message that cannot be handled
    /// is returned as [`Incoming::Failed`] and left in the inbox.
    pub fn receive(
        &mut self,
        mut decide: impl FnMut(&Received) -> Outcome,
    ) -> Result<Vec<Incoming>, ExchangeError> {
        let mut ids = Vec::new();
        for w in &self.workflows {
            ids.extend(self.client.inbox(Some(w.id()))?);
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.one(&id, &mut decide) {
                Ok(incoming) => out.push(incoming),
                Err(error) => out.push(Incoming::Failed {
                    mesh_message_id: id,
                    error,
                }),
            }
        }
        Ok(out)
    }

    fn one(
        &mut self,
        id: &str,
        decide: &mut impl FnMut(&Received) -> Outcome,
    ) -> Result<Incoming, ExchangeError> {
        let data = match self.client.download(id)? {
            InboxMessage::Report(report) => {
                self.client.acknowledge(id)?;
                return Ok(Incoming::Report(report));
            }
            InboxMessage::Data(data) => data,
        };
        let mut transport = Transport::mesh(
            data.workflow_id.as_deref().unwrap_or_default(),
            data.from.as_deref().unwrap_or_default(),
        );
        transport.workflow_id = data.workflow_id.clone();
        transport.from = data.from.clone();
        transport.to = data.to.clone();
        transport.subject = data.subject.clone();
        let result = self
            .receiver
            .receive(&data.body, &transport, &mut *self.log);
        let (reply, outcome) = match &result {
            Ok(received) => (received.reply_to.clone(), decide(received)),
            Err(rejection) => (
                rejection.reply_to.clone(),
                Outcome::rejected(
                    rejection.code,
                    rejection.diagnostics.iter().map(ToString::to_string),
                ),
            ),
        };
        let reply = with_mailbox(reply, data.from.as_deref());
        let format = if crate::is_xml(&data.body) {
            Format::Xml
        } else {
            Format::Json
        };
        let responder = self.responder.redacting(patient_data(&data.body));
        let mut sent = Vec::new();
        for response in responder.responses(&reply, &outcome)? {
            let mesh_id = send_response(self.client, &response, format)?;
            sent.push((response.code(), mesh_id));
        }
        self.client.acknowledge(id)?;
        Ok(Incoming::Document(Box::new(IncomingDocument {
            mesh_message_id: id.to_owned(),
            from: data.from,
            result: result.map(Box::new),
            reply_to: reply,
            responses: sent,
        })))
    }
}

/// The reply with MESH's `mex-From` as mailbox when the message named none.
fn with_mailbox(mut reply: ReplyTo, from: Option<&str>) -> ReplyTo {
    if reply.mailbox.is_none() {
        reply.mailbox = from.and_then(|f| MeshMailbox::new(f).ok());
    }
    reply
}

/// The patient's identifiable values in a message, masked out of diagnostics.
fn patient_data(bytes: &[u8]) -> PatientData {
    let opts = ReadOptions::lenient();
    let parsed = if crate::is_xml(bytes) {
        Resource::from_xml_with(bytes, &opts)
    } else {
        Resource::from_json_with(bytes, &opts)
    };
    parsed
        .map(|p| PatientData::from_message(&p.value))
        .unwrap_or_default()
}
