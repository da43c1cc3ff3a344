//! `senddoc build`: a Send Document message from command-line inputs, written as the
//! bare message or as a `.dat` + `.ctl` pair for a MESH client's OUT folder.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use send_document::build::{
    Attachment, AuthoringPractitioner, Confidentiality, DocumentStatus, DocumentType, Format,
    IdSource, Patient, RecipientType, Replacement, SendDocumentBuilder, SendingOrganisation,
    SnomedConcept, Uuid,
};
use send_document::{DobFormat, Workflow};

use crate::example;

/// The inputs of `senddoc build`. With `--example`, every input not given takes the
/// sample's value; without it, the patient, sender, author and an attachment are
/// required.
#[derive(Args)]
pub struct BuildArgs {
    /// Fill every input not given with the shipped sample (a sample consultation
    /// summary PDF for NHS England's PDS sandbox test patient).
    #[arg(long)]
    pub example: bool,

    /// Patient NHS number (10 digits, Modulus 11 checked).
    #[arg(long, help_heading = "Patient")]
    pub nhs_number: Option<String>,
    /// Patient family name (surname).
    #[arg(long, help_heading = "Patient")]
    pub family: Option<String>,
    /// Patient given name (repeat for several).
    #[arg(long, help_heading = "Patient")]
    pub given: Vec<String>,
    /// Patient name prefix (Mrs, Mr, Dr).
    #[arg(long, help_heading = "Patient")]
    pub prefix: Vec<String>,
    /// Patient date of birth, YYYY-MM-DD.
    #[arg(long, help_heading = "Patient")]
    pub birth_date: Option<String>,

    /// Sending organisation's ODS code.
    #[arg(long, help_heading = "Sender")]
    pub sender_ods: Option<String>,
    /// Sending organisation's name.
    #[arg(long, help_heading = "Sender")]
    pub sender_name: Option<String>,
    /// Sending organisation's MESH mailbox ID.
    #[arg(long, help_heading = "Sender")]
    pub sender_mailbox: Option<String>,
    /// Sending organisation's telephone number.
    #[arg(long, help_heading = "Sender")]
    pub sender_phone: Option<String>,

    /// Authoring practitioner's SDS user ID.
    #[arg(long, help_heading = "Author")]
    pub author_sds_id: Option<String>,
    /// Authoring practitioner's family name.
    #[arg(long, help_heading = "Author")]
    pub author_family: Option<String>,
    /// Authoring practitioner's given name (repeat for several).
    #[arg(long, help_heading = "Author")]
    pub author_given: Vec<String>,
    /// Authoring practitioner's name prefix.
    #[arg(long, help_heading = "Author")]
    pub author_prefix: Vec<String>,
    /// Authoring practitioner's telephone number.
    #[arg(long, help_heading = "Author")]
    pub author_phone: Option<String>,

    /// An attachment file, optionally with its MIME type: `summary.pdf` or
    /// `scan.img=image/png` (repeat; the first is the primary document). Without a
    /// MIME type it is taken from the extension.
    #[arg(long, help_heading = "Document")]
    pub attachment: Vec<String>,
    /// Document type: `report` (371531000 Report of clinical encounter),
    /// `correspondence` (149701000000109 Remote health correspondence) or any SNOMED
    /// CT `CODE=Display`.
    #[arg(long, help_heading = "Document")]
    pub document_type: Option<String>,
    /// Document title.
    #[arg(long, help_heading = "Document")]
    pub title: Option<String>,
    /// Document status.
    #[arg(long, value_enum, help_heading = "Document")]
    pub status: Option<StatusArg>,
    /// Recipient type: for action (FA) or for information (FI).
    #[arg(long, value_enum, help_heading = "Document")]
    pub recipient_type: Option<RecipientArg>,
    /// Care setting, SNOMED CT `CODE=Display` (e.g. `788007007=General practice service`).
    #[arg(long, help_heading = "Document")]
    pub care_setting: Option<String>,
    /// Event, SNOMED CT `CODE=Display`.
    #[arg(long, help_heading = "Document")]
    pub event: Option<String>,
    /// Confidentiality: `N` (normal). `R` is refused: Send Document 2.0.2 never sends
    /// a confidential document.
    #[arg(long, help_heading = "Document")]
    pub confidentiality: Option<String>,
    /// Replace an earlier document: its `Composition.identifier` UUID.
    #[arg(long, requires = "previous_version", help_heading = "Document")]
    pub replaces: Option<String>,
    /// The version of the document replaced (the new one is one higher).
    #[arg(long, requires = "replaces", help_heading = "Document")]
    pub previous_version: Option<u32>,
    /// The SenderReference handling key (default `urn:uuid:` + the Composition id).
    #[arg(long, help_heading = "Document")]
    pub sender_reference: Option<String>,

