//! The Send Document and ITK3 response rules that profiles cannot express.
//!
//! Each finding's `rule` is the NHS requirement ID where there is one
//! (`GPCM-SD-105`), else a short name (`fullurl`); its `profile` is the
//! MessageDefinition the rule belongs to. Severity: **error** for a MUST the message
//! breaks; **warning** for a SHOULD, for a departure NHS's documents disagree on and
//! receivers accept (spec §8/§9), and for deprecated values; **information** for a
//! note. `docs/validation.md` lists them all.

use std::collections::{HashMap, HashSet};

use fhir_validator::{Finding, IssueType, Node, Severity};

use crate::message::{Document, Entry, Message, MessageKind, Role, Target};
use crate::urls;
use crate::validate::{Edition, Options};

/// The codes SCAL GPCM-SD-115 calls "current approved" for `Composition.type`.
const APPROVED_TYPES: &[&str] = &["371531000", "149701000000109"];
/// The one `Composition.type` of a 1.3 consultation summary.
const CONSULTATION_REPORT_TYPE: &str = "371531000";
/// LocalExtension values of 1.3 consultation summaries (requirements, then examples).
const LEGACY_LOCAL_EXTENSIONS: &[&str] = &[
    "SendDocument-ConsultationSummary",
    "SendDocument-ConsultationReport",
];
/// ITK3 response codes that are positive (`MessageHeader.response.code = ok`).
const POSITIVE_RESPONSE_CODES: &[&str] = &["20013", "30001", "30004"];

/// Every rule for `msg`, with these options. `by_profile` are the profile
/// validation's findings: a reference whose target type a profile already rejects
/// (`reference-target`) is not reported again.
pub(crate) fn check(msg: &Message<'_>, options: Options, by_profile: &[Finding]) -> Vec<Finding> {
    let mut c = Checks {
        findings: Vec::new(),
        targets_reported: by_profile
            .iter()
            .filter(|f| f.rule == "reference-target")
            .map(|f| f.location.clone())
            .collect(),
        edition: options.edition,
        profile: match msg.kind {
            MessageKind::SendDocument => urls::SEND_DOCUMENT_DEFINITION,
            MessageKind::Response => urls::RESPONSE_DEFINITION,
        },
    };
    c.header_first(msg);
    c.meta_profiles(msg);
    c.identities(&msg.entries);
    if let Some(d) = &msg.document {
        c.identities(&d.entries);
    }
    if let Some((h, hloc)) = msg.header() {
        match msg.kind {
            MessageKind::SendDocument => c.send_document_header(msg, h, hloc),
            MessageKind::Response => c.response(msg, h, hloc),
        }
    }
    if let Some(d) = &msg.document {
        c.document(d);
    }
    c.findings
}

struct Checks {
    findings: Vec<Finding>,
    /// Locations of references the profile validation found pointing at a type or
    /// profile they do not allow.
    targets_reported: HashSet<String>,
    edition: Edition,
    profile: &'static str,
}

impl Checks {
    fn add(
        &mut self,
        severity: Severity,
        issue: IssueType,
        loc: &str,
        rule: &str,
        message: String,
    ) {
        self.findings.push(Finding {
            severity,
            issue,
            location: loc.to_owned(),
            rule: rule.to_owned(),
            profile: self.profile.to_owned(),
            message,
        });
    }

    /// `v2` under Send Document 2.0.2, `v1_3` under 1.3.x.
    fn by_edition(&self, v2: Severity, v1_3: Severity) -> Severity {
        match self.edition {
            Edition::V2 => v2,
            Edition::V1_3 => v1_3,
        }
    }

    /// The MessageHeader is the first entry.
    fn header_first(&mut self, msg: &Message<'_>) {
        match msg.header {
            None if !msg.entries.is_empty() => self.add(
                Severity::Error,
                IssueType::Required,
                "Bundle.entry",
                "message-header-first",
                "the message Bundle has no MessageHeader entry; a message starts with one"
                    .to_owned(),
            ),
            Some(i) if i != 0 => self.add(
                Severity::Error,
                IssueType::Structure,
                &msg.entries[0].loc,
                "message-header-first",
                format!(
                    "the first entry is {}; the MessageHeader (entry[{i}]) must come first",
                    a(msg.entries[0].type_name())
                ),
            ),
            _ => {}
        }
    }

