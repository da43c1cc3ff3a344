//! NHS MESH transport.
//!
//! MESH (Message Exchange for Social care and Health) carries GP Connect Send Document
//! messages between NHS organisations. Suppliers reach it in one of two ways, both
//! here:
//!
//! - **The MESH client's folders** ([`control`], [`folder`]): a payload `.dat` with a
//!   `DTSControl` `.ctl` file dropped into the client's `OUT` folder; received
//!   messages and reports read from `IN`.
//! - **The MESH API** ([`client`], feature `client`, on by default): a blocking HTTPS
//!   client with the `NHSMESH` token ([`auth`]), chunked and gzipped sends, inbox
//!   listing, download with chunk reassembly, acknowledgement, tracking, endpoint
//!   lookup, mutual TLS, bounded retries and timeouts.
//!
//! MESH reports (routing failures `EPL-150`…`EPL-154`, non-collection `14`) are typed
//! ([`report::Report`], [`status::StatusCode`]) and linked to the message they
//! concern. `docs/mesh.md` records the protocol details and the decisions behind
//! them.

#![warn(missing_docs)]

#[cfg(feature = "client")]
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
pub mod control;
#[cfg(feature = "client")]
pub mod error;
pub mod folder;
pub mod report;
pub mod status;

#[cfg(feature = "client")]
pub use auth::Secret;
#[cfg(feature = "client")]
pub use client::{ClientConfig, InboxMessage, MeshClient, OutgoingMessage, TlsSettings};
pub use control::{ControlFile, MessageType, StatusRecord};
#[cfg(feature = "client")]
pub use error::MeshError;
pub use report::Report;
pub use status::StatusCode;
