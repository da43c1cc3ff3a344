//! `senddoc mesh`: the MESH API from the command line. Send a `.dat` + `.ctl` pair
//! written by `senddoc build --out-dir`; receive, check, answer and acknowledge the
//! Send Document messages waiting in a practice's inbox; acknowledge, list, track and
//! look up.
//!
//! The mailbox password and the environment's shared key are read from environment
//! variables only (a command-line value would show in `ps` and shell history), and
//! never printed: the errors of [`nhs_mesh`] carry no secret.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use nhs_mesh::client::DataMessage;
use nhs_mesh::{
    ClientConfig, ControlFile, InboxMessage, MeshClient, MessageType, OutgoingMessage, Secret,
    TlsSettings,
};
use send_document::build::Format;
use send_document::receive::{MemoryReceiptLog, ReceiveOptions, Receiver, Rejection};
use send_document::response::Responder;
use send_document::{MeshMailbox, OdsCode, ResponseCode, Workflow};

use crate::receive_cmd::{self, PatientArg, PolicyArg};

/// How to reach one MESH mailbox: shared by every `senddoc mesh` command.
#[derive(Args)]
pub struct ConnectionArgs {
    /// The MESH base URL, e.g. `https://msg.intspineservices.nhs.uk`.
    #[arg(long, env = "MESH_URL", help_heading = "MESH connection")]
    pub url: String,
    /// The mailbox ID to act as, e.g. `X26ABC1`.
    #[arg(long, env = "MESH_MAILBOX", help_heading = "MESH connection")]
    pub mailbox: Option<String>,
    /// The environment variable holding the mailbox password (never given on the
    /// command line, where `ps` would show it).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "MESH_PASSWORD",
        help_heading = "MESH connection"
    )]
    pub password_env: String,
    /// The environment variable holding the MESH environment's shared key.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "MESH_SHARED_KEY",
        help_heading = "MESH connection"
    )]
    pub shared_key_env: String,
    /// PEM CA certificates to trust for the server instead of the public web roots.
    #[arg(long, value_name = "FILE", help_heading = "MESH connection")]
    pub ca: Option<PathBuf>,
    /// The client certificate (PEM) for mutual TLS.
    #[arg(
        long,
        value_name = "FILE",
        requires = "client_key",
        help_heading = "MESH connection"
    )]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(
        long,
        value_name = "FILE",
        requires = "client_cert",
        help_heading = "MESH connection"
    )]
    pub client_key: Option<PathBuf>,
    /// The longest one request may take, in seconds (default 600).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "MESH connection")]
    pub timeout: Option<u64>,
    /// Send payloads larger than this in chunks of this many bytes (default 75 MiB).
    #[arg(long, value_name = "BYTES", help_heading = "MESH connection")]
    pub chunk_size: Option<usize>,
}

/// `senddoc mesh`.
#[derive(Args)]
pub struct MeshArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: MeshCommand,
}

/// The `senddoc mesh` commands.
#[derive(Subcommand)]
pub enum MeshCommand {
    /// Send a `.dat` payload with the To, workflow, Subject and LocalId of its `.ctl`
    /// (as written by `senddoc build --out-dir`); prints the MESH message ID.
    Send(SendArgs),
    /// As the practice: download, check, answer and acknowledge every waiting Send
    /// Document message, writing each into a directory as `<MESH id>.dat` + `.ctl`.
    Receive(Box<ReceiveArgs>),
    /// Acknowledge inbox messages by MESH message ID (MESH removes them from the inbox).
    Ack(AckArgs),
    /// List the IDs of the messages waiting in the inbox.
    Inbox(InboxArgs),
    /// Print a sent message's tracking status.
    Track(TrackArgs),
    /// Find the mailboxes an organisation has registered for a workflow.
    Lookup(LookupArgs),
}

