//! Shared by the tests that run against NHS Digital's MESH sandbox
//! (`scripts/mesh-sandbox.sh`): where it is, clients for its mailboxes, and a fault-
//! injecting proxy.
#![allow(dead_code)]

pub mod proxy;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use nhs_mesh::client::RetryPolicy;
use nhs_mesh::{ClientConfig, MeshClient, Secret, TlsSettings};

/// The sandbox's shared key and every mailbox's password (public test defaults).
pub const SHARED_KEY: &str = "TestKey";
pub const PASSWORD: &str = "password";

/// The plain-HTTP sandbox's base URL, from `MESH_SANDBOX_URL`. Panics with
/// instructions when it is not set: these tests must not pass without a server.
pub fn sandbox_url() -> String {
    match std::env::var("MESH_SANDBOX_URL") {
        Ok(url) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
        _ => panic!(
            "MESH_SANDBOX_URL is not set: this test needs NHS Digital's MESH sandbox. \
             Run the README's test command (scripts/test.sh), which starts it, or \
             `scripts/mesh-sandbox.sh start` and export MESH_SANDBOX_URL=$(cat .mesh-sandbox/http/url). \
             The sandbox needs python3 3.11-3.13."
        ),
    }
}

/// The mutual-TLS sandbox's folder (url, ca.pem, client.pem, client.key), from
/// `MESH_SANDBOX_TLS_DIR`.
pub fn tls_dir() -> PathBuf {
    match std::env::var("MESH_SANDBOX_TLS_DIR") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!(
            "MESH_SANDBOX_TLS_DIR is not set: this test needs the mutual-TLS MESH sandbox. \
             Run scripts/test.sh, or `MESH_SANDBOX_TLS=1 scripts/mesh-sandbox.sh start tls` \
             and export MESH_SANDBOX_TLS_DIR=.mesh-sandbox/tls"
        ),
    }
}

/// A configuration for `mailbox` at `url` with short back-off (tests should not sleep).
pub fn config(url: &str, mailbox: &str) -> ClientConfig {
    let mut c = ClientConfig::new(url, mailbox, Secret::new(PASSWORD), Secret::new(SHARED_KEY));
    c.retry = RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    };
    c.timeout = Duration::from_secs(60);
    c
}

/// A client for `mailbox` on the plain-HTTP sandbox.
pub fn client(mailbox: &str) -> MeshClient {
    MeshClient::new(config(&sandbox_url(), mailbox)).expect("client")
}

/// TLS settings trusting the test CA, with or without the client certificate.
pub fn tls_settings(with_client_certificate: bool) -> TlsSettings {
    let dir = tls_dir();
    TlsSettings::from_files(
        Some(&dir.join("ca.pem")),
        with_client_certificate
            .then(|| dir.join("client.pem"))
            .as_deref(),
        with_client_certificate
            .then(|| dir.join("client.key"))
            .as_deref(),
    )
    .expect("TLS files")
}

static SANDBOX: Mutex<()> = Mutex::new(());

/// Exclusive use of the sandbox with every mailbox emptied: tests that list inboxes
/// must not see each other's messages.
pub fn exclusive() -> MutexGuard<'static, ()> {
    let guard = SANDBOX.lock().unwrap_or_else(|e| e.into_inner());
    reset();
    guard
}

/// Empties every mailbox (sandbox admin API).
pub fn reset() {
    let url = format!("{}/messageexchange/admin/reset", sandbox_url());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent.delete(&url).call().expect("sandbox reset");
    assert_eq!(resp.status().as_u16(), 200, "sandbox reset failed: {url}");
}

/// Puts a REPORT into `mailbox`'s inbox through the sandbox's admin API.
pub fn inject_report(mailbox: &str, code: &str, description: &str, linked: &str, status: &str) {
    let url = format!("{}/messageexchange/admin/report", sandbox_url());
    let body = serde_json::json!({
        "mailbox_id": mailbox,
        "code": code,
        "description": description,
        "workflow_id": "GPCONNECT_SEND_DOCUMENT",
        "subject": "a subject",
        "local_id": "X26",
        "status": status,
        "linked_message_id": linked,
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent
        .post(&url)
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .expect("admin report");
    assert!(
        resp.status().is_success(),
        "admin report: HTTP {}",
        resp.status()
    );
}

/// Deterministic bytes that compress moderately (like a PDF with some text).
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x % 4 == 0 {
            out.extend_from_slice(b"stream BT /F1 12 Tf (consultation) Tj ET endstream ");
        } else {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out.truncate(len);
    out
}