    /// Send on the legacy `GPFED_CONSULT_REPORT` workflow (1.3.x consultation
    /// summary values) instead of `GPCONNECT_SEND_DOCUMENT`.
    #[arg(long, help_heading = "MESH")]
    pub legacy: bool,
    /// Date-of-birth order in the GPPROVIDER To address.
    #[arg(long, value_enum, default_value = "yyyymmdd", help_heading = "MESH")]
    pub dob_format: DobArg,

    /// Message syntax.
    #[arg(long, value_enum, default_value = "xml", help_heading = "Output")]
    pub format: FormatArg,
    /// Write `<name>.dat` (the message) and `<name>.ctl` (the MESH control file) into
    /// this directory (a MESH client's OUT folder).
    #[arg(long, help_heading = "Output")]
    pub out_dir: Option<PathBuf>,
    /// File name (without extension) for `--out-dir`; default: the sender's ODS code
    /// and the MessageHeader id.
    #[arg(long, requires = "out_dir", help_heading = "Output")]
    pub name: Option<String>,
    /// Write the bare message to this file (standard output when neither this nor
    /// `--out-dir` is given).
    #[arg(short, long, conflicts_with = "out_dir", help_heading = "Output")]
    pub output: Option<PathBuf>,
}

/// `Composition.status` on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum StatusArg {
    /// final
    Final,
    /// amended
    Amended,
    /// entered-in-error
    EnteredInError,
}

/// RecipientType on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum RecipientArg {
    /// For action.
    #[value(name = "FA", alias = "fa")]
    Fa,
    /// For information.
    #[value(name = "FI", alias = "fi")]
    Fi,
}

/// Date-of-birth order on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum DobArg {
    /// YYYYMMDD (default).
    Yyyymmdd,
    /// DDMMYYYY (as the published .ctl examples).
    Ddmmyyyy,
}

/// Message syntax on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// FHIR XML (what NHS systems exchange).
    Xml,
    /// FHIR JSON.
    Json,
}

/// `what` from the flag, else from the example when `--example`, else an error.
fn required(value: &Option<String>, example: Option<&str>, flag: &str) -> Result<String, String> {
    match (value, example) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(e)) => Ok(e.to_owned()),
        (None, None) => Err(format!("--{flag} is required (or give --example)")),
    }
}

fn snomed(text: &str, flag: &str) -> Result<SnomedConcept, String> {
    let (code, display) = text
        .split_once('=')
        .ok_or_else(|| format!("--{flag} takes CODE=Display, got {text:?}"))?;
    Ok(SnomedConcept::new(code.trim(), display.trim()))
}

/// The MIME type of a file name's extension (the SD2 table, corrected).
fn mime_of(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "tif" | "tiff" => "image/tiff",
        "gif" => "image/gif",
        "txt" => "text/plain",
        "rtf" => "application/rtf",
        "html" | "htm" => "text/html",
        "xml" => "text/xml",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => return None,
    })
}

fn attachment(spec: &str) -> Result<Attachment, String> {
    let (path, mime) = match spec.rsplit_once('=') {
        Some((p, m)) if m.contains('/') => (PathBuf::from(p), Some(m.to_owned())),
        _ => (PathBuf::from(spec), None),
    };
    let mime = match mime.or_else(|| mime_of(&path).map(str::to_owned)) {
        Some(m) => m,
        None => {
            return Err(format!(
                "{}: unknown file extension; give the MIME type as --attachment {}=type/subtype",
                path.display(),
                path.display()
            ))
        }
    };
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let title = path
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| s.replace(['-', '_'], " "));
    let mut a = Attachment::new(mime, bytes);
    if let Some(t) = title {
        a = a.title(t);
    }
    Ok(a)
}

