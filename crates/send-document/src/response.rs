//! ITK3 responses (acknowledgements): building the infrastructure and business
//! responses a receiver sends, reading the responses a sender gets back, and
//! correlating them with the messages it sent (`docs/itk3-responses.md`).
//!
//! - **Building** ([`Responder`]): one response per call, per the GP Connect rules
//!   (`../shared/spec/send-document.md` §5.2): a new ITK-Message-Bundle-1 with the
//!   ITK-MessageHeader-2 (event `ITK008M`, both ack flags `false`, SenderReference
//!   echoed, `response.identifier` = the request's `MessageHeader.id`), the responder's
//!   CareConnect-ITK-Header-Organization-1 and an ITK-Response-OperationOutcome-1, plus
//!   the [`MeshEnvelope`](crate::MeshEnvelope) that sends it back on the `_ACK`
//!   workflow. [`Responder::responses`] turns a receiver's [`Outcome`] into the list of
//!   responses to send (a negative code is fatal: nothing follows it). No patient data
//!   goes into a response: diagnostics are scrubbed ([`PatientData`]).
//! - **Reading** ([`ReceivedResponse`]): any ITK3 response, GP Connect's or ITK3's
//!   generic variants (Practitioner sender, `None` SenderReference,
//!   `InfAckRequested=true`), read leniently; an unknown response code is kept as text.
//! - **Correlating** ([`Correlator`]): the sender records what it sent
//!   ([`SentMessage`]), feeds each response in, and follows the state of each message
//!   ([`MessageState`]); unmatched responses and SenderReference mismatches are
//!   reported, and [`Correlator::awaiting`] lists the messages still waiting for a
//!   response (GPCM-SD-095 alerting).
//!
//! ```
//! use send_document::response::{
//!     Correlator, FixedClock, MessageState, Outcome, ReceivedResponse, Responder,
//!     SentMessage, SequentialIds,
//! };
//! use send_document::{MeshMailbox, OdsCode, ReplyTo, ResponseCode, Workflow};
//!
//! // The sender recorded the message it sent.
//! let sent_at = "2026-01-05T09:00:00Z".parse().unwrap();
//! let mut correlator = Correlator::new();
//! correlator.record(SentMessage::new(
//!     "ea7221b8-3cc0-4b11-bc95-585b056b5428",
//!     Some("846ebe66-5ff8-4499-bc57-a112d3d0daa3".to_owned()),
//!     Workflow::SendDocument,
//!     sent_at,
//! ));
//!
//! // The receiver answers it (ids and clock fixed, for a reproducible example).
//! let reply = ReplyTo {
//!     message_header_id: Some("ea7221b8-3cc0-4b11-bc95-585b056b5428".to_owned()),
//!     sender_reference: Some("846ebe66-5ff8-4499-bc57-a112d3d0daa3".to_owned()),
//!     mailbox: Some(MeshMailbox::new("MESHGP0001").unwrap()),
//!     workflow: Workflow::SendDocument,
//!     inf_ack_requested: true,
//!     bus_ack_requested: true,
//! };
//! let responder = Responder::new(OdsCode::new("B82617").unwrap(), MeshMailbox::new("MESHGP0002").unwrap())
//!     .with_ids(SequentialIds::new(7))
//!     .with_clock(FixedClock("2026-01-05T09:05:00Z".parse().unwrap()));
//! let responses = responder
//!     .responses(&reply, &Outcome::processed(ResponseCode::PatientKnown))
//!     .unwrap();
//! assert_eq!(responses.len(), 2); // 20013, then 30001
//! assert_eq!(responses[0].envelope().workflow_id, "GPCONNECT_SEND_DOCUMENT_ACK");
//! assert_eq!(responses[0].envelope().to, "MESHGP0001");
//!
//! // Back at the sender: read each response from its XML and correlate it.
//! for r in &responses {
//!     let received = ReceivedResponse::from_bytes(r.to_xml().as_bytes()).unwrap();
//!     correlator.feed(&received, "2026-01-05T09:06:00Z".parse().unwrap());
//! }
//! let tracked = correlator.get("ea7221b8-3cc0-4b11-bc95-585b056b5428").unwrap();
//! assert!(matches!(tracked.state(), MessageState::BusinessAckReceived { .. }));
//! ```

mod correlate;
mod read;
mod redact;
mod respond;

pub use correlate::{
    Correlation, CorrelationWarning, Correlator, LoggedResponse, MessageState, SentMessage,
    TrackedMessage, UnmatchedReason, UnmatchedResponse,
};
pub use read::{
    ReadError, ReceivedCode, ReceivedIssue, ReceivedResponse, ResponseKind, ResponseSender,
};
pub use redact::{PatientData, REDACTED};
pub use respond::{
    Clock, FixedClock, IdSource, Outcome, RandomIds, Responder, Response, ResponseError,
    SequentialIds, SystemClock,
};