    /// GPCM-SD-108: every resource names its profile in `meta.profile`.
    fn meta_profiles(&mut self, msg: &Message<'_>) {
        let roles: HashMap<String, Role> = msg
            .roles()
            .into_iter()
            .map(|r| (r.location, r.role))
            .collect();
        let mut resources: Vec<(&str, &Node)> = vec![(msg.root.type_name, msg.root)];
        let held = msg
            .entries
            .iter()
            .chain(msg.document.iter().flat_map(|d| d.entries.iter()));
        resources.extend(held.filter_map(|e| Some((e.res_loc.as_str(), e.resource?))));
        for (loc, node) in resources {
            let claimed: Vec<&str> = node
                .child("meta")
                .map(|m| {
                    m.children_named("profile")
                        .filter_map(|p| p.value.as_deref())
                        .collect()
                })
                .unwrap_or_default();
            let at = format!("{loc}.meta.profile");
            let ty = node.type_name;
            match roles.get(loc) {
                Some(role) if !claimed.contains(&role.profile()) => {
                    let url = role.profile();
                    let what = role.describe();
                    let message = if claimed.is_empty() {
                        format!(
                            "the {ty} has no meta.profile; every resource names its profile. \
                             As {what} it was validated against {url}"
                        )
                    } else {
                        format!(
                            "meta.profile names {} but not {url}, the profile of {what}; it \
                             was validated against {url} only",
                            claimed.join(", ")
                        )
                    };
                    self.add(
                        Severity::Error,
                        IssueType::Required,
                        &at,
                        "GPCM-SD-108",
                        message,
                    );
                }
                Some(role) if claimed.len() > 1 => {
                    let others: Vec<&str> = claimed
                        .iter()
                        .copied()
                        .filter(|p| *p != role.profile())
                        .collect();
                    self.add(
                        Severity::Information,
                        IssueType::Informational,
                        &at,
                        "GPCM-SD-108",
                        format!(
                            "meta.profile also names {}, which was not checked: as {} the {ty} \
                             was validated against {} only",
                            others.join(", "),
                            role.describe(),
                            role.profile()
                        ),
                    );
                }
                Some(_) => {}
                None if claimed.is_empty() => self.add(
                    Severity::Error,
                    IssueType::Required,
                    &at,
                    "GPCM-SD-108",
                    format!(
                        "the {ty} has no meta.profile; every resource names its profile. It has \
                         no Send Document role, so only its base definition was checked"
                    ),
                ),
                None => {}
            }
        }
    }

