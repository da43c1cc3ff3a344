//! The MESH client's control file: the `DTSControl` XML beside each `.dat` payload in
//! the client's `OUT` and `IN` folders, and the `StatusRecord` the client and server
//! add to report what happened to a message.
//!
//! [`ControlFile::to_xml`] writes the fields in the order of NHS's published GP Connect
//! examples (`Version`, `AddressType`, `MessageType`, `From_DTS`, `To_DTS`, `Subject`,
//! `LocalId`, `DTSId`, `PartnerId`, `Compress`, `Encrypted`, `WorkflowId`, `ProcessId`,
//! `DataChecksum`, `IsCompressed`, then `AllowChunking` when set), one element per line,
//! empty fields as `<Name></Name>`. [`ControlFile::parse`] reads any order, treats
//! every element as optional, keeps elements it does not know so that a read file
//! writes back with nothing lost, and reports faults with line and column.

use std::fmt::Write as _;

use chrono::NaiveDateTime;
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::status::StatusCode;

/// `MessageType`: a data message, or a report about another message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `Data`: a payload for the recipient.
    Data,
    /// `Report`: MESH's report about a message (delivery failure, non-collection).
    Report,
}

impl MessageType {
    /// The control-file spelling: `Data` or `Report`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Data => "Data",
            MessageType::Report => "Report",
        }
    }

    /// Reads `Data`/`DATA`/`Report`/`REPORT` (the API spells them in upper case).
    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("data") {
            Some(MessageType::Data)
        } else if text.eq_ignore_ascii_case("report") {
            Some(MessageType::Report)
        } else {
            None
        }
    }
}

/// A `StatusRecord`: one event in a message's life, written by the MESH client or
/// server (`TRANSFER`/`SUCCESS`/`00` on delivery; `SEND`/`ERROR`/`EPL-152` for a
/// failed `GPPROVIDER` lookup).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusRecord {
    /// `DateTime`, as written (`yyyyMMddHHmmss`); see [`StatusRecord::timestamp`].
    pub date_time: Option<String>,
    /// `Event`: `TRANSFER`, `SEND`, `COLLECT`, …
    pub event: Option<String>,
    /// `Status`: `SUCCESS` or `ERROR`.
    pub status: Option<String>,
    /// `StatusCode`: `00`, a MESH error code, or an endpoint-lookup code (`EPL-15x`).
    pub status_code: Option<StatusCode>,
    /// `Description`: MESH's text for the code.
    pub description: Option<String>,
    /// Elements this reader does not know, in file order, as (name, text); written
    /// back after the known ones.
    pub other: Vec<(String, String)>,
}

impl StatusRecord {
    /// `DateTime` read as `yyyyMMddHHmmss` (UTC). `None` when absent or not in
    /// that form.
    pub fn timestamp(&self) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(self.date_time.as_deref()?, "%Y%m%d%H%M%S").ok()
    }

    /// Whether the record reports a failure: `Status` is `ERROR`, or the code is
    /// anything but `00`.
    pub fn is_error(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("error"))
            || self.status_code.as_ref().is_some_and(|c| !c.is_success())
    }

    /// The record as a standalone `<StatusRecord>` document.
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push_str("<StatusRecord>\n");
        field(out, "DateTime", self.date_time.as_deref());
        field(out, "Event", self.event.as_deref());
        field(out, "Status", self.status.as_deref());
        field(
            out,
            "StatusCode",
            self.status_code.as_ref().map(StatusCode::as_str),
        );
        field(out, "Description", self.description.as_deref());
        for (name, text) in &self.other {
            field(out, name, Some(text));
        }
        out.push_str("</StatusRecord>\n");
    }

    /// Reads a standalone `<StatusRecord>` document (how NHS documents error reports).
    pub fn parse(xml: &str) -> Result<Self, ControlError> {
        let mut p = Parser::new(xml);
        p.root("StatusRecord")?;
        let record = p.status_record()?;
        p.end_of_document()?;
        Ok(record)
    }
}

