//! The checks of spec §7, in order, and the mapping of the whole-message
//! validator's findings onto them.

use std::collections::{HashMap, HashSet};

use fhir_stu3::{ErrorKind, ReadOptions, Resource};
use fhir_validator::{Finding, Node, Severity};

use crate::envelope::ReplyTo;
use crate::identity::{GpProviderAddress, MeshMailbox, NhsNumber, OdsCode, Workflow};
use crate::message::{target, Document, Message, Target};
use crate::response_code::ResponseCode as RC;
use crate::urls;
use crate::validate::Edition;

use super::attachments::{decode_base64, executable, Signature, TypeVerdict};
use super::log::{IdentifierKey, ReceiptLog};
use super::redact::Redactor;
use super::view::*;
use super::{
    Check, Diagnostic, Format, MeshMessageType, Policy, Receiver, Rejection, Tolerance, Transport,
};

/// The verification-status extension CareConnect-Patient-1 names.
const VERIFICATION: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1";
/// The GPC variant NHS's generic example uses (spec §8.23).
const VERIFICATION_GPC: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1";
const RECIPIENT_TYPE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1";
const CARE_SETTING: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-CareSettingType-1";
const LEGACY_LOCAL_EXTENSIONS: [&str; 2] = [
    "SendDocument-ConsultationSummary",
    "SendDocument-ConsultationReport",
];
const MAX_SENDER_REFERENCE: usize = 255;

/// Where a fault came from: the receiver's own checks, the validator, the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Own,
    Validator,
    Reader,
}

struct Fault {
    diag: Diagnostic,
    error: bool,
    source: Source,
}

/// What the checks read, for the typed view and the reply.
#[derive(Default)]
struct Partial {
    message_identifier: Option<IdentifierKey>,
    header_id: Option<String>,
    sender_reference: Option<String>,
    inf_ack: Option<bool>,
    bus_ack: Option<bool>,
    recipient_type: Option<RecipientType>,
    local_extension: Option<String>,
    header_ods: Option<String>,
    endpoint: Option<String>,
    endpoint_mailbox: Option<MeshMailbox>,
    document_identifier: Option<IdentifierKey>,
    composition_identifier: Option<IdentifierKey>,
    version_id: Option<String>,
    status: Option<String>,
    document_type: Option<Coded>,
    title: Option<String>,
    date: Option<String>,
    confidentiality: Option<String>,
    care_setting: Option<Coded>,
    events: Vec<Coded>,
    narrative: Option<String>,
    author: Option<AuthorView>,
    patient: Option<PatientView>,
    organisation: Option<(String, String, Option<String>)>,
    attachments: Vec<Attachment>,
    replaces: Option<Replacement>,
}

struct Run<'a> {
    rx: &'a Receiver,
    transport: &'a Transport,
    log: &'a dyn ReceiptLog,
    faults: Vec<Fault>,
    p: Partial,
    mex_from: Option<MeshMailbox>,
    workflow: Workflow,
    edition: Edition,
    gp_provider: Option<GpProviderAddress>,
}

/// Runs every check on one message.
// `Received` (the Ok side) is larger still: boxing the rejection would not
// make the Result smaller.
#[allow(clippy::result_large_err)]
pub(super) fn run(
    rx: &Receiver,
    bytes: &[u8],
    transport: &Transport,
    log: &dyn ReceiptLog,
) -> Result<Received, Rejection> {
    let mut r = Run {
        rx,
        transport,
        log,
        faults: Vec::new(),
        p: Partial::default(),
        mex_from: None,
        workflow: Workflow::default(),
        edition: Edition::V2,
        gp_provider: None,
    };
    let given_workflow = r.transport_checks(bytes);
    if r.has_errors() {
        // Read what can be read for the reply (the header id above all).
        let tree = Format::sniff(bytes)
            .and_then(|f| parse(bytes, f).ok())
            .map(|p| p.value.to_tree());
        if let Some(t) = &tree {
            let msg = Message::read(t);
            r.read_for_reply(&msg);
        }
        return Err(r.reject(&Redactor::new(tree.as_ref(), transport.to.as_deref())));
    }

    // Parse.
    let Some(format) = r.sniff_checked(bytes) else {
        return Err(r.reject(&Redactor::default()));
    };
    let parsed = match parse(bytes, format) {
        Ok(p) => p,
        Err(e) => {
            let what = match format {
                Format::Xml => "FHIR XML",
                Format::Json => "FHIR JSON",
            };
            let at = position(e.location().line, e.location().column);
            r.error(
                Check::Parse,
                RC::Unreadable,
                location_or(&e.location().path, "Bundle"),
                None,
                format!(
                    "the message cannot be read as {what}: {}{at}",
                    kind_text(e.kind())
                ),
            );
            return Err(r.reject(&Redactor::default()));
        }
    };
    let tree = parsed.value.to_tree();
    let redactor = Redactor::new(Some(&tree), transport.to.as_deref());
    if tree.type_name != "Bundle" {
        r.error(
            Check::Parse,
            RC::Unreadable,
            tree.type_name.to_owned(),
            None,
            format!(
                "the message is a {}, not a Bundle: a Send Document message is an ITK message Bundle",
                tree.type_name
            ),
        );
        return Err(r.reject(&redactor));
    }
    let msg = Message::read(&tree);

    // The workflow, and with it the edition the message is validated against.
    r.workflow = given_workflow.unwrap_or_else(|| infer_workflow(&msg));
    r.edition = match r.workflow {
        Workflow::SendDocument => Edition::V2,
        Workflow::ConsultReport => Edition::V1_3,
    };
    let validator = match r.edition {
        Edition::V2 => &rx.v2,
        Edition::V1_3 => &rx.v1_3,
    };
    let findings = validator.validate_tree(&tree);

    r.checks(&tree, &msg);
    r.map_findings(&msg, &findings);
    r.map_reader_warnings(&msg, &parsed.warnings);

    // Our own finding at a location supersedes the validator's there (a tolerated
    // fault stays a warning): decide on what is left.
    r.ordered();
    if r.has_errors() {
        return Err(r.reject(&redactor));
    }
    r.faults
        .iter_mut()
        .for_each(|f| scrub(&mut f.diag, &redactor));
    match r.assemble(format) {
        Some(received) => Ok(received),
        None => {
            // Every element the view needs is checked above; this is a safety net.
            r.error(
                Check::Composition,
                RC::PayloadValidationFailure,
                "Bundle".to_owned(),
                None,
                "the document could not be read in full".to_owned(),
            );
            Err(r.reject(&redactor))
        }
    }
}

fn parse(bytes: &[u8], format: Format) -> Result<fhir_stu3::Parsed<Resource>, fhir_stu3::Error> {
    match format {
        Format::Xml => Resource::from_xml_with(bytes, &ReadOptions::lenient()),
        Format::Json => Resource::from_json_with(bytes, &ReadOptions::lenient()),
    }
}

fn position(line: usize, column: usize) -> String {
    if line > 0 {
        format!(" (line {line}, column {column})")
    } else {
        String::new()
    }
}

fn location_or(path: &str, default: &str) -> String {
    if path.is_empty() {
        default.to_owned()
    } else {
        path.to_owned()
    }
}

/// A reader error kind in words (the reader's own message may quote a value).
fn kind_text(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Syntax => "it is not well-formed",
        ErrorKind::UnknownElement => "an element FHIR does not define there",
        ErrorKind::WrongType => "a value of the wrong type",
        ErrorKind::Duplicate => "a single-valued element given twice",
        ErrorKind::Null => "a null value",
        ErrorKind::Empty => "an empty element",
        ErrorKind::InvalidValue => "a value that breaks its FHIR type's rules",
        ErrorKind::MissingResourceType => "a resource without resourceType",
        ErrorKind::UnknownResourceType => "an unknown resource type",
        ErrorKind::TooDeep => "nesting deeper than the reader accepts",
        ErrorKind::Order => "an element out of FHIR XML element order",
        ErrorKind::Namespace => "an element in the wrong XML namespace",
        ErrorKind::Forbidden => "a DOCTYPE, entity or processing instruction (refused for safety)",
        ErrorKind::ChoiceConflict => "two types given for one choice element",
        ErrorKind::NotPrimitive => "a JSON _name companion for an element that is not a primitive",
        ErrorKind::Io => "an input error",
        _ => "a fault the reader reports",
    }
}

fn scrub(d: &mut Diagnostic, redactor: &Redactor) {
    d.reason = redactor.scrub(&d.reason);
    d.location = redactor.scrub(&d.location);
}

/// The workflow of a message that came without one: a 1.3 LocalExtension means
/// the legacy consultation summary.
fn infer_workflow(msg: &Message<'_>) -> Workflow {
    let legacy = msg
        .header()
        .and_then(|(h, _)| handling_ext(h))
        .and_then(|(_, ext)| {
            ext.children_named("extension")
                .find(|e| e.child_value("url") == Some("LocalExtension"))
        })
        .and_then(|e| e.child("value"))
        .and_then(|v| v.value.as_deref())
        .is_some_and(|v| LEGACY_LOCAL_EXTENSIONS.contains(&v.trim()));
    if legacy {
        Workflow::ConsultReport
    } else {
        Workflow::SendDocument
    }
}

fn handling_ext(h: &Node) -> Option<(usize, &Node)> {
    h.children_named("extension")
        .enumerate()
        .find(|(_, e)| e.child_value("url") == Some(urls::MESSAGE_HANDLING))
}

fn ident(node: Option<&Node>) -> Option<IdentifierKey> {
    let n = node?;
    let value = n.child_value("value")?.trim();
    if value.is_empty() {
        return None;
    }
    Some(IdentifierKey {
        system: n.child_value("system").map(str::to_owned),
        value: value.to_owned(),
    })
}