    /// Every entry's resource has an id, and the entry's `fullUrl` is `urn:uuid:` + it.
    fn identities(&mut self, entries: &[Entry<'_>]) {
        for e in entries {
            let Some(r) = e.resource else { continue };
            let Some(id) = r.child_value("id") else {
                self.add(
                    Severity::Error,
                    IssueType::Required,
                    &format!("{}.id", e.res_loc),
                    "resource-id",
                    format!(
                        "the {} has no id; every resource of the message has one (SD2 makes it \
                         mandatory for the Binary), and its entry's fullUrl is urn:uuid: + id",
                        r.type_name
                    ),
                );
                continue;
            };
            let expected = format!("urn:uuid:{id}");
            match e.full_url {
                None => self.add(
                    Severity::Error,
                    IssueType::Required,
                    &format!("{}.fullUrl", e.loc),
                    "fullurl",
                    format!("the entry has no fullUrl; it must be {expected}"),
                ),
                Some(url) if url != expected => self.add(
                    Severity::Error,
                    IssueType::Value,
                    &format!("{}.fullUrl", e.loc),
                    "fullurl",
                    format!(
                        "the fullUrl is {url}; it must be urn:uuid: + the resource id, {expected}"
                    ),
                ),
                Some(_) if !is_uuid(id) => self.add(
                    Severity::Error,
                    IssueType::Value,
                    &format!("{}.id", e.res_loc),
                    "fullurl",
                    format!(
                        "the id {id} is not a UUID (lower-case hexadecimal, 8-4-4-4-12), so \
                         {expected} is not a valid urn:uuid"
                    ),
                ),
                Some(_) => {}
            }
        }
    }

    /// A reference that must resolve, inside `entries`, to a resource of type `want`.
    /// `Some(i)` when it does.
    #[allow(clippy::too_many_arguments)]
    fn expect_target(
        &mut self,
        t: &Target,
        loc: &str,
        entries: &[Entry<'_>],
        scope: &str,
        want: &str,
        rule: &str,
        what: &str,
    ) -> Option<usize> {
        match t {
            Target::Absent | Target::NoReference => None,
            Target::Unresolved(r) => {
                self.add(
                    Severity::Error,
                    IssueType::Structure,
                    loc,
                    rule,
                    format!("{what} references {r}, which is the fullUrl of no entry of {scope}"),
                );
                None
            }
            Target::Entry(i) if entries[*i].is(want) => Some(*i),
            Target::Entry(_) if self.targets_reported.contains(loc) => None,
            Target::Entry(i) => {
                self.add(
                    Severity::Error,
                    IssueType::Structure,
                    loc,
                    rule,
                    format!(
                        "{what} references {} ({}); it must reference the {want}",
                        a(entries[*i].type_name()),
                        entries[*i].loc
                    ),
                );
                None
            }
        }
    }

    fn send_document_header(&mut self, msg: &Message<'_>, h: &Node, hloc: &str) {
        if let Some(code) = h.child("event").and_then(|e| e.child_value("code")) {
            if code != urls::EVENT_SEND_DOCUMENT {
                self.add(
                    Severity::Error,
                    IssueType::Value,
                    &format!("{hloc}.event.code"),
                    "GPCM-SD-047",
                    format!(
                        "the event is {code}; a Send Document message has ITK007C (it was \
                         checked as one)"
                    ),
                );
            }
        }
        for (key, rule) in [
            ("BusAckRequested", "GPCM-SD-040"),
            ("InfAckRequested", "GPCM-SD-041"),
        ] {
            if let Some((v, loc)) = handling_key(h, hloc, key) {
                if v.value.as_deref() == Some("false") {
                    self.add(
                        Severity::Error,
                        IssueType::Value,
                        &loc,
                        rule,
                        format!(
                            "{key} is false; a Send Document message asks for both \
                             acknowledgements (a receiver answers 10008)"
                        ),
                    );
                }
            }
        }
        if self.edition == Edition::V1_3 {
            if let Some((v, loc)) = handling_key(h, hloc, "RecipientType") {
                if let Some(code) = v.child_value("code").filter(|c| *c != "FA") {
                    self.add(
                        Severity::Error,
                        IssueType::Value,
                        &loc,
                        "GPCM-SD-039",
                        format!("RecipientType is {code}; a 1.3 consultation summary is FA"),
                    );
                }
            }
        }
        if let Some((v, loc)) = handling_key(h, hloc, "MessageDefinition") {
            match v.child_value("reference") {
                Some(urls::SEND_DOCUMENT_DEFINITION) | None => {}
                Some(urls::SEND_DOCUMENT_DEFINITION_INSTANCE) => self.add(
                    Severity::Warning,
                    IssueType::Value,
                    &loc,
                    "GPCM-SD-043",
                    format!(
                        "the MessageDefinition is the SCAL's ...-Instance-1 spelling, which \
                         receivers accept; the definition's canonical URL is {}",
                        urls::SEND_DOCUMENT_DEFINITION
                    ),
                ),
                Some(other) => self.add(
                    Severity::Error,
                    IssueType::Value,
                    &loc,
                    "GPCM-SD-043",
                    format!(
                        "the MessageDefinition is {other}; a Send Document message names {} \
                         (a receiver answers 10004)",
                        urls::SEND_DOCUMENT_DEFINITION
                    ),
                ),
            }
        }
        if let Some((v, loc)) = handling_key(h, hloc, "SenderReference") {
            if v.value
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("none"))
            {
                self.add(
                    Severity::Warning,
                    IssueType::Value,
                    &loc,
                    "GPCM-SD-042",
                    "SenderReference is None; a Send Document message gives the unique ID of \
                     the activity at the sender"
                        .to_owned(),
                );
            }
        }
        if let Some((v, loc)) = handling_key(h, hloc, "LocalExtension") {
            if let Some(value) = v.value.as_deref() {
                let (ok, expected) = match self.edition {
                    Edition::V2 => (
                        value.eq_ignore_ascii_case("none"),
                        "None in Send Document 2.x, which identifies documents by \
                         Composition.type and never by this key",
                    ),
                    Edition::V1_3 => (
                        LEGACY_LOCAL_EXTENSIONS.contains(&value),
                        "SendDocument-ConsultationSummary in a 1.3 consultation summary",
                    ),
                };
                if !ok {
                    self.add(
                        Severity::Warning,
                        IssueType::Value,
                        &loc,
                        "GPCM-SD-044",
                        format!("LocalExtension is {value}; it is {expected}"),
                    );
                }
            }
        }
        if h.child("receiver").is_some() {
            self.add(
                self.by_edition(Severity::Warning, Severity::Error),
                IssueType::Structure,
                &format!("{hloc}.receiver"),
                "GPCM-SD-049",
                "MessageHeader.receiver is given; MESH routes a Send Document message by the \
                 patient's details, so it is not populated"
                    .to_owned(),
            );
        }
        let sender_loc = format!("{hloc}.sender");
        match &msg.sender {
            Target::Entry(i) if msg.entries[*i].is("Practitioner") => self.add(
                Severity::Error,
                IssueType::Structure,
                &sender_loc,
                "GPCM-SD-045",
                format!(
                    "MessageHeader.sender references a Practitioner ({}); a Send Document \
                     sender is the CareConnect-ITK-Header-Organization-1 entry",
                    msg.entries[*i].loc
                ),
            ),
            t => {
                self.expect_target(
                    t,
                    &sender_loc,
                    &msg.entries,
                    "the message Bundle",
                    "Organization",
                    "GPCM-SD-045",
                    "MessageHeader.sender",
                );
            }
        }
        if let Some(i) = msg
            .sender_entry
            .filter(|i| msg.entries[*i].is("Organization"))
        {
            let e = &msg.entries[i];
            if let Some(org) = e.resource {
                if !has_identifier(org, urls::ODS_ORGANIZATION_CODE) {
                    self.add(
                        Severity::Error,
                        IssueType::Required,
                        &format!("{}.identifier", e.res_loc),
                        "GPCM-SD-045",
                        format!(
                            "the header Organization has no ODS code (identifier system {}); \
                             it identifies the sender",
                            urls::ODS_ORGANIZATION_CODE
                        ),
                    );
                }
            }
        }
        let focus_loc = format!("{hloc}.focus");
        if let Target::Absent = msg.focus {
            self.add(
                Severity::Error,
                IssueType::Required,
                &focus_loc,
                "GPCM-SD-103",
                "MessageHeader.focus is missing; it references the document Bundle".to_owned(),
            );
        }
        self.expect_target(
            &msg.focus,
            &focus_loc,
            &msg.entries,
            "the message Bundle",
            "Bundle",
            "GPCM-SD-103",
            "MessageHeader.focus",
        );
        let document = msg.document_entry();
        self.extra_entries(
            msg,
            &[msg.header, msg.sender_entry, document],
            "the MessageHeader, the header Organization and the document Bundle",
        );
        if let Some(d) = &msg.document {
            if let (Some(a), Some(b)) = (identifier(msg.root), identifier(d.node)) {
                if a == b {
                    self.add(
                        Severity::Warning,
                        IssueType::Value,
                        &format!("{}.identifier", d.loc),
                        "distinct-identifiers",
                        format!(
                            "the document Bundle has the message Bundle's identifier ({}|{}); \
                             receivers' duplicate message (20007) and duplicate document (20008) \
                             checks key on them, so each has its own UUID",
                            a.0, a.1
                        ),
                    );
                }
            }
        }
    }

    /// Entries of the message Bundle that play none of the `expected` roles.
    fn extra_entries(&mut self, msg: &Message<'_>, expected: &[Option<usize>], which: &str) {
        for (i, e) in msg.entries.iter().enumerate() {
            if !expected.contains(&Some(i)) {
                self.add(
                    Severity::Warning,
                    IssueType::Structure,
                    &e.loc,
                    "message-entries",
                    format!(
                        "this entry ({}) is not one the MessageHeader uses; the message \
                         Bundle holds {which} only",
                        a(e.type_name())
                    ),
                );
            }
        }
    }

    fn document(&mut self, d: &Document<'_>) {
        let Some(ci) = d.composition else {
            self.add(
                Severity::Error,
                IssueType::Required,
                &format!("{}.entry", d.loc),
                "GPCM-SD-104",
                "the document Bundle holds no Composition".to_owned(),
            );
            return;
        };
        if ci != 0 {
            self.add(
                Severity::Error,
                IssueType::Structure,
                &d.entries[0].loc,
                "composition-first",
                format!(
                    "the first entry of the document Bundle is {}; the Composition (entry[{ci}]) \
                     must come first",
                    a(d.entries[0].type_name())
                ),
            );
        }
        let e = &d.entries[ci];
        let Some(comp) = e.resource else { return };
        let cloc = e.res_loc.as_str();
        let scope = "the document Bundle";

        let subject = crate::message::target(comp.child("subject"), &d.entries);
        self.expect_target(
            &subject,
            &format!("{cloc}.subject"),
            &d.entries,
            scope,
            "Patient",
            "GPCM-SD-106",
            "Composition.subject",
        );

        let custodian_loc = format!("{cloc}.custodian");
        let custodian = crate::message::target(comp.child("custodian"), &d.entries);
        if let Target::Absent = custodian {
            self.add(
                Severity::Error,
                IssueType::Required,
                &custodian_loc,
                "GPCM-SD-105",
                "Composition.custodian is missing; it references the sending Organization \
                 (CareConnect-Organization-1) in the document Bundle"
                    .to_owned(),
            );
        }
        self.expect_target(
            &custodian,
            &custodian_loc,
            &d.entries,
            scope,
            "Organization",
            "GPCM-SD-105",
            "Composition.custodian",
        );

        self.authors(d, comp, cloc);
        self.sections(d, comp, cloc);

        match (self.edition, comp.child_value("confidentiality")) {
            (Edition::V2, Some("R")) => self.add(
                Severity::Error,
                IssueType::Value,
                &format!("{cloc}.confidentiality"),
                "GPCM-SD-117",
                "confidentiality is R: Send Document 2.0.2 sends no confidential items, and a \
                 receiver rejects such a document (20009)"
                    .to_owned(),
            ),
            (Edition::V1_3, None) => self.add(
                Severity::Error,
                IssueType::Required,
                &format!("{cloc}.confidentiality"),
                "GPCM-SD-117",
                "confidentiality is missing; a 1.3 consultation summary gives N, or R".to_owned(),
            ),
            _ => {}
        }

        if let Some(ty) = comp.child("type") {
            let codes: Vec<&str> = ty
                .children_named("coding")
                .filter(|c| c.child_value("system") == Some(urls::SNOMED_CT))
                .filter_map(|c| c.child_value("code"))
                .collect();
            let shown = if codes.is_empty() {
                "has no SNOMED CT coding".to_owned()
            } else {
                format!("is SNOMED CT {}", codes.join(", "))
            };
            let loc = format!("{cloc}.type");
            match self.edition {
                Edition::V2 if !codes.iter().any(|c| APPROVED_TYPES.contains(c)) => self.add(
                    Severity::Warning,
                    IssueType::Value,
                    &loc,
                    "GPCM-SD-115",
                    format!(
                        "Composition.type {shown}; the approved document types are 371531000 \
                         (Report of clinical encounter) and 149701000000109 (Remote health \
                         correspondence), and receivers may file others as unknown documents"
                    ),
                ),
                Edition::V1_3 if !codes.contains(&CONSULTATION_REPORT_TYPE) => self.add(
                    Severity::Error,
                    IssueType::Value,
                    &loc,
                    "GPCM-SD-115",
                    format!("Composition.type {shown}; a 1.3 consultation summary is 371531000"),
                ),
                _ => {}
            }
        }

        if let Some(date) = comp.child_value("date") {
            if !date.contains('T') {
                self.add(
                    Severity::Warning,
                    IssueType::Value,
                    &format!("{cloc}.date"),
                    "GPCM-SD-116",
                    format!(
                        "Composition.date is {date}, a date only; it is the date and time the \
                         message was created"
                    ),
                );
            }
        }

        self.payload_resources(d);
    }

    /// GPCM-SD-107: the author is the Practitioner (spec §9.3).
    fn authors(&mut self, d: &Document<'_>, comp: &Node, cloc: &str) {
        let mut practitioner = false;
        let mut wrong = false;
        let mut any = false;
        for (k, author) in comp.children_named("author").enumerate() {
            any = true;
            let loc = format!("{cloc}.author[{k}]");
            match crate::message::target(Some(author), &d.entries) {
                Target::Absent | Target::NoReference => {}
                Target::Unresolved(r) => {
                    wrong = true;
                    self.add(
                        Severity::Error,
                        IssueType::Structure,
                        &loc,
                        "GPCM-SD-107",
                        format!(
                            "Composition.author references {r}, which is the fullUrl of no \
                             entry of the document Bundle"
                        ),
                    );
                }
                Target::Entry(i) => match d.entries[i].type_name() {
                    "Practitioner" => practitioner = true,
                    "Patient" | "Device" | "RelatedPerson" => {}
                    // Reported by the profile validation (reference-target).
                    _ if self.targets_reported.contains(&loc) => wrong = true,
                    other => {
                        wrong = true;
                        self.add(
                            Severity::Error,
                            IssueType::Structure,
                            &loc,
                            "GPCM-SD-107",
                            format!(
                                "Composition.author references {} ({}); \
                                 CareConnect-Composition-1 allows a Practitioner, Patient, \
                                 Device or RelatedPerson only, so the author is the \
                                 Practitioner (the SCAL's \"the sending Organization\" cannot \
                                 be followed)",
                                a(other),
                                d.entries[i].loc
                            ),
                        );
                    }
                },
            }
        }
        if any && !practitioner && !wrong {
            self.add(
                self.by_edition(Severity::Warning, Severity::Error),
                IssueType::Structure,
                &format!("{cloc}.author"),
                "GPCM-SD-107",
                "no Composition.author references the Practitioner who delivered care".to_owned(),
            );
        }
    }

    /// GPCM-SD-109/110: one section per attachment; section entries reference Binaries.
    fn sections(&mut self, d: &Document<'_>, comp: &Node, cloc: &str) {
        let mut referenced: HashSet<usize> = HashSet::new();
        for (s, section) in comp.children_named("section").enumerate() {
            let mut in_section = 0;
            for (k, entry) in section.children_named("entry").enumerate() {
                let loc = format!("{cloc}.section[{s}].entry[{k}]");
                match crate::message::target(Some(entry), &d.entries) {
                    Target::Absent | Target::NoReference => {}
                    Target::Unresolved(r) => self.add(
                        Severity::Error,
                        IssueType::Structure,
                        &loc,
                        "GPCM-SD-110",
                        format!(
                            "section.entry references {r}, which is the fullUrl of no entry of \
                             the document Bundle (attachments travel in it)"
                        ),
                    ),
                    Target::Entry(i) if d.entries[i].is("Binary") => {
                        in_section += 1;
                        referenced.insert(i);
                    }
                    Target::Entry(i) => self.add(
                        Severity::Warning,
                        IssueType::Structure,
                        &loc,
                        "GPCM-SD-110",
                        format!(
                            "section.entry references {} ({}), not an attachment Binary \
                             (receivers tolerate it)",
                            a(d.entries[i].type_name()),
                            d.entries[i].loc
                        ),
                    ),
                }
            }
            if in_section > 1 {
                self.add(
                    Severity::Warning,
                    IssueType::Structure,
                    &format!("{cloc}.section[{s}]"),
                    "GPCM-SD-109",
                    format!("the section references {in_section} attachments; each has a section of its own"),
                );
            }
        }
        if referenced.is_empty() {
            self.add(
                Severity::Error,
                IssueType::Required,
                &format!("{cloc}.section"),
                "GPCM-SD-110",
                "no section.entry references a Binary: the document travels as an \
                 ITK-Attachment-Binary-1 attachment (1..*)"
                    .to_owned(),
            );
            return;
        }
        for (i, e) in d.entries.iter().enumerate() {
            if e.is("Binary") && !referenced.contains(&i) {
                self.add(
                    Severity::Warning,
                    IssueType::Structure,
                    &e.res_loc,
                    "GPCM-SD-109",
                    "no section.entry references this attachment, so a receiver may not show \
                     it; each attachment has a section of its own"
                        .to_owned(),
                );
            }
        }
    }

    /// The Organization, Practitioner and Patient rules (GPCM-SD-029…037).
    fn payload_resources(&mut self, d: &Document<'_>) {
        let mut practitioners = 0;
        for e in &d.entries {
            let Some(r) = e.resource else { continue };
            let loc = e.res_loc.as_str();
            match r.type_name {
                "Organization" => {
                    if !has_identifier(r, urls::ODS_ORGANIZATION_CODE) {
                        self.add(
                            Severity::Error,
                            IssueType::Required,
                            &format!("{loc}.identifier"),
                            "GPCM-SD-029",
                            format!(
                                "the sending Organization has no ODS code (identifier system {})",
                                urls::ODS_ORGANIZATION_CODE
                            ),
                        );
                    }
                    if r.child_value("name").is_none() {
                        self.add(
                            Severity::Error,
                            IssueType::Required,
                            &format!("{loc}.name"),
                            "GPCM-SD-030",
                            "the sending Organization has no name".to_owned(),
                        );
                    }
                }
                "Practitioner" => {
                    practitioners += 1;
                    if !has_identifier(r, urls::SDS_USER_ID) {
                        self.add(
                            self.by_edition(Severity::Warning, Severity::Error),
                            IssueType::Required,
                            &format!("{loc}.identifier"),
                            "GPCM-SD-032",
                            format!(
                                "the Practitioner has no SDS user ID (identifier system {})",
                                urls::SDS_USER_ID
                            ),
                        );
                    }
                    if !r
                        .children_named("name")
                        .any(|n| n.child_value("use") == Some("official"))
                    {
                        self.add(
                            Severity::Error,
                            IssueType::Required,
                            &format!("{loc}.name"),
                            "GPCM-SD-033",
                            "the Practitioner has no name with use official".to_owned(),
                        );
                    }
                }
                "Patient" => self.patient(r, loc),
                _ => {}
            }
        }
        if practitioners == 0 && self.edition == Edition::V1_3 {
            self.add(
                Severity::Error,
                IssueType::Required,
                &format!("{}.entry", d.loc),
                "GPCM-SD-032",
                "the document Bundle has no Practitioner; a 1.3 consultation summary names the \
                 practitioner who delivered care"
                    .to_owned(),
            );
        }
    }

    /// GPCM-SD-035 and 037 (036, the official name, is CareConnect-Patient-1's
    /// `name:official` slice).
    fn patient(&mut self, r: &Node, loc: &str) {
        let nhs: Vec<(usize, &Node)> = r
            .children_named("identifier")
            .enumerate()
            .filter(|(_, i)| i.child_value("system") == Some(urls::NHS_NUMBER))
            .collect();
        if nhs.is_empty() {
            self.add(
                Severity::Error,
                IssueType::Required,
                &format!("{loc}.identifier"),
                "GPCM-SD-035",
                format!(
                    "the Patient has no NHS number (identifier system {})",
                    urls::NHS_NUMBER
                ),
            );
        }
        for (i, id) in nhs {
            if let Some(v) = id.child_value("value") {
                if v.len() != 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
                    self.add(
                        Severity::Error,
                        IssueType::Value,
                        &format!("{loc}.identifier[{i}].value"),
                        "GPCM-SD-035",
                        format!("the NHS number {v} is not 10 digits"),
                    );
                }
            }
        }
        match r.child_value("birthDate") {
            None => self.add(
                Severity::Error,
                IssueType::Required,
                &format!("{loc}.birthDate"),
                "GPCM-SD-037",
                "the Patient has no birthDate (YYYY-MM-DD)".to_owned(),
            ),
            Some(d) if d.len() != 10 => self.add(
                Severity::Error,
                IssueType::Value,
                &format!("{loc}.birthDate"),
                "GPCM-SD-037",
                format!("the birthDate {d} is not a full date (YYYY-MM-DD)"),
            ),
            Some(_) => {}
        }
    }