/// A `DTSControl` control file. Every field is optional on read; [`ControlFile::new`]
/// fills the ones a sender must write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControlFile {
    /// `Version`: the control-file version, `1.0`. (Some GP Connect pages put the
    /// document version here; MESH's own error list has "invalid version of the
    /// control file", so we write `1.0` and put the document version in `Subject`.)
    pub version: Option<String>,
    /// `AddressType`: `DTS` when sending; received files show `ALL`.
    pub address_type: Option<String>,
    /// `MessageType`: `Data` or `Report`.
    pub message_type: Option<MessageType>,
    /// `From_DTS`: the sender's mailbox ID (`mex-From`).
    pub from_dts: Option<String>,
    /// `To_DTS`: the recipient mailbox ID or a `GPPROVIDER_…` address (`mex-To`).
    pub to_dts: Option<String>,
    /// `From_ESMTP`: legacy SMTP sender address, seen only in received files.
    pub from_esmtp: Option<String>,
    /// `To_ESMTP`: legacy SMTP recipient address, seen only in received files.
    pub to_esmtp: Option<String>,
    /// `Subject` (`mex-Subject`, at most 500 characters).
    pub subject: Option<String>,
    /// `LocalId`: the sender's reference (`mex-LocalID`); must carry no patient data.
    pub local_id: Option<String>,
    /// `DTSId`: the MESH message ID, filled in by the client in `SENT` and `IN` copies.
    pub dts_id: Option<String>,
    /// `PartnerId` (`mex-PartnerID`), passed through.
    pub partner_id: Option<String>,
    /// `Compress`: whether the client should gzip the payload in transit.
    pub compress: Option<bool>,
    /// `Encrypted` (`mex-Content-Encrypted`): a flag only.
    pub encrypted: Option<bool>,
    /// `WorkflowId` (`mex-WorkflowID`).
    pub workflow_id: Option<String>,
    /// `ProcessId`, passed through.
    pub process_id: Option<String>,
    /// `DataChecksum` (`mex-Content-Checksum`).
    pub data_checksum: Option<String>,
    /// `IsCompressed` (`mex-Content-Compressed`): the payload itself is compressed.
    pub is_compressed: Option<bool>,
    /// `AllowChunking`: whether the client may send a large payload in chunks.
    pub allow_chunking: Option<bool>,
    /// `StatusRecord`: what the client or server recorded about the message.
    pub status_record: Option<StatusRecord>,
    /// Elements this reader does not know, in file order, as (name, text); written
    /// back after the known fields.
    pub other: Vec<(String, String)>,
}

/// Where and why a control file could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("control file, line {line}, column {column}: {message}")]
pub struct ControlError {
    /// 1-based line of the fault.
    pub line: usize,
    /// 1-based column (in characters) of the fault.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl ControlFile {
    /// A data message's control file as a sender writes it: version `1.0`, address
    /// type `DTS`, message type `Data`, `Compress=Y`, `Encrypted=N`,
    /// `IsCompressed=N` and every other field empty.
    pub fn new(workflow_id: &str, from: &str, to: &str) -> Self {
        ControlFile {
            version: Some("1.0".into()),
            address_type: Some("DTS".into()),
            message_type: Some(MessageType::Data),
            from_dts: Some(from.into()),
            to_dts: Some(to.into()),
            workflow_id: Some(workflow_id.into()),
            compress: Some(true),
            encrypted: Some(false),
            is_compressed: Some(false),
            ..ControlFile::default()
        }
    }

    /// Whether this file reports on another message rather than carrying one:
    /// `MessageType` `Report`, or a `StatusRecord` with an error.
    pub fn is_report(&self) -> bool {
        self.message_type == Some(MessageType::Report)
            || self
                .status_record
                .as_ref()
                .is_some_and(StatusRecord::is_error)
    }

