//! `senddoc`: the command-line face of the toolkit.
//!
//! `senddoc convert --from json|xml --to json|xml [--lenient] [--pretty] [--xml-declaration] INPUT [-o OUTPUT]`
//! reads a FHIR resource and writes it back, in either format. Exit status: 0 on success, 1 on an
//! input error (printed to stderr with its location, line and column), 2 on a
//! usage error.
//!
//! `senddoc validate [--profile URL] [--lenient] [--format text|json] INPUT` checks a
//! resource (JSON or XML, told apart by its first character) against its base
//! definition and `meta.profile`s, or against one profile. A message Bundle whose
//! MessageHeader event is `ITK007C` is, without `--profile`, validated as a GP Connect
//! Send Document message (`send_document::MessageValidator`: each resource against the
//! profile of its role, plus the Send Document rules), and a line says so. It prints
//! the findings (or, with `--format json`, an OperationOutcome) and exits 0 when there
//! is no error, 1 otherwise.
//!
//! `senddoc build [--example] [inputs...] [--out-dir DIR | -o FILE]` builds a GP Connect
//! Send Document message (`send_document::build`): every builder input has a flag, and
//! `--example` fills the ones not given from the shipped sample (a sample PDF for NHS
//! England's PDS sandbox test patient). It writes the bare message to standard output
//! (or `-o`), or `<name>.dat` + `<name>.ctl` into a MESH client's OUT folder
//! (`--out-dir`), and prints the MESH envelope and the identifiers to keep on standard
//! error. A refused input or an invalid message exits 1 listing every problem.
//!
//! `senddoc receive INPUT --responder-ods ODS --responder-mailbox MAILBOX [--patient
//! known|...]` checks a received message (`send_document::receive`, tolerant by
//! default; the `.ctl` beside a `.dat` gives the MESH workflow, From and To), prints
//! the typed view or the rejection, and writes the ITK3 acknowledgements (20013 or the
//! negative code; the business response too when `--patient` is given) as `.dat` +
//! `.ctl` pairs into `--ack-dir`. Exit status 0 when accepted, 1 when rejected. Given
//! an ITK3 response instead, it prints it and, with `--sent FILE`, correlates it with
//! the messages sent.
//!
//! `senddoc ack INPUT --code CODE [--diagnostics TEXT] --responder-ods ODS
//! --responder-mailbox MAILBOX` writes one ITK3 response to a received message (the
//! business response after matching the patient, say).
//!
//! `senddoc mesh COMMAND` talks to MESH over its API (`nhs_mesh::MeshClient`). Every
//! `mesh` command takes `--url` (env `MESH_URL`), `--mailbox` (env `MESH_MAILBOX`),
//! `--ca`, `--client-cert`, `--client-key` (PEM files, for mutual TLS), `--timeout
//! SECONDS` and `--chunk-size BYTES`. The mailbox password and the environment's
//! shared key are read from the environment only, `MESH_PASSWORD` and
//! `MESH_SHARED_KEY` (`--password-env NAME` and `--shared-key-env NAME` choose other
//! variables), and are never printed. A MESH error exits 1.
//!
//! - `senddoc mesh send FILE.dat [--ctl FILE.ctl] [--no-gzip]` sends a payload written
//!   by `senddoc build --out-dir`, with the To, workflow, Subject and LocalId of its
//!   `.ctl` (whose `From_DTS` must be `--mailbox`), as `application/fhir+xml` or
//!   `+json`, and prints the MESH message ID.
//! - `senddoc mesh receive --out-dir DIR --responder-ods ODS [--workflow W]...
//!   [--patient known|...] [--policy tolerant|strict]`, as the practice, downloads
//!   each waiting Send Document message (both workflows unless `--workflow` says),
//!   writes it into `DIR` as `<MESH id>.dat` + `<MESH id>.ctl`, checks it, sends the
//!   ITK3 infrastructure response (and the business response when `--patient` is
//!   given) and then acknowledges it on MESH. It prints one line per message: the
//!   MESH ID, accepted or rejected with the ITK3 code, and the responses sent with
//!   their MESH IDs; a MESH report, with its code and the message it concerns. Exit
//!   status 1 when a message was rejected or could not be handled (it then stays in
//!   the inbox).
//! - `senddoc mesh ack MESSAGE_ID...` acknowledges inbox messages (MESH removes them).
//! - `senddoc mesh inbox [--workflow W]` prints the waiting message IDs, one a line.
//! - `senddoc mesh track MESSAGE_ID` prints a sent message's tracking status.
//! - `senddoc mesh lookup ODS WORKFLOW` prints each mailbox registered (ID and name);
//!   exit status 1 when there is none. It needs no mailbox or credentials.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use fhir_stu3::{ReadOptions, Resource, WriteOptions};

