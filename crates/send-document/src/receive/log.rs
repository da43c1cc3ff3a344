//! What a receiver remembers of the messages it accepted: for the duplicate checks
//! (20007, 20008) and for replacements (20014).

use std::collections::{HashMap, HashSet};
use std::fmt;

/// An identifier as a key: `system` (when given) and `value`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentifierKey {
    /// `Identifier.system`.
    pub system: Option<String>,
    /// `Identifier.value`.
    pub value: String,
}

impl IdentifierKey {
    /// A key with a system.
    pub fn new(system: &str, value: &str) -> Self {
        IdentifierKey {
            system: Some(system.to_owned()),
            value: value.to_owned(),
        }
    }
}

impl fmt::Display for IdentifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.system {
            Some(s) => write!(f, "{s}|{}", self.value),
            None => f.write_str(&self.value),
        }
    }
}

/// What is kept of an accepted document, to judge a later replacement of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentRecord {
    /// The ODS code of the header Organization (`MessageHeader.sender`) that sent it.
    pub sender_ods: String,
    /// The patient's NHS number (the log is the receiver's own record, never a response).
    pub nhs_number: String,
    /// `Composition.meta.versionId` as a number, when it was given.
    pub version: Option<u32>,
    /// Whether a later accepted document replaced it (a replacement names the
    /// previous version, never an older one: GPCM-SD-129).
    pub superseded: bool,
}

/// One accepted message, as the receiver records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The message Bundle's `identifier`.
    pub message_identifier: IdentifierKey,
    /// The `MessageHeader.id`.
    pub message_header_id: String,
    /// The document Bundle's `identifier`.
    pub document_identifier: IdentifierKey,
    /// The `Composition.identifier`: what a later replacement names.
    pub composition_identifier: IdentifierKey,
    /// What a replacement is checked against.
    pub document: DocumentRecord,
    /// The `Composition.identifier` this document replaces, if it is a replacement.
    pub replaces: Option<IdentifierKey>,
}

/// The receiver's memory of accepted messages. Implement it over your own store;
/// [`MemoryReceiptLog`] keeps it in memory.
///
/// [`Receiver::check`](super::Receiver::check) only asks; [`Receiver::receive`](super::Receiver::receive)
/// also calls [`ReceiptLog::record`] once, when it accepts a message (it answers
/// 20013), and never for a rejected one, so a corrected message can be sent again
/// with the same identifiers.
pub trait ReceiptLog {
    /// Whether a message with this message Bundle identifier, or this
    /// `MessageHeader.id`, was accepted before (20007).
    fn has_message(
        &self,
        message_identifier: &IdentifierKey,
        message_header_id: Option<&str>,
    ) -> bool;
    /// Whether a document with this document Bundle identifier, or this
    /// `Composition.identifier`, was accepted before (20008).
    fn has_document(
        &self,
        document_identifier: &IdentifierKey,
        composition_identifier: Option<&IdentifierKey>,
    ) -> bool;
    /// The accepted document whose `Composition.identifier` is this, if any.
    fn document(&self, composition_identifier: &IdentifierKey) -> Option<DocumentRecord>;
    /// Records an accepted message; when it is a replacement, the document it
    /// replaces is marked superseded.
    fn record(&mut self, receipt: &Receipt);
}

/// A [`ReceiptLog`] in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryReceiptLog {
    messages: HashSet<IdentifierKey>,
    header_ids: HashSet<String>,
    documents: HashSet<IdentifierKey>,
    compositions: HashMap<IdentifierKey, DocumentRecord>,
}

impl MemoryReceiptLog {
    /// An empty log.
    pub fn new() -> Self {
        MemoryReceiptLog::default()
    }

    /// How many messages were recorded.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

impl ReceiptLog for MemoryReceiptLog {
    fn has_message(&self, id: &IdentifierKey, header_id: Option<&str>) -> bool {
        self.messages.contains(id) || header_id.is_some_and(|h| self.header_ids.contains(h))
    }

    fn has_document(&self, id: &IdentifierKey, composition: Option<&IdentifierKey>) -> bool {
        self.documents.contains(id)
            || composition.is_some_and(|c| self.compositions.contains_key(c))
    }

    fn document(&self, composition_identifier: &IdentifierKey) -> Option<DocumentRecord> {
        self.compositions.get(composition_identifier).cloned()
    }

    fn record(&mut self, r: &Receipt) {
        self.messages.insert(r.message_identifier.clone());
        self.header_ids.insert(r.message_header_id.clone());
        self.documents.insert(r.document_identifier.clone());
        if let Some(old) = r
            .replaces
            .as_ref()
            .and_then(|t| self.compositions.get_mut(t))
        {
            old.superseded = true;
        }
        self.compositions
            .insert(r.composition_identifier.clone(), r.document.clone());
    }
}
