//! The MESH API client: handshake, send (chunked, gzip), inbox, download (chunks
//! reassembled, gzip undone), acknowledge, tracking and endpoint lookup.
//!
//! Blocking, one [`ureq`] agent per client, rustls for TLS with an optional client
//! certificate and custom CA (real MESH requires mutual TLS). Every request carries a
//! fresh `NHSMESH` token and `Accept: application/vnd.mesh.v2+json`.
//!
//! Retries: a request that failed in transport, or was answered 429 or 5xx, is
//! retried up to [`RetryPolicy::max_retries`] times with exponential back-off
//! (honouring `Retry-After`). The first POST of a send is the exception: MESH may have
//! created the message before the connection broke, so it is retried only on an
//! answer that proves it was not accepted (425, 429, 503); anything else is returned
//! to the caller, who can check [`MeshClient::track`] before sending again.

use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use ureq::http::{self, Method, Request, Response};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
use ureq::Body;

use crate::auth::{Secret, TokenSource};
use crate::control::StatusRecord;
use crate::error::MeshError;
use crate::report::Report;
use crate::status::StatusCode;

/// MESH's own limit on one HTTP request body.
pub const MAX_REQUEST_BYTES: usize = 100_000_000;

/// The `Accept` value that selects MESH API version 2 bodies.
const ACCEPT_V2: &str = "application/vnd.mesh.v2+json";

/// TLS settings: which CAs to trust for the server, and the client certificate.
#[derive(Clone, Default)]
pub struct TlsSettings {
    /// PEM CA certificates to trust instead of the public web roots (NHS's INT, DEP
    /// and live MESH CA bundles, or a test CA).
    pub ca_pem: Option<Vec<u8>>,
    /// The client certificate chain, PEM (CN `<local_id>.<ods>.api.mesh-client.nhs.uk`).
    pub client_certificate_pem: Option<Vec<u8>>,
    /// The client certificate's private key, PEM. Never printed.
    pub client_key_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("ca_pem", &self.ca_pem.as_ref().map(|p| p.len()))
            .field(
                "client_certificate_pem",
                &self.client_certificate_pem.as_ref().map(|p| p.len()),
            )
            .field(
                "client_key_pem",
                &self.client_key_pem.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

impl TlsSettings {
    /// Reads the CA bundle, certificate and key from PEM files.
    pub fn from_files(
        ca: Option<&std::path::Path>,
        certificate: Option<&std::path::Path>,
        key: Option<&std::path::Path>,
    ) -> Result<Self, MeshError> {
        let read = |p: Option<&std::path::Path>, what: &str| {
            p.map(|p| {
                std::fs::read(p)
                    .map_err(|e| MeshError::Config(format!("{what} {}: {e}", p.display())))
            })
            .transpose()
        };
        Ok(TlsSettings {
            ca_pem: read(ca, "CA bundle")?,
            client_certificate_pem: read(certificate, "client certificate")?,
            client_key_pem: read(key, "client key")?,
        })
    }

    fn to_ureq(&self) -> Result<TlsConfig, MeshError> {
        let mut builder = TlsConfig::builder();
        if let Some(pem) = &self.ca_pem {
            let roots = certificates(pem, "CA bundle")?;
            builder = builder.root_certs(RootCerts::new_with_certs(&roots));
        }
        match (&self.client_certificate_pem, &self.client_key_pem) {
            (Some(cert), Some(key)) => {
                let chain = certificates(cert, "client certificate")?;
                let key = PrivateKey::from_pem(key).map_err(|e| {
                    MeshError::Config(format!("client key: not a PEM private key ({e})"))
                })?;
                builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
            }
            (None, None) => {}
            _ => {
                return Err(MeshError::Config(
                    "a client certificate needs its private key, and a key its certificate".into(),
                ))
            }
        }
        Ok(builder.build())
    }
}

fn certificates(pem: &[u8], what: &str) -> Result<Vec<Certificate<'static>>, MeshError> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(MeshError::Config(format!("{what}: bad PEM ({e})"))),
        }
    }
    if certs.is_empty() {
        return Err(MeshError::Config(format!(
            "{what}: no PEM certificate found"
        )));
    }
    Ok(certs)
}

/// How often and how patiently to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// The wait before the first retry; doubled for each further one.
    pub initial_backoff: Duration,
    /// The longest wait between attempts (also caps `Retry-After`).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, 500 ms then 1 s then 2 s (as NHS's Python client), capped at 30 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Everything a client needs to reach one mailbox.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The MESH base URL, e.g. `https://msg.intspineservices.nhs.uk` (INT).
    pub base_url: String,
    /// The mailbox ID (upper case), e.g. `X26ABC1`.
    pub mailbox: String,
    /// The mailbox password.
    pub password: Secret,
    /// The environment's shared secret (the HMAC key).
    pub shared_key: Secret,
    /// CA and client certificate.
    pub tls: TlsSettings,
    /// The longest one request may take, connection to last byte.
    pub timeout: Duration,
    /// The longest a connection may take to open.
    pub connect_timeout: Duration,
    /// Retries for transient failures.
    pub retry: RetryPolicy,
    /// Payloads larger than this (before compression) are sent in chunks of this size.
    /// At most [`MAX_REQUEST_BYTES`].
    pub chunk_size: usize,
    /// gzip level 0–9 for [`OutgoingMessage::compress`]ed sends. The default, 1,
    /// compresses a base64 PDF message to 77 % of its size against 76 % at level 6,
    /// five times faster (`docs/performance.md`, MESH).
    pub gzip_level: u32,
    /// The largest message [`MeshClient::download`] accepts, after decompression.
    pub max_download_bytes: u64,
    /// Sent as `mex-ClientVersion` and in `User-Agent`.
    pub client_version: String,
}

