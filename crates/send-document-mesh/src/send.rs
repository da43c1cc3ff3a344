//! Sending built messages and ITK3 responses.

use chrono::{DateTime, Utc};
use nhs_mesh::{MeshClient, OutgoingMessage};
use send_document::build::{BuiltMessage, Format};
use send_document::response::{Response, SentMessage};
use send_document::MeshEnvelope;

use crate::ExchangeError;

/// A message MESH accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The MESH message ID (what MESH reports and tracking refer to).
    pub mesh_message_id: String,
    /// What the sender keeps to correlate the ITK3 responses.
    pub message: SentMessage,
}

fn outgoing(
    envelope: &MeshEnvelope,
    body: Vec<u8>,
    format: Format,
    file_stem: &str,
) -> OutgoingMessage {
    let mut m = OutgoingMessage::new(&envelope.to, &envelope.workflow_id, body);
    m.subject = Some(envelope.subject.clone());
    m.local_id = Some(envelope.local_id.clone());
    m.content_type = Some(format.mime_type().to_owned());
    m.file_name = Some(format!(
        "{file_stem}.{}",
        match format {
            Format::Xml => "xml",
            Format::Json => "json",
        }
    ));
    m
}

fn check_from(client: &MeshClient, envelope: &MeshEnvelope) -> Result<(), ExchangeError> {
    if !envelope
        .from
        .as_str()
        .eq_ignore_ascii_case(client.mailbox())
    {
        return Err(ExchangeError::Mismatch(format!(
            "the message is from mailbox {} but the MESH client is for {}",
            envelope.from.as_str(),
            client.mailbox()
        )));
    }
    Ok(())
}

/// Sends a built Send Document message in `format`: `mex-To` the `GPPROVIDER_`
/// address, `mex-WorkflowID` its workflow, `mex-Subject` and `mex-LocalID` from the
/// builder's envelope, the payload gzipped in transit. Returns the MESH ID and what
/// to [`SentMessages::record`](crate::SentMessages::record) for the responses.
pub fn send_message(
    client: &MeshClient,
    built: &BuiltMessage,
    format: Format,
) -> Result<Sent, ExchangeError> {
    let envelope = built.envelope();
    check_from(client, envelope)?;
    let ids = built.identifiers();
    let body = built.serialize(format).into_bytes();
    let stem = ids.message_bundle_identifier.to_string();
    let mesh_message_id = client.send(&outgoing(envelope, body, format, &stem))?;
    Ok(Sent {
        mesh_message_id,
        message: SentMessage::new(
            ids.message_header_id.to_string(),
            Some(ids.sender_reference.clone()),
            ids.workflow,
            DateTime::<Utc>::from(std::time::SystemTime::now()),
        ),
    })
}

/// Sends an ITK3 response on its `_ACK` workflow to the requester's mailbox; returns
/// the MESH message ID.
pub fn send_response(
    client: &MeshClient,
    response: &Response,
    format: Format,
) -> Result<String, ExchangeError> {
    let envelope = response.envelope();
    check_from(client, envelope)?;
    let body = match format {
        Format::Xml => response.to_xml(),
        Format::Json => response.to_json(),
    }
    .into_bytes();
    Ok(client.send(&outgoing(
        envelope,
        body,
        format,
        response.bundle_identifier(),
    ))?)
}
