//! The structure of a message: its entries, the references between them, and the
//! role each resource plays.

use fhir_validator::Node;

use crate::urls;

/// What a message is, told by `MessageHeader.event.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A GP Connect Send Document message (event `ITK007C`).
    SendDocument,
    /// An ITK3 response, infrastructure or business (event `ITK008M`).
    Response,
}

/// The kind of `message`: `Some` when it is a Bundle whose first MessageHeader entry
/// has the event code `ITK007C` or `ITK008M`, `None` otherwise.
pub fn message_kind(message: &Node) -> Option<MessageKind> {
    if message.type_name != "Bundle" {
        return None;
    }
    let entries = entries(message, "Bundle");
    let header = entries.iter().find(|e| e.is("MessageHeader"))?;
    kind_of_event(header.resource?)
}

fn kind_of_event(header: &Node) -> Option<MessageKind> {
    match header.child("event")?.child_value("code")? {
        urls::EVENT_SEND_DOCUMENT => Some(MessageKind::SendDocument),
        urls::EVENT_RESPONSE => Some(MessageKind::Response),
        _ => None,
    }
}

/// The part a resource plays in a message, which decides the profile it must meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The outer Bundle (ITK-Message-Bundle-1).
    MessageBundle,
    /// The first MessageHeader entry (ITK-MessageHeader-2).
    MessageHeader,
    /// The Organization `MessageHeader.sender` references
    /// (CareConnect-ITK-Header-Organization-1).
    HeaderOrganization,
    /// A Practitioner `MessageHeader.sender` references
    /// (CareConnect-ITK-Header-Practitioner-1; ITK3 allows it, GP Connect does not).
    HeaderPractitioner,
    /// The Bundle `MessageHeader.focus` references (ITK-Document-Bundle-1).
    DocumentBundle,
    /// A Composition in the document Bundle (CareConnect-Composition-1).
    Composition,
    /// A Patient in the document Bundle (CareConnect-Patient-1).
    Patient,
    /// An Organization in the document Bundle: the sending organisation
    /// (CareConnect-Organization-1).
    Organization,
    /// A Practitioner in the document Bundle (CareConnect-Practitioner-1).
    Practitioner,
    /// A Binary in the document Bundle: an attachment (ITK-Attachment-Binary-1).
    Binary,
    /// The OperationOutcome `MessageHeader.response.details` references in an ITK3
    /// response (ITK-Response-OperationOutcome-1).
    ResponseOutcome,
}

impl Role {
    /// The canonical URL of the profile a resource in this role must meet.
    pub fn profile(self) -> &'static str {
        match self {
            Role::MessageBundle => urls::MESSAGE_BUNDLE,
            Role::MessageHeader => urls::MESSAGE_HEADER,
            Role::HeaderOrganization => urls::HEADER_ORGANIZATION,
            Role::HeaderPractitioner => urls::HEADER_PRACTITIONER,
            Role::DocumentBundle => urls::DOCUMENT_BUNDLE,
            Role::Composition => urls::COMPOSITION,
            Role::Patient => urls::PATIENT,
            Role::Organization => urls::ORGANIZATION,
            Role::Practitioner => urls::PRACTITIONER,
            Role::Binary => urls::BINARY,
            Role::ResponseOutcome => urls::RESPONSE_OUTCOME,
        }
    }

    /// The role in words (`the header Organization`), for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Role::MessageBundle => "the message Bundle",
            Role::MessageHeader => "the MessageHeader",
            Role::HeaderOrganization => "the header Organization (MessageHeader.sender)",
            Role::HeaderPractitioner => "the header Practitioner (MessageHeader.sender)",
            Role::DocumentBundle => "the document Bundle (MessageHeader.focus)",
            Role::Composition => "the Composition",
            Role::Patient => "the Patient",
            Role::Organization => "the sending Organization",
            Role::Practitioner => "the Practitioner",
            Role::Binary => "an attachment",
            Role::ResponseOutcome => "the response OperationOutcome",
        }
    }
}

/// A role and where the resource that plays it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleAt {
    /// The resource's FHIRPath location from the message root
    /// (`Bundle.entry[2].resource.ofType(Bundle).entry[4].resource.ofType(Patient)`).
    pub location: String,
    /// Its role.
    pub role: Role,
}