fn coded(coding: &Node) -> Option<Coded> {
    Some(Coded {
        system: coding.child_value("system").map(str::to_owned),
        code: coding.child_value("code")?.to_owned(),
        display: coding.child_value("display").map(str::to_owned),
    })
}

fn person_name(name: &Node) -> PersonName {
    let all = |part: &str| -> Vec<String> {
        name.children_named(part)
            .filter_map(|n| n.value.clone())
            .collect()
    };
    PersonName {
        prefix: all("prefix"),
        given: all("given"),
        family: name.child_value("family").map(str::to_owned),
    }
}

fn telephone(r: &Node) -> Option<String> {
    r.children_named("telecom")
        .find(|t| t.child_value("system") == Some("phone"))
        .and_then(|t| t.child_value("value"))
        .map(str::to_owned)
}

fn ods_code(r: &Node) -> Option<(usize, Option<&str>)> {
    r.children_named("identifier")
        .enumerate()
        .find(|(_, i)| i.child_value("system") == Some(urls::ODS_ORGANIZATION_CODE))
        .map(|(i, n)| (i, n.child_value("value")))
}

/// `loc` is `prefix` or an element below it: the rest (`""`, `.x`, `[1]...`).
fn under<'l>(loc: &'l str, prefix: &str) -> Option<&'l str> {
    let rest = loc.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')).then_some(rest)
}

/// `.name[i]rest` → (i, rest).
fn indexed<'l>(rest: &'l str, name: &str) -> Option<(usize, &'l str)> {
    let r = rest
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix('[')?;
    let (n, after) = r.split_once(']')?;
    Some((n.parse().ok()?, after))
}

fn an(type_name: &str) -> String {
    let vowel = type_name.starts_with(['A', 'E', 'I', 'O', 'U']);
    format!("{} {type_name}", if vowel { "an" } else { "a" })
}

/// Elements that repeat in the resources of a document (for the locations of the
/// reference walk).
const LISTS: &[&str] = &[
    "entry",
    "section",
    "author",
    "identifier",
    "extension",
    "modifierExtension",
    "name",
    "telecom",
    "address",
    "coding",
    "event",
    "detail",
    "relatesTo",
    "attester",
    "generalPractitioner",
    "link",
    "contact",
    "contained",
    "endpoint",
];