impl ClientConfig {
    /// A configuration with the defaults: 10-minute timeout, 30 s to connect, three
    /// retries, 75 MiB chunks, gzip level 1, 1 GiB download limit, public web roots.
    pub fn new(base_url: &str, mailbox: &str, password: Secret, shared_key: Secret) -> Self {
        ClientConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            mailbox: mailbox.to_owned(),
            password,
            shared_key,
            tls: TlsSettings::default(),
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            chunk_size: 75 * 1024 * 1024,
            gzip_level: 1,
            max_download_bytes: 1 << 30,
            client_version: format!("nhs-mesh-rs=={}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// `mex-To`: a mailbox ID or a `GPPROVIDER_<nhs>_<dob>_<surname>` address.
    pub to: String,
    /// `mex-WorkflowID`.
    pub workflow_id: String,
    /// `mex-Subject`.
    pub subject: Option<String>,
    /// `mex-LocalID`: the sender's reference (no patient data).
    pub local_id: Option<String>,
    /// `mex-FileName`.
    pub file_name: Option<String>,
    /// `mex-Content-Type` (and `Content-Type` when sent in one piece).
    pub content_type: Option<String>,
    /// `mex-PartnerID`.
    pub partner_id: Option<String>,
    /// `mex-Content-Checksum`: letters, digits, whitespace and `:-/` only.
    pub checksum: Option<String>,
    /// `mex-Content-Encrypted`: the payload is encrypted (a flag only).
    pub content_encrypted: Option<bool>,
    /// gzip each chunk in transit (`Content-Encoding: gzip`). The recipient gets the
    /// original bytes back.
    pub compress: bool,
    /// The payload.
    pub body: Vec<u8>,
}

impl OutgoingMessage {
    /// A message with only the required fields, gzip in transit on.
    pub fn new(to: &str, workflow_id: &str, body: Vec<u8>) -> Self {
        OutgoingMessage {
            to: to.to_owned(),
            workflow_id: workflow_id.to_owned(),
            subject: None,
            local_id: None,
            file_name: None,
            content_type: None,
            partner_id: None,
            checksum: None,
            content_encrypted: None,
            compress: true,
            body,
        }
    }

    /// Checks the headers against MESH's rules before anything is sent: required
    /// fields present, lengths within MESH's limits, no control characters, no URLs
    /// where MESH refuses them, checksum alphabet.
    pub fn check(&self) -> Result<(), MeshError> {
        let bad = |m: String| Err(MeshError::InvalidRequest(m));
        if self.to.trim().is_empty() {
            return bad("mex-To (the recipient) is empty".into());
        }
        if self.workflow_id.trim().is_empty() {
            return bad("mex-WorkflowID is empty: MESH needs a workflow for every message".into());
        }
        if self.body.is_empty() {
            return bad("the payload is empty (MESH code 02: data file is missing)".into());
        }
        let fields: [(&str, Option<&str>, usize); 8] = [
            ("mex-To", Some(&self.to), 100),
            ("mex-WorkflowID", Some(&self.workflow_id), 300),
            ("mex-Subject", self.subject.as_deref(), 500),
            ("mex-LocalID", self.local_id.as_deref(), 300),
            ("mex-FileName", self.file_name.as_deref(), 300),
            ("mex-Content-Type", self.content_type.as_deref(), 100),
            ("mex-PartnerID", self.partner_id.as_deref(), 500),
            ("mex-Content-Checksum", self.checksum.as_deref(), 100),
        ];
        for (name, value, max) in fields {
            let Some(value) = value else { continue };
            let chars = value.chars().count();
            if chars > max {
                return bad(format!(
                    "{name} is {chars} characters long; MESH allows {max}"
                ));
            }
            if value.chars().any(|c| c.is_control()) {
                return bad(format!("{name} contains a control character"));
            }
            let lower = value.to_ascii_lowercase();
            if matches!(name, "mex-To" | "mex-WorkflowID" | "mex-Content-Checksum")
                && (lower.contains("http://") || lower.contains("https://"))
            {
                return bad(format!("{name} contains a URL, which MESH refuses"));
            }
        }
        if let Some(sum) = &self.checksum {
            if let Some(c) = sum
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || c.is_whitespace() || ":-/".contains(*c)))
            {
                return bad(format!(
                    "mex-Content-Checksum contains {c:?}; MESH allows letters, digits, whitespace and :-/"
                ));
            }
        }
        Ok(())
    }
}

/// A message's `mex-*` and HTTP headers as MESH returned them (names lower case).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageHeaders {
    entries: Vec<(String, String)>,
}

impl MessageHeaders {
    fn from_response(resp: &Response<Body>) -> Self {
        let entries = resp
            .headers()
            .iter()
            .map(|(name, value)| {
                let bytes = value.as_bytes();
                // MESH passes header bytes through; UTF-8 when our client sent them.
                let text = std::str::from_utf8(bytes)
                    .map(str::to_owned)
                    .unwrap_or_else(|_| bytes.iter().map(|&b| b as char).collect());
                (name.as_str().to_ascii_lowercase(), text)
            })
            .collect();
        MessageHeaders { entries }
    }

    /// A header's value, by case-insensitive name; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every header, as (lower-case name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    fn status_record(&self) -> StatusRecord {
        StatusRecord {
            date_time: self.owned("mex-StatusTimestamp"),
            event: self.owned("mex-StatusEvent"),
            status: self.owned("mex-StatusSuccess"),
            status_code: self.get("mex-StatusCode").map(StatusCode::parse),
            description: self.owned("mex-StatusDescription"),
            other: Vec::new(),
        }
    }
}