/// `senddoc mesh send`.
#[derive(Args)]
pub struct SendArgs {
    /// The payload (`<name>.dat`).
    pub input: PathBuf,
    /// Its MESH control file (default: the payload's `.ctl` sibling).
    #[arg(long)]
    pub ctl: Option<PathBuf>,
    /// Send the payload as it is, without gzip in transit (a `.ctl` with
    /// `<Compress>N</Compress>` asks the same).
    #[arg(long)]
    pub no_gzip: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `senddoc mesh receive`.
#[derive(Args)]
pub struct ReceiveArgs {
    /// Write each received message here as `<MESH id>.dat` + `<MESH id>.ctl`, before
    /// it is acknowledged.
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Poll only this workflow (repeat for several; default both Send Document
    /// workflows, `GPCONNECT_SEND_DOCUMENT` and `GPFED_CONSULT_REPORT`).
    #[arg(long)]
    pub workflow: Vec<String>,
    /// The receiving organisation's ODS code (the sender of the ITK3 responses).
    #[arg(long)]
    pub responder_ods: String,
    /// The patient-matching result for every accepted message: also send the
    /// business response. Without it only the infrastructure response (20013) is
    /// sent; send the business one later (`senddoc ack` writes it).
    #[arg(long, value_enum)]
    pub patient: Option<PatientArg>,
    /// How strictly to judge the messages.
    #[arg(long, value_enum, default_value = "tolerant")]
    pub policy: PolicyArg,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `senddoc mesh ack`.
#[derive(Args)]
pub struct AckArgs {
    /// The MESH message IDs to acknowledge.
    #[arg(required = true)]
    pub message_ids: Vec<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `senddoc mesh inbox`.
#[derive(Args)]
pub struct InboxArgs {
    /// Only the messages of this workflow.
    #[arg(long)]
    pub workflow: Option<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `senddoc mesh track`.
#[derive(Args)]
pub struct TrackArgs {
    /// The MESH message ID of a message this mailbox sent.
    pub message_id: String,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `senddoc mesh lookup`.
#[derive(Args)]
pub struct LookupArgs {
    /// The organisation's ODS code.
    pub ods: String,
    /// The workflow ID, e.g. `GPCONNECT_SEND_DOCUMENT`.
    pub workflow: String,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Runs a `senddoc mesh` command; `Ok(false)` for a command that ran but whose result
/// means failure (a rejected message, an unacknowledged ID, no mailbox found).
pub fn run(args: &MeshArgs) -> Result<bool, String> {
    match &args.command {
        MeshCommand::Send(a) => send(a).map(|()| true),
        MeshCommand::Receive(a) => receive(a),
        MeshCommand::Ack(a) => ack(a),
        MeshCommand::Inbox(a) => inbox(a).map(|()| true),
        MeshCommand::Track(a) => track(a).map(|()| true),
        MeshCommand::Lookup(a) => lookup(a),
    }
}

/// A secret from the environment variable `name`; `what` names it in the error.
fn secret_from_env(name: &str, what: &str, flag: &str) -> Result<Secret, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
        Ok(_) | Err(std::env::VarError::NotPresent) => Err(format!(
            "no {what}: set the environment variable {name} (or name another with {flag})"
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "the environment variable {name} ({what}) is not valid Unicode"
        )),
    }
}

/// A client for the connection's mailbox. `authenticated`: the command needs the
/// mailbox and its credentials (every command but `lookup`).
fn connect(c: &ConnectionArgs, authenticated: bool) -> Result<MeshClient, String> {
    let (mailbox, password, shared_key) = if authenticated {
        let mailbox = c
            .mailbox
            .clone()
            .ok_or("no mailbox: give --mailbox or set MESH_MAILBOX")?;
        let password = secret_from_env(&c.password_env, "mailbox password", "--password-env")?;
        let key = secret_from_env(&c.shared_key_env, "MESH shared key", "--shared-key-env")?;
        (mailbox, password, key)
    } else {
        // Endpoint lookup is not authenticated; the client still names a mailbox.
        let mailbox = c.mailbox.clone().unwrap_or_else(|| "LOOKUP".into());
        (mailbox, Secret::new(""), Secret::new(""))
    };
    let mut config = ClientConfig::new(&c.url, &mailbox.to_ascii_uppercase(), password, shared_key);
    config.tls = TlsSettings::from_files(
        c.ca.as_deref(),
        c.client_cert.as_deref(),
        c.client_key.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    if let Some(t) = c.timeout {
        config.timeout = Duration::from_secs(t);
        config.connect_timeout = config.connect_timeout.min(config.timeout);
    }
    if let Some(size) = c.chunk_size {
        config.chunk_size = size;
    }
    MeshClient::new(config).map_err(|e| e.to_string())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The payload's MIME type: FHIR XML or JSON by its first non-blank character;
/// `None` for anything else (sent as `application/octet-stream`).
fn content_type(body: &[u8]) -> Option<&'static str> {
    Format::sniff(body).map(Format::mime_type)
}

/// The message a `.dat` and its control file describe, checked against the mailbox
/// that sends it.
fn outgoing(
    body: Vec<u8>,
    cf: &ControlFile,
    ctl_path: &Path,
    mailbox: &str,
    file_name: Option<String>,
    no_gzip: bool,
) -> Result<OutgoingMessage, String> {
    let at = ctl_path.display();
    if cf.message_type == Some(MessageType::Report) {
        return Err(format!(
            "{at}: MessageType is Report: a report is MESH's, not something to send"
        ));
    }
    let from = cf
        .from_dts
        .as_deref()
        .ok_or_else(|| format!("{at}: no From_DTS (the sending mailbox)"))?;
    if !from.eq_ignore_ascii_case(mailbox) {
        return Err(format!(
            "{at}: From_DTS is {from} but --mailbox is {mailbox}: MESH sends only from \
             the authenticated mailbox (build the message with --sender-mailbox {mailbox}, \
             or send as {from})"
        ));
    }
    let to = cf
        .to_dts
        .as_deref()
        .ok_or_else(|| format!("{at}: no To_DTS (the recipient)"))?;
    let workflow = cf
        .workflow_id
        .as_deref()
        .ok_or_else(|| format!("{at}: no WorkflowId"))?;
    let mut m = OutgoingMessage::new(to, workflow, body);
    m.subject = cf.subject.clone();
    m.local_id = cf.local_id.clone();
    m.partner_id = cf.partner_id.clone();
    m.checksum = cf.data_checksum.clone();
    m.content_encrypted = cf.encrypted;
    m.content_type = content_type(&m.body).map(str::to_owned);
    m.file_name = file_name;
    m.compress = !no_gzip && cf.compress != Some(false);
    Ok(m)
}

/// `senddoc mesh send`.
fn send(args: &SendArgs) -> Result<(), String> {
    let ctl_path = args
        .ctl
        .clone()
        .unwrap_or_else(|| args.input.with_extension("ctl"));
    let body = read(&args.input)?;
    let ctl_text = std::fs::read_to_string(&ctl_path).map_err(|e| {
        format!(
            "{}: {e} (the control file of {}; give another with --ctl)",
            ctl_path.display(),
            args.input.display()
        )
    })?;
    let cf = ControlFile::parse(&ctl_text).map_err(|e| format!("{}: {e}", ctl_path.display()))?;
    let client = connect(&args.connection, true)?;
    let file_name = args
        .input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let message = outgoing(
        body,
        &cf,
        &ctl_path,
        client.mailbox(),
        file_name,
        args.no_gzip,
    )?;
    let id = client.send(&message).map_err(|e| e.to_string())?;
    eprintln!(
        "sent {} from {} to {} on {}",
        args.input.display(),
        client.mailbox(),
        message.to,
        message.workflow_id
    );
    println!("{id}");
    Ok(())
}

/// What became of one inbox entry, for the summary.
enum Verdict {
    Accepted,
    Rejected,
    Report,
    Failed,
}

/// `senddoc mesh receive`; `Ok(false)` when a message was rejected or could not be
/// handled.
fn receive(args: &ReceiveArgs) -> Result<bool, String> {
    let workflows = if args.workflow.is_empty() {
        vec![Workflow::SendDocument, Workflow::ConsultReport]
    } else {
        args.workflow
            .iter()
            .map(|w| {
                Workflow::from_id(w).ok_or_else(|| {
                    format!(
                        "--workflow {w}: not a Send Document workflow ({} or {})",
                        Workflow::SendDocument.id(),
                        Workflow::ConsultReport.id()
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let client = connect(&args.connection, true)?;
    let responder = Responder::new(
        OdsCode::new(&args.responder_ods)
            .map_err(|e| format!("--responder-ods {}: {e}", args.responder_ods))?,
        MeshMailbox::new(client.mailbox()).map_err(|e| format!("--mailbox: {e}"))?,
    );
    let receiver = Receiver::new(ReceiveOptions::with_policy(args.policy.into()));
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("{}: {e}", args.out_dir.display()))?;

    let ids = send_document_mesh::waiting(&client, workflows.iter().map(|w| w.id()))
        .map_err(|e| e.to_string())?;
    if ids.is_empty() {
        eprintln!(
            "no Send Document message waiting in mailbox {}",
            client.mailbox()
        );
        return Ok(true);
    }
    let ctx = Inbox {
        client: &client,
        receiver: &receiver,
        responder: &responder,
        patient: args.patient,
        out_dir: &args.out_dir,
    };
    let mut log = MemoryReceiptLog::new();
    let (mut accepted, mut rejected, mut reports, mut failed) = (0, 0, 0, 0);
    for id in &ids {
        let (verdict, line) = match ctx.one(id, &mut log) {
            Ok(done) => done,
            Err(e) => (
                Verdict::Failed,
                format!("{id}: failed, left in the inbox: {e}"),
            ),
        };
        match verdict {
            Verdict::Accepted => accepted += 1,
            Verdict::Rejected => rejected += 1,
            Verdict::Report => reports += 1,
            Verdict::Failed => failed += 1,
        }
        println!("{line}");
    }
    eprintln!(
        "{} message(s): {accepted} accepted, {rejected} rejected, {failed} failed, \
         {reports} MESH report(s)",
        ids.len()
    );
    Ok(rejected == 0 && failed == 0)
}

/// What `senddoc mesh receive` works with.
struct Inbox<'a> {
    client: &'a MeshClient,
    receiver: &'a Receiver,
    responder: &'a Responder,
    patient: Option<PatientArg>,
    out_dir: &'a Path,
}

impl Inbox<'_> {
    /// Downloads one entry; a document is written to the directory, checked,
    /// answered and then acknowledged, a MESH report acknowledged. Returns the
    /// verdict and the line to print. An error leaves the entry in the inbox (after
    /// the responses sent so far, which a later run sends again).
    fn one(&self, id: &str, log: &mut MemoryReceiptLog) -> Result<(Verdict, String), String> {
        let data = match self.client.download(id).map_err(|e| e.to_string())? {
            InboxMessage::Report(report) => {
                self.client.acknowledge(id).map_err(|e| e.to_string())?;
                return Ok((Verdict::Report, format!("{id}: {}", report.summary())));
            }
            InboxMessage::Data(data) => data,
        };
        // Saved before anything else: once acknowledged, MESH no longer has it.
        let dat = self.save(id, &data)?;
        let answer = send_document_mesh::answer(
            self.client,
            self.receiver,
            self.responder,
            log,
            &data,
            |_| receive_cmd::outcome(self.patient),
        );
        let verdict = match &answer.result {
            Ok(received) => {
                let mut verdict = format!(
                    "accepted ({}, {} from {})",
                    received.response_code().code(),
                    received.workflow,
                    data.from.as_deref().unwrap_or("an unnamed mailbox")
                );
                if !received.warnings.is_empty() {
                    verdict.push_str(&format!(
                        " with {} warning(s): {}",
                        received.warnings.len(),
                        received
                            .warnings
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                verdict
            }
            Err(rejection) => rejected(rejection),
        };
        if let Some(e) = &answer.failure {
            return Err(format!(
                "{verdict}; {}; not every response was sent: {e}",
                responses_sent(&answer.responses)
            ));
        }
        self.client.acknowledge(id).map_err(|e| {
            format!(
                "{verdict}; {}; acknowledging on MESH failed: {e}",
                responses_sent(&answer.responses)
            )
        })?;
        let line = format!(
            "{id}: {verdict}; saved as {}; {}",
            dat.display(),
            responses_sent(&answer.responses)
        );
        Ok((
            if answer.result.is_ok() {
                Verdict::Accepted
            } else {
                Verdict::Rejected
            },
            line,
        ))
    }

    /// Writes `<id>.dat` (the payload as sent) and then `<id>.ctl` (its MESH fields,
    /// `DTSId` the MESH ID); returns the `.dat` path.
    fn save(&self, id: &str, data: &DataMessage) -> Result<PathBuf, String> {
        let dat = self.out_dir.join(format!("{id}.dat"));
        let ctl = self.out_dir.join(format!("{id}.ctl"));
        crate::write_new(&dat, &data.body)?;
        crate::write_new(&ctl, data.to_control().to_xml().as_bytes())?;
        Ok(dat)
    }
}

/// `rejected (10003 …: diagnostics)`.
fn rejected(r: &Rejection) -> String {
    format!("rejected ({}: {})", r.code, r.diagnostics_text())
}

/// `2 responses sent: 20013 as <MESH id>, 30001 as <MESH id>`.
fn responses_sent(sent: &[(ResponseCode, String)]) -> String {
    if sent.is_empty() {
        return "no response sent".into();
    }
    let list: Vec<String> = sent
        .iter()
        .map(|(code, id)| format!("{} as {id}", code.code()))
        .collect();
    format!(
        "{} response{} sent: {}",
        sent.len(),
        if sent.len() == 1 { "" } else { "s" },
        list.join(", ")
    )
}

/// `senddoc mesh ack`; `Ok(false)` when an ID could not be acknowledged.
fn ack(args: &AckArgs) -> Result<bool, String> {
    let client = connect(&args.connection, true)?;
    let mut all = true;
    for id in &args.message_ids {
        match client.acknowledge(id) {
            Ok(()) => println!("acknowledged {id}"),
            Err(e) => {
                eprintln!("error: {e}");
                all = false;
            }
        }
    }
    Ok(all)
}

/// `senddoc mesh inbox`: one ID a line, nothing else on standard output.
fn inbox(args: &InboxArgs) -> Result<(), String> {
    let client = connect(&args.connection, true)?;
    let ids = client
        .inbox(args.workflow.as_deref())
        .map_err(|e| e.to_string())?;
    for id in &ids {
        println!("{id}");
    }
    eprintln!(
        "{} message(s) waiting in mailbox {}{}",
        ids.len(),
        client.mailbox(),
        args.workflow
            .as_deref()
            .map(|w| format!(" on {w}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// `senddoc mesh track`.
fn track(args: &TrackArgs) -> Result<(), String> {
    let client = connect(&args.connection, true)?;
    let t = client.track(&args.message_id).map_err(|e| e.to_string())?;
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "not given".into());
    println!("message: {}", t.message_id);
    println!("status: {}", or_unknown(&t.status));
    println!(
        "successful so far: {}",
        match t.status_success {
            Some(true) => "yes",
            Some(false) => "no",
            None => "not given",
        }
    );
    println!("recipient: {}", or_unknown(&t.recipient));
    println!("workflow: {}", or_unknown(&t.workflow_id));
    println!("local ID: {}", or_unknown(&t.local_id));
    Ok(())
}

/// `senddoc mesh lookup`; `Ok(false)` when no mailbox is registered.
fn lookup(args: &LookupArgs) -> Result<bool, String> {
    let client = connect(&args.connection, false)?;
    let found = client
        .lookup(&args.ods, &args.workflow)
        .map_err(|e| e.to_string())?;
    for m in &found {
        match &m.mailbox_name {
            Some(name) => println!("{} {name}", m.mailbox_id),
            None => println!("{}", m.mailbox_id),
        }
    }
    if found.is_empty() {
        eprintln!(
            "no mailbox registered for {} on {}",
            args.ods, args.workflow
        );
    }
    Ok(!found.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctl(from: &str) -> ControlFile {
        let mut cf = ControlFile::new(
            "GPCONNECT_SEND_DOCUMENT",
            from,
            "GPPROVIDER_9000000009_20101022_Smith",
        );
        cf.subject = Some("Consultation summary".into());
        cf.local_id = Some("X26".into());
        cf
    }

    #[test]
    fn an_outgoing_message_takes_its_fields_from_the_control_file() {
        let m = outgoing(
            b"<Bundle/>".to_vec(),
            &ctl("X26OT001"),
            Path::new("m.ctl"),
            "X26OT001",
            Some("m.dat".into()),
            false,
        )
        .unwrap();
        assert_eq!(m.to, "GPPROVIDER_9000000009_20101022_Smith");
        assert_eq!(m.workflow_id, "GPCONNECT_SEND_DOCUMENT");
        assert_eq!(m.subject.as_deref(), Some("Consultation summary"));
        assert_eq!(m.local_id.as_deref(), Some("X26"));
        assert_eq!(m.content_type.as_deref(), Some("application/fhir+xml"));
        assert!(m.compress);
        let mut no_compress = ctl("X26OT001");
        no_compress.compress = Some(false);
        let m = outgoing(
            b" {\"resourceType\":\"Bundle\"}".to_vec(),
            &no_compress,
            Path::new("m.ctl"),
            "X26OT001",
            None,
            false,
        )
        .unwrap();
        assert_eq!(m.content_type.as_deref(), Some("application/fhir+json"));
        assert!(!m.compress);
        assert_eq!(content_type(b"%PDF"), None);
    }

    #[test]
    fn the_control_file_must_be_from_the_sending_mailbox() {
        let err = outgoing(
            b"<Bundle/>".to_vec(),
            &ctl("X26ABC1"),
            Path::new("m.ctl"),
            "X26OT001",
            None,
            false,
        )
        .unwrap_err();
        assert!(
            err.contains("From_DTS is X26ABC1 but --mailbox is X26OT001"),
            "{err}"
        );
        let mut report = ctl("X26OT001");
        report.message_type = Some(MessageType::Report);
        assert!(outgoing(
            b"x".to_vec(),
            &report,
            Path::new("m.ctl"),
            "X26OT001",
            None,
            false
        )
        .is_err());
    }

    #[test]
    fn secrets_come_from_the_environment_only_and_are_not_echoed() {
        let err = secret_from_env(
            "SENDDOC_UNIT_TEST_UNSET_VARIABLE",
            "mailbox password",
            "--password-env",
        )
        .unwrap_err();
        assert!(
            err.contains("SENDDOC_UNIT_TEST_UNSET_VARIABLE") && err.contains("--password-env"),
            "{err}"
        );
    }
}