    /// The control file as XML, in the field order of NHS's published examples.
    /// Fields that are `None` are written empty, except `From_ESMTP`, `To_ESMTP`,
    /// `AllowChunking` and `StatusRecord`, which are left out.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<DTSControl>\n");
        let o = &mut out;
        field(o, "Version", self.version.as_deref());
        field(o, "AddressType", self.address_type.as_deref());
        field(o, "MessageType", self.message_type.map(MessageType::as_str));
        field(o, "From_DTS", self.from_dts.as_deref());
        field(o, "To_DTS", self.to_dts.as_deref());
        if self.from_esmtp.is_some() {
            field(o, "From_ESMTP", self.from_esmtp.as_deref());
        }
        if self.to_esmtp.is_some() {
            field(o, "To_ESMTP", self.to_esmtp.as_deref());
        }
        field(o, "Subject", self.subject.as_deref());
        field(o, "LocalId", self.local_id.as_deref());
        field(o, "DTSId", self.dts_id.as_deref());
        field(o, "PartnerId", self.partner_id.as_deref());
        field(o, "Compress", self.compress.map(yes_no));
        field(o, "Encrypted", self.encrypted.map(yes_no));
        field(o, "WorkflowId", self.workflow_id.as_deref());
        field(o, "ProcessId", self.process_id.as_deref());
        field(o, "DataChecksum", self.data_checksum.as_deref());
        field(o, "IsCompressed", self.is_compressed.map(yes_no));
        if self.allow_chunking.is_some() {
            field(o, "AllowChunking", self.allow_chunking.map(yes_no));
        }
        for (name, text) in &self.other {
            field(o, name, Some(text));
        }
        if let Some(record) = &self.status_record {
            record.write(o);
        }
        out.push_str("</DTSControl>\n");
        out
    }

    /// Reads a `DTSControl` document. Elements may come in any order; unknown ones
    /// are kept in [`ControlFile::other`]; a `Y`/`N` field holding anything else, an
    /// unknown `MessageType`, a repeated element, nested markup in a field, or
    /// malformed XML is an error naming its line and column.
    pub fn parse(xml: &str) -> Result<Self, ControlError> {
        let mut p = Parser::new(xml);
        p.root("DTSControl")?;
        let mut cf = ControlFile::default();
        while let Some(child) = p.next_child()? {
            let (name, at) = (child.name.as_str(), child.at);
            if name == "StatusRecord" {
                if cf.status_record.is_some() {
                    return Err(p.error_at(at, "StatusRecord appears twice".into()));
                }
                cf.status_record = Some(if child.empty {
                    StatusRecord::default()
                } else {
                    p.status_record()?
                });
                continue;
            }
            let text = p.text_of(&child)?;
            let flag = |p: &Parser, text: &str| -> Result<Option<bool>, ControlError> {
                match text {
                    "" => Ok(None),
                    t if t.eq_ignore_ascii_case("y") => Ok(Some(true)),
                    t if t.eq_ignore_ascii_case("n") => Ok(Some(false)),
                    t => Err(p.error_at(at, format!("<{name}> must be Y or N, found {t:?}"))),
                }
            };
            let opt = |t: String| (!t.is_empty()).then_some(t);
            let slot_taken = match name {
                "Version" => set(&mut cf.version, opt(text)),
                "AddressType" => set(&mut cf.address_type, opt(text)),
                "MessageType" => {
                    let ty = if text.is_empty() {
                        None
                    } else {
                        Some(MessageType::parse(&text).ok_or_else(|| {
                            p.error_at(
                                at,
                                format!("<MessageType> must be Data or Report, found {text:?}"),
                            )
                        })?)
                    };
                    set(&mut cf.message_type, ty)
                }
                "From_DTS" => set(&mut cf.from_dts, opt(text)),
                "To_DTS" => set(&mut cf.to_dts, opt(text)),
                "From_ESMTP" => set(&mut cf.from_esmtp, opt(text)),
                "To_ESMTP" => set(&mut cf.to_esmtp, opt(text)),
                "Subject" => set(&mut cf.subject, opt(text)),
                "LocalId" => set(&mut cf.local_id, opt(text)),
                "DTSId" => set(&mut cf.dts_id, opt(text)),
                "PartnerId" => set(&mut cf.partner_id, opt(text)),
                "Compress" => set(&mut cf.compress, flag(&p, &text)?),
                "Encrypted" => set(&mut cf.encrypted, flag(&p, &text)?),
                "WorkflowId" => set(&mut cf.workflow_id, opt(text)),
                "ProcessId" => set(&mut cf.process_id, opt(text)),
                "DataChecksum" => set(&mut cf.data_checksum, opt(text)),
                "IsCompressed" => set(&mut cf.is_compressed, flag(&p, &text)?),
                "AllowChunking" => set(&mut cf.allow_chunking, flag(&p, &text)?),
                _ => {
                    cf.other.push((name.to_owned(), text));
                    false
                }
            };
            if slot_taken {
                return Err(p.error_at(at, format!("<{name}> appears twice")));
            }
        }
        p.end_of_document()?;
        Ok(cf)
    }
}