/// The role of each resource of `message` that has one, in document order: the
/// message Bundle itself, then its entries, then the document Bundle's entries.
/// Resources with no role (an entry nothing references, a resource type Send
/// Document does not use) are left out; they are validated by their own
/// `meta.profile`.
///
/// Roles are found this way:
/// - the root Bundle is the message Bundle;
/// - the first MessageHeader entry is the MessageHeader; its `event.code` gives the
///   [`MessageKind`] (anything but `ITK008M` is read as Send Document);
/// - `MessageHeader.sender` → an Organization is the header Organization, a
///   Practitioner the header Practitioner;
/// - Send Document: `MessageHeader.focus` → a Bundle is the document Bundle; in it,
///   every Composition, Patient, Organization, Practitioner and Binary has the role of
///   its type (whether the Composition references them is checked by the rules);
/// - response: `MessageHeader.response.details` → an OperationOutcome is the response
///   outcome.
///
/// When such a reference is missing or does not resolve to a resource of the expected
/// type (a finding of its own), the only entry of that type in the message Bundle
/// takes the role, so that the rest of the message is still checked.
pub fn roles(message: &Node) -> Vec<RoleAt> {
    Message::read(message).roles()
}

/// One `Bundle.entry`.
pub(crate) struct Entry<'n> {
    /// `Bundle.entry[i]`.
    pub loc: String,
    pub full_url: Option<&'n str>,
    pub resource: Option<&'n Node>,
    /// `Bundle.entry[i].resource.ofType(Type)`.
    pub res_loc: String,
}

impl Entry<'_> {
    pub fn is(&self, type_name: &str) -> bool {
        self.resource.is_some_and(|r| r.type_name == type_name)
    }

    pub fn type_name(&self) -> &str {
        self.resource.map_or("(no resource)", |r| r.type_name)
    }
}

pub(crate) fn entries<'n>(bundle: &'n Node, bundle_loc: &str) -> Vec<Entry<'n>> {
    bundle
        .children_named("entry")
        .enumerate()
        .map(|(i, e)| {
            let loc = format!("{bundle_loc}.entry[{i}]");
            let resource = e.child("resource");
            let res_loc = match resource {
                Some(r) => format!("{loc}.resource.ofType({})", r.type_name),
                None => format!("{loc}.resource"),
            };
            Entry {
                loc,
                full_url: e.child_value("fullUrl"),
                resource,
                res_loc,
            }
        })
        .collect()
}