    /// GP Connect's rules for ITK3 responses (GPCM-SD-050…053, 074).
    fn response(&mut self, msg: &Message<'_>, h: &Node, hloc: &str) {
        for (key, rule) in [
            ("BusAckRequested", "GPCM-SD-050"),
            ("InfAckRequested", "GPCM-SD-051"),
        ] {
            if let Some((v, loc)) = handling_key(h, hloc, key) {
                if v.value.as_deref() == Some("true") {
                    self.add(
                        Severity::Warning,
                        IssueType::Value,
                        &loc,
                        rule,
                        format!(
                            "{key} is true; a GP Connect response asks for no acknowledgement \
                             (ITK3's own examples do, and are accepted when reading)"
                        ),
                    );
                }
            }
        }
        if let Some((v, loc)) = handling_key(h, hloc, "SenderReference") {
            if v.value
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("none"))
            {
                self.add(
                    Severity::Warning,
                    IssueType::Value,
                    &loc,
                    "GPCM-SD-052",
                    "SenderReference is None; a GP Connect response echoes the SenderReference \
                     of the message it answers (ITK3's default None is accepted when reading)"
                        .to_owned(),
                );
            }
        }
        if let Some((v, loc)) = handling_key(h, hloc, "MessageDefinition") {
            if let Some(other) = v
                .child_value("reference")
                .filter(|r| *r != urls::RESPONSE_DEFINITION)
            {
                self.add(
                    Severity::Error,
                    IssueType::Value,
                    &loc,
                    "response-message-definition",
                    format!(
                        "the MessageDefinition of a response is {}, not {other}",
                        urls::RESPONSE_DEFINITION
                    ),
                );
            }
        }
        let sender_loc = format!("{hloc}.sender");
        match &msg.sender {
            Target::Entry(i) if msg.entries[*i].is("Practitioner") => self.add(
                Severity::Warning,
                IssueType::Structure,
                &sender_loc,
                "GPCM-SD-053",
                format!(
                    "MessageHeader.sender references a Practitioner ({}); a GP Connect response \
                     is sent by the header Organization (ITK3's examples use a Practitioner, \
                     accepted when reading)",
                    msg.entries[*i].loc
                ),
            ),
            t => {
                self.expect_target(
                    t,
                    &sender_loc,
                    &msg.entries,
                    "the message Bundle",
                    "Organization",
                    "GPCM-SD-053",
                    "MessageHeader.sender",
                );
            }
        }
        let response = h.child("response");
        if response.is_none() {
            self.add(
                Severity::Error,
                IssueType::Required,
                &format!("{hloc}.response"),
                "response-details",
                "an ITK3 response (event ITK008M) has MessageHeader.response".to_owned(),
            );
        }
        self.expect_target(
            &msg.details,
            &format!("{hloc}.response.details"),
            &msg.entries,
            "the message Bundle",
            "OperationOutcome",
            "response-details",
            "MessageHeader.response.details",
        );
        if let Some(e) = msg.outcome_entry.map(|i| &msg.entries[i]) {
            if let Some(oo) = e.resource {
                self.outcome(oo, &e.res_loc, response, hloc);
            }
        }
        self.extra_entries(
            msg,
            &[msg.header, msg.sender_entry, msg.outcome_entry],
            "the MessageHeader, its sender and the OperationOutcome",
        );
    }

    /// The response OperationOutcome: diagnostics on errors (GPCM-SD-074), and
    /// `MessageHeader.response.code` agreeing with the ITK3 response code.
    fn outcome(&mut self, oo: &Node, loc: &str, response: Option<&Node>, hloc: &str) {
        let mut codes = Vec::new();
        for (i, issue) in oo.children_named("issue").enumerate() {
            let severity = issue.child_value("severity");
            if matches!(severity, Some("fatal" | "error")) && issue.child("diagnostics").is_none() {
                self.add(
                    Severity::Error,
                    IssueType::Required,
                    &format!("{loc}.issue[{i}].diagnostics"),
                    "GPCM-SD-074",
                    "the issue is an error without diagnostics; a negative response describes \
                     the error and its context there"
                        .to_owned(),
                );
            }
            codes.extend(
                issue
                    .child("details")
                    .into_iter()
                    .flat_map(|d| d.children_named("coding"))
                    .filter(|c| c.child_value("system") == Some(urls::RESPONSE_CODES_SYSTEM))
                    .filter_map(|c| c.child_value("code")),
            );
        }
        if codes.is_empty() {
            return;
        }
        let expected = if codes.iter().all(|c| POSITIVE_RESPONSE_CODES.contains(c)) {
            "ok"
        } else {
            "fatal-error"
        };
        if let Some(code) = response.and_then(|r| r.child_value("code")) {
            if code != expected {
                self.add(
                    Severity::Error,
                    IssueType::Value,
                    &format!("{hloc}.response.code"),
                    "response-code",
                    format!(
                        "MessageHeader.response.code is {code}, but the outcome's ITK3 response \
                         code {} calls for {expected}",
                        codes.join(", ")
                    ),
                );
            }
        }
    }
}

