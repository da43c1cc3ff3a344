//! The `NHSMESH` Authorization header against the known-answer vectors in
//! `../shared/mesh/auth-vectors.json` (computed with Python `hmac`, cross-checked with
//! `openssl dgst -hmac` and NHS's own `mesh_client`).

use chrono::{NaiveDateTime, TimeZone, Utc};
use nhs_mesh::auth::{authorization, token_hash, Secret, TokenSource};

fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/mesh/auth-vectors.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("the MESH auth vectors are missing at {path} ({e}); ../shared must sit beside the checkout")
    });
    serde_json::from_str(&text).expect("auth-vectors.json is JSON")
}

#[test]
fn every_vector_gives_its_header() {
    let v = vectors();
    let list = v["vectors"].as_array().expect("vectors array");
    assert!(list.len() >= 4, "expected the four published vectors");
    for case in list {
        let s = |k: &str| case[k].as_str().unwrap().to_owned();
        let (key, password) = (Secret::new(s("shared_key")), Secret::new(s("password")));
        let count: u64 = s("nonce_count").parse().unwrap();
        let ts = NaiveDateTime::parse_from_str(&format!("{}00", s("timestamp")), "%Y%m%d%H%M%S")
            .unwrap();
        let at = Utc.from_utc_datetime(&ts);
        assert_eq!(
            token_hash(
                &s("mailbox_id"),
                &password,
                &key,
                &s("nonce"),
                count,
                &s("timestamp")
            ),
            s("hash"),
            "hash of {}",
            s("hmac_message")
        );
        assert_eq!(
            authorization(&s("mailbox_id"), &password, &key, &s("nonce"), count, at),
            s("authorization")
        );
    }
}

#[test]
fn a_token_source_counts_from_zero_with_one_nonce() {
    let v = vectors();
    let first = &v["vectors"][0];
    let s = |k: &str| first[k].as_str().unwrap().to_owned();
    let source = TokenSource::with_nonce(
        &s("mailbox_id"),
        Secret::new(s("password")),
        Secret::new(s("shared_key")),
        &s("nonce"),
    );
    let at = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(source.next_at(at), s("authorization"));
    let second = source.next_at(at);
    assert_ne!(second, s("authorization"), "a token must never repeat");
    assert!(second.starts_with(&format!("NHSMESH {}:{}:1:", s("mailbox_id"), s("nonce"))));
}

#[test]
fn a_wrong_password_or_key_changes_the_hash() {
    let at = "202001010000";
    let good = token_hash(
        "X26ABC1",
        &Secret::new("password"),
        &Secret::new("TestKey"),
        "n",
        0,
        at,
    );
    let bad_pw = token_hash(
        "X26ABC1",
        &Secret::new("passwore"),
        &Secret::new("TestKey"),
        "n",
        0,
        at,
    );
    let bad_key = token_hash(
        "X26ABC1",
        &Secret::new("password"),
        &Secret::new("TestKez"),
        "n",
        0,
        at,
    );
    assert_ne!(good, bad_pw);
    assert_ne!(good, bad_key);
    assert_eq!(good.len(), 64);
    assert!(good
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
}
