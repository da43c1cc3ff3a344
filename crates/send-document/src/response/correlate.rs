//! Correlating received ITK3 responses with the messages that were sent
//! (`../shared/spec/send-document.md` §5.2 "Correlation", §5.3, GPCM-SD-095).

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use fhir_stu3::Resource;

use super::read::{flag, handling_key, ReadError, ReceivedCode, ReceivedResponse, ResponseKind};
use crate::message::Message;
use crate::Workflow;

/// What a sender keeps about a message it sent, to match its responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    /// Its `MessageHeader.id`, which responses quote in `response.identifier`.
    pub message_header_id: String,
    /// Its SenderReference handling key (`None` when absent or `None`).
    pub sender_reference: Option<String>,
    /// The MESH workflow it was sent on (responses come back on its `_ACK`).
    pub workflow: Workflow,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// Whether it asked for an infrastructure response.
    pub inf_ack_requested: bool,
    /// Whether it asked for a business response.
    pub bus_ack_requested: bool,
}

impl SentMessage {
    /// A message that asked for both responses, as every Send Document message does
    /// (GPCM-SD-040/041).
    pub fn new(
        message_header_id: impl Into<String>,
        sender_reference: Option<String>,
        workflow: Workflow,
        sent_at: DateTime<Utc>,
    ) -> Self {
        SentMessage {
            message_header_id: message_header_id.into().trim().to_owned(),
            sender_reference: real_reference(sender_reference.as_deref()),
            workflow,
            sent_at,
            inf_ack_requested: true,
            bus_ack_requested: true,
        }
    }

    /// What to keep about `message`, whoever built it: its `MessageHeader.id`, its
    /// SenderReference and its two ack flags (taken as `true` when unreadable, the
    /// Send Document value).
    pub fn from_message(
        message: &Resource,
        workflow: Workflow,
        sent_at: DateTime<Utc>,
    ) -> Result<Self, ReadError> {
        let tree = message.to_tree();
        if tree.type_name != "Bundle" {
            return Err(ReadError::NotABundle(tree.type_name.to_owned()));
        }
        let msg = Message::read(&tree);
        let (header, _) = msg.header().ok_or(ReadError::NoMessageHeader)?;
        let id = header
            .child_value("id")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(ReadError::NoMessageHeaderId)?;
        let sender_reference =
            handling_key(header, "SenderReference").and_then(|v| v.value.clone());
        let mut sent = SentMessage::new(id, sender_reference, workflow, sent_at);
        sent.inf_ack_requested = flag(header, "InfAckRequested").unwrap_or(true);
        sent.bus_ack_requested = flag(header, "BusAckRequested").unwrap_or(true);
        Ok(sent)
    }
}

/// A SenderReference that is a real value: not absent, blank or `None`.
fn real_reference(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("none"))
        .map(str::to_owned)
}

/// Where a sent message stands, from the responses received so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageState {
    /// No response yet; the infrastructure response is awaited.
    AwaitingInfrastructureAck,
    /// The infrastructure response was positive (20013), or was not requested; the
    /// business response is awaited.
    AwaitingBusinessAck,
    /// A positive business response (30001, 30004, or an unknown business code) came
    /// back: nothing more is awaited.
    BusinessAckReceived {
        /// Its code.
        code: ReceivedCode,
    },
    /// The infrastructure response was positive and no business response was
    /// requested: nothing more is awaited.
    InfrastructureAckReceived,
    /// The message asked for no response.
    NoResponseRequested,
    /// A negative response came back: an infrastructure one (the message was not
    /// processed: fix, resend and alert a person) or a business one (30002 patient
    /// not known, 30003 no longer here). Nothing follows it.
    Rejected {
        /// Which response said so.
        kind: ResponseKind,
        /// Its code.
        code: ReceivedCode,
        /// Its diagnostics.
        diagnostics: Vec<String>,
    },
}

impl MessageState {
    /// Whether a response is still awaited.
    pub fn is_awaiting(&self) -> bool {
        matches!(
            self,
            MessageState::AwaitingInfrastructureAck | MessageState::AwaitingBusinessAck
        )
    }