/// A downloaded data message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataMessage {
    /// The MESH message ID (acknowledge with this).
    pub message_id: String,
    /// `mex-From`: the sender's mailbox.
    pub from: Option<String>,
    /// `mex-To`: this mailbox (MESH replaces a `GPPROVIDER_` address by the mailbox).
    pub to: Option<String>,
    /// `mex-WorkflowID`.
    pub workflow_id: Option<String>,
    /// `mex-Subject`.
    pub subject: Option<String>,
    /// `mex-LocalID`.
    pub local_id: Option<String>,
    /// `mex-FileName`.
    pub file_name: Option<String>,
    /// `mex-Content-Type`, else `Content-Type`.
    pub content_type: Option<String>,
    /// `mex-Content-Checksum`.
    pub checksum: Option<String>,
    /// How many chunks the message came in.
    pub chunks: u32,
    /// The first chunk's headers, all of them.
    pub headers: MessageHeaders,
    /// The payload, chunks joined and transport gzip undone.
    pub body: Vec<u8>,
}

impl DataMessage {
    /// Whether the payload itself is compressed (`mex-Content-Compressed`). MESH
    /// also sets that flag when it gzips a message in transit (`Content-Encoding:
    /// gzip`), which [`MeshClient::download`] undoes: then the flag says what the
    /// transport did, and the answer is whether the body still starts with the gzip
    /// magic bytes.
    pub fn payload_compressed(&self) -> Option<bool> {
        let flag = self
            .headers
            .get("mex-Content-Compressed")
            .map(|v| v.eq_ignore_ascii_case("y"))?;
        let transport_gzip = self
            .headers
            .get("Content-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
        Some(if transport_gzip {
            self.body.starts_with(&[0x1f, 0x8b])
        } else {
            flag
        })
    }

    /// The message's `mex-*` fields as a MESH client control file would show them
    /// on receipt (for writing the message into an `IN` folder beside its body).
    pub fn to_control(&self) -> crate::control::ControlFile {
        crate::control::ControlFile {
            version: Some("1.0".into()),
            address_type: self.headers.owned("mex-AddressType"),
            message_type: Some(crate::control::MessageType::Data),
            from_dts: self.from.clone(),
            to_dts: self.to.clone(),
            subject: self.subject.clone(),
            local_id: self.local_id.clone(),
            dts_id: Some(self.message_id.clone()),
            partner_id: self.headers.owned("mex-PartnerID"),
            workflow_id: self.workflow_id.clone(),
            data_checksum: self.checksum.clone(),
            is_compressed: self.payload_compressed(),
            encrypted: self
                .headers
                .get("mex-Content-Encrypted")
                .map(|v| v.eq_ignore_ascii_case("y")),
            status_record: Some(self.headers.status_record()),
            ..Default::default()
        }
    }
}

/// What one inbox entry turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboxMessage {
    /// A payload from another mailbox.
    Data(DataMessage),
    /// MESH's report that one of this mailbox's messages failed (or, rarely,
    /// succeeded); [`Report::linked_message_id`] names it.
    Report(Report),
}

impl InboxMessage {
    /// The entry's own MESH message ID (acknowledge with this).
    pub fn message_id(&self) -> &str {
        match self {
            InboxMessage::Data(d) => &d.message_id,
            InboxMessage::Report(r) => r.message_id.as_deref().unwrap_or(""),
        }
    }

    /// The payload; a report is returned as [`MeshError::Reported`].
    pub fn into_data(self) -> Result<DataMessage, MeshError> {
        match self {
            InboxMessage::Data(d) => Ok(d),
            InboxMessage::Report(r) => Err(MeshError::Reported(Box::new(r))),
        }
    }
}

/// A sent message's state as MESH tracks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracking {
    /// The message ID.
    pub message_id: String,
    /// `uploading`, `accepted`, `acknowledged`, `undeliverable`, `error`, …
    pub status: Option<String>,
    /// Whether MESH considers the message successful so far.
    pub status_success: Option<bool>,
    /// The recipient mailbox (after `GPPROVIDER_` resolution).
    pub recipient: Option<String>,
    /// The workflow.
    pub workflow_id: Option<String>,
    /// The sender's LocalID.
    pub local_id: Option<String>,
    /// The whole tracking answer, as JSON text.
    pub raw: String,
}

/// A mailbox found by endpoint lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxEntry {
    /// The mailbox ID.
    pub mailbox_id: String,
    /// Its display name.
    pub mailbox_name: Option<String>,
}

/// Counters for one client: how much was sent and received, and how long the
/// client spent inside HTTP exchanges (waiting on the network and the server), so
/// that a caller can tell its own time from the server's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests made, retries included.
    pub requests: u64,
    /// Of those, retries.
    pub retries: u64,
    /// Request body bytes sent (after compression).
    pub bytes_sent: u64,
    /// Response body bytes received (before decompression).
    pub bytes_received: u64,
    /// Time from writing each request to reading the last byte of its answer.
    pub http_time: Duration,
}

/// A client for one MESH mailbox.
pub struct MeshClient {
    config: ClientConfig,
    agent: ureq::Agent,
    tokens: TokenSource,
    stats: Mutex<ClientStats>,
}

impl std::fmt::Debug for MeshClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshClient")
            .field("base_url", &self.config.base_url)
            .field("mailbox", &self.config.mailbox)
            .finish_non_exhaustive()
    }
}

/// One request to make.
struct Call<'a> {
    operation: String,
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<&'a [u8]>,
    auth: bool,
    /// Retry on transport failures and on every retryable status; when false, only
    /// on statuses that prove the request was not acted on.
    idempotent: bool,
}

/// A response read in full.
struct Answer {
    status: u16,
    headers: MessageHeaders,
    body: Vec<u8>,
    attempts: u32,
}