mod build_cmd;
mod ctl;
mod example;
mod mesh_cmd;
mod receive_cmd;

#[derive(Parser)]
#[command(
    name = "senddoc",
    version,
    about = "FHIR STU3 / GP Connect Send Document toolkit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a FHIR resource in one format and write it in another.
    Convert {
        /// Input format.
        #[arg(long, value_enum, default_value = "json")]
        from: Format,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        to: Format,
        /// Accept departures from FHIR as warnings (printed to stderr) instead of errors.
        #[arg(long)]
        lenient: bool,
        /// Indent the output.
        #[arg(long)]
        pretty: bool,
        /// Start XML output with `<?xml version="1.0" encoding="UTF-8"?>`.
        #[arg(long)]
        xml_declaration: bool,
        /// Input file (`-` for standard input).
        input: PathBuf,
        /// Output file (standard output when absent).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Validate a FHIR resource (JSON or XML) against its profiles; a Send Document
    /// message (event ITK007C) as a whole, each resource by its role.
    Validate {
        /// Validate against this StructureDefinition (canonical URL) instead of the
        /// resource's own type and `meta.profile`s (or, for a Send Document message,
        /// the profiles of its resources' roles).
        #[arg(long)]
        profile: Option<String>,
        /// Read departures from FHIR syntax as warnings, then validate what was read.
        #[arg(long)]
        lenient: bool,
        /// How to print the findings.
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
        /// Input file (`-` for standard input).
        input: PathBuf,
    },
    /// Build a GP Connect Send Document message and its MESH envelope
    /// (`senddoc build --example` builds the shipped sample).
    Build(Box<build_cmd::BuildArgs>),
    /// Check a received Send Document message, print it, and write the ITK3
    /// acknowledgements; or read an ITK3 response and correlate it with what was sent.
    Receive(Box<receive_cmd::ReceiveArgs>),
    /// Write one ITK3 acknowledgement (infrastructure or business) to a received message.
    Ack(Box<receive_cmd::AckArgs>),
    /// Exchange messages over the MESH API: send, receive and answer, acknowledge,
    /// list the inbox, track, look up mailboxes.
    Mesh(Box<mesh_cmd::MeshArgs>),
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so a reader (a MESH client polling its OUT folder) never sees half a file.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.partial"));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a resource leniently, XML or JSON told apart by the first character.
fn read_resource(bytes: &[u8]) -> Result<Resource, String> {
    let opts = ReadOptions::lenient();
    let parsed = if is_xml(bytes) {
        Resource::from_xml_with(bytes, &opts)
    } else {
        Resource::from_json_with(bytes, &opts)
    };
    parsed.map(|p| p.value).map_err(|e| e.to_string())
}

fn is_xml(bytes: &[u8]) -> bool {
    send_document::build::Format::sniff(bytes) == Some(send_document::build::Format::Xml)
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// One line per finding.
    Text,
    /// A FHIR OperationOutcome (JSON).
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// FHIR JSON.
    Json,
    /// FHIR XML (comments are kept XML to XML; JSON has no place for them).
    Xml,
}

/// What `convert` was asked to do.
struct Convert<'a> {
    from: Format,
    to: Format,
    lenient: bool,
    opts: WriteOptions,
    input: &'a PathBuf,
    output: Option<&'a PathBuf>,
}

