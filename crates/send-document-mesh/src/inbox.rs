//! The receiving side: download, check, answer, acknowledge.

use nhs_mesh::client::DataMessage;
use nhs_mesh::{InboxMessage, MeshClient, Report};
use send_document::build::Format;
use send_document::receive::{
    MeshMessageType, ReceiptLog, Received, Receiver, Rejection, Transport,
};
use send_document::response::{Outcome, PatientData, Responder};
use send_document::{ReplyTo, ResponseCode, Workflow};

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
        let ids = waiting(self.client, self.workflows.iter().map(|w| w.id()))?;
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
        let answer = answer(
            self.client,
            self.receiver,
            self.responder,
            &mut *self.log,
            &data,
            decide,
        );
        if let Some(error) = answer.failure {
            return Err(error);
        }
        self.client.acknowledge(id)?;
        Ok(Incoming::Document(Box::new(IncomingDocument {
            mesh_message_id: id.to_owned(),
            from: data.from,
            result: answer.result,
            reply_to: answer.reply_to,
            responses: answer.responses,
        })))
    }
}

/// The IDs waiting in the inbox on any of `workflow_ids`, each once, in listing order.
pub fn waiting<'w>(
    client: &MeshClient,
    workflow_ids: impl IntoIterator<Item = &'w str>,
) -> Result<Vec<String>, nhs_mesh::MeshError> {
    let mut ids: Vec<String> = Vec::new();
    for w in workflow_ids {
        for id in client.inbox(Some(w))? {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// What MESH says about a downloaded message, for the receiver's transport checks:
/// workflow, message type (data), From, To and Subject.
pub fn transport_of_message(data: &DataMessage) -> Transport {
    Transport {
        workflow_id: data.workflow_id.clone(),
        message_type: Some(MeshMessageType::Data),
        from: data.from.clone(),
        to: data.to.clone(),
        subject: data.subject.clone(),
    }
}

/// What [`answer`] did with one downloaded message.
#[derive(Debug)]
pub struct Answer {
    /// The checked message, or why it was rejected.
    pub result: Result<Box<Received>, Rejection>,
    /// Where the responses went (the request's mailbox, else MESH's `mex-From`) and
    /// what they quote.
    pub reply_to: ReplyTo,
    /// The ITK3 responses sent, in order: code and MESH message ID.
    pub responses: Vec<(ResponseCode, String)>,
    /// Why not every response was sent: a response could not be built, or MESH
    /// refused one (those in [`Answer::responses`] went).
    pub failure: Option<ExchangeError>,
}

/// Checks a downloaded Send Document message with `receiver` (recording it in `log`
/// when accepted) and sends its ITK3 responses on the `_ACK` workflow, in the format
/// the request came in, with the patient's data scrubbed from the diagnostics.
/// `decide` gives the outcome of an accepted message; a rejected one is answered with
/// its negative infrastructure code. The message is not acknowledged on MESH: do
/// that once it is safely kept ([`DocumentInbox`] does it after this).
pub fn answer(
    client: &MeshClient,
    receiver: &Receiver,
    responder: &Responder,
    log: &mut dyn ReceiptLog,
    data: &DataMessage,
    decide: impl FnOnce(&Received) -> Outcome,
) -> Answer {
    let result = receiver.receive(&data.body, &transport_of_message(data), log);
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
    let reply_to = reply.or_mailbox(data.from.as_deref());
    let format = match Format::sniff(&data.body) {
        Some(Format::Xml) => Format::Xml,
        _ => Format::Json,
    };
    let mut answer = Answer {
        result: result.map(Box::new),
        reply_to,
        responses: Vec::new(),
        failure: None,
    };
    let responses = match responder
        .redacting(PatientData::from_bytes(&data.body))
        .responses(&answer.reply_to, &outcome)
    {
        Ok(responses) => responses,
        Err(e) => {
            answer.failure = Some(e.into());
            return answer;
        }
    };
    for response in responses {
        match send_response(client, &response, format) {
            Ok(mesh_id) => answer.responses.push((response.code(), mesh_id)),
            Err(e) => {
                answer.failure = Some(e);
                break;
            }
        }
    }
    answer
}
