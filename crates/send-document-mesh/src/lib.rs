//! GP Connect Send Document over NHS MESH.
//!
//! The glue between [`send_document`] (build, check, answer, correlate) and
//! [`nhs_mesh`] (the MESH API client):
//!
//! - [`put_in_out_folder`] and [`transport_of`] do the same through a MESH client's
//!   `OUT` and `IN` folders.
//! - [`send_message`] sends a built message with its MESH metadata: workflow,
//!   `GPPROVIDER_` To address, Subject and LocalId from the builder's envelope.
//! - [`DocumentInbox::receive`] downloads every waiting document, checks it, sends the
//!   ITK3 infrastructure response (and the business response when the caller has
//!   decided one) on the matching `_ACK` workflow, then acknowledges the MESH message.
//! - [`SentMessages`] remembers what was sent and [`SentMessages::collect`] reads the
//!   responses and MESH reports that come back, matching each to its message.
//!
//! Delivery is at least once: a MESH message is acknowledged only after its
//! responses are sent, so a crash in between means it is downloaded again, and the
//! receipt log then answers it as a duplicate (ITK3 20007).

#![warn(missing_docs)]

mod folder;
mod inbox;
mod send;
mod sent;

pub use folder::{put_in_out_folder, transport_of};
pub use inbox::{
    answer, transport_of_message, waiting, Answer, DocumentInbox, Incoming, IncomingDocument,
};
pub use send::{send_message, send_response, Sent};
pub use sent::{Returned, SentMessages};

/// Why an exchange over MESH failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// MESH refused or could not be reached.
    #[error(transparent)]
    Mesh(#[from] nhs_mesh::MeshError),
    /// The ITK3 responses could not be built.
    #[error("cannot build the ITK3 responses: {0}")]
    Response(#[from] send_document::response::ResponseError),
    /// The message and the client do not belong together (e.g. the envelope's From
    /// is not the client's mailbox).
    #[error("{0}")]
    Mismatch(String),
}
