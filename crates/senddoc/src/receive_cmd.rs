//! `senddoc receive` and `senddoc ack`: check an incoming message and answer it with
//! ITK3 acknowledgements; read an incoming ITK3 response and correlate it with the
//! messages sent.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use send_document::receive::{
    MemoryReceiptLog, Policy, ReceiveOptions, Received, Receiver, Rejection, Transport,
};
use send_document::response::{
    Correlation, Correlator, Outcome, PatientData, ReceivedResponse, Responder, Response,
    SentMessage,
};
use send_document::{MeshMailbox, OdsCode, ResponseCode, Workflow};

/// Where a received message came from, beside its bytes.
#[derive(Args)]
pub struct TransportArgs {
    /// The MESH control file of the input (default: the input's `.ctl` sibling, when
    /// the input is a `.dat` that has one).
    #[arg(long, help_heading = "Transport")]
    pub ctl: Option<PathBuf>,
    /// The MESH workflow ID (overrides the control file's).
    #[arg(long, help_heading = "Transport")]
    pub workflow: Option<String>,
    /// The sender's MESH mailbox, `Mex-From` (overrides the control file's).
    #[arg(long, help_heading = "Transport")]
    pub from: Option<String>,
    /// The MESH To address, `GPPROVIDER_…` (overrides the control file's).
    #[arg(long, help_heading = "Transport")]
    pub to: Option<String>,
}

/// Who answers: the receiving organisation.
#[derive(Args)]
pub struct ResponderArgs {
    /// The receiving organisation's ODS code (the responses' sender).
    #[arg(long, help_heading = "Responder")]
    pub responder_ods: Option<String>,
    /// The receiving organisation's MESH mailbox (the responses' source).
    #[arg(long, help_heading = "Responder")]
    pub responder_mailbox: Option<String>,
    /// Directory the acknowledgements are written to, each as `<name>.dat` +
    /// `<name>.ctl` (a MESH client's OUT folder).
    #[arg(long, default_value = ".", help_heading = "Responder")]
    pub ack_dir: PathBuf,
}

/// `senddoc receive`.
#[derive(Args)]
pub struct ReceiveArgs {
    /// The received message (`.dat`, FHIR XML or JSON): a Send Document message, or an
    /// ITK3 response to one of ours.
    pub input: PathBuf,
    #[command(flatten)]
    pub transport: TransportArgs,
    /// How strictly to judge the message.
    #[arg(long, value_enum, default_value = "tolerant")]
    pub policy: PolicyArg,
    #[command(flatten)]
    pub responder: ResponderArgs,
    /// The patient-matching result, when known: also send the business response.
    /// Without it only the infrastructure response (20013) is sent; send the
    /// business one later with `senddoc ack`.
    #[arg(long, value_enum)]
    pub patient: Option<PatientArg>,
    /// Check and print only; write no acknowledgement.
    #[arg(long)]
    pub no_ack: bool,
    /// Write the decoded attachments into this directory.
    #[arg(long)]
    pub attachments_dir: Option<PathBuf>,
    /// For an ITK3 response: the message(s) we sent (`.dat`), to correlate it with.
    #[arg(long)]
    pub sent: Vec<PathBuf>,
}

/// `senddoc ack`.
#[derive(Args)]
pub struct AckArgs {
    /// The received message the acknowledgement answers.
    pub input: PathBuf,
    #[command(flatten)]
    pub transport: TransportArgs,
    /// The ITK3 response code: 20013 or a negative 1xxxx/2xxxx (infrastructure), or
    /// 30001–30004 (business).
    #[arg(long)]
    pub code: String,
    /// A diagnostic (repeat for several; required for negative codes). It must not
    /// identify the patient.
    #[arg(long)]
    pub diagnostics: Vec<String>,
    #[command(flatten)]
    pub responder: ResponderArgs,
}

/// The policy on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum PolicyArg {
    /// The faults of NHS's own examples are warnings.
    Tolerant,
    /// Every rule is an error.
    Strict,
}

impl From<PolicyArg> for Policy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::Tolerant => Policy::Tolerant,
            PolicyArg::Strict => Policy::Strict,
        }
    }
}

/// The patient-matching result on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum PatientArg {
    /// 30001 Patient known here.
    Known,
    /// 30002 Patient not known here.
    NotKnown,
    /// 30003 Patient no longer at this clinical setting.
    NoLongerHere,
    /// 30004 Patient known here and recently deceased.
    RecentlyDeceased,
}

/// What to answer an accepted message with: the infrastructure response alone
/// without a patient-matching result, else the business response too (a negative
/// business code with its meaning as diagnostics, which 30002 and 30003 require).
pub(crate) fn outcome(patient: Option<PatientArg>) -> Outcome {
    let Some(p) = patient else {
        return Outcome::Accepted;
    };
    let code = match p {
        PatientArg::Known => ResponseCode::PatientKnown,
        PatientArg::NotKnown => ResponseCode::PatientNotKnown,
        PatientArg::NoLongerHere => ResponseCode::PatientNoLongerHere,
        PatientArg::RecentlyDeceased => ResponseCode::PatientRecentlyDeceased,
    };
    if code.is_positive() {
        Outcome::processed(code)
    } else {
        Outcome::processed_with(code, [code.display()])
    }
}