fn read_input(path: &PathBuf) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| format!("stdin: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn convert(c: &Convert<'_>) -> Result<(), String> {
    let bytes = read_input(c.input)?;
    let opts = if c.lenient {
        ReadOptions::lenient()
    } else {
        ReadOptions::strict()
    };
    let parsed = match c.from {
        Format::Json => Resource::from_json_with(&bytes, &opts),
        Format::Xml => Resource::from_xml_with(&bytes, &opts),
    }
    .map_err(|e| format!("{}: {e}", c.input.display()))?;
    for w in &parsed.warnings {
        eprintln!("{}: {w}", c.input.display());
    }
    let text = match c.to {
        Format::Json => parsed.value.to_json_with(&c.opts),
        Format::Xml => parsed.value.to_xml_with(&c.opts),
    };
    match c.output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| {
                    if text.ends_with('\n') {
                        Ok(())
                    } else {
                        out.write_all(b"\n")
                    }
                })
                .map_err(|e| format!("stdout: {e}"))
        }
    }
}

/// Reads, validates and reports; `Ok(true)` when there is no error.
fn validate(
    profile: Option<&str>,
    lenient: bool,
    format: ReportFormat,
    input: &PathBuf,
) -> Result<bool, String> {
    let bytes = read_input(input)?;
    let opts = if lenient {
        ReadOptions::lenient()
    } else {
        ReadOptions::strict()
    };
    let parsed = if is_xml(&bytes) {
        Resource::from_xml_with(&bytes, &opts)
    } else {
        Resource::from_json_with(&bytes, &opts)
    }
    .map_err(|e| format!("{}: {e}", input.display()))?;
    for w in &parsed.warnings {
        eprintln!("{}: {w}", input.display());
    }
    let tree = parsed.value.to_tree();
    let as_send_document = profile.is_none()
        && send_document::message_kind(&tree) == Some(send_document::MessageKind::SendDocument);
    let findings = match profile {
        Some(url) => fhir_validator::Validator::new().validate_against(&tree, url),
        None if as_send_document => send_document::MessageValidator::default().validate_tree(&tree),
        None => fhir_validator::Validator::new().validate(&tree),
    };
    if as_send_document {
        let line = format!(
            "{}: validated as a GP Connect Send Document message (event ITK007C): each \
             resource against the profile of its role, and the Send Document rules",
            input.display()
        );
        // Standard output carries only the OperationOutcome in JSON.
        match format {
            ReportFormat::Text => println!("{line}"),
            ReportFormat::Json => eprintln!("{line}"),
        }
    }
    let valid = fhir_validator::is_valid(&findings);
    match format {
        ReportFormat::Json => println!(
            "{}",
            fhir_validator::to_operation_outcome(&findings).to_json_with(&WriteOptions::pretty())
        ),
        ReportFormat::Text => {
            for f in &findings {
                println!("{f}");
            }
            let count = |s| findings.iter().filter(|f| f.severity == s).count();
            println!(
                "{}: {} error(s), {} warning(s), {} note(s)",
                input.display(),
                count(fhir_validator::Severity::Error),
                count(fhir_validator::Severity::Warning),
                count(fhir_validator::Severity::Information)
            );
        }
    }
    Ok(valid)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Convert {
            from,
            to,
            lenient,
            pretty,
            xml_declaration,
            input,
            output,
        } => convert(&Convert {
            from: *from,
            to: *to,
            lenient: *lenient,
            opts: WriteOptions {
                pretty: *pretty,
                xml_declaration: *xml_declaration,
            },
            input,
            output: output.as_ref(),
        }),
        Command::Validate {
            profile,
            lenient,
            format,
            input,
        } => match validate(profile.as_deref(), *lenient, *format, input) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Build(args) => build_cmd::run(args),
        Command::Receive(args) => match receive_cmd::receive(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Ack(args) => receive_cmd::ack(args),
        Command::Mesh(args) => match mesh_cmd::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