/// The entry a reference points at: the entry whose `fullUrl` is the reference, or,
/// for a relative `Type/id`, the entry holding a resource of that type and id.
pub(crate) fn resolve(entries: &[Entry<'_>], reference: &str) -> Option<usize> {
    if let Some(i) = entries.iter().position(|e| e.full_url == Some(reference)) {
        return Some(i);
    }
    let (ty, id) = reference.split_once('/')?;
    if id.contains('/') {
        return None;
    }
    entries.iter().position(|e| {
        e.resource
            .is_some_and(|r| r.type_name == ty && r.child_value("id") == Some(id))
    })
}

/// A reference element (`MessageHeader.sender`) and what it resolves to.
pub(crate) enum Target {
    /// The element is absent.
    Absent,
    /// The element has no `reference`.
    NoReference,
    /// The reference is not the `fullUrl` of any entry.
    Unresolved(String),
    /// The index of the entry it resolves to.
    Entry(usize),
}

pub(crate) fn target(reference: Option<&Node>, entries: &[Entry<'_>]) -> Target {
    let Some(r) = reference else {
        return Target::Absent;
    };
    let Some(text) = r.child_value("reference") else {
        return Target::NoReference;
    };
    match resolve(entries, text) {
        Some(i) => Target::Entry(i),
        None => Target::Unresolved(text.to_owned()),
    }
}

/// The entry a reference resolves to if it holds `type_name`; else the only entry of
/// that type, so that one wrong reference does not hide the rest of the message.
fn role_entry(t: &Target, entries: &[Entry<'_>], type_name: &str) -> Option<usize> {
    if let Target::Entry(i) = t {
        if entries[*i].is(type_name) {
            return Some(*i);
        }
    }
    let mut of_type = entries.iter().enumerate().filter(|(_, e)| e.is(type_name));
    match (of_type.next(), of_type.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// The document Bundle and its entries.
pub(crate) struct Document<'n> {
    pub node: &'n Node,
    pub loc: String,
    pub entries: Vec<Entry<'n>>,
    /// The first Composition entry.
    pub composition: Option<usize>,
}

/// A message read for its structure (see [`roles`] for how roles are found).
pub(crate) struct Message<'n> {
    pub root: &'n Node,
    pub entries: Vec<Entry<'n>>,
    /// The first MessageHeader entry.
    pub header: Option<usize>,
    pub kind: MessageKind,
    pub sender: Target,
    /// The entry playing the header Organization or Practitioner.
    pub sender_entry: Option<usize>,
    pub focus: Target,
    pub document: Option<Document<'n>>,
    pub details: Target,
    /// The entry playing the response OperationOutcome.
    pub outcome_entry: Option<usize>,
}

impl<'n> Message<'n> {
    /// Reads the structure of a message Bundle (`root.type_name == "Bundle"`).
    pub fn read(root: &'n Node) -> Self {
        let entries = entries(root, root.type_name);
        let header = entries.iter().position(|e| e.is("MessageHeader"));
        let h = header.and_then(|i| entries[i].resource);
        let kind = h
            .and_then(kind_of_event)
            .unwrap_or(MessageKind::SendDocument);
        let sender = target(h.and_then(|h| h.child("sender")), &entries);
        let sender_entry = match &sender {
            Target::Entry(i) if entries[*i].is("Practitioner") => Some(*i),
            t => role_entry(t, &entries, "Organization"),
        };
        let (mut focus, mut details) = (Target::Absent, Target::Absent);
        let (mut document, mut outcome_entry) = (None, None);
        match kind {
            MessageKind::SendDocument => {
                focus = target(h.and_then(|h| h.child("focus")), &entries);
                document = role_entry(&focus, &entries, "Bundle").and_then(|i| {
                    let node = entries[i].resource?;
                    let loc = entries[i].res_loc.clone();
                    let doc_entries = self::entries(node, &loc);
                    let composition = doc_entries.iter().position(|e| e.is("Composition"));
                    Some(Document {
                        node,
                        loc,
                        entries: doc_entries,
                        composition,
                    })
                });
            }
            MessageKind::Response => {
                let response = h.and_then(|h| h.child("response"));
                details = target(response.and_then(|r| r.child("details")), &entries);
                outcome_entry = role_entry(&details, &entries, "OperationOutcome");
            }
        }
        Message {
            root,
            entries,
            header,
            kind,
            sender,
            sender_entry,
            focus,
            document,
            details,
            outcome_entry,
        }
    }

    /// The MessageHeader resource and its location.
    pub fn header(&self) -> Option<(&'n Node, &str)> {
        let e = &self.entries[self.header?];
        Some((e.resource?, e.res_loc.as_str()))
    }

    /// The document Bundle's entry index in the message Bundle.
    pub fn document_entry(&self) -> Option<usize> {
        let d = self.document.as_ref()?;
        self.entries
            .iter()
            .position(|e| e.resource.is_some_and(|r| std::ptr::eq(r, d.node)))
    }

    /// Every role, in document order.
    pub fn roles(&self) -> Vec<RoleAt> {
        let mut out = vec![RoleAt {
            location: self.root.type_name.to_owned(),
            role: Role::MessageBundle,
        }];
        if self.root.type_name != "Bundle" {
            return out;
        }
        let document = self.document_entry();
        for (i, e) in self.entries.iter().enumerate() {
            let role = if Some(i) == self.header {
                Some(Role::MessageHeader)
            } else if Some(i) == self.sender_entry {
                Some(if e.is("Practitioner") {
                    Role::HeaderPractitioner
                } else {
                    Role::HeaderOrganization
                })
            } else if Some(i) == document {
                Some(Role::DocumentBundle)
            } else if Some(i) == self.outcome_entry {
                Some(Role::ResponseOutcome)
            } else {
                None
            };
            if let Some(role) = role {
                out.push(RoleAt {
                    location: e.res_loc.clone(),
                    role,
                });
            }
            if Some(i) == document {
                if let Some(d) = &self.document {
                    out.extend(d.entries.iter().filter_map(|e| {
                        Some(RoleAt {
                            location: e.res_loc.clone(),
                            role: document_role(e.resource?.type_name)?,
                        })
                    }));
                }
            }
        }
        out
    }
}

/// The role of a resource of the document Bundle, by its type.
pub(crate) fn document_role(type_name: &str) -> Option<Role> {
    match type_name {
        "Composition" => Some(Role::Composition),
        "Patient" => Some(Role::Patient),
        "Organization" => Some(Role::Organization),
        "Practitioner" => Some(Role::Practitioner),
        "Binary" => Some(Role::Binary),
        _ => None,
    }
}