/// A handling key's value (`MessageHeader.extension(MessageHandling).extension(key).value`)
/// and its location.
fn handling_key<'n>(header: &'n Node, hloc: &str, key: &str) -> Option<(&'n Node, String)> {
    let (i, ext) = header
        .children_named("extension")
        .enumerate()
        .find(|(_, e)| e.child_value("url") == Some(urls::MESSAGE_HANDLING))?;
    let (j, sub) = ext
        .children_named("extension")
        .enumerate()
        .find(|(_, e)| e.child_value("url") == Some(key))?;
    let value = sub.child("value")?;
    let loc = format!(
        "{hloc}.extension[{i}].extension[{j}].value.ofType({})",
        value.choice_type
    );
    Some((value, loc))
}

/// `a Patient`, `an Organization`.
fn a(type_name: &str) -> String {
    if type_name.starts_with('(') {
        return type_name.to_owned();
    }
    let vowel = type_name.starts_with(['A', 'E', 'I', 'O', 'U']);
    format!("{} {type_name}", if vowel { "an" } else { "a" })
}

fn has_identifier(r: &Node, system: &str) -> bool {
    r.children_named("identifier")
        .any(|i| i.child_value("system") == Some(system))
}

/// A Bundle's `identifier` as (system, value), when it has both.
fn identifier(bundle: &Node) -> Option<(&str, &str)> {
    let id = bundle.child("identifier")?;
    Some((id.child_value("system")?, id.child_value("value")?))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower-case hexadecimal.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

#[cfg(test)]
mod tests {
    use super::is_uuid;

    #[test]
    fn uuids() {
        assert!(is_uuid("caf5f17d-e73d-4aaa-a406-dab1717da0c4"));
        assert!(!is_uuid("CAF5F17D-E73D-4AAA-A406-DAB1717DA0C4"));
        assert!(!is_uuid("caf5f17d-e73d-4aaa-a406-dab1717da0c"));
        assert!(!is_uuid("caf5f17de73d-4aaa-a406-dab1717da0c4-"));
        assert!(!is_uuid("send-document--generic-example"));
    }
}