impl MeshClient {
    /// A client for the configured mailbox. Fails when the TLS material does not
    /// parse or the base URL is not `http(s)://…`.
    pub fn new(config: ClientConfig) -> Result<Self, MeshError> {
        if !(config.base_url.starts_with("https://") || config.base_url.starts_with("http://")) {
            return Err(MeshError::Config(format!(
                "base URL {:?} must start with https:// (or http:// for a local sandbox)",
                config.base_url
            )));
        }
        check_id("mailbox", &config.mailbox)?;
        if config.chunk_size == 0 || config.chunk_size > MAX_REQUEST_BYTES {
            return Err(MeshError::Config(format!(
                "chunk size {} must be between 1 and {MAX_REQUEST_BYTES} bytes",
                config.chunk_size
            )));
        }
        let tls = config.tls.to_ureq()?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.connect_timeout))
            .user_agent(format!(
                "{};N/A;{};{};N/A",
                config.client_version,
                std::env::consts::ARCH,
                std::env::consts::OS
            ))
            .tls_config(tls)
            .build()
            .into();
        let tokens = TokenSource::new(
            &config.mailbox,
            config.password.clone(),
            config.shared_key.clone(),
        );
        Ok(MeshClient {
            config,
            agent,
            tokens,
            stats: Mutex::new(ClientStats::default()),
        })
    }

    /// The mailbox this client acts for.
    pub fn mailbox(&self) -> &str {
        &self.config.mailbox
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The counters so far.
    pub fn stats(&self) -> ClientStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resets the counters.
    pub fn reset_stats(&self) {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = ClientStats::default();
    }

    /// Validates the mailbox and credentials (MESH asks for this once a day).
    pub fn handshake(&self) -> Result<(), MeshError> {
        let mb = &self.config.mailbox;
        let answer = self.call(Call {
            operation: format!("handshake for mailbox {mb}"),
            method: Method::POST,
            path: format!("/messageexchange/{mb}"),
            headers: vec![
                ("mex-ClientVersion", self.config.client_version.clone()),
                ("mex-OSName", std::env::consts::OS.to_owned()),
                ("mex-OSVersion", "N/A".to_owned()),
                ("mex-OSArchitecture", std::env::consts::ARCH.to_owned()),
                ("mex-JavaVersion", "N/A".to_owned()),
            ],
            body: None,
            auth: true,
            idempotent: true,
        })?;
        self.expect(&answer, &[200], "handshake")?;
        Ok(())
    }

    /// Sends a message; returns its MESH message ID. Payloads larger than the chunk
    /// size go in several requests (`mex-Chunk-Range`), each chunk gzipped on its own
    /// when [`OutgoingMessage::compress`] is set. Routing failures of `GPPROVIDER_`
    /// addresses come back later as reports in this mailbox's inbox.
    pub fn send(&self, message: &OutgoingMessage) -> Result<String, MeshError> {
        message.check()?;
        let mb = &self.config.mailbox;
        let chunks: Vec<&[u8]> = message.body.chunks(self.config.chunk_size).collect();
        let total = chunks.len();
        let encode = |chunk: &[u8]| -> Result<Vec<u8>, MeshError> {
            if !message.compress {
                return Ok(chunk.to_vec());
            }
            let mut enc = GzEncoder::new(
                Vec::with_capacity(chunk.len() / 2),
                flate2::Compression::new(self.config.gzip_level.min(9)),
            );
            std::io::Write::write_all(&mut enc, chunk)
                .and_then(|()| enc.finish())
                .map_err(|e| MeshError::InvalidRequest(format!("gzip failed: {e}")))
        };
        let first = encode(chunks[0])?;
        if first.len() > MAX_REQUEST_BYTES {
            return Err(MeshError::InvalidRequest(format!(
                "a chunk of {} bytes exceeds MESH's {MAX_REQUEST_BYTES}-byte request limit; lower the chunk size",
                first.len()
            )));
        }
        let mut headers = vec![
            ("mex-From", mb.clone()),
            ("mex-To", message.to.clone()),
            ("mex-WorkflowID", message.workflow_id.clone()),
            ("mex-Chunk-Range", format!("1:{total}")),
        ];
        let optional = [
            ("mex-Subject", &message.subject),
            ("mex-LocalID", &message.local_id),
            ("mex-FileName", &message.file_name),
            ("mex-Content-Type", &message.content_type),
            ("mex-PartnerID", &message.partner_id),
            ("mex-Content-Checksum", &message.checksum),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                headers.push((name, v.clone()));
            }
        }
        if let Some(enc) = message.content_encrypted {
            headers.push(("mex-Content-Encrypted", if enc { "Y" } else { "N" }.into()));
        }
        let content_type = match (&message.content_type, total) {
            (Some(ct), 1) => ct.clone(),
            _ => "application/octet-stream".to_owned(),
        };
        headers.push(("Content-Type", content_type.clone()));
        if message.compress {
            headers.push(("Content-Encoding", "gzip".into()));
        }
        let answer = self.call(Call {
            operation: format!(
                "send to {} on {} (chunk 1 of {total})",
                message.to, message.workflow_id
            ),
            method: Method::POST,
            path: format!("/messageexchange/{mb}/outbox"),
            headers,
            body: Some(&first),
            auth: true,
            idempotent: false,
        })?;
        drop(first);
        self.expect_send(&answer, &message.to, "send")?;
        let id = json_str(&answer.body, &["message_id", "messageID"]).ok_or_else(|| {
            MeshError::Protocol {
                operation: "send".into(),
                detail: format!(
                    "HTTP {} without a message ID: {}",
                    answer.status,
                    shorten(&answer.body)
                ),
            }
        })?;
        check_id("message ID", &id)?;
        for (i, chunk) in chunks.iter().enumerate().skip(1) {
            let n = i + 1;
            let body = encode(chunk)?;
            let mut headers = vec![
                ("mex-Chunk-Range", format!("{n}:{total}")),
                ("Content-Type", content_type.clone()),
            ];
            if message.compress {
                headers.push(("Content-Encoding", "gzip".into()));
            }
            let answer = self.call(Call {
                operation: format!("send chunk {n} of {total} of message {id}"),
                method: Method::POST,
                path: format!("/messageexchange/{mb}/outbox/{id}/{n}"),
                headers,
                body: Some(&body),
                auth: true,
                idempotent: true,
            })?;
            // 423: the message is no longer uploading. After a retry that means an
            // earlier attempt of this chunk was accepted before the connection broke.
            if answer.status == 423 && answer.attempts > 1 && n == total {
                continue;
            }
            self.expect_send(&answer, &message.to, &format!("send chunk {n} of {total}"))?;
        }
        Ok(id)
    }

    /// The IDs of the messages waiting in the inbox (all pages), optionally only those
    /// of one workflow.
    pub fn inbox(&self, workflow_filter: Option<&str>) -> Result<Vec<String>, MeshError> {
        let mb = &self.config.mailbox;
        let mut path = format!("/messageexchange/{mb}/inbox?max_results=500");
        if let Some(w) = workflow_filter {
            check_id("workflow ID", w)?;
            path.push_str("&workflow_filter=");
            path.push_str(w);
        }
        let mut ids = Vec::new();
        for _page in 0..10_000 {
            let answer = self.call(Call {
                operation: format!("list the inbox of {mb}"),
                method: Method::GET,
                path: path.clone(),
                headers: Vec::new(),
                body: None,
                auth: true,
                idempotent: true,
            })?;
            self.expect(&answer, &[200], "list the inbox")?;
            let value: serde_json::Value =
                serde_json::from_slice(&answer.body).map_err(|e| MeshError::Protocol {
                    operation: "list the inbox".into(),
                    detail: format!("not JSON ({e})"),
                })?;
            let messages = value
                .get("messages")
                .and_then(|m| m.as_array())
                .ok_or_else(|| MeshError::Protocol {
                    operation: "list the inbox".into(),
                    detail: "no `messages` array".into(),
                })?;
            for m in messages {
                if let Some(id) = m.as_str() {
                    ids.push(id.to_owned());
                }
            }
            match value.pointer("/links/next").and_then(|n| n.as_str()) {
                Some(next) if !next.is_empty() && !messages.is_empty() => {
                    path = match next.find("/messageexchange/") {
                        Some(at) => next[at..].to_owned(),
                        None => {
                            return Err(MeshError::Protocol {
                                operation: "list the inbox".into(),
                                detail: format!("unusable next-page link {next:?}"),
                            })
                        }
                    };
                }
                _ => break,
            }
        }
        Ok(ids)
    }

    /// Downloads a message: every chunk, joined, transport gzip undone. A REPORT is
    /// returned as [`InboxMessage::Report`], linked to the message it concerns.
    pub fn download(&self, message_id: &str) -> Result<InboxMessage, MeshError> {
        check_id("message ID", message_id)?;
        let first = self.get_chunk(message_id, 1)?;
        let headers = first.headers.clone();
        let is_report = headers
            .get("mex-MessageType")
            .is_some_and(|t| t.eq_ignore_ascii_case("report"));
        if is_report {
            return Ok(InboxMessage::Report(Report {
                message_id: headers
                    .owned("mex-MessageID")
                    .or_else(|| Some(message_id.to_owned())),
                linked_message_id: headers.owned("mex-LinkedMsgID"),
                workflow_id: headers.owned("mex-WorkflowID"),
                local_id: headers.owned("mex-LocalID"),
                subject: headers.owned("mex-Subject"),
                to: headers.owned("mex-To"),
                status: headers.status_record(),
            }));
        }
        let total = match (first.status, headers.get("mex-Chunk-Range")) {
            (200, _) => 1,
            (206, Some(range)) => {
                parse_range(range)
                    .map(|(_, n)| n)
                    .ok_or_else(|| MeshError::Protocol {
                        operation: format!("download {message_id}"),
                        detail: format!("bad mex-Chunk-Range {range:?}"),
                    })?
            }
            (206, None) => headers
                .get("mex-Total-Chunks")
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| MeshError::Protocol {
                    operation: format!("download {message_id}"),
                    detail: "206 without mex-Chunk-Range".into(),
                })?,
            (status, _) => {
                return Err(MeshError::Protocol {
                    operation: format!("download {message_id}"),
                    detail: format!("HTTP {status}"),
                })
            }
        };
        let mut body = self.decoded(message_id, 1, &first)?;
        for n in 2..=total {
            let chunk = self.get_chunk(message_id, n)?;
            let part = self.decoded(message_id, n, &chunk)?;
            body.extend_from_slice(&part);
            if body.len() as u64 > self.config.max_download_bytes {
                return Err(self.too_big(message_id));
            }
        }
        Ok(InboxMessage::Data(DataMessage {
            message_id: headers
                .owned("mex-MessageID")
                .unwrap_or_else(|| message_id.to_owned()),
            from: headers.owned("mex-From"),
            to: headers.owned("mex-To"),
            workflow_id: headers.owned("mex-WorkflowID"),
            subject: headers.owned("mex-Subject"),
            local_id: headers.owned("mex-LocalID"),
            file_name: headers.owned("mex-FileName"),
            content_type: headers
                .owned("mex-Content-Type")
                .or_else(|| headers.owned("Content-Type")),
            checksum: headers.owned("mex-Content-Checksum"),
            chunks: total,
            headers,
            body,
        }))
    }

    /// The headers of a message without its payload (`HEAD`).
    pub fn headers(&self, message_id: &str) -> Result<MessageHeaders, MeshError> {
        check_id("message ID", message_id)?;
        let mb = &self.config.mailbox;
        let answer = self.call(Call {
            operation: format!("read the headers of message {message_id}"),
            method: Method::HEAD,
            path: format!("/messageexchange/{mb}/inbox/{message_id}"),
            headers: Vec::new(),
            body: None,
            auth: true,
            idempotent: true,
        })?;
        self.expect_message(&answer, message_id, "read headers", &[200, 206])?;
        Ok(answer.headers)
    }

    /// Acknowledges a downloaded message (data or report): MESH removes it from the
    /// inbox and tells the sender it was collected.
    pub fn acknowledge(&self, message_id: &str) -> Result<(), MeshError> {
        check_id("message ID", message_id)?;
        let mb = &self.config.mailbox;
        let answer = self.call(Call {
            operation: format!("acknowledge message {message_id}"),
            method: Method::PUT,
            path: format!("/messageexchange/{mb}/inbox/{message_id}/status/acknowledged"),
            headers: Vec::new(),
            body: None,
            auth: true,
            idempotent: true,
        })?;
        self.expect_message(&answer, message_id, "acknowledge", &[200])
    }

    /// A sent message's tracking record.
    pub fn track(&self, message_id: &str) -> Result<Tracking, MeshError> {
        check_id("message ID", message_id)?;
        let mb = &self.config.mailbox;
        let answer = self.call(Call {
            operation: format!("track message {message_id}"),
            method: Method::GET,
            path: format!("/messageexchange/{mb}/outbox/tracking?messageID={message_id}"),
            headers: Vec::new(),
            body: None,
            auth: true,
            idempotent: true,
        })?;
        self.expect_message(&answer, message_id, "track", &[200])?;
        let value: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|e| MeshError::Protocol {
                operation: "track".into(),
                detail: format!("not JSON ({e})"),
            })?;
        let s = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(Tracking {
            message_id: s("message_id").unwrap_or_else(|| message_id.to_owned()),
            status: s("status"),
            status_success: value.get("status_success").and_then(|v| v.as_bool()),
            recipient: s("recipient"),
            workflow_id: s("workflow_id"),
            local_id: s("local_id"),
            raw: String::from_utf8_lossy(&answer.body).into_owned(),
        })
    }

    /// The mailboxes registered to receive `workflow_id` for organisation `ods_code`.
    pub fn lookup(
        &self,
        ods_code: &str,
        workflow_id: &str,
    ) -> Result<Vec<MailboxEntry>, MeshError> {
        check_id("ODS code", ods_code)?;
        check_id("workflow ID", workflow_id)?;
        let answer = self.call(Call {
            operation: format!("endpoint lookup {ods_code}/{workflow_id}"),
            method: Method::GET,
            path: format!("/messageexchange/endpointlookup/{ods_code}/{workflow_id}"),
            headers: Vec::new(),
            body: None,
            auth: false,
            idempotent: true,
        })?;
        self.expect(&answer, &[200], "endpoint lookup")?;
        let value: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|e| MeshError::Protocol {
                operation: "endpoint lookup".into(),
                detail: format!("not JSON ({e})"),
            })?;
        let results = value
            .get("results")
            .and_then(|r| r.as_array())
            .cloned()
            .unwrap_or_default();
        Ok(results
            .iter()
            .filter_map(|r| {
                let id = r
                    .get("mailbox_id")
                    .or_else(|| r.get("address"))
                    .and_then(|v| v.as_str())?;
                Some(MailboxEntry {
                    mailbox_id: id.to_owned(),
                    mailbox_name: r
                        .get("mailbox_name")
                        .or_else(|| r.get("description"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                })
            })
            .collect())
    }

    // ----- internals ------------------------------------------------------

    fn get_chunk(&self, message_id: &str, n: u32) -> Result<Answer, MeshError> {
        let mb = &self.config.mailbox;
        let path = if n == 1 {
            format!("/messageexchange/{mb}/inbox/{message_id}")
        } else {
            format!("/messageexchange/{mb}/inbox/{message_id}/{n}")
        };
        let answer = self.call(Call {
            operation: format!("download chunk {n} of message {message_id}"),
            method: Method::GET,
            path,
            headers: vec![("Accept-Encoding", "gzip".into())],
            body: None,
            auth: true,
            idempotent: true,
        })?;
        self.expect_message(&answer, message_id, "download", &[200, 206])?;
        Ok(answer)
    }

    fn decoded(&self, message_id: &str, n: u32, answer: &Answer) -> Result<Vec<u8>, MeshError> {
        let gzip = answer
            .headers
            .get("Content-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
        if !gzip {
            return Ok(answer.body.clone());
        }
        let limit = self.config.max_download_bytes;
        let mut out = Vec::with_capacity(answer.body.len() * 2);
        MultiGzDecoder::new(&answer.body[..])
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| MeshError::Protocol {
                operation: format!("download chunk {n} of message {message_id}"),
                detail: format!("gzip content does not decode ({e})"),
            })?;
        if out.len() as u64 > limit {
            return Err(self.too_big(message_id));
        }
        Ok(out)
    }

    fn too_big(&self, message_id: &str) -> MeshError {
        MeshError::Protocol {
            operation: format!("download {message_id}"),
            detail: format!(
                "the message exceeds the configured limit of {} bytes",
                self.config.max_download_bytes
            ),
        }
    }

    /// Maps a non-success answer to its error.
    fn expect(&self, answer: &Answer, ok: &[u16], operation: &str) -> Result<(), MeshError> {
        if ok.contains(&answer.status) {
            return Ok(());
        }
        Err(self.refusal(answer, operation))
    }

    fn expect_message(
        &self,
        answer: &Answer,
        message_id: &str,
        operation: &str,
        ok: &[u16],
    ) -> Result<(), MeshError> {
        if matches!(answer.status, 404 | 410) {
            return Err(MeshError::NotFound {
                operation: operation.into(),
                message_id: message_id.into(),
                mailbox: self.config.mailbox.clone(),
                status: answer.status,
            });
        }
        self.expect(answer, ok, operation)
    }

    fn expect_send(&self, answer: &Answer, to: &str, operation: &str) -> Result<(), MeshError> {
        if matches!(answer.status, 200 | 202) {
            return Ok(());
        }
        let err = self.refusal(answer, operation);
        if let MeshError::Refused {
            code: Some(StatusCode::UnregisteredRecipient),
            detail,
            ..
        } = &err
        {
            return Err(MeshError::UnknownRecipient {
                to: to.to_owned(),
                detail: detail.clone(),
            });
        }
        Err(err)
    }

    fn refusal(&self, answer: &Answer, operation: &str) -> MeshError {
        let (event, code, detail) = error_body(&answer.body);
        if matches!(answer.status, 401 | 403) && looks_like_auth(&detail) {
            return MeshError::Authentication {
                mailbox: self.config.mailbox.clone(),
                status: answer.status,
                detail,
            };
        }
        MeshError::Refused {
            operation: operation.into(),
            status: answer.status,
            event,
            code,
            detail,
        }
    }

    /// Makes the request, retrying as the policy allows, and reads the whole answer.
    fn call(&self, call: Call<'_>) -> Result<Answer, MeshError> {
        let policy = self.config.retry;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let outcome = self.attempt(&call);
            let elapsed = started.elapsed();
            {
                let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
                stats.requests += 1;
                stats.retries += u64::from(attempt > 1);
                stats.http_time += elapsed;
                stats.bytes_sent += call.body.map_or(0, |b| b.len() as u64);
                if let Ok(a) = &outcome {
                    stats.bytes_received += a.body.len() as u64;
                }
            }
            let retryable_status = |s: u16| {
                if call.idempotent {
                    s == 425 || s == 429 || (500..600).contains(&s)
                } else {
                    matches!(s, 425 | 429 | 503)
                }
            };
            let can_retry = attempt <= policy.max_retries;
            match outcome {
                Ok(mut answer) => {
                    if retryable_status(answer.status) && can_retry {
                        let wait = answer
                            .headers
                            .get("Retry-After")
                            .and_then(|s| s.trim().parse::<u64>().ok())
                            .map(Duration::from_secs);
                        std::thread::sleep(self.backoff(attempt, wait));
                        continue;
                    }
                    if retryable_status(answer.status) {
                        return Err(MeshError::Unavailable {
                            operation: call.operation,
                            status: answer.status,
                            attempts: attempt,
                            detail: shorten(&answer.body),
                        });
                    }
                    answer.attempts = attempt;
                    return Ok(answer);
                }
                Err(detail) => {
                    if call.idempotent && can_retry {
                        std::thread::sleep(self.backoff(attempt, None));
                        continue;
                    }
                    let detail = if call.idempotent {
                        detail
                    } else {
                        format!(
                            "{detail}; not retried, because MESH may have accepted the message before the connection failed: check the outbox tracking before sending again"
                        )
                    };
                    return Err(MeshError::Transport {
                        operation: call.operation,
                        attempts: attempt,
                        detail,
                    });
                }
            }
        }
    }

    fn backoff(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let policy = self.config.retry;
        let exp = policy
            .initial_backoff
            .saturating_mul(1u32 << (attempt - 1).min(16));
        hint.unwrap_or(exp).min(policy.max_backoff)
    }

    /// One attempt. Transport failures come back as `Err(text)`; the text names what
    /// failed and never contains a header.
    fn attempt(&self, call: &Call<'_>) -> Result<Answer, String> {
        let url = format!("{}{}", self.config.base_url, call.path);
        let mut builder = Request::builder()
            .method(call.method.clone())
            .uri(&url)
            .header("Accept", ACCEPT_V2);
        if call.auth {
            builder = builder.header("Authorization", self.tokens.next());
        }
        for (name, value) in &call.headers {
            // Header values are sent as UTF-8 bytes; MESH passes them through.
            let value = http::HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| format!("header {name} has a value HTTP cannot carry"))?;
            builder = builder.header(*name, value);
        }
        let response = match call.body {
            Some(body) => builder
                .body(body)
                .map_err(|e| format!("request could not be built: {e}"))
                .and_then(|r| self.agent.run(r).map_err(describe)),
            None => builder
                .body(())
                .map_err(|e| format!("request could not be built: {e}"))
                .and_then(|r| self.agent.run(r).map_err(describe)),
        };
        let mut response = response?;
        let status = response.status().as_u16();
        let headers = MessageHeaders::from_response(&response);
        let body = if call.method == Method::HEAD {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_REQUEST_BYTES as u64 + (1 << 20))
                .read_to_vec()
                .map_err(|e| format!("reading the answer failed: {}", describe(e)))?
        };
        Ok(Answer {
            status,
            headers,
            body,
            attempts: 1,
        })
    }
}