impl Run<'_> {
    fn push(&mut self, diag: Diagnostic, error: bool, source: Source) {
        self.faults.push(Fault {
            diag,
            error,
            source,
        });
    }

    fn error(
        &mut self,
        check: Check,
        code: RC,
        location: String,
        rule: Option<&str>,
        reason: String,
    ) {
        self.push(
            Diagnostic {
                check,
                code,
                location,
                rule: rule.map(str::to_owned),
                reason,
                tolerated: None,
            },
            true,
            Source::Own,
        );
    }

    fn warn(
        &mut self,
        check: Check,
        code: RC,
        location: String,
        rule: Option<&str>,
        reason: String,
    ) {
        self.push(
            Diagnostic {
                check,
                code,
                location,
                rule: rule.map(str::to_owned),
                reason,
                tolerated: None,
            },
            false,
            Source::Own,
        );
    }

    /// An error under the strict policy, a warning under the tolerant one.
    #[allow(clippy::too_many_arguments)]
    fn tolerable(
        &mut self,
        t: Tolerance,
        check: Check,
        code: RC,
        location: String,
        rule: Option<&str>,
        reason: String,
    ) {
        let tolerant = self.rx.options.policy == Policy::Tolerant;
        self.push(
            Diagnostic {
                check,
                code,
                location,
                rule: rule.map(str::to_owned),
                reason,
                tolerated: tolerant.then_some(t),
            },
            !tolerant,
            Source::Own,
        );
    }

    fn has_errors(&self) -> bool {
        self.faults.iter().any(|f| f.error)
    }

    // ---- 1. Transport -------------------------------------------------------

    fn transport_checks(&mut self, bytes: &[u8]) -> Option<Workflow> {
        let t = self.transport;
        if let Some(from) = &t.from {
            match MeshMailbox::new(from) {
                Ok(m) => self.mex_from = Some(m),
                Err(_) => self.warn(
                    Check::Transport,
                    RC::HandlingSpecificationError,
                    "MESH Mex-From".to_owned(),
                    None,
                    "Mex-From is not a MESH mailbox ID; the responses go to source.endpoint"
                        .to_owned(),
                ),
            }
        }
        if t.message_type == Some(MeshMessageType::Report) {
            self.error(
                Check::Transport,
                RC::MessageDefinitionError,
                "MESH Mex-MessageType".to_owned(),
                None,
                "the MESH message is a REPORT (about a message this side sent), not DATA: it is \
                 not a document and is not answered"
                    .to_owned(),
            );
        }
        let mut workflow = None;
        if let Some(id) = &t.workflow_id {
            match Workflow::from_id(id) {
                Some(w) => {
                    workflow = Some(w);
                    self.workflow = w;
                }
                None => {
                    let reason = if Workflow::from_ack_id(id).is_some() {
                        format!(
                            "the MESH workflow {} is an acknowledgement workflow: ITK3 responses \
                             are read as responses, not received as documents",
                            id.trim()
                        )
                    } else {
                        format!(
                            "the MESH workflow {:?} is not GPCONNECT_SEND_DOCUMENT or \
                             GPFED_CONSULT_REPORT; this receiver does not handle it",
                            id.trim()
                        )
                    };
                    self.error(
                        Check::Transport,
                        RC::MessageDefinitionError,
                        "MESH Mex-WorkflowID".to_owned(),
                        None,
                        reason,
                    );
                }
            }
        }
        let limit = self.rx.options.max_message_bytes;
        if bytes.len() > limit {
            self.error(
                Check::Transport,
                RC::TooLarge,
                "MESH message".to_owned(),
                None,
                format!(
                    "the message is {} bytes; this receiver accepts at most {limit} bytes",
                    bytes.len()
                ),
            );
        }
        workflow
    }

    // ---- 2. Parse -----------------------------------------------------------

    fn sniff_checked(&mut self, bytes: &[u8]) -> Option<Format> {
        let f = Format::sniff(bytes);
        if f.is_none() {
            let reason = if bytes.starts_with(b"\x1f\x8b") {
                "the message is gzip-compressed: MESH compression is undone by the MESH layer \
                 before the message is received"
            } else if bytes.iter().all(u8::is_ascii_whitespace) {
                "the message is empty"
            } else {
                "the message is neither XML nor JSON"
            };
            self.error(
                Check::Parse,
                RC::Unreadable,
                "Bundle".to_owned(),
                None,
                reason.to_owned(),
            );
        }
        f
    }

    // ---- The checks on the parsed message -----------------------------------

    fn checks(&mut self, tree: &Node, msg: &Message<'_>) {
        let Some((h, hloc)) = self.header(tree, msg) else {
            return;
        };
        let hloc = hloc.to_owned();
        self.handling_keys(h, &hloc);
        self.message_definition(h, &hloc);
        self.event(h, &hloc);
        self.sender(h, &hloc, msg);
        self.destination(h, &hloc, msg);
        self.focus(&hloc, msg);
        self.duplicate_message();
        let Some(d) = &msg.document else { return };
        let Some(comp) = self.document_bundle(d) else {
            return;
        };
        self.duplicate_document(d);
        self.references(d);
        let (c, cloc) = comp;
        self.composition(d, c, &cloc);
        self.confidentiality(c, &cloc);
        self.patient(d, c, &cloc);
        self.custodian(d, c, &cloc);
        self.attachments(d, c, &cloc);
        self.replacement(c, &cloc);
    }

    /// Reads what the reply needs from a message the checks did not go through.
    fn read_for_reply(&mut self, msg: &Message<'_>) {
        let Some((h, _)) = msg.header() else { return };
        self.p.header_id = h.child_value("id").map(str::to_owned);
        if let Some((_, ext)) = handling_ext(h) {
            for sub in ext.children_named("extension") {
                let value = sub.child("value").and_then(|v| v.value.as_deref());
                match sub.child_value("url") {
                    Some("SenderReference") => self.p.sender_reference = value.map(str::to_owned),
                    Some("InfAckRequested") => self.p.inf_ack = value.and_then(|v| v.parse().ok()),
                    Some("BusAckRequested") => self.p.bus_ack = value.and_then(|v| v.parse().ok()),
                    _ => {}
                }
            }
        }
        self.p.endpoint_mailbox = h
            .child("source")
            .and_then(|s| s.child_value("endpoint"))
            .and_then(|e| MeshMailbox::new(e).ok());
    }

    fn header<'n>(&mut self, tree: &'n Node, msg: &Message<'n>) -> Option<(&'n Node, String)> {
        const C: Check = Check::Header;
        const E: RC = RC::HeaderValidationFailure;
        match tree.child_value("type") {
            Some("message") => {}
            Some(other) => self.error(
                C,
                E,
                "Bundle.type".to_owned(),
                None,
                format!(
                    "Bundle.type is {other}; a Send Document message is a Bundle of type message"
                ),
            ),
            None => self.error(
                C,
                E,
                "Bundle.type".to_owned(),
                None,
                "Bundle.type is missing; a Send Document message is a Bundle of type message"
                    .to_owned(),
            ),
        }
        match ident(tree.child("identifier")) {
            Some(k) => self.p.message_identifier = Some(k),
            None => self.error(
                C,
                E,
                "Bundle.identifier".to_owned(),
                None,
                "the message Bundle has no identifier value; it identifies the message (and the \
                 duplicate check keys on it)"
                    .to_owned(),
            ),
        }
        let Some(hi) = msg.header else {
            self.error(
                C,
                E,
                "Bundle.entry".to_owned(),
                None,
                "the message Bundle has no MessageHeader entry".to_owned(),
            );
            return None;
        };
        if hi != 0 {
            let first = msg.entries[0].type_name().to_owned();
            self.error(
                C,
                E,
                "Bundle.entry[0]".to_owned(),
                Some("message-header-first"),
                format!(
                    "the first entry is {}; the MessageHeader (entry[{hi}]) comes first",
                    an(&first)
                ),
            );
        }
        let (h, hloc) = msg.header()?;
        match h.child_value("id") {
            Some(id) => self.p.header_id = Some(id.to_owned()),
            None => self.error(
                C,
                E,
                format!("{hloc}.id"),
                Some("resource-id"),
                "the MessageHeader has no id; responses quote it in response.identifier".to_owned(),
            ),
        }
        Some((h, hloc.to_owned()))
    }

    fn handling_keys(&mut self, h: &Node, hloc: &str) {
        const C: Check = Check::HandlingKeys;
        let exts: Vec<(usize, &Node)> = h
            .children_named("extension")
            .enumerate()
            .filter(|(_, e)| e.child_value("url") == Some(urls::MESSAGE_HANDLING))
            .collect();
        let Some(&(ei, ext)) = exts.first() else {
            self.error(
                C,
                RC::HandlingSpecificationError,
                format!("{hloc}.extension"),
                None,
                format!(
                    "the handling extension ({}) is missing",
                    urls::MESSAGE_HANDLING
                ),
            );
            return;
        };
        let eloc = format!("{hloc}.extension[{ei}]");
        if let Some(&(e2, _)) = exts.get(1) {
            self.error(
                C,
                RC::HandlingSpecificationError,
                format!("{hloc}.extension[{e2}]"),
                None,
                "the handling extension is given twice".to_owned(),
            );
        }
        // LocalExtension: present once (its value is free).
        if let Some((_, v, _)) =
            self.key(ext, &eloc, "LocalExtension", RC::HandlingSpecificationError)
        {
            match v.and_then(|v| v.value.as_deref()) {
                Some(text) => self.p.local_extension = Some(text.to_owned()),
                None => self.error(
                    C,
                    RC::HandlingSpecificationError,
                    format!("{eloc}.extension"),
                    None,
                    "the LocalExtension key has no value".to_owned(),
                ),
            }
        }
        self.p.inf_ack = self.flag(ext, &eloc, "InfAckRequested", RC::InfAckValueError);
        self.p.bus_ack = self.flag(ext, &eloc, "BusAckRequested", RC::BusAckValueError);
        if let Some((loc, v, _)) = self.key(ext, &eloc, "RecipientType", RC::RecipientTypeError) {
            let coding = v.filter(|v| v.choice_type == "Coding");
            let system = coding.and_then(|c| c.child_value("system"));
            let code = coding.and_then(|c| c.child_value("code"));
            match (system, code) {
                (Some(RECIPIENT_TYPE_SYSTEM), Some("FA")) => {
                    self.p.recipient_type = Some(RecipientType::ForAction)
                }
                (Some(RECIPIENT_TYPE_SYSTEM), Some("FI")) => {
                    self.p.recipient_type = Some(RecipientType::ForInformation)
                }
                (Some(RECIPIENT_TYPE_SYSTEM), Some(other)) => self.error(
                    C,
                    RC::RecipientTypeError,
                    loc,
                    Some("GPCM-SD-039"),
                    format!(
                        "RecipientType is {other:?}; it is FA (For Action) or FI (For Information)"
                    ),
                ),
                (_, _) if coding.is_none() => self.error(
                    C,
                    RC::RecipientTypeError,
                    loc,
                    None,
                    "RecipientType has no Coding value (FA or FI)".to_owned(),
                ),
                _ => self.error(
                    C,
                    RC::RecipientTypeError,
                    loc,
                    None,
                    format!("RecipientType is not coded in {RECIPIENT_TYPE_SYSTEM} (FA or FI)"),
                ),
            }
        }
        if let Some((loc, v, _)) = self.key(ext, &eloc, "SenderReference", RC::SenderReferenceError)
        {
            match v.filter(|v| v.choice_type == "String").and_then(|v| v.value.as_deref()) {
                Some(s) if s.trim().is_empty() => self.error(
                    C,
                    RC::SenderReferenceError,
                    loc,
                    Some("GPCM-SD-042"),
                    "SenderReference is empty".to_owned(),
                ),
                Some(s) if s.chars().count() > MAX_SENDER_REFERENCE => self.error(
                    C,
                    RC::SenderReferenceError,
                    loc,
                    Some("GPCM-SD-042"),
                    format!(
                        "SenderReference is {} characters long; ITK3 allows at most {MAX_SENDER_REFERENCE}",
                        s.chars().count()
                    ),
                ),
                Some(s) => self.p.sender_reference = Some(s.to_owned()),
                None => self.error(
                    C,
                    RC::SenderReferenceError,
                    loc,
                    Some("GPCM-SD-042"),
                    "SenderReference has no string value".to_owned(),
                ),
            }
        }
        // The Send Document business rule: both acknowledgements requested.
        for (key, value, rule) in [
            ("InfAckRequested", self.p.inf_ack, "GPCM-SD-041"),
            ("BusAckRequested", self.p.bus_ack, "GPCM-SD-040"),
        ] {
            if value == Some(false) {
                let loc = self
                    .key_index(ext, key)
                    .map(|j| format!("{eloc}.extension[{j}].value.ofType(Boolean)"))
                    .unwrap_or_else(|| format!("{eloc}.extension"));
                self.error(
                    C,
                    RC::HandlingBusinessRuleError,
                    loc,
                    Some(rule),
                    format!(
                        "{key} is false; a Send Document message asks for both acknowledgements"
                    ),
                );
            }
        }
    }

    fn key_index(&self, ext: &Node, key: &str) -> Option<usize> {
        ext.children_named("extension")
            .position(|e| e.child_value("url") == Some(key))
    }

    /// One handling key that occurs exactly once: (location of its value, the value
    /// node, its index). A missing or repeated key is an error with `code`.
    fn key<'n>(
        &mut self,
        ext: &'n Node,
        eloc: &str,
        key: &str,
        code: RC,
    ) -> Option<(String, Option<&'n Node>, usize)> {
        let check = if code == RC::MessageDefinitionError {
            Check::MessageDefinition
        } else {
            Check::HandlingKeys
        };
        let found: Vec<(usize, &Node)> = ext
            .children_named("extension")
            .enumerate()
            .filter(|(_, e)| e.child_value("url") == Some(key))
            .collect();
        match found.as_slice() {
            [] => {
                self.error(
                    check,
                    code,
                    format!("{eloc}.extension"),
                    None,
                    format!("the {key} handling key is missing"),
                );
                None
            }
            [(j, e)] => {
                let v = e.child("value");
                let loc = match v {
                    Some(v) => format!("{eloc}.extension[{j}].value.ofType({})", v.choice_type),
                    None => format!("{eloc}.extension[{j}]"),
                };
                Some((loc, v, *j))
            }
            [_, (j, _), ..] => {
                self.error(
                    check,
                    code,
                    format!("{eloc}.extension[{j}]"),
                    None,
                    format!("the {key} handling key is given more than once"),
                );
                None
            }
        }
    }

    fn flag(&mut self, ext: &Node, eloc: &str, key: &str, code: RC) -> Option<bool> {
        let (loc, v, _) = self.key(ext, eloc, key, code)?;
        match v {
            Some(v) if v.choice_type == "Boolean" => match v.value.as_deref() {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => {
                    self.error(
                        Check::HandlingKeys,
                        code,
                        loc,
                        None,
                        format!("{key} has no boolean value"),
                    );
                    None
                }
            },
            Some(v) => {
                let ty = v.choice_type.to_owned();
                self.error(
                    Check::HandlingKeys,
                    code,
                    loc,
                    None,
                    format!("{key} is a {ty}, not a boolean"),
                );
                None
            }
            None => {
                self.error(
                    Check::HandlingKeys,
                    code,
                    loc,
                    None,
                    format!("{key} has no value (a valid boolean)"),
                );
                None
            }
        }
    }

    fn message_definition(&mut self, h: &Node, hloc: &str) {
        let Some((ei, ext)) = handling_ext(h) else {
            return;
        };
        let eloc = format!("{hloc}.extension[{ei}]");
        let Some((loc, v, _)) =
            self.key(ext, &eloc, "MessageDefinition", RC::MessageDefinitionError)
        else {
            return;
        };
        let reference = v
            .filter(|v| v.choice_type == "Reference")
            .and_then(|v| v.child_value("reference"));
        match reference.map(str::trim) {
            Some(urls::SEND_DOCUMENT_DEFINITION) => {}
            Some(urls::SEND_DOCUMENT_DEFINITION_INSTANCE) => self.warn(
                Check::MessageDefinition,
                RC::MessageDefinitionError,
                loc,
                Some("GPCM-SD-043"),
                format!(
                    "the MessageDefinition is the SCAL's ...-Instance-1 spelling, accepted (spec \
                     §8.3); its canonical URL is {}",
                    urls::SEND_DOCUMENT_DEFINITION
                ),
            ),
            Some(other) => self.error(
                Check::MessageDefinition,
                RC::MessageDefinitionError,
                loc,
                Some("GPCM-SD-043"),
                format!(
                    "the MessageDefinition is {other}; this receiver handles {}",
                    urls::SEND_DOCUMENT_DEFINITION
                ),
            ),
            None => self.error(
                Check::MessageDefinition,
                RC::MessageDefinitionError,
                loc,
                Some("GPCM-SD-043"),
                "the MessageDefinition key has no Reference value".to_owned(),
            ),
        }
    }

    fn event(&mut self, h: &Node, hloc: &str) {
        const C: Check = Check::Event;
        const E: RC = RC::HeaderValidationFailure;
        let Some(event) = h.child("event") else {
            self.error(
                C,
                E,
                format!("{hloc}.event"),
                Some("GPCM-SD-047"),
                "MessageHeader.event is missing; a Send Document message has ITK007C".to_owned(),
            );
            return;
        };
        if event.child_value("system") != Some(urls::MESSAGE_EVENT_SYSTEM) {
            self.error(
                C,
                E,
                format!("{hloc}.event.system"),
                Some("GPCM-SD-047"),
                format!("the event is not coded in {}", urls::MESSAGE_EVENT_SYSTEM),
            );
        }
        match event.child_value("code") {
            Some(urls::EVENT_SEND_DOCUMENT) => {}
            Some(other) => self.error(
                C,
                E,
                format!("{hloc}.event.code"),
                Some("GPCM-SD-047"),
                format!("the event is {other}; a Send Document message has ITK007C"),
            ),
            None => self.error(
                C,
                E,
                format!("{hloc}.event.code"),
                Some("GPCM-SD-047"),
                "the event has no code; a Send Document message has ITK007C".to_owned(),
            ),
        }
    }

    fn sender(&mut self, h: &Node, hloc: &str, msg: &Message<'_>) {
        const C: Check = Check::Sender;
        const E: RC = RC::HeaderValidationFailure;
        let sloc = format!("{hloc}.sender");
        let rule = Some("GPCM-SD-045");
        match &msg.sender {
            Target::Absent => self.error(
                C,
                E,
                sloc,
                rule,
                "MessageHeader.sender is missing; it references the header Organization".to_owned(),
            ),
            Target::NoReference => self.error(
                C,
                E,
                format!("{sloc}.reference"),
                rule,
                "MessageHeader.sender has no reference".to_owned(),
            ),
            Target::Unresolved(r) => self.error(
                C,
                E,
                sloc,
                rule,
                format!(
                    "MessageHeader.sender references {r}, which is no entry of the message Bundle"
                ),
            ),
            Target::Entry(i) if !msg.entries[*i].is("Organization") => {
                let ty = msg.entries[*i].type_name().to_owned();
                self.error(
                    C,
                    E,
                    sloc,
                    rule,
                    format!(
                        "MessageHeader.sender references {} (entry[{i}]); the sender is the \
                         CareConnect-ITK-Header-Organization-1 entry",
                        an(&ty)
                    ),
                )
            }
            Target::Entry(i) => {
                let e = &msg.entries[*i];
                if let Some(org) = e.resource {
                    let oloc = e.res_loc.clone();
                    match ods_code(org) {
                        None | Some((_, None)) => self.error(
                            C,
                            E,
                            format!("{oloc}.identifier"),
                            rule,
                            format!(
                                "the header Organization has no ODS code ({}); it identifies the sender",
                                urls::ODS_ORGANIZATION_CODE
                            ),
                        ),
                        Some((k, Some(code))) => {
                            if OdsCode::new(code).is_err() {
                                self.tolerable(
                                    Tolerance::PlaceholderOdsCode,
                                    C,
                                    E,
                                    format!("{oloc}.identifier[{k}].value"),
                                    rule,
                                    "the header Organization's ODS code is not 3 to 10 letters and digits"
                                        .to_owned(),
                                );
                            }
                            self.p.header_ods = Some(code.trim().to_owned());
                        }
                    }
                }
            }
        }
        let eloc = format!("{hloc}.source.endpoint");
        match h.child("source").and_then(|s| s.child_value("endpoint")) {
            None => self.error(
                C,
                E,
                eloc,
                Some("GPCM-SD-046"),
                "MessageHeader.source.endpoint (the sender's MESH mailbox) is missing".to_owned(),
            ),
            Some(endpoint) => {
                self.p.endpoint = Some(endpoint.to_owned());
                match MeshMailbox::new(endpoint) {
                    Ok(m) => {
                        if let Some(from) = &self.mex_from {
                            if from != &m {
                                self.warn(
                                    C,
                                    E,
                                    eloc,
                                    Some("GPCM-SD-046"),
                                    format!(
                                        "source.endpoint {m} differs from the MESH Mex-From {from}; \
                                         the responses go to Mex-From"
                                    ),
                                );
                            }
                        }
                        self.p.endpoint_mailbox = Some(m);
                    }
                    Err(_) => self.tolerable(
                        Tolerance::PlaceholderMailbox,
                        C,
                        E,
                        eloc,
                        Some("GPCM-SD-046"),
                        "source.endpoint is not a MESH mailbox ID (1 to 20 letters, digits, '_' or '-')"
                            .to_owned(),
                    ),
                }
            }
        }
    }

    fn destination(&mut self, h: &Node, hloc: &str, msg: &Message<'_>) {
        const C: Check = Check::Destination;
        if h.child("destination").is_some() {
            self.error(
                C,
                RC::HeaderValidationFailure,
                format!("{hloc}.destination"),
                Some("GPCM-SD-049"),
                "MessageHeader.destination is given; MESH routes a Send Document message by the \
                 patient's details, and ITK-MessageHeader-2 forbids it"
                    .to_owned(),
            );
        }
        let Some(receiver) = h.child("receiver") else {
            return;
        };
        let rloc = format!("{hloc}.receiver");
        if !self.rx.options.local_ods_codes.is_empty() {
            if let Target::Entry(i) = target(Some(receiver), &msg.entries) {
                let e = &msg.entries[i];
                if let Some((_, Some(code))) = e
                    .resource
                    .filter(|_| e.is("Organization"))
                    .and_then(ods_code)
                {
                    let ours = OdsCode::new(code)
                        .map(|c| self.rx.options.local_ods_codes.contains(&c))
                        .unwrap_or(false);
                    if !ours {
                        self.error(
                            C,
                            RC::UnrecognisedRecipientOrganisation,
                            rloc,
                            Some("GPCM-SD-049"),
                            format!(
                                "MessageHeader.receiver names the organisation {code}, which is not \
                                 this receiver"
                            ),
                        );
                        return;
                    }
                }
            }
        }
        match self.edition {
            Edition::V1_3 => self.error(
                C,
                RC::HeaderValidationFailure,
                rloc,
                Some("GPCM-SD-049"),
                "MessageHeader.receiver is given; a 1.3 consultation summary must not populate it"
                    .to_owned(),
            ),
            Edition::V2 => self.warn(
                C,
                RC::HeaderValidationFailure,
                rloc,
                Some("GPCM-SD-049"),
                "MessageHeader.receiver is given and ignored: MESH routes by the patient's details"
                    .to_owned(),
            ),
        }
    }

    fn focus(&mut self, hloc: &str, msg: &Message<'_>) {
        const C: Check = Check::Focus;
        const E: RC = RC::HeaderValidationFailure;
        let floc = format!("{hloc}.focus");
        let rule = Some("GPCM-SD-103");
        match &msg.focus {
            Target::Absent => self.error(
                C,
                E,
                floc,
                rule,
                "MessageHeader.focus is missing; it references the document Bundle".to_owned(),
            ),
            Target::NoReference => self.error(
                C,
                E,
                format!("{floc}.reference"),
                rule,
                "MessageHeader.focus has no reference".to_owned(),
            ),
            Target::Unresolved(r) => self.error(
                C,
                E,
                floc,
                rule,
                format!(
                    "MessageHeader.focus references {r}, which is no entry of the message Bundle"
                ),
            ),
            Target::Entry(i) if !msg.entries[*i].is("Bundle") => {
                let ty = msg.entries[*i].type_name().to_owned();
                self.error(
                    C,
                    E,
                    floc,
                    rule,
                    format!(
                        "MessageHeader.focus references {} (entry[{i}]); it references the \
                         document Bundle",
                        an(&ty)
                    ),
                )
            }
            Target::Entry(_) => {}
        }
        let bundles = msg.entries.iter().filter(|e| e.is("Bundle")).count();
        if bundles > 1 {
            self.error(
                C,
                E,
                "Bundle.entry".to_owned(),
                rule,
                format!(
                    "the message Bundle holds {bundles} Bundles; one document travels per message"
                ),
            );
        }
    }

    fn duplicate_message(&mut self) {
        let Some(id) = self.p.message_identifier.clone() else {
            return;
        };
        if self.log.has_message(&id, self.p.header_id.as_deref()) {
            self.error(
                Check::DuplicateMessage,
                RC::DuplicateMessage,
                "Bundle.identifier".to_owned(),
                None,
                "a message with this identifier (or this MessageHeader.id) was received and \
                 accepted before"
                    .to_owned(),
            );
        }
    }

    // ---- Payload ------------------------------------------------------------

    fn document_bundle<'n>(&mut self, d: &Document<'n>) -> Option<(&'n Node, String)> {
        const C: Check = Check::DocumentBundle;
        const E: RC = RC::PayloadValidationFailure;
        match d.node.child_value("type") {
            Some("document") => {}
            other => self.error(
                C,
                E,
                format!("{}.type", d.loc),
                None,
                format!(
                    "the document Bundle's type is {}; it is document",
                    other.unwrap_or("missing")
                ),
            ),
        }
        let id = d.node.child("identifier");
        match (ident(id), id.and_then(|i| i.child_value("system"))) {
            (Some(k), Some(_)) => self.p.document_identifier = Some(k),
            _ => self.error(
                C,
                E,
                format!("{}.identifier", d.loc),
                Some("bdl-9"),
                "the document Bundle has no identifier with both system and value (bdl-9); it \
                 identifies the document"
                    .to_owned(),
            ),
        }
        let Some(ci) = d.composition else {
            self.error(
                C,
                E,
                format!("{}.entry", d.loc),
                Some("GPCM-SD-104"),
                "the document Bundle holds no Composition".to_owned(),
            );
            return None;
        };
        if ci != 0 {
            let first = d.entries[0].type_name().to_owned();
            self.error(
                C,
                E,
                format!("{}.entry[0]", d.loc),
                Some("composition-first"),
                format!(
                    "the document Bundle's first entry is {}; the Composition (entry[{ci}]) comes first",
                    an(&first)
                ),
            );
        }
        let e = &d.entries[ci];
        let c = e.resource?;
        self.p.composition_identifier = ident(c.child("identifier"));
        Some((c, e.res_loc.clone()))
    }

    fn duplicate_document(&mut self, d: &Document<'_>) {
        let Some(id) = self.p.document_identifier.clone() else {
            return;
        };
        if self
            .log
            .has_document(&id, self.p.composition_identifier.as_ref())
        {
            self.error(
                Check::DuplicateDocument,
                RC::DuplicateDocument,
                format!("{}.identifier", d.loc),
                None,
                "a document with this identifier (document Bundle or Composition) was received \
                 and accepted before"
                    .to_owned(),
            );
        }
    }

    fn references(&mut self, d: &Document<'_>) {
        const C: Check = Check::References;
        const E: RC = RC::PayloadValidationFailure;
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (j, e) in d.entries.iter().enumerate() {
            let Some(url) = e.full_url else { continue };
            if let Some(k) = seen.get(url) {
                self.error(
                    C,
                    E,
                    format!("{}.fullUrl", e.loc),
                    Some("bdl-7"),
                    format!("entry[{j}] repeats the fullUrl of entry[{k}]"),
                );
            } else {
                seen.insert(url, j);
            }
            let id = e.resource.and_then(|r| r.child_value("id"));
            if let (Some(uuid), Some(id)) = (url.strip_prefix("urn:uuid:"), id) {
                if uuid != id {
                    self.error(
                        C,
                        E,
                        format!("{}.fullUrl", e.loc),
                        Some("fullurl"),
                        format!("the fullUrl is {url}, not urn:uuid: + the resource id ({id})"),
                    );
                }
            }
        }
        let urls: HashSet<&str> = d.entries.iter().filter_map(|e| e.full_url).collect();
        let mut dangling = Vec::new();
        for e in &d.entries {
            if let Some(r) = e.resource {
                walk_references(r, &e.res_loc, &mut |loc, reference| {
                    if reference.starts_with("urn:uuid:") && !urls.contains(reference) {
                        dangling.push((loc, reference.to_owned()));
                    }
                });
            }
        }
        for (loc, reference) in dangling {
            self.error(
                C,
                E,
                loc,
                None,
                format!(
                    "the reference {reference} is no entry of the document Bundle (references stay \
                     inside the document)"
                ),
            );
        }
    }

    fn composition(&mut self, d: &Document<'_>, c: &Node, cloc: &str) {
        const C: Check = Check::Composition;
        const E: RC = RC::PayloadValidationFailure;
        if self.p.composition_identifier.is_none() {
            self.error(
                C,
                E,
                format!("{cloc}.identifier"),
                None,
                "the Composition has no identifier value; a replacement names it".to_owned(),
            );
        }
        match c.child_value("status") {
            Some(s) => self.p.status = Some(s.to_owned()),
            None => self.error(
                C,
                E,
                format!("{cloc}.status"),
                None,
                "the Composition has no status".to_owned(),
            ),
        }
        match c.child("type") {
            None => self.error(
                C,
                E,
                format!("{cloc}.type"),
                Some("GPCM-SD-115"),
                "the Composition has no type; it identifies the document".to_owned(),
            ),
            Some(ty) => {
                let codings: Vec<&Node> = ty.children_named("coding").collect();
                let snomed = codings
                    .iter()
                    .find(|c| c.child_value("system") == Some(urls::SNOMED_CT));
                match snomed.and_then(|c| coded(c)) {
                    Some(k) => self.p.document_type = Some(k),
                    None => self.error(
                        C,
                        E,
                        format!("{cloc}.type"),
                        Some("GPCM-SD-115"),
                        "Composition.type has no SNOMED CT coding".to_owned(),
                    ),
                }
            }
        }
        match target(c.child("subject"), &d.entries) {
            Target::Absent | Target::NoReference => self.error(
                C,
                E,
                format!("{cloc}.subject"),
                Some("GPCM-SD-106"),
                "the Composition has no subject; it references the Patient".to_owned(),
            ),
            Target::Unresolved(r) if !r.starts_with("urn:uuid:") => self.error(
                C,
                E,
                format!("{cloc}.subject"),
                Some("GPCM-SD-106"),
                format!(
                    "Composition.subject references {r}, which is no entry of the document Bundle"
                ),
            ),
            Target::Unresolved(_) => {} // a dangling urn:uuid: (References)
            Target::Entry(i) if !d.entries[i].is("Patient") => {
                let ty = d.entries[i].type_name().to_owned();
                self.error(
                    C,
                    E,
                    format!("{cloc}.subject"),
                    Some("GPCM-SD-106"),
                    format!(
                        "Composition.subject references {}, not the Patient",
                        an(&ty)
                    ),
                )
            }
            Target::Entry(_) => {}
        }
        match c.child_value("date") {
            None => self.error(
                C,
                E,
                format!("{cloc}.date"),
                Some("GPCM-SD-116"),
                "the Composition has no date".to_owned(),
            ),
            Some(date) => {
                self.p.date = Some(date.to_owned());
                if !date.contains('T') {
                    self.tolerable(
                        Tolerance::DateOnlyCompositionDate,
                        C,
                        E,
                        format!("{cloc}.date"),
                        Some("GPCM-SD-116"),
                        "Composition.date is a date without a time; it is the date and time the \
                         document was created"
                            .to_owned(),
                    );
                }
            }
        }
        match c.child_value("title") {
            Some(t) => self.p.title = Some(t.to_owned()),
            None => self.error(
                C,
                E,
                format!("{cloc}.title"),
                None,
                "the Composition has no title".to_owned(),
            ),
        }
        if c.child("section").is_none() {
            self.error(
                C,
                E,
                format!("{cloc}.section"),
                Some("GPCM-SD-109"),
                "the Composition has no section; each attachment has one".to_owned(),
            );
        }
        if c.child("author").is_none() {
            self.error(
                C,
                E,
                format!("{cloc}.author"),
                Some("GPCM-SD-107"),
                "the Composition has no author".to_owned(),
            );
        }
        self.p.author = c
            .children_named("author")
            .filter_map(|a| match target(Some(a), &d.entries) {
                Target::Entry(i) if d.entries[i].is("Practitioner") => d.entries[i].resource,
                _ => None,
            })
            .next()
            .map(|pr| {
                let names: Vec<&Node> = pr.children_named("name").collect();
                let name = names
                    .iter()
                    .find(|n| n.child_value("use") == Some("official"))
                    .or(names.first())
                    .map(|n| person_name(n))
                    .unwrap_or_default();
                AuthorView {
                    name,
                    sds_user_id: pr
                        .children_named("identifier")
                        .find(|i| i.child_value("system") == Some(urls::SDS_USER_ID))
                        .and_then(|i| i.child_value("value"))
                        .map(str::to_owned),
                    telephone: telephone(pr),
                }
            });
        self.p.care_setting = c
            .children_named("extension")
            .find(|e| e.child_value("url") == Some(CARE_SETTING))
            .and_then(|e| e.child("value"))
            .and_then(|v| v.children_named("coding").find_map(coded));
        self.p.events = c
            .children_named("event")
            .flat_map(|e| e.children_named("code"))
            .flat_map(|cc| cc.children_named("coding"))
            .filter_map(coded)
            .collect();
        self.p.narrative = c
            .child("text")
            .and_then(|t| t.child_value("div"))
            .map(str::to_owned);
        self.p.version_id = c
            .child("meta")
            .and_then(|m| m.child_value("versionId"))
            .map(str::to_owned);
        self.p.confidentiality = c.child_value("confidentiality").map(str::to_owned);
    }

    fn confidentiality(&mut self, c: &Node, cloc: &str) {
        if c.child_value("confidentiality") == Some("R") {
            self.error(
                Check::Confidentiality,
                RC::PayloadValidationFailure,
                format!("{cloc}.confidentiality"),
                Some("GPCM-SD-117"),
                "confidentiality is R (restricted): Send Document 2.0.2 sends no confidential \
                 items, and a receiver rejects such a document"
                    .to_owned(),
            );
        }
    }

    fn patient(&mut self, d: &Document<'_>, c: &Node, _cloc: &str) {
        const C: Check = Check::Patient;
        const E: RC = RC::PayloadValidationFailure;
        let Target::Entry(i) = target(c.child("subject"), &d.entries) else {
            return;
        };
        let e = &d.entries[i];
        let Some(p) = e.resource.filter(|r| r.type_name == "Patient") else {
            return;
        };
        let ploc = e.res_loc.clone();
        // The GPPROVIDER address, when the transport gave one.
        if let Some(to) = self.transport.to.as_deref().map(str::trim) {
            if to.starts_with(GpProviderAddress::PREFIX) {
                match GpProviderAddress::parse(to) {
                    Ok(a) => self.gp_provider = Some(a),
                    Err(_) => self.warn(
                        C,
                        E,
                        "MESH Mex-To".to_owned(),
                        Some("GPCM-SD-038"),
                        "the GPPROVIDER To address could not be read, so the Patient was not \
                         compared with it"
                            .to_owned(),
                    ),
                }
            }
        }
        // NHS number.
        let nhs = p
            .children_named("identifier")
            .enumerate()
            .find(|(_, n)| n.child_value("system") == Some(urls::NHS_NUMBER));
        let mut nhs_number = None;
        match nhs {
            None => self.error(
                C,
                E,
                format!("{ploc}.identifier"),
                Some("GPCM-SD-035"),
                format!("the Patient has no NHS number ({})", urls::NHS_NUMBER),
            ),
            Some((k, id)) => {
                let vloc = format!("{ploc}.identifier[{k}].value");
                match id.child_value("value") {
                    None => self.error(
                        C,
                        E,
                        vloc,
                        Some("GPCM-SD-035"),
                        "the NHS number identifier has no value".to_owned(),
                    ),
                    Some(v) if v.len() != 10 || !v.bytes().all(|b| b.is_ascii_digit()) => self
                        .error(
                            C,
                            E,
                            vloc,
                            Some("GPCM-SD-035"),
                            "the NHS number is not 10 digits".to_owned(),
                        ),
                    Some(v) => {
                        if NhsNumber::new(v).is_err() {
                            if self.gp_provider.is_some() {
                                self.error(
                                    C,
                                    E,
                                    vloc.clone(),
                                    Some("GPCM-SD-035"),
                                    "the NHS number fails the Modulus 11 check".to_owned(),
                                );
                            } else {
                                self.tolerable(
                                    Tolerance::NhsNumberChecksum,
                                    C,
                                    E,
                                    vloc.clone(),
                                    Some("GPCM-SD-035"),
                                    "the NHS number fails the Modulus 11 check".to_owned(),
                                );
                            }
                        }
                        if let Some(a) = &self.gp_provider {
                            if a.nhs_number.as_str() != v {
                                self.error(
                                    C,
                                    E,
                                    vloc,
                                    Some("GPCM-SD-038"),
                                    "the NHS number does not match the one in the GPPROVIDER To \
                                     address"
                                        .to_owned(),
                                );
                            }
                        }
                        nhs_number = Some(v.to_owned());
                    }
                }
                // Verification status.
                let exts: Vec<(usize, Option<&str>)> = id
                    .children_named("extension")
                    .enumerate()
                    .map(|(x, n)| (x, n.child_value("url")))
                    .collect();
                if exts.iter().any(|(_, u)| *u == Some(VERIFICATION)) {
                } else if let Some((x, _)) = exts.iter().find(|(_, u)| *u == Some(VERIFICATION_GPC))
                {
                    self.tolerable(
                        Tolerance::GpcNhsNumberVerification,
                        C,
                        E,
                        format!("{ploc}.identifier[{k}].extension[{x}]"),
                        Some("GPCM-SD-035"),
                        format!(
                            "the NHS number's verification status is under the GPC extension \
                             URL; CareConnect-Patient-1 names {VERIFICATION}"
                        ),
                    );
                } else {
                    self.error(
                        C,
                        E,
                        format!("{ploc}.identifier[{k}].extension"),
                        Some("GPCM-SD-035"),
                        format!("the NHS number has no verification status ({VERIFICATION})"),
                    );
                }
            }
        }
        // Official name.
        let name = p
            .children_named("name")
            .find(|n| n.child_value("use") == Some("official") && n.child_value("family").is_some())
            .map(person_name);
        if name.is_none() {
            self.error(
                C,
                E,
                format!("{ploc}.name"),
                Some("GPCM-SD-036"),
                "the Patient has no official name (use official) with a family name".to_owned(),
            );
        }
        // Birth date.
        let birth_date = match p.child_value("birthDate") {
            None => {
                self.error(
                    C,
                    E,
                    format!("{ploc}.birthDate"),
                    Some("GPCM-SD-037"),
                    "the Patient has no valid birthDate (a date YYYY-MM-DD)".to_owned(),
                );
                None
            }
            Some(b) => match chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d") {
                Ok(date) if b.len() == 10 => Some(date),
                _ => {
                    self.error(
                        C,
                        E,
                        format!("{ploc}.birthDate"),
                        Some("GPCM-SD-037"),
                        "the birthDate is not a full date without a time (YYYY-MM-DD)".to_owned(),
                    );
                    None
                }
            },
        };
        if let Some(a) = self.gp_provider.clone() {
            if birth_date.is_some_and(|b| b != a.birth_date) {
                self.tolerable(
                    Tolerance::GpProviderDemographics,
                    C,
                    E,
                    format!("{ploc}.birthDate"),
                    Some("GPCM-SD-038"),
                    "the birthDate does not match the one in the GPPROVIDER To address".to_owned(),
                );
            }
            let family = name.as_ref().and_then(|n| n.family.as_deref());
            if family.is_some_and(|f| !f.trim().eq_ignore_ascii_case(a.surname.trim())) {
                self.tolerable(
                    Tolerance::GpProviderDemographics,
                    C,
                    E,
                    format!("{ploc}.name"),
                    Some("GPCM-SD-038"),
                    "the family name does not match the surname in the GPPROVIDER To address"
                        .to_owned(),
                );
            }
        }
        if let (Some(nhs_number), Some(name), Some(birth_date)) = (nhs_number, name, birth_date) {
            self.p.patient = Some(PatientView {
                nhs_number,
                name,
                birth_date,
            });
        }
    }

    fn custodian(&mut self, d: &Document<'_>, c: &Node, cloc: &str) {
        const C: Check = Check::Custodian;
        const E: RC = RC::PayloadValidationFailure;
        let rule = Some("GPCM-SD-105");
        let org_entry = match target(c.child("custodian"), &d.entries) {
            Target::Absent => {
                let orgs: Vec<usize> = (0..d.entries.len())
                    .filter(|i| d.entries[*i].is("Organization"))
                    .collect();
                if let [only] = orgs.as_slice() {
                    self.tolerable(
                        Tolerance::MissingCustodian,
                        C,
                        E,
                        format!("{cloc}.custodian"),
                        rule,
                        "Composition.custodian is missing; the document Bundle's only \
                         Organization is read as the sending organisation"
                            .to_owned(),
                    );
                    Some(*only)
                } else {
                    self.error(
                        C,
                        E,
                        format!("{cloc}.custodian"),
                        rule,
                        "Composition.custodian is missing; it references the sending Organization"
                            .to_owned(),
                    );
                    None
                }
            }
            Target::NoReference => {
                self.error(
                    C,
                    E,
                    format!("{cloc}.custodian.reference"),
                    rule,
                    "Composition.custodian has no reference".to_owned(),
                );
                None
            }
            Target::Unresolved(r) => {
                if !r.starts_with("urn:uuid:") {
                    self.error(
                        C,
                        E,
                        format!("{cloc}.custodian"),
                        rule,
                        format!("Composition.custodian references {r}, which is no entry of the document Bundle"),
                    );
                }
                None
            }
            Target::Entry(i) if !d.entries[i].is("Organization") => {
                let ty = d.entries[i].type_name().to_owned();
                self.error(
                    C,
                    E,
                    format!("{cloc}.custodian"),
                    rule,
                    format!(
                        "Composition.custodian references {}, not the sending Organization",
                        an(&ty)
                    ),
                );
                None
            }
            Target::Entry(i) => Some(i),
        };
        let Some(i) = org_entry else { return };
        let e = &d.entries[i];
        let Some(org) = e.resource else { return };
        let oloc = e.res_loc.clone();
        let ods = match ods_code(org) {
            None | Some((_, None)) => {
                self.error(
                    C,
                    E,
                    format!("{oloc}.identifier"),
                    Some("GPCM-SD-029"),
                    format!(
                        "the sending Organization has no ODS code ({})",
                        urls::ODS_ORGANIZATION_CODE
                    ),
                );
                None
            }
            Some((k, Some(code))) => {
                if OdsCode::new(code).is_err() {
                    self.tolerable(
                        Tolerance::PlaceholderOdsCode,
                        C,
                        E,
                        format!("{oloc}.identifier[{k}].value"),
                        Some("GPCM-SD-029"),
                        "the sending Organization's ODS code is not 3 to 10 letters and digits"
                            .to_owned(),
                    );
                }
                Some(code.trim().to_owned())
            }
        };
        let name = org.child_value("name");
        if name.is_none() {
            self.error(
                C,
                E,
                format!("{oloc}.name"),
                Some("GPCM-SD-030"),
                "the sending Organization has no name".to_owned(),
            );
        }
        if let (Some(ods), Some(name)) = (ods, name) {
            self.p.organisation = Some((name.to_owned(), ods, telephone(org)));
        }
    }

    fn attachments(&mut self, d: &Document<'_>, c: &Node, cloc: &str) {
        const C: Check = Check::Attachments;
        const E: RC = RC::PayloadValidationFailure;
        let mut seen = HashSet::new();
        let mut any = false;
        for (s, section) in c.children_named("section").enumerate() {
            let title = section.child_value("title").map(str::to_owned);
            for (k, entry) in section.children_named("entry").enumerate() {
                let loc = format!("{cloc}.section[{s}].entry[{k}]");
                match target(Some(entry), &d.entries) {
                    Target::Absent | Target::NoReference => self.error(
                        C,
                        E,
                        loc,
                        Some("GPCM-SD-110"),
                        "section.entry has no reference".to_owned(),
                    ),
                    Target::Unresolved(r) => {
                        if !r.starts_with("urn:uuid:") {
                            self.error(
                                C,
                                E,
                                loc,
                                Some("GPCM-SD-110"),
                                format!("section.entry references {r}, which is no entry of the document Bundle"),
                            );
                        }
                    }
                    Target::Entry(i) if d.entries[i].is("Binary") => {
                        any = true;
                        if seen.insert(i) {
                            self.attachment(
                                s,
                                title.clone(),
                                &d.entries[i].res_loc,
                                d.entries[i].resource,
                            );
                        }
                    }
                    Target::Entry(i) => {
                        let ty = d.entries[i].type_name().to_owned();
                        self.tolerable(
                            Tolerance::NonBinarySectionEntry,
                            C,
                            E,
                            loc,
                            Some("GPCM-SD-110"),
                            format!(
                                "section.entry references {}, not an attachment Binary",
                                an(&ty)
                            ),
                        )
                    }
                }
            }
        }
        if !any {
            self.error(
                C,
                E,
                format!("{cloc}.section"),
                Some("GPCM-SD-110"),
                "no section.entry references a Binary: the message carries no attachment"
                    .to_owned(),
            );
        }
    }

    fn attachment(&mut self, section: usize, title: Option<String>, bloc: &str, b: Option<&Node>) {
        const C: Check = Check::Attachments;
        const E: RC = RC::PayloadValidationFailure;
        let Some(b) = b else { return };
        let id = b.child_value("id").map(str::to_owned);
        if id.is_none() {
            self.tolerable(
                Tolerance::BinaryWithoutId,
                C,
                E,
                format!("{bloc}.id"),
                Some("resource-id"),
                "the Binary has no id".to_owned(),
            );
        }
        let Some(content_type) = b.child_value("contentType") else {
            self.error(
                C,
                E,
                format!("{bloc}.contentType"),
                None,
                "the Binary has no contentType".to_owned(),
            );
            return;
        };
        let Some(content) = b.child_value("content") else {
            self.error(
                C,
                E,
                format!("{bloc}.content"),
                Some("GPCM-SD-111"),
                "the Binary has no content".to_owned(),
            );
            return;
        };
        let ctloc = format!("{bloc}.contentType");
        let shown = super::attachments::normalise(content_type);
        let (mime, signature) = match self.rx.options.attachments.classify(content_type) {
            TypeVerdict::NotApproved => {
                self.error(
                    C,
                    RC::NonApprovedFileType,
                    ctloc,
                    None,
                    format!("the attachment type {shown:?} is not approved by this receiver"),
                );
                return;
            }
            TypeVerdict::Unsupported => {
                self.error(
                    C,
                    RC::UnsupportedFileType,
                    ctloc,
                    None,
                    format!("the attachment type {shown:?} is not supported by this receiver"),
                );
                return;
            }
            TypeVerdict::Approved {
                mime,
                signature,
                alias,
            } => {
                if alias {
                    self.warn(
                        C,
                        E,
                        ctloc,
                        None,
                        format!("the contentType {shown} is read as {mime}"),
                    );
                }
                (mime, signature)
            }
        };
        let cloc = format!("{bloc}.content");
        let bytes = match decode_base64(content) {
            Ok(b) => b,
            Err(why) => {
                self.error(
                    C,
                    E,
                    cloc,
                    Some("GPCM-SD-111"),
                    format!("the content is not valid base64: {why}"),
                );
                return;
            }
        };
        if let Some(what) = executable(&bytes) {
            self.error(
                C,
                RC::NonApprovedFileType,
                cloc,
                None,
                format!("the attachment's bytes are {what}, which is never approved"),
            );
            return;
        }
        if !signature.matches(&bytes) {
            let actual = if bytes.is_empty() {
                "empty".to_owned()
            } else {
                Signature::detect(&bytes)
                    .map_or("of no type this receiver recognises", Signature::describe)
                    .to_owned()
            };
            self.error(
                C,
                E,
                cloc,
                None,
                format!(
                    "the contentType is {mime} but the decoded bytes are {actual}, not {}",
                    signature.describe()
                ),
            );
            return;
        }
        self.p.attachments.push(Attachment {
            section,
            section_title: title,
            binary_id: id,
            content_type: mime,
            bytes,
        });
    }

    fn replacement(&mut self, c: &Node, cloc: &str) {
        const C: Check = Check::Replacement;
        const E: RC = RC::ReplacementFailed;
        let rels: Vec<(usize, &Node)> = c.children_named("relatesTo").enumerate().collect();
        let mut replaces = Vec::new();
        for (r, rel) in &rels {
            match rel.child_value("code") {
                Some("replaces") => replaces.push((*r, *rel)),
                other => self.error(
                    C,
                    E,
                    format!("{cloc}.relatesTo[{r}].code"),
                    Some("GPCM-SD-123"),
                    format!(
                        "relatesTo.code is {}; this receiver applies replaces only",
                        other.unwrap_or("missing")
                    ),
                ),
            }
        }
        if replaces.len() > 1 {
            self.error(
                C,
                E,
                format!("{cloc}.relatesTo"),
                Some("GPCM-SD-123"),
                "the Composition replaces more than one document".to_owned(),
            );
            return;
        }
        let Some((r, rel)) = replaces.first().copied() else {
            return;
        };
        let tloc = format!("{cloc}.relatesTo[{r}].target");
        let Some(t) = rel
            .child("target")
            .filter(|t| t.choice_type == "Identifier")
            .and_then(|t| ident(Some(t)))
        else {
            self.error(
                C,
                E,
                tloc,
                Some("GPCM-SD-123"),
                "the replaced document is not named by relatesTo.targetIdentifier (its \
                 Composition.identifier)"
                    .to_owned(),
            );
            return;
        };
        let tloc = format!("{tloc}.ofType(Identifier)");
        if Some(&t) == self.p.composition_identifier.as_ref() {
            self.error(
                C,
                E,
                tloc,
                Some("GPCM-SD-123"),
                "the document names itself as the document it replaces".to_owned(),
            );
            return;
        }
        let Some(previous) = self.log.document(&t) else {
            self.error(
                C,
                E,
                tloc,
                Some("GPCM-SD-123"),
                "the document it replaces has not been received".to_owned(),
            );
            return;
        };
        if previous.superseded {
            self.error(
                C,
                E,
                tloc.clone(),
                Some("GPCM-SD-129"),
                "the document it replaces was already replaced; a replacement names the latest \
                 version"
                    .to_owned(),
            );
        }
        if let Some(ods) = &self.p.header_ods {
            if !previous.sender_ods.eq_ignore_ascii_case(ods) {
                self.error(
                    C,
                    E,
                    tloc.clone(),
                    Some("GPCM-SD-123"),
                    "the document it replaces was received from another sender".to_owned(),
                );
            }
        }
        if let Some(p) = &self.p.patient {
            if previous.nhs_number != p.nhs_number {
                self.error(
                    C,
                    E,
                    tloc,
                    Some("GPCM-SD-123"),
                    "the document it replaces is about another patient".to_owned(),
                );
            }
        }
        if let Some(v) = self.p.version_id.clone() {
            let vloc = format!("{cloc}.meta.versionId");
            match v.trim().parse::<u32>() {
                Err(_) => self.error(
                    C,
                    E,
                    vloc,
                    Some("GPCM-SD-098"),
                    "meta.versionId is not a whole number".to_owned(),
                ),
                Ok(n) => {
                    let before = previous.version.unwrap_or(1);
                    if n <= before {
                        self.error(
                            C,
                            E,
                            vloc,
                            Some("GPCM-SD-098"),
                            format!(
                                "meta.versionId is {n}; the document it replaces is version \
                                 {before}, so a replacement is at least {}",
                                before.saturating_add(1)
                            ),
                        );
                    }
                }
            }
        }
        self.p.replaces = Some(Replacement {
            target: t,
            previous_version: previous.version,
        });
    }

    // ---- Findings of the validator and the reader ---------------------------

    /// The check and code of a fault at `loc` (a validator or reader location).
    fn classify(&self, msg: &Message<'_>, loc: &str, rule: &str) -> (Check, RC) {
        let header = RC::HeaderValidationFailure;
        let payload = RC::PayloadValidationFailure;
        if let Some((_, hloc)) = msg.header() {
            if let Some(rest) = under(loc, hloc) {
                if let (Some((k, after)), Some((ei, ext))) = (
                    indexed(rest, "extension"),
                    msg.header().and_then(|(h, _)| handling_ext(h)),
                ) {
                    if k == ei {
                        if rule == "GPCM-SD-040" || rule == "GPCM-SD-041" {
                            return (Check::HandlingKeys, RC::HandlingBusinessRuleError);
                        }
                        let key = indexed(after, "extension").and_then(|(j, _)| {
                            ext.children_named("extension").nth(j)?.child_value("url")
                        });
                        return match key {
                            Some("InfAckRequested") => (Check::HandlingKeys, RC::InfAckValueError),
                            Some("BusAckRequested") => (Check::HandlingKeys, RC::BusAckValueError),
                            Some("RecipientType") => (Check::HandlingKeys, RC::RecipientTypeError),
                            Some("SenderReference") => {
                                (Check::HandlingKeys, RC::SenderReferenceError)
                            }
                            Some("MessageDefinition") => {
                                (Check::MessageDefinition, RC::MessageDefinitionError)
                            }
                            _ => (Check::HandlingKeys, RC::HandlingSpecificationError),
                        };
                    }
                }
                let element = rest
                    .trim_start_matches('.')
                    .split(['.', '['])
                    .next()
                    .unwrap_or("");
                let check = match element {
                    "event" => Check::Event,
                    "sender" | "source" => Check::Sender,
                    "destination" | "receiver" => Check::Destination,
                    "focus" => Check::Focus,
                    _ => Check::Header,
                };
                return (check, header);
            }
        }
        if let Some(i) = msg.sender_entry {
            if under(loc, &msg.entries[i].res_loc).is_some() {
                return (Check::Sender, header);
            }
        }
        if let (Some(d), Some(di)) = (&msg.document, msg.document_entry()) {
            if let Some(rest) = under(loc, &msg.entries[di].res_loc) {
                if rule == "fullurl" || rule == "bdl-7" {
                    return (Check::References, payload);
                }
                let Some((j, after)) = indexed(rest, "entry") else {
                    return (Check::DocumentBundle, payload);
                };
                if after.starts_with(".fullUrl") {
                    return (Check::References, payload);
                }
                let check = match d.entries.get(j).map(|e| e.type_name()) {
                    Some("Composition") => {
                        let element = after
                            .split_once(".ofType(Composition)")
                            .map(|(_, r)| r.trim_start_matches('.'))
                            .unwrap_or("")
                            .split(['.', '['])
                            .next()
                            .unwrap_or("");
                        match element {
                            "confidentiality" => Check::Confidentiality,
                            "custodian" => Check::Custodian,
                            "section" => Check::Attachments,
                            "relatesTo" => return (Check::Replacement, RC::ReplacementFailed),
                            _ => Check::Composition,
                        }
                    }
                    Some("Patient") => Check::Patient,
                    Some("Organization") => Check::Custodian,
                    Some("Practitioner") => Check::Composition,
                    Some("Binary") => Check::Attachments,
                    _ => Check::DocumentBundle,
                };
                return (check, payload);
            }
        }
        // The message Bundle's own elements and entries.
        if loc.contains(".entry[") && rule != "fullurl" && msg.document.is_some() {
            // An entry the MessageHeader does not use.
            return (Check::Header, header);
        }
        (Check::Header, header)
    }

    /// The tolerance that covers a validator finding, if one does.
    fn tolerance_of(&self, msg: &Message<'_>, f: &Finding) -> Option<Tolerance> {
        match f.rule.as_str() {
            "GPCM-SD-108" => return Some(Tolerance::MissingMetaProfile),
            "GPCM-SD-033" => return Some(Tolerance::PractitionerNameNotOfficial),
            "GPCM-SD-105" => return Some(Tolerance::MissingCustodian),
            "resource-id" if f.location.contains(".resource.ofType(Binary).id") => {
                return Some(Tolerance::BinaryWithoutId)
            }
            "cardinality" | "binding" => {}
            _ => return None,
        }
        // The GPC verification extension on the NHS number.
        let d = msg.document.as_ref()?;
        let e = d.entries.iter().find(|e| e.is("Patient"))?;
        let rest = under(&f.location, &e.res_loc)?;
        let (k, after) = indexed(rest, "identifier")?;
        if !after.starts_with(".extension") {
            return None;
        }
        let id = e.resource?.children_named("identifier").nth(k)?;
        id.children_named("extension")
            .any(|x| x.child_value("url") == Some(VERIFICATION_GPC))
            .then_some(Tolerance::GpcNhsNumberVerification)
    }

    fn map_findings(&mut self, msg: &Message<'_>, findings: &[Finding]) {
        let tolerant = self.rx.options.policy == Policy::Tolerant;
        let patient_locs: Vec<String> = msg
            .document
            .iter()
            .flat_map(|d| d.entries.iter())
            .filter(|e| e.is("Patient"))
            .map(|e| e.res_loc.clone())
            .collect();
        for f in findings {
            if f.severity == Severity::Information {
                continue;
            }
            let (check, code) = self.classify(msg, &f.location, &f.rule);
            // Inside the Patient, say what is wrong without quoting anything.
            let reason = if patient_locs.iter().any(|p| under(&f.location, p).is_some()) {
                format!(
                    "the Patient breaks the {} rule of {} here",
                    f.rule,
                    short_profile(&f.profile)
                )
            } else {
                f.message.clone()
            };
            let mut error = f.severity == Severity::Error;
            let mut tolerated = None;
            if error && tolerant {
                if let Some(t) = self.tolerance_of(msg, f) {
                    error = false;
                    tolerated = Some(t);
                }
            }
            self.push(
                Diagnostic {
                    check,
                    code,
                    location: f.location.clone(),
                    rule: Some(f.rule.clone()),
                    reason,
                    tolerated,
                },
                error,
                Source::Validator,
            );
        }
    }

    fn map_reader_warnings(&mut self, msg: &Message<'_>, warnings: &[fhir_stu3::Error]) {
        let tolerant = self.rx.options.policy == Policy::Tolerant;
        for w in warnings {
            let loc = location_or(&w.location().path, "Bundle");
            let (check, code) = self.classify(msg, &loc, "");
            let order = w.kind() == ErrorKind::Order;
            let at = position(w.location().line, w.location().column);
            let reason = if order {
                format!("the element is out of FHIR XML element order{at}")
            } else {
                format!("the reader found {}{at}", kind_text(w.kind()))
            };
            let tolerated = (order && tolerant).then_some(Tolerance::ElementOrder);
            self.push(
                Diagnostic {
                    check,
                    code,
                    location: loc,
                    rule: Some(format!("read-{}", w.kind().as_str())),
                    reason,
                    tolerated,
                },
                tolerated.is_none(),
                Source::Reader,
            );
        }
    }

    // ---- The result -----------------------------------------------------------

    /// Orders the faults (check, then the receiver's own before the validator's and
    /// the reader's, then as found) and drops a validator or reader fault at a
    /// location the receiver's own checks already reported.
    fn ordered(&mut self) {
        let own: HashSet<String> = self
            .faults
            .iter()
            .filter(|f| f.source == Source::Own)
            .map(|f| f.diag.location.clone())
            .collect();
        let mut seen = HashSet::new();
        self.faults.retain(|f| {
            (f.source == Source::Own || !own.contains(&f.diag.location))
                && seen.insert((f.diag.location.clone(), f.diag.reason.clone(), f.error))
        });
        self.faults.sort_by_key(|f| (f.diag.check, f.source));
    }

    fn reply_to(&self) -> ReplyTo {
        ReplyTo {
            message_header_id: self.p.header_id.clone(),
            sender_reference: self.p.sender_reference.clone(),
            mailbox: self
                .mex_from
                .clone()
                .or_else(|| self.p.endpoint_mailbox.clone()),
            workflow: self.workflow,
            inf_ack_requested: self.p.inf_ack.unwrap_or(true),
            bus_ack_requested: self.p.bus_ack.unwrap_or(true),
        }
    }

    fn reject(&mut self, redactor: &Redactor) -> Rejection {
        self.ordered();
        let mut diagnostics = Vec::new();
        let mut warnings = Vec::new();
        for f in &mut self.faults {
            scrub(&mut f.diag, redactor);
            if f.error {
                diagnostics.push(f.diag.clone());
            } else {
                warnings.push(f.diag.clone());
            }
        }
        let mut reply_to = self.reply_to();
        if self.transport.message_type == Some(MeshMessageType::Report) {
            reply_to.inf_ack_requested = false;
            reply_to.bus_ack_requested = false;
        }
        Rejection {
            code: diagnostics
                .first()
                .map_or(RC::Unreadable, |d: &Diagnostic| d.code),
            diagnostics,
            warnings,
            reply_to,
        }
    }

    fn assemble(&mut self, format: Format) -> Option<Received> {
        self.ordered();
        let warnings = self.faults.iter().map(|f| f.diag.clone()).collect();
        let reply_to = self.reply_to();
        let p = std::mem::take(&mut self.p);
        let (organisation_name, ods_code, telephone) = p.organisation?;
        let version = p.version_id.as_deref().and_then(|v| v.trim().parse().ok());
        Some(Received {
            workflow: self.workflow,
            edition: self.edition,
            format,
            patient: p.patient?,
            sender: SenderView {
                organisation_name,
                ods_code,
                telephone,
                header_ods_code: p.header_ods?,
                endpoint: p.endpoint?,
                mailbox: p.endpoint_mailbox,
            },
            author: p.author,
            document_type: p.document_type?,
            title: p.title?,
            date: p.date?,
            recipient_type: p.recipient_type?,
            care_setting: p.care_setting,
            events: p.events,
            status: p.status?,
            confidentiality: p.confidentiality,
            replaces: p.replaces,
            version,
            ids: DocumentIds {
                message_identifier: p.message_identifier?,
                message_header_id: p.header_id?,
                sender_reference: p.sender_reference?,
                document_identifier: p.document_identifier?,
                composition_identifier: p.composition_identifier?,
                version_id: p.version_id,
            },
            local_extension: p.local_extension,
            subject: self.transport.subject.clone(),
            narrative: p.narrative,
            attachments: p.attachments,
            warnings,
            reply_to,
        })
    }
}

fn short_profile(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Calls `f(location, reference)` for every `Reference.reference` below `node`.
fn walk_references(node: &Node, loc: &str, f: &mut dyn FnMut(String, &str)) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for c in &node.children {
        *counts.entry(c.name).or_default() += 1;
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    for c in &node.children {
        let i = index.entry(c.name).or_default();
        let mut here = if counts[c.name] > 1 || LISTS.contains(&c.name) {
            format!("{loc}.{}[{i}]", c.name)
        } else {
            format!("{loc}.{}", c.name)
        };
        *i += 1;
        if !c.choice_type.is_empty() {
            here = format!("{here}.ofType({})", c.choice_type);
        }
        if c.name == "reference" && node.type_name == "Reference" {
            if let Some(v) = c.value.as_deref() {
                f(loc.to_owned(), v);
            }
        } else if !c.is_primitive() {
            walk_references(c, &here, f);
        }
    }
}