fn transport(input: &Path, args: &TransportArgs) -> Result<Transport, String> {
    let sibling = input.with_extension("ctl");
    let ctl_path = match &args.ctl {
        Some(p) => Some(p.clone()),
        None if input.extension().is_some_and(|e| e == "dat") && sibling.is_file() => Some(sibling),
        None => None,
    };
    let mut t = match &ctl_path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            crate::ctl::transport(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => Transport::folder(),
    };
    if let Some(w) = &args.workflow {
        t.workflow_id = Some(w.clone());
    }
    if let Some(f) = &args.from {
        t.from = Some(f.clone());
    }
    if let Some(to) = &args.to {
        t.to = Some(to.clone());
    }
    Ok(t)
}

fn responder(args: &ResponderArgs) -> Result<Option<Responder>, String> {
    match (&args.responder_ods, &args.responder_mailbox) {
        (Some(ods), Some(mailbox)) => Ok(Some(Responder::new(
            OdsCode::new(ods).map_err(|e| e.to_string())?,
            MeshMailbox::new(mailbox).map_err(|e| e.to_string())?,
        ))),
        (None, None) => Ok(None),
        _ => Err("give both --responder-ods and --responder-mailbox".into()),
    }
}

/// Writes each response as `<dir>/<ODS>_<MessageHeader id>.dat` + `.ctl`, and says so.
fn write_responses(dir: &Path, responses: &[Response]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for r in responses {
        let name = format!("{}_{}", r.envelope().local_id, r.message_header_id());
        let dat = dir.join(format!("{name}.dat"));
        let ctl = dir.join(format!("{name}.ctl"));
        crate::write_new(&dat, r.to_xml().as_bytes())?;
        crate::write_new(&ctl, r.envelope().to_ctl_xml().as_bytes())?;
        println!(
            "wrote ITK3 response {} to {} on {}: {}",
            r.code(),
            r.envelope().to,
            r.envelope().workflow_id,
            dat.display()
        );
    }
    Ok(())
}

fn name(n: &send_document::receive::PersonName) -> String {
    n.prefix
        .iter()
        .chain(&n.given)
        .chain(&n.family)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

fn coded(c: &send_document::receive::Coded) -> String {
    match &c.display {
        Some(d) => format!("{} {d}", c.code),
        None => c.code.clone(),
    }
}

/// The typed view of an accepted message, for people.
fn describe(r: &Received) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "accepted: {} (workflow {}, {:?})",
        r.response_code(),
        r.workflow,
        r.format
    );
    let nhs = r
        .patient
        .checked_nhs_number()
        .map(|n| n.spaced())
        .unwrap_or_else(|| r.patient.nhs_number.clone());
    let _ = writeln!(
        s,
        "patient: {}, NHS number {nhs}, born {}",
        name(&r.patient.name),
        r.patient.birth_date
    );
    let _ = write!(
        s,
        "sender: {} (ODS {})",
        r.sender.organisation_name, r.sender.ods_code
    );
    if let Some(t) = &r.sender.telephone {
        let _ = write!(s, ", telephone {t}");
    }
    let _ = writeln!(s, ", MESH mailbox {}", r.sender.endpoint);
    if let Some(a) = &r.author {
        let _ = write!(s, "author: {}", name(&a.name));
        if let Some(id) = &a.sds_user_id {
            let _ = write!(s, " (SDS user ID {id})");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "document: {} [{}], {}, dated {}, version {}",
        r.title,
        coded(&r.document_type),
        r.status,
        r.date,
        r.version.map_or("not given".into(), |v| v.to_string())
    );
    let _ = writeln!(
        s,
        "recipient type: {}",
        match r.recipient_type {
            send_document::receive::RecipientType::ForAction => "FA (for action)",
            send_document::receive::RecipientType::ForInformation => "FI (for information)",
        }
    );
    if let Some(c) = &r.care_setting {
        let _ = writeln!(s, "care setting: {}", coded(c));
    }
    for e in &r.events {
        let _ = writeln!(s, "event: {}", coded(e));
    }
    if let Some(rep) = &r.replaces {
        let _ = writeln!(
            s,
            "replaces: document {}{}",
            rep.target.value,
            rep.previous_version
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default()
        );
    }
    if let Some(subject) = &r.subject {
        let _ = writeln!(s, "MESH subject: {subject}");
    }
    for (i, a) in r.attachments.iter().enumerate() {
        let _ = writeln!(
            s,
            "attachment {}: {}, {} bytes{}{}",
            i + 1,
            a.content_type,
            a.bytes.len(),
            a.section_title
                .as_deref()
                .map(|t| format!(", \"{t}\""))
                .unwrap_or_default(),
            if i == 0 { " (primary)" } else { "" }
        );
    }
    for w in &r.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}

fn describe_rejection(r: &Rejection) -> String {
    let mut s = format!("rejected: {}\n", r.code);
    for d in &r.diagnostics {
        let _ = writeln!(s, "error: {d}");
    }
    for w in &r.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}