/// Names a transport failure without echoing request details.
fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::ConnectionFailed => "the connection could not be opened".into(),
        ureq::Error::HostNotFound => "the host name does not resolve".into(),
        ureq::Error::Io(io) => format!("connection failed: {io}"),
        ureq::Error::Tls(t) => format!("TLS failed: {t}"),
        other => format!("HTTP failed: {other}"),
    }
}

fn looks_like_auth(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    [
        "authenticat",
        "authoriz",
        "authoris",
        "token",
        "password",
        "certificate",
    ]
    .iter()
    .any(|k| d.contains(k))
}

/// IDs go into URL paths: only letters, digits, `_`, `-` and `.`.
fn check_id(what: &str, id: &str) -> Result<(), MeshError> {
    if id.is_empty()
        || id.len() > 300
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(MeshError::InvalidRequest(format!(
            "{what} {id:?} is not a MESH identifier (letters, digits, _ - . only)"
        )));
    }
    Ok(())
}

fn parse_range(range: &str) -> Option<(u32, u32)> {
    let (n, total) = range.trim().split_once(':')?;
    let (n, total) = (n.trim().parse().ok()?, total.trim().parse().ok()?);
    (n >= 1 && total >= n).then_some((n, total))
}

fn json_str(body: &[u8], keys: &[&str]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    keys.iter()
        .find_map(|k| value.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
}

/// MESH's error bodies: v2 `{"detail":[{"event","code","msg"}]}`, v1
/// `{"errorEvent","errorCode","errorDescription"}`, FastAPI validation
/// `{"detail":[{"type","loc","msg"}]}`, or anything else (shortened text).
fn error_body(body: &[u8]) -> (Option<String>, Option<StatusCode>, String) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None, shorten(body));
    };
    let s = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
    };
    if let Some(first) = value
        .get("detail")
        .and_then(|d| d.as_array())
        .and_then(|a| a.first())
    {
        let msg = s(first, "msg").unwrap_or_default();
        if let Some(loc) = first.get("loc").and_then(|l| l.as_array()) {
            let loc: Vec<String> = loc
                .iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                .collect();
            return (None, None, format!("{}: {msg}", loc.join(" ")));
        }
        return (
            s(first, "event"),
            s(first, "code").map(|c| StatusCode::parse(&c)),
            msg,
        );
    }
    if let Some(text) = value.get("detail").and_then(|d| d.as_str()) {
        return (None, None, text.to_owned());
    }
    if value.get("errorCode").is_some() || value.get("errorDescription").is_some() {
        return (
            s(&value, "errorEvent"),
            s(&value, "errorCode").map(|c| StatusCode::parse(&c)),
            s(&value, "errorDescription").unwrap_or_default(),
        );
    }
    (None, None, shorten(body))
}