/// Stores `value` in `slot`; returns whether the slot already held a value (a
/// repeated element).
/// Whether `name` is an XML name (ASCII rules; any non-ASCII character is
/// allowed): a letter, `_` or `:` first, then letters, digits, `-`, `.`, `_`, `:`.
/// quick-xml does not check names, and a name such as `a<b` could not be written back.
fn is_xml_name(name: &[u8]) -> bool {
    let ok = |b: u8, first: bool| {
        b >= 0x80
            || b.is_ascii_alphabetic()
            || b == b'_'
            || b == b':'
            || (!first && (b.is_ascii_digit() || b == b'-' || b == b'.'))
    };
    match name.split_first() {
        Some((&first, rest)) => ok(first, true) && rest.iter().all(|&b| ok(b, false)),
        None => false,
    }
}

fn set<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    let taken = slot.is_some();
    if value.is_some() {
        *slot = value;
    }
    taken
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "Y"
    } else {
        "N"
    }
}

fn field(out: &mut String, name: &str, value: Option<&str>) {
    let _ = write!(out, "<{name}>");
    escape_into(out, value.unwrap_or(""));
    let _ = writeln!(out, "</{name}>");
}

/// XML text escaping for control-file values: `&`, `<`, `>` and characters XML 1.0
/// cannot carry as text are written as references; CR is kept as `&#13;` so that it
/// survives line-ending normalisation.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// A child element just opened.
struct Child {
    /// Its name.
    name: String,
    /// Its byte offset, for error positions.
    at: usize,
    /// Written `<Name/>`: already closed, no text.
    empty: bool,
}

