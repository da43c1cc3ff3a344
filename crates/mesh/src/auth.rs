//! The `NHSMESH` `Authorization` header (MESH API; `docs/mesh.md`).
//!
//! ```text
//! Authorization: NHSMESH <mailbox>:<nonce>:<nonce_count>:<yyyyMMddHHmm>:<hash>
//! hash = lowercase hex HMAC-SHA256(key = shared secret,
//!                                  msg = "<mailbox>:<nonce>:<nonce_count>:<password>:<yyyyMMddHHmm>")
//! ```
//!
//! The header and the HMAC message order their fields differently: the password sits
//! before the timestamp in the message and is absent from the header. Real MESH accepts
//! each token once and only within two hours of its own clock, so a client uses one
//! nonce with a count that goes up on every request ([`TokenSource`]).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A secret (mailbox password, shared key, private key): its `Debug` prints
/// `Secret(***)` and it has no `Display`, so it cannot reach a log or an error message
/// by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call only where it is used (the HMAC), never to print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The `Authorization` value for one request: `NHSMESH mailbox:nonce:count:timestamp:hash`.
///
/// `timestamp` is formatted `yyyyMMddHHmm` in UTC. The mailbox is used as given; MESH
/// expects it upper case and equal to the mailbox in the URL.
pub fn authorization(
    mailbox: &str,
    password: &Secret,
    shared_key: &Secret,
    nonce: &str,
    nonce_count: u64,
    timestamp: DateTime<Utc>,
) -> String {
    let ts = timestamp.format("%Y%m%d%H%M").to_string();
    let hash = token_hash(mailbox, password, shared_key, nonce, nonce_count, &ts);
    format!("NHSMESH {mailbox}:{nonce}:{nonce_count}:{ts}:{hash}")
}

/// The lowercase hex HMAC-SHA256 of `mailbox:nonce:count:password:timestamp` keyed by
/// the shared secret, with the timestamp already formatted.
pub fn token_hash(
    mailbox: &str,
    password: &Secret,
    shared_key: &Secret,
    nonce: &str,
    nonce_count: u64,
    timestamp: &str,
) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(shared_key.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(
        format!(
            "{mailbox}:{nonce}:{nonce_count}:{}:{timestamp}",
            password.expose()
        )
        .as_bytes(),
    );
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        use fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Fresh tokens for one mailbox: one random nonce per source, its count going up by
/// one on every token, so that no two requests carry the same token (real MESH
/// refuses a token it has seen).
pub struct TokenSource {
    mailbox: String,
    password: Secret,
    shared_key: Secret,
    nonce: String,
    count: AtomicU64,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("mailbox", &self.mailbox)
            .field("nonce", &self.nonce)
            .field("count", &self.count.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A source with a random (UUID v4) nonce, counting from 0.
    pub fn new(mailbox: &str, password: Secret, shared_key: Secret) -> Self {
        Self::with_nonce(
            mailbox,
            password,
            shared_key,
            &uuid::Uuid::new_v4().to_string(),
        )
    }

    /// A source with a given nonce (for tests and known-answer checks).
    pub fn with_nonce(mailbox: &str, password: Secret, shared_key: Secret, nonce: &str) -> Self {
        TokenSource {
            mailbox: mailbox.to_owned(),
            password,
            shared_key,
            nonce: nonce.to_owned(),
            count: AtomicU64::new(0),
        }
    }

    /// The next `Authorization` value, stamped with `now`.
    pub fn next_at(&self, now: DateTime<Utc>) -> String {
        let n = self.count.fetch_add(1, Ordering::Relaxed);
        authorization(
            &self.mailbox,
            &self.password,
            &self.shared_key,
            &self.nonce,
            n,
            now,
        )
    }

    /// The next `Authorization` value, stamped with the system clock.
    pub fn next(&self) -> String {
        self.next_at(DateTime::<Utc>::from(std::time::SystemTime::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("password");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let t = TokenSource::new("X26ABC1", s, Secret::new("TestKey"));
        let dbg = format!("{t:?}");
        assert!(
            !dbg.contains("password") && !dbg.contains("TestKey"),
            "{dbg}"
        );
    }

    #[test]
    fn the_count_goes_up_per_token() {
        let t = TokenSource::with_nonce(
            "X26ABC1",
            Secret::new("password"),
            Secret::new("TestKey"),
            "n",
        );
        let at = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        assert!(t
            .next_at(at)
            .starts_with("NHSMESH X26ABC1:n:0:202001010000:"));
        assert!(t
            .next_at(at)
            .starts_with("NHSMESH X26ABC1:n:1:202001010000:"));
    }
}