/// Whether `bytes` hold an ITK3 response (event ITK008M).
fn is_response(bytes: &[u8]) -> bool {
    ReceivedResponse::from_bytes(bytes).is_ok()
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `senddoc receive`; `Ok(true)` when the message was accepted (or a response
/// was read).
pub fn receive(args: &ReceiveArgs) -> Result<bool, String> {
    let bytes = read(&args.input)?;
    let transport = transport(&args.input, &args.transport)?;
    if is_response(&bytes) {
        return read_response(&bytes, &transport, &args.sent);
    }
    let responder = if args.no_ack {
        None
    } else {
        let r = responder(&args.responder)?;
        if r.is_none() {
            return Err("give --responder-ods and --responder-mailbox to write the \
                        acknowledgements, or --no-ack"
                .into());
        }
        r
    };
    let receiver = Receiver::new(ReceiveOptions::with_policy(args.policy.into()));
    let mut log = MemoryReceiptLog::new();
    let result = receiver.receive(&bytes, &transport, &mut log);
    let (reply, outcome, accepted) = match &result {
        Ok(received) => {
            print!("{}", describe(received));
            if let Some(dir) = &args.attachments_dir {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                for (i, a) in received.attachments.iter().enumerate() {
                    let ext = a.content_type.rsplit('/').next().unwrap_or("bin");
                    let path = dir.join(format!("attachment-{}.{ext}", i + 1));
                    crate::write_new(&path, &a.bytes)?;
                    println!("wrote {}", path.display());
                }
            }
            (received.reply_to.clone(), outcome(args.patient), true)
        }
        Err(rejection) => {
            print!("{}", describe_rejection(rejection));
            let diagnostics: Vec<String> = rejection
                .diagnostics
                .iter()
                .map(|d| d.to_string())
                .collect();
            (
                rejection.reply_to.clone(),
                Outcome::rejected(rejection.code, diagnostics),
                false,
            )
        }
    };
    if let Some(responder) = responder {
        let responder = responder.redacting(PatientData::from_bytes(&bytes));
        let reply = reply.or_mailbox(transport.from.as_deref());
        let responses = responder
            .responses(&reply, &outcome)
            .map_err(|e| format!("cannot build the acknowledgements: {e}"))?;
        write_responses(&args.responder.ack_dir, &responses)?;
    }
    Ok(accepted)
}

fn read_response(bytes: &[u8], transport: &Transport, sent: &[PathBuf]) -> Result<bool, String> {
    let response = ReceivedResponse::from_bytes(bytes).map_err(|e| e.to_string())?;
    println!(
        "ITK3 {:?} response {} ({}) to message {}",
        response.kind(),
        response.code().code(),
        if response.is_positive() {
            "positive"
        } else {
            "negative"
        },
        response.response_identifier
    );
    for issue in &response.issues {
        if let Some(d) = &issue.diagnostics {
            println!("diagnostics: {d}");
        }
    }
    if sent.is_empty() {
        return Ok(true);
    }
    let workflow = transport
        .workflow_id
        .as_deref()
        .and_then(|w| Workflow::from_ack_id(w).or_else(|| Workflow::from_id(w)))
        .unwrap_or_default();
    let mut correlator = Correlator::new();
    for path in sent {
        let resource =
            crate::read_resource(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        let message = SentMessage::from_message(
            &resource,
            workflow,
            chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        correlator.record(message);
    }
    match correlator.feed(
        &response,
        chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()),
    ) {
        Correlation::Matched {
            message_header_id,
            state,
            warnings,
        } => {
            println!("matches sent message {message_header_id}: now {state:?}");
            for w in warnings {
                println!("warning: {w:?}");
            }
            Ok(true)
        }
        Correlation::Unmatched(u) => {
            println!("matches none of the sent messages: {:?}", u.reason);
            Ok(false)
        }
    }
}

/// Runs `senddoc ack`.
pub fn ack(args: &AckArgs) -> Result<(), String> {
    let bytes = read(&args.input)?;
    let transport = transport(&args.input, &args.transport)?;
    let code = ResponseCode::from_code(&args.code).ok_or_else(|| {
        format!(
            "--code {:?} is not an ITK3 code Send Document uses",
            args.code
        )
    })?;
    let responder = responder(&args.responder)?
        .ok_or("give --responder-ods and --responder-mailbox")?
        .redacting(PatientData::from_bytes(&bytes));
    let receiver = Receiver::new(ReceiveOptions::default());
    let reply = match receiver.check(&bytes, &transport, &MemoryReceiptLog::new()) {
        Ok(r) => r.reply_to,
        Err(r) => r.reply_to,
    };
    let reply = reply.or_mailbox(transport.from.as_deref());
    let response = if code.is_business() {
        responder.business_response(&reply, code, &args.diagnostics)
    } else {
        responder.infrastructure_response(&reply, code, &args.diagnostics)
    }
    .map_err(|e| e.to_string())?;
    write_responses(&args.responder.ack_dir, &[response])
}