/// A small pull parser over a flat control document.
struct Parser<'a> {
    src: &'a str,
    reader: Reader<&'a [u8]>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        let mut reader = Reader::from_str(src);
        reader.config_mut().trim_text(false);
        Parser { src, reader }
    }

    fn error_at(&self, at: usize, message: String) -> ControlError {
        let at = at.min(self.src.len());
        let before = &self.src[..self.src.floor_char_boundary_compat(at)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ControlError {
            line,
            column,
            message,
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, usize), ControlError> {
        let at = self.reader.buffer_position() as usize;
        match self.reader.read_event() {
            Ok(ev) => {
                if let Event::Start(s) | Event::Empty(s) = &ev {
                    let name = s.name();
                    if !is_xml_name(name.as_ref()) {
                        let shown = String::from_utf8_lossy(name.as_ref()).into_owned();
                        return Err(self.error_at(
                            at,
                            format!("malformed XML: `{shown}` is not an element name"),
                        ));
                    }
                }
                Ok((ev, at))
            }
            Err(e) => {
                let pos = self.reader.error_position() as usize;
                Err(self.error_at(pos, format!("malformed XML: {e}")))
            }
        }
    }

    /// Skips the prolog and opens the root element, which must be `expected`.
    fn root(&mut self, expected: &str) -> Result<(), ControlError> {
        loop {
            let (ev, at) = self.next()?;
            match ev {
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Start(s) => {
                    let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                    if name == expected {
                        return Ok(());
                    }
                    return Err(self.error_at(
                        at,
                        format!("expected <{expected}> as the root element, found <{name}>"),
                    ));
                }
                Event::Empty(s) => {
                    let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                    return Err(self.error_at(
                        at,
                        format!("<{name}/> is empty: expected <{expected}> with fields"),
                    ));
                }
                Event::Eof => {
                    return Err(self.error_at(at, format!("no <{expected}> element")));
                }
                _ => {
                    return Err(
                        self.error_at(at, format!("unexpected content before <{expected}>"))
                    );
                }
            }
        }
    }

    /// The next child element, or `None` at the parent's end tag.
    fn next_child(&mut self) -> Result<Option<Child>, ControlError> {
        loop {
            let (ev, at) = self.next()?;
            match ev {
                Event::Start(s) => {
                    return Ok(Some(Child {
                        name: String::from_utf8_lossy(s.name().as_ref()).into_owned(),
                        at,
                        empty: false,
                    }))
                }
                Event::Empty(s) => {
                    return Ok(Some(Child {
                        name: String::from_utf8_lossy(s.name().as_ref()).into_owned(),
                        at,
                        empty: true,
                    }))
                }
                Event::End(_) => return Ok(None),
                Event::Comment(_) => {}
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Eof => return Err(self.error_at(at, "unexpected end of file".into())),
                _ => {
                    return Err(self.error_at(
                        at,
                        "text outside a field: a control file holds only field elements".into(),
                    ))
                }
            }
        }
    }

    /// The text of the element just opened, up to its end tag, with entity and
    /// character references resolved and surrounding whitespace trimmed (none for an
    /// empty element).
    fn text_of(&mut self, child: &Child) -> Result<String, ControlError> {
        if child.empty {
            return Ok(String::new());
        }
        let name = &child.name;
        let mut text = String::new();
        loop {
            let (ev, at) = self.next()?;
            match ev {
                Event::Text(t) => match t.decode() {
                    Ok(s) => text.push_str(&s),
                    Err(e) => return Err(self.error_at(at, format!("bad text in <{name}>: {e}"))),
                },
                Event::CData(c) => text.push_str(&String::from_utf8_lossy(&c)),
                Event::GeneralRef(r) => {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                    } else {
                        let entity = String::from_utf8_lossy(&r).into_owned();
                        let c = match entity.as_str() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                return Err(self
                                    .error_at(at, format!("unknown entity &{other}; in <{name}>")))
                            }
                        };
                        text.push(c);
                    }
                }
                Event::End(_) => return Ok(text.trim().to_owned()),
                Event::Comment(_) => {}
                Event::Start(s) | Event::Empty(s) => {
                    let inner = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                    return Err(self.error_at(
                        at,
                        format!("<{inner}> inside <{name}>: control-file fields hold text only"),
                    ));
                }
                Event::Eof => {
                    return Err(self.error_at(at, format!("<{name}> is not closed")));
                }
                _ => {}
            }
        }
    }

    fn status_record(&mut self) -> Result<StatusRecord, ControlError> {
        let mut r = StatusRecord::default();
        while let Some(child) = self.next_child()? {
            let text = self.text_of(&child)?;
            let text = (!text.is_empty()).then_some(text);
            let (name, at) = (&child.name, child.at);
            let taken = match name.as_str() {
                "DateTime" => set(&mut r.date_time, text),
                "Event" => set(&mut r.event, text),
                "Status" => set(&mut r.status, text),
                "StatusCode" => set(&mut r.status_code, text.map(|t| StatusCode::parse(&t))),
                "Description" => set(&mut r.description, text),
                _ => {
                    r.other.push((name.clone(), text.unwrap_or_default()));
                    false
                }
            };
            if taken {
                return Err(self.error_at(at, format!("<{name}> appears twice in StatusRecord")));
            }
        }
        Ok(r)
    }

    fn end_of_document(&mut self) -> Result<(), ControlError> {
        loop {
            let (ev, at) = self.next()?;
            match ev {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                _ => return Err(self.error_at(at, "content after the root element".into())),
            }
        }
    }
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, at: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, mut at: usize) -> usize {
        while at > 0 && !self.is_char_boundary(at) {
            at -= 1;
        }
        at
    }
}