/// Assembles the builder from the arguments.
pub fn builder(args: &BuildArgs) -> Result<SendDocumentBuilder, String> {
    let ex = args.example;
    let pick = |v: &Option<String>, e: &'static str, flag: &str| required(v, ex.then_some(e), flag);
    let birth_text = pick(&args.birth_date, example::BIRTH_DATE, "birth-date")?;
    let birth_date = NaiveDate::parse_from_str(&birth_text, "%Y-%m-%d")
        .map_err(|e| format!("--birth-date {birth_text:?}: {e} (expected YYYY-MM-DD)"))?;
    let mut patient = Patient::new(
        pick(&args.nhs_number, example::NHS_NUMBER, "nhs-number")?,
        pick(&args.family, example::FAMILY, "family")?,
        birth_date,
    );
    // Example names only fill in when the patient itself is the example's.
    let example_patient = ex && args.nhs_number.is_none() && args.family.is_none();
    let prefixes = if args.prefix.is_empty() && example_patient {
        vec![example::PREFIX.to_owned()]
    } else {
        args.prefix.clone()
    };
    let givens = if args.given.is_empty() && example_patient {
        vec![example::GIVEN.to_owned()]
    } else {
        args.given.clone()
    };
    for p in prefixes {
        patient = patient.prefix(p);
    }
    for g in givens {
        patient = patient.given(g);
    }

    let mut sender = SendingOrganisation::new(
        pick(&args.sender_ods, example::SENDER_ODS, "sender-ods")?,
        pick(&args.sender_name, example::SENDER_NAME, "sender-name")?,
        pick(
            &args.sender_mailbox,
            example::SENDER_MAILBOX,
            "sender-mailbox",
        )?,
    );
    if let Some(phone) = args
        .sender_phone
        .clone()
        .or_else(|| (ex && args.sender_ods.is_none()).then(|| example::SENDER_PHONE.to_owned()))
    {
        sender = sender.telephone(phone);
    }

    let mut author = AuthoringPractitioner::new(
        pick(&args.author_sds_id, example::AUTHOR_SDS_ID, "author-sds-id")?,
        pick(&args.author_family, example::AUTHOR_FAMILY, "author-family")?,
    );
    let example_author = ex && args.author_sds_id.is_none() && args.author_family.is_none();
    let author_prefixes = if args.author_prefix.is_empty() && example_author {
        vec![example::AUTHOR_PREFIX.to_owned()]
    } else {
        args.author_prefix.clone()
    };
    let author_givens = if args.author_given.is_empty() && example_author {
        vec![example::AUTHOR_GIVEN.to_owned()]
    } else {
        args.author_given.clone()
    };
    for p in author_prefixes {
        author = author.prefix(p);
    }
    for g in author_givens {
        author = author.given(g);
    }
    if let Some(phone) = &args.author_phone {
        author = author.telephone(phone.clone());
    }

    let mut attachments = Vec::new();
    for spec in &args.attachment {
        attachments.push(attachment(spec)?);
    }
    if attachments.is_empty() && ex {
        attachments.push(Attachment::pdf(example::PDF.to_vec()).title(example::TITLE));
    }

    let workflow = if args.legacy {
        Workflow::ConsultReport
    } else {
        Workflow::SendDocument
    };
    let mut b = SendDocumentBuilder::new()
        .workflow(workflow)
        .patient(patient)
        .sender(sender)
        .author(author)
        .attachments(attachments)
        .dob_format(match args.dob_format {
            DobArg::Yyyymmdd => DobFormat::YearFirst,
            DobArg::Ddmmyyyy => DobFormat::DayFirst,
        })
        .ids(IdSource::Random);

    let document_type = match args.document_type.as_deref() {
        Some("report") => Some(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER),
        Some("correspondence") => Some(DocumentType::REMOTE_HEALTH_CORRESPONDENCE),
        Some(other) => Some(DocumentType::from(snomed(other, "document-type")?)),
        None if ex || args.legacy => Some(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER),
        None => None,
    };
    if let Some(t) = document_type {
        b = b.document_type(t);
    }
    match (&args.title, ex && !args.legacy) {
        (Some(t), _) => b = b.title(t.clone()),
        (None, true) => b = b.title(example::TITLE),
        (None, false) => {}
    }
    if let Some(s) = args.status {
        b = b.status(match s {
            StatusArg::Final => DocumentStatus::Final,
            StatusArg::Amended => DocumentStatus::Amended,
            StatusArg::EnteredInError => DocumentStatus::EnteredInError,
        });
    }
    if let Some(r) = args.recipient_type {
        b = b.recipient_type(match r {
            RecipientArg::Fa => RecipientType::ForAction,
            RecipientArg::Fi => RecipientType::ForInformation,
        });
    }
    if let Some(c) = &args.care_setting {
        b = b.care_setting(snomed(c, "care-setting")?);
    }
    if let Some(e) = &args.event {
        b = b.event(snomed(e, "event")?);
    }
    match args.confidentiality.as_deref() {
        None => {}
        Some("N") | Some("n") => b = b.confidentiality(Confidentiality::Normal),
        Some("R") | Some("r") => b = b.confidentiality(Confidentiality::Restricted),
        Some(other) => {
            return Err(format!(
                "--confidentiality {other:?}: N (or R, which is refused)"
            ))
        }
    }
    if let (Some(target), Some(previous)) = (&args.replaces, args.previous_version) {
        let uuid = Uuid::parse_str(target.trim().trim_start_matches("urn:uuid:"))
            .map_err(|e| format!("--replaces {target:?}: not a UUID ({e})"))?;
        b = b.replaces(Replacement::new(uuid, previous));
    }
    if let Some(r) = &args.sender_reference {
        b = b.sender_reference(r.clone());
    }
    Ok(b)
}