    /// Whether a negative response came back.
    pub fn is_rejected(&self) -> bool {
        matches!(self, MessageState::Rejected { .. })
    }
}

/// Something odd about a matched response, kept with the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorrelationWarning {
    /// The response echoes another SenderReference than the message had (both real
    /// values; ITK3's `None` is not compared).
    SenderReferenceMismatch {
        /// The message's SenderReference.
        sent: String,
        /// The response's.
        received: String,
    },
    /// The same response (identical content) arrived again; it was not logged twice.
    /// (The `MessageHeader.id` alone does not tell: NHS's ITK3 examples reuse one for
    /// different responses.)
    Redelivered {
        /// The response's `MessageHeader.id`, if it has one.
        response_id: Option<String>,
    },
    /// A second, different, response of a kind already received; the first one
    /// still decides the state.
    Duplicate {
        /// Its kind.
        kind: ResponseKind,
        /// Its code.
        code: ReceivedCode,
    },
    /// A response after a negative one, which is fatal: nothing should follow it.
    AfterRejection {
        /// The later response's code.
        code: ReceivedCode,
    },
    /// The business response came before any infrastructure response that was
    /// requested (MESH does not guarantee order; the infrastructure one may follow or
    /// be lost).
    BusinessBeforeInfrastructure,
    /// A positive response of a kind the message did not ask for.
    NotRequested {
        /// Its kind.
        kind: ResponseKind,
    },
}

/// A response matched with a sent message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedResponse {
    /// The response as read.
    pub response: ReceivedResponse,
    /// When it was received.
    pub received_at: DateTime<Utc>,
}

/// A sent message, the responses matched with it, and what was odd about them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackedMessage {
    /// The message.
    pub sent: SentMessage,
    /// Its responses, in arrival order (FHIR-BA-01: log every response).
    pub responses: Vec<LoggedResponse>,
    /// Warnings about its responses, in arrival order.
    pub warnings: Vec<CorrelationWarning>,
}

impl TrackedMessage {
    /// A message with no response yet.
    pub fn new(sent: SentMessage) -> Self {
        TrackedMessage {
            sent,
            responses: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Where the message stands. The **first** response of each kind decides (a
    /// later one is flagged as [`CorrelationWarning::Duplicate`] and does not change
    /// the state: a `20007` for a resent copy does not undo the first copy's
    /// `20013`): a negative infrastructure response rejects the message, else a
    /// negative business response does, else a positive business response completes
    /// it, else a positive infrastructure response leaves the business response
    /// awaited (if requested), else the first requested response is awaited.
    pub fn state(&self) -> MessageState {
        let infrastructure = self.find(ResponseKind::Infrastructure);
        let business = self.find(ResponseKind::Business);
        let rejected_by = [infrastructure, business]
            .into_iter()
            .flatten()
            .find(|r| !r.response.is_positive());
        if let Some(r) = rejected_by {
            return MessageState::Rejected {
                kind: r.response.kind(),
                code: r.response.code().clone(),
                diagnostics: r
                    .response
                    .diagnostics()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            };
        }
        if let Some(r) = business {
            return MessageState::BusinessAckReceived {
                code: r.response.code().clone(),
            };
        }
        let (inf, bus) = (self.sent.inf_ack_requested, self.sent.bus_ack_requested);
        match (infrastructure.is_some(), inf, bus) {
            (true, _, true) | (false, false, true) => MessageState::AwaitingBusinessAck,
            (true, _, false) => MessageState::InfrastructureAckReceived,
            (false, true, _) => MessageState::AwaitingInfrastructureAck,
            (false, false, false) => MessageState::NoResponseRequested,
        }
    }

    /// Whether a response is still awaited.
    pub fn is_awaiting(&self) -> bool {
        self.state().is_awaiting()
    }

    fn find(&self, kind: ResponseKind) -> Option<&LoggedResponse> {
        self.responses.iter().find(|r| r.response.kind() == kind)
    }
}

/// Why a response matched no sent message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnmatchedReason {
    /// The responder could not read the message's id
    /// (`UNREADABLE-IN-ORIGINAL-MESSAGE`, usually 10009).
    UnreadableInOriginalMessage,
    /// `response.identifier` is no recorded `MessageHeader.id`.
    UnknownIdentifier,
}

/// A response that matched no sent message, kept for a person to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmatchedResponse {
    /// Why.
    pub reason: UnmatchedReason,
    /// The response as read.
    pub response: ReceivedResponse,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// The one recorded message whose SenderReference the response echoes, if
    /// exactly one does: a hint, not a match.
    pub possible_match: Option<String>,
}

/// What [`Correlator::feed`] did with a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Correlation {
    /// It answers a recorded message.
    Matched {
        /// The message's `MessageHeader.id`.
        message_header_id: String,
        /// The message's state after it.
        state: MessageState,
        /// What was odd about this response (also kept with the message).
        warnings: Vec<CorrelationWarning>,
    },
    /// It answers no recorded message (also kept in [`Correlator::unmatched`]).
    Unmatched(UnmatchedResponse),
}