fn shorten(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.chars().count() > 300 {
        let cut: String = text.chars().take(300).collect();
        format!("{cut}…")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_each_version_read() {
        let (e, c, d) = error_body(
            br#"{"detail":[{"event":"SEND","code":"12","msg":"Unregistered to address"}]}"#,
        );
        assert_eq!(
            (e.as_deref(), c, d.as_str()),
            (
                Some("SEND"),
                Some(StatusCode::UnregisteredRecipient),
                "Unregistered to address"
            )
        );
        let (_, c, d) = error_body(br#"{"errorEvent":"SEND","errorCode":"12","errorDescription":"Unregistered to address"}"#);
        assert_eq!(
            (c, d.as_str()),
            (
                Some(StatusCode::UnregisteredRecipient),
                "Unregistered to address"
            )
        );
        let (_, c, d) = error_body(br#"{"detail":[{"type":"missing","loc":["header","mex-workflowid"],"msg":"Field required"}]}"#);
        assert_eq!(
            (c, d.as_str()),
            (None, "header mex-workflowid: Field required")
        );
        let (_, c, d) = error_body(b"not json");
        assert_eq!((c, d.as_str()), (None, "not json"));
    }

    #[test]
    fn outgoing_messages_are_checked_before_sending() {
        let ok = OutgoingMessage::new("X26ABC2", "GPCONNECT_SEND_DOCUMENT", b"x".to_vec());
        assert!(ok.check().is_ok());
        let mut m = ok.clone();
        m.workflow_id = " ".into();
        assert!(m
            .check()
            .unwrap_err()
            .to_string()
            .contains("mex-WorkflowID is empty"));
        let mut m = ok.clone();
        m.body.clear();
        assert!(m
            .check()
            .unwrap_err()
            .to_string()
            .contains("payload is empty"));
        let mut m = ok.clone();
        m.subject = Some("a\nb".into());
        assert!(m
            .check()
            .unwrap_err()
            .to_string()
            .contains("mex-Subject contains a control character"));
        let mut m = ok.clone();
        m.to = "x".repeat(101);
        assert!(m
            .check()
            .unwrap_err()
            .to_string()
            .contains("mex-To is 101 characters"));
        let mut m = ok.clone();
        m.checksum = Some("md5:ab+c".into());
        assert!(m.check().unwrap_err().to_string().contains("'+'"));
        let mut m = ok;
        m.to = "https://evil".into();
        assert!(m.check().unwrap_err().to_string().contains("URL"));
    }

    #[test]
    fn ids_cannot_escape_the_path() {
        assert!(check_id("message ID", "ABC_123").is_ok());
        assert!(check_id("message ID", "../X26ABC2/inbox").is_err());
        assert!(check_id("message ID", "").is_err());
        assert!(check_id("message ID", "A?B").is_err());
    }

    #[test]
    fn chunk_ranges_parse() {
        assert_eq!(parse_range("1:3"), Some((1, 3)));
        assert_eq!(parse_range("3:2"), None);
        assert_eq!(parse_range("0:2"), None);
        assert_eq!(parse_range("x"), None);
    }

    #[test]
    fn configurations_are_checked() {
        let cfg = |url: &str| ClientConfig::new(url, "X26ABC1", Secret::new("p"), Secret::new("k"));
        assert!(MeshClient::new(cfg("ftp://x")).is_err());
        let mut c = cfg("http://127.0.0.1:1");
        c.chunk_size = 0;
        assert!(MeshClient::new(c).is_err());
        let mut c = cfg("http://127.0.0.1:1");
        c.tls.client_certificate_pem = Some(b"-----BEGIN CERTIFICATE-----\n".to_vec());
        assert!(matches!(MeshClient::new(c), Err(MeshError::Config(_))));
        let mut c = cfg("http://127.0.0.1:1");
        c.tls.ca_pem = Some(b"nothing".to_vec());
        let err = MeshClient::new(c).unwrap_err().to_string();
        assert!(err.contains("CA bundle"), "{err}");
        let dbg = format!("{:?}", cfg("http://x"));
        assert!(
            !dbg.contains("\"p\"") && dbg.contains("Secret(***)"),
            "{dbg}"
        );
    }
}
