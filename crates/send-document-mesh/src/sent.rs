//! The sending side: what was sent, and what came back for it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use nhs_mesh::{InboxMessage, MeshClient, Report};
use send_document::response::{Correlation, Correlator, ReceivedResponse, TrackedMessage};
use send_document::Workflow;

use crate::send::Sent;
use crate::ExchangeError;

/// One thing that came back to the sender's inbox.
#[derive(Debug)]
pub enum Returned {
    /// An ITK3 response, matched (or not) to a sent message.
    Response {
        /// Its MESH message ID (acknowledged).
        mesh_message_id: String,
        /// The response as read.
        response: Box<ReceivedResponse>,
        /// What the correlator made of it.
        correlation: Correlation,
    },
    /// A MESH report about one of our messages: it was not delivered.
    Report {
        /// The report (acknowledged).
        report: Report,
        /// The `MessageHeader.id` of the sent message it concerns, when we sent it.
        message_header_id: Option<String>,
    },
    /// A message on an `_ACK` workflow that is not an ITK3 response (left in the inbox).
    Unreadable {
        /// Its MESH message ID.
        mesh_message_id: String,
        /// Why it could not be read.
        reason: String,
    },
}

/// The messages a sender has sent over MESH and what has come back for them: ITK3
/// responses (through a [`Correlator`]) and MESH reports (by MESH message ID).
#[derive(Debug, Default)]
pub struct SentMessages {
    correlator: Correlator,
    /// MESH message ID → `MessageHeader.id`.
    by_mesh_id: HashMap<String, String>,
    /// `MessageHeader.id` → the report that says it failed.
    failures: HashMap<String, Report>,
}

impl SentMessages {
    /// Nothing sent yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a sent message.
    pub fn record(&mut self, sent: &Sent) {
        self.by_mesh_id.insert(
            sent.mesh_message_id.clone(),
            sent.message.message_header_id.clone(),
        );
        self.correlator.record(sent.message.clone());
    }

    /// The correlator (states, overdue messages, unmatched responses).
    pub fn correlator(&self) -> &Correlator {
        &self.correlator
    }

    /// A sent message by `MessageHeader.id`.
    pub fn get(&self, message_header_id: &str) -> Option<&TrackedMessage> {
        self.correlator.get(message_header_id)
    }

    /// The MESH report that says the message failed, if one came.
    pub fn failure(&self, message_header_id: &str) -> Option<&Report> {
        self.failures.get(message_header_id)
    }

    /// Reads every waiting message on the `_ACK` workflows of `workflows` and every
    /// MESH report: responses are fed to the correlator, reports matched to the sent
    /// message by MESH ID; both are acknowledged on MESH. Fails only when the inbox
    /// cannot be listed or a message cannot be downloaded or acknowledged.
    pub fn collect(
        &mut self,
        client: &MeshClient,
        workflows: &[Workflow],
    ) -> Result<Vec<Returned>, ExchangeError> {
        // Responses come on the `_ACK` workflow; reports carry the failed message's.
        let ids = crate::waiting(client, workflows.iter().flat_map(|w| [w.ack_id(), w.id()]))?;
        let mut out = Vec::new();
        for id in ids {
            match client.download(&id)? {
                InboxMessage::Report(report) => {
                    client.acknowledge(&id)?;
                    let header_id = report
                        .linked_message_id
                        .as_deref()
                        .and_then(|m| self.by_mesh_id.get(m))
                        .cloned();
                    if let Some(h) = &header_id {
                        self.failures.insert(h.clone(), report.clone());
                    }
                    out.push(Returned::Report {
                        report,
                        message_header_id: header_id,
                    });
                }
                InboxMessage::Data(data) => match ReceivedResponse::from_bytes(&data.body) {
                    Ok(response) => {
                        let correlation = self.correlator.feed(
                            &response,
                            DateTime::<Utc>::from(std::time::SystemTime::now()),
                        );
                        client.acknowledge(&id)?;
                        out.push(Returned::Response {
                            mesh_message_id: id,
                            response: Box::new(response),
                            correlation,
                        });
                    }
                    Err(e) => out.push(Returned::Unreadable {
                        mesh_message_id: id,
                        reason: e.to_string(),
                    }),
                },
            }
        }
        Ok(out)
    }
}