/// Matches ITK3 responses with sent messages, in memory.
///
/// A sender [`record`](Correlator::record)s each message it sends and
/// [`feed`](Correlator::feed)s each response it receives; a response matches the
/// message whose `MessageHeader.id` is its `response.identifier`. The SenderReference
/// is cross-checked when both are real values, and a mismatch is flagged, not
/// refused (the identifier is what ITK3 correlates on).
///
/// To persist it, save the [`TrackedMessage`] each [`feed`](Correlator::feed) or
/// [`record`](Correlator::record) touches (all fields are plain data) and rebuild
/// with [`Correlator::restore`].
#[derive(Clone, Debug, Default)]
pub struct Correlator {
    messages: HashMap<String, TrackedMessage>,
    /// Message ids in the order they were recorded.
    order: Vec<String>,
    unmatched: Vec<UnmatchedResponse>,
}

impl Correlator {
    /// No message recorded.
    pub fn new() -> Self {
        Correlator::default()
    }

    /// A correlator holding saved messages and unmatched responses.
    pub fn restore(
        messages: impl IntoIterator<Item = TrackedMessage>,
        unmatched: impl IntoIterator<Item = UnmatchedResponse>,
    ) -> Self {
        let mut c = Correlator::new();
        for m in messages {
            let id = m.sent.message_header_id.clone();
            if c.messages.insert(id.clone(), m).is_none() {
                c.order.push(id);
            }
        }
        c.unmatched = unmatched.into_iter().collect();
        c
    }

    /// Records a sent message. Returns `false`, changing nothing, when a message with
    /// that `MessageHeader.id` is already recorded (its responses are kept).
    pub fn record(&mut self, sent: SentMessage) -> bool {
        let id = sent.message_header_id.clone();
        if self.messages.contains_key(&id) {
            return false;
        }
        self.messages.insert(id.clone(), TrackedMessage::new(sent));
        self.order.push(id);
        true
    }