/// Runs `senddoc build`: builds, writes, and prints the envelope and identifiers to
/// standard error (standard output carries only the message when it is written
/// there).
pub fn run(args: &BuildArgs) -> Result<(), String> {
    let built = builder(args)?.build().map_err(|e| e.to_string())?;
    let format = match args.format {
        FormatArg::Xml => Format::Xml,
        FormatArg::Json => Format::Json,
    };
    let text = built.serialize(format);
    let env = built.envelope();
    let ids = built.identifiers();
    let mut report = format!(
        "MESH workflow: {}\nMESH From: {}\nMESH To: {}\nMESH Subject: {}\nMESH LocalId: {}\n\
         MessageHeader id (ITK3 responses quote it): {}\nSenderReference: {}\n\
         Composition identifier (a replacement targets it): {}\nVersion: {}\n",
        env.workflow_id,
        env.from,
        env.to,
        env.subject,
        env.local_id,
        ids.message_header_id,
        ids.sender_reference,
        ids.composition_identifier,
        ids.version
    );
    // Warnings only: the notes (a binding whose value set is not in the packages)
    // are not the sender's to act on.
    for f in built
        .findings()
        .iter()
        .filter(|f| f.severity == send_document::Severity::Warning)
    {
        report.push_str(&format!("{f}\n"));
    }
    match (&args.out_dir, &args.output) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let name = args
                .name
                .clone()
                .unwrap_or_else(|| format!("{}_{}", env.local_id, ids.message_header_id));
            let dat = dir.join(format!("{name}.dat"));
            let ctl = dir.join(format!("{name}.ctl"));
            crate::write_new(&dat, text.as_bytes())?;
            // The .ctl goes last: a MESH client picks a message up by its control file.
            crate::write_new(&ctl, env.to_ctl_xml().as_bytes())?;
            eprint!("{report}");
            eprintln!("wrote {} and {}", dat.display(), ctl.display());
        }
        (None, Some(path)) => {
            std::fs::write(path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            eprint!("{report}");
            eprintln!("wrote {}", path.display());
        }
        (None, None) => {
            eprint!("{report}");
            println!("{text}");
        }
    }
    Ok(())
}
