//! Shared by the tests that run against NHS Digital's MESH sandbox
//! (`scripts/mesh-sandbox.sh`): where it is, clients for its mailboxes, and a fault-
//! injecting proxy.
#![allow(dead_code)]

pub mod proxy;

use std::time::Duration;

use nhs_mesh::client::RetryPolicy;
use nhs_mesh::{ClientConfig, MeshClient, Secret, TlsSettings};

pub use workspace_tests::mesh_sandbox::{
    exclusive, inject_report, reset, tls_dir, url as sandbox_url, PASSWORD, SHARED_KEY,
};

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