    /// Matches a received response with its message and updates the message's state;
    /// an unmatched response is kept in [`Correlator::unmatched`].
    pub fn feed(&mut self, response: &ReceivedResponse, received_at: DateTime<Utc>) -> Correlation {
        let identifier = response.response_identifier.as_str();
        let Some(tracked) = self.messages.get_mut(identifier) else {
            let reason = if response.is_for_unreadable_message() {
                UnmatchedReason::UnreadableInOriginalMessage
            } else {
                UnmatchedReason::UnknownIdentifier
            };
            let possible_match = self.by_sender_reference(response.sender_reference.as_deref());
            let unmatched = UnmatchedResponse {
                reason,
                response: response.clone(),
                received_at,
                possible_match,
            };
            self.unmatched.push(unmatched.clone());
            return Correlation::Unmatched(unmatched);
        };

        let mut warnings = Vec::new();
        if let (Some(sent), Some(received)) = (
            tracked.sent.sender_reference.as_deref(),
            real_reference(response.sender_reference.as_deref()),
        ) {
            if sent != received {
                warnings.push(CorrelationWarning::SenderReferenceMismatch {
                    sent: sent.to_owned(),
                    received,
                });
            }
        }
        // The same response delivered again (MESH may): identical content.
        let redelivered = tracked.responses.iter().any(|r| r.response == *response);
        if redelivered {
            warnings.push(CorrelationWarning::Redelivered {
                response_id: response.message_header_id.clone(),
            });
        } else {
            let kind = response.kind();
            let code = response.code().clone();
            if tracked.state().is_rejected() {
                warnings.push(CorrelationWarning::AfterRejection { code: code.clone() });
            }
            if tracked.find(kind).is_some() {
                warnings.push(CorrelationWarning::Duplicate {
                    kind,
                    code: code.clone(),
                });
            }
            if kind == ResponseKind::Business
                && tracked.sent.inf_ack_requested
                && tracked.find(ResponseKind::Infrastructure).is_none()
            {
                warnings.push(CorrelationWarning::BusinessBeforeInfrastructure);
            }
            let requested = match kind {
                ResponseKind::Infrastructure => tracked.sent.inf_ack_requested,
                ResponseKind::Business => tracked.sent.bus_ack_requested,
            };
            if !requested && response.is_positive() {
                warnings.push(CorrelationWarning::NotRequested { kind });
            }
            tracked.responses.push(LoggedResponse {
                response: response.clone(),
                received_at,
            });
        }
        tracked.warnings.extend(warnings.iter().cloned());
        Correlation::Matched {
            message_header_id: tracked.sent.message_header_id.clone(),
            state: tracked.state(),
            warnings,
        }
    }

    /// The one recorded message whose SenderReference is `reference`, if exactly one.
    fn by_sender_reference(&self, reference: Option<&str>) -> Option<String> {
        let reference = real_reference(reference)?;
        let mut found = self
            .messages
            .values()
            .filter(|m| m.sent.sender_reference.as_deref() == Some(reference.as_str()));
        match (found.next(), found.next()) {
            (Some(m), None) => Some(m.sent.message_header_id.clone()),
            _ => None,
        }
    }

    /// The recorded message with this `MessageHeader.id`.
    pub fn get(&self, message_header_id: &str) -> Option<&TrackedMessage> {
        self.messages.get(message_header_id.trim())
    }

    /// Forgets a message (once it needs no more attention), giving it back.
    pub fn remove(&mut self, message_header_id: &str) -> Option<TrackedMessage> {
        let m = self.messages.remove(message_header_id.trim())?;
        self.order.retain(|id| id != &m.sent.message_header_id);
        Some(m)
    }

    /// Every recorded message, in the order recorded.
    pub fn messages(&self) -> impl Iterator<Item = &TrackedMessage> + '_ {
        self.order.iter().filter_map(|id| self.messages.get(id))
    }

    /// The responses that matched no recorded message, in arrival order.
    pub fn unmatched(&self) -> &[UnmatchedResponse] {
        &self.unmatched
    }

    /// The messages sent at or before `sent_before` that still await a response, in
    /// the order recorded: with `sent_before` = now minus the supplier-defined wait,
    /// the messages a person must be alerted about (GPCM-SD-095).
    pub fn awaiting(&self, sent_before: DateTime<Utc>) -> Vec<&TrackedMessage> {
        self.messages()
            .filter(|m| m.sent.sent_at <= sent_before && m.is_awaiting())
            .collect()
    }

    /// The messages that have awaited a response for longer than `max_wait` at `now`.
    pub fn overdue(&self, now: DateTime<Utc>, max_wait: TimeDelta) -> Vec<&TrackedMessage> {
        match now.checked_sub_signed(max_wait) {
            Some(cutoff) => self
                .messages()
                .filter(|m| m.sent.sent_at < cutoff && m.is_awaiting())
                .collect(),
            None => Vec::new(),
        }
    }
}
