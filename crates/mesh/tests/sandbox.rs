//! The MESH API client against NHS Digital's MESH sandbox (a real MESH server on
//! loopback, started by `scripts/mesh-sandbox.sh`; see `tests/mesh/README.md`).
//! Every test here fails, saying why, when the sandbox is not running.

mod support;

use nhs_mesh::client::RetryPolicy;
use nhs_mesh::{InboxMessage, MeshClient, MeshError, OutgoingMessage, Secret, StatusCode};
use support::proxy::{Fault, Proxy};
use support::*;

const SENDER: &str = "X26OT001";
const PRACTICE: &str = "A20047OT001";
const WORKFLOW: &str = "GPCONNECT_SEND_DOCUMENT";

fn message(to: &str, body: Vec<u8>) -> OutgoingMessage {
    let mut m = OutgoingMessage::new(to, WORKFLOW, body);
    m.subject = Some("Consultation report test".into());
    m.local_id = Some("X26".into());
    m.file_name = Some("report.xml".into());
    m.content_type = Some("application/fhir+xml".into());
    m.checksum = Some("md5:0123abcd".into());
    m
}

fn only_message(client: &MeshClient) -> InboxMessage {
    let ids = client.inbox(None).expect("inbox");
    assert_eq!(
        ids.len(),
        1,
        "expected exactly one message in {}: {ids:?}",
        client.mailbox()
    );
    client.download(&ids[0]).expect("download")
}

#[test]
fn send_list_download_acknowledge_track_and_look_up() {
    let _g = exclusive();
    let (sender, practice) = (client(SENDER), client(PRACTICE));
    sender.handshake().expect("sender handshake");
    practice.handshake().expect("practice handshake");
    let body = b"<Bundle xmlns=\"http://hl7.org/fhir\"/>".to_vec();
    let id = sender.send(&message(PRACTICE, body.clone())).expect("send");
    assert_eq!(
        sender.track(&id).unwrap().status.as_deref(),
        Some("accepted")
    );

    assert_eq!(practice.inbox(Some(WORKFLOW)).unwrap(), vec![id.clone()]);
    assert!(practice
        .inbox(Some("GPFED_CONSULT_REPORT"))
        .unwrap()
        .is_empty());
    let headers = practice.headers(&id).unwrap();
    assert_eq!(headers.get("mex-MessageType"), Some("DATA"));
    let InboxMessage::Data(data) = practice.download(&id).unwrap() else {
        panic!("expected data")
    };
    assert_eq!(data.body, body);
    assert_eq!(data.from.as_deref(), Some(SENDER));
    assert_eq!(data.to.as_deref(), Some(PRACTICE));
    assert_eq!(data.workflow_id.as_deref(), Some(WORKFLOW));
    assert_eq!(data.subject.as_deref(), Some("Consultation report test"));
    assert_eq!(data.local_id.as_deref(), Some("X26"));
    assert_eq!(data.file_name.as_deref(), Some("report.xml"));
    assert_eq!(data.content_type.as_deref(), Some("application/fhir+xml"));
    assert_eq!(data.checksum.as_deref(), Some("md5:0123abcd"));
    assert_eq!(data.chunks, 1);
    // As the MESH client would write it into IN.
    let ctl = data.to_control();
    assert_eq!(ctl.dts_id.as_deref(), Some(id.as_str()));
    // Sent gzipped in transit, downloaded and un-gzipped: the payload is plain.
    assert_eq!(data.headers.get("mex-Content-Compressed"), Some("Y"));
    assert_eq!(data.payload_compressed(), Some(false));
    assert_eq!(ctl.is_compressed, Some(false));
    assert_eq!(
        ctl.status_record
            .as_ref()
            .and_then(|r| r.status_code.clone()),
        Some(StatusCode::Success)
    );

    practice.acknowledge(&id).unwrap();
    assert!(practice.inbox(None).unwrap().is_empty());
    let tracking = sender.track(&id).unwrap();
    assert_eq!(tracking.status.as_deref(), Some("acknowledged"));
    assert_eq!(tracking.recipient.as_deref(), Some(PRACTICE));

    let found = sender.lookup("A20047", WORKFLOW).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].mailbox_id, PRACTICE);
    assert!(sender
        .lookup("A20047", "NO_SUCH_WORKFLOW")
        .unwrap()
        .is_empty());
    // Unknown message IDs are a clear NotFound.
    match practice.download("0000000000000000000000000000DEAD") {
        Err(MeshError::NotFound { message_id, .. }) => {
            assert_eq!(message_id, "0000000000000000000000000000DEAD")
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn a_twenty_megabyte_payload_crosses_in_gzipped_chunks_byte_identical() {
    let _g = exclusive();
    let body = payload(20 * 1024 * 1024, 7);
    let mut cfg = config(&sandbox_url(), SENDER);
    cfg.chunk_size = 6 * 1024 * 1024;
    let sender = MeshClient::new(cfg).unwrap();
    let practice = client(PRACTICE);
    let mut m = message(PRACTICE, body.clone());
    m.file_name = Some("big.pdf".into());
    m.content_type = Some("application/pdf".into());
    let id = sender.send(&m).expect("chunked send");
    let stats = sender.stats();
    assert_eq!(stats.requests, 4, "20 MiB in 6 MiB chunks is 4 requests");
    assert!(
        stats.bytes_sent < body.len() as u64,
        "gzip should shrink the payload: {} sent for {}",
        stats.bytes_sent,
        body.len()
    );
    let InboxMessage::Data(data) = only_message(&practice) else {
        panic!("expected data")
    };
    assert_eq!(data.message_id, id);
    assert_eq!(data.chunks, 4);
    assert_eq!(data.content_type.as_deref(), Some("application/pdf"));
    assert!(
        data.body == body,
        "the reassembled payload differs from what was sent"
    );
    practice.acknowledge(&id).unwrap();
}

#[test]
fn a_wrong_password_or_shared_key_is_a_clear_authentication_error_without_secrets() {
    let url = sandbox_url();
    // (password, shared key, the wrong secret that must not leak)
    for (password, key, wrong) in [
        ("not-the-password", SHARED_KEY, "not-the-password"),
        (PASSWORD, "NotTheKey", "NotTheKey"),
    ] {
        let mut cfg = config(&url, SENDER);
        cfg.password = Secret::new(password);
        cfg.shared_key = Secret::new(key);
        let c = MeshClient::new(cfg).unwrap();
        for err in [
            c.handshake().unwrap_err(),
            c.inbox(None).unwrap_err(),
            c.send(&message(PRACTICE, b"x".to_vec())).unwrap_err(),
        ] {
            let (text, debug) = (err.to_string(), format!("{err:?}"));
            assert!(
                matches!(err, MeshError::Authentication { status: 403, .. }),
                "{debug}"
            );
            assert!(
                text.contains(SENDER) && text.contains("credentials"),
                "{text}"
            );
            for secret in [wrong, SHARED_KEY, "NHSMESH"] {
                assert!(
                    !text.contains(secret) && !debug.contains(secret),
                    "{secret} leaked: {debug}"
                );
            }
        }
    }
}

#[test]
fn an_unknown_recipient_is_refused_with_code_12() {
    let _g = exclusive();
    let err = client(SENDER)
        .send(&message("NOSUCHMB1", b"x".to_vec()))
        .unwrap_err();
    match &err {
        MeshError::UnknownRecipient { to, detail } => {
            assert_eq!(to, "NOSUCHMB1");
            assert!(detail.contains("Unregistered"), "{detail}");
        }
        other => panic!("expected UnknownRecipient, got {other:?}"),
    }
    assert!(err.to_string().contains("code 12"), "{err}");
}

#[test]
fn a_missing_workflow_is_refused_before_sending_and_an_unregistered_one_is_reported() {
    let _g = exclusive();
    let sender = client(SENDER);
    let mut m = message(PRACTICE, b"x".to_vec());
    m.workflow_id = String::new();
    let err = sender.send(&m).unwrap_err();
    assert!(matches!(err, MeshError::InvalidRequest(_)), "{err:?}");
    assert!(err.to_string().contains("mex-WorkflowID is empty"), "{err}");
    assert_eq!(sender.stats().requests, 0, "nothing may reach MESH");

    // A workflow the practice has no mailbox registered for: Spine's endpoint lookup
    // finds nothing, and says so later with an EPL-151 report.
    let mut m = message("GPPROVIDER_9000000009_20101022_Smith", b"x".to_vec());
    m.workflow_id = "TEST_WORKFLOW".into();
    let id = sender.send(&m).expect("accepted for routing");
    let InboxMessage::Report(report) = only_message(&sender) else {
        panic!("expected a report")
    };
    assert_eq!(report.linked_message_id.as_deref(), Some(id.as_str()));
    assert_eq!(report.code(), Some(&StatusCode::NoMailboxMatched));
}

#[test]
fn reports_are_typed_and_linked_to_their_message() {
    let _g = exclusive();
    let sender = client(SENDER);
    let cases = [
        (
            "GPPROVIDER_1234567891_20101022_Smith",
            StatusCode::InvalidNhsNumber,
        ),
        (
            "GPPROVIDER_9434765919_20101022_Smith",
            StatusCode::NhsNumberNotFound,
        ),
        (
            "GPPROVIDER_9000000009_22102010_Smith",
            StatusCode::DemographicsMismatch,
        ),
        (
            "GPPROVIDER_9000000017_20010214_OBrien",
            StatusCode::NoMailboxMatched,
        ),
    ];
    for (to, code) in cases {
        reset();
        let id = sender.send(&message(to, b"<Bundle/>".to_vec())).expect(to);
        let entry = only_message(&sender);
        assert!(!entry.message_id().is_empty());
        let report_id = entry.message_id().to_owned();
        let err = entry.into_data().unwrap_err();
        let MeshError::Reported(report) = &err else {
            panic!("expected Reported, got {err:?}")
        };
        assert_eq!(
            report.linked_message_id.as_deref(),
            Some(id.as_str()),
            "{to}"
        );
        assert_eq!(report.code(), Some(&code), "{to}");
        assert!(report.is_error());
        assert_eq!(report.workflow_id.as_deref(), Some(WORKFLOW));
        assert_eq!(err.code(), Some(&code));
        assert!(err.to_string().contains(&id), "{err}");
        sender.acknowledge(&report_id).unwrap();
        assert!(sender.inbox(None).unwrap().is_empty());
    }
    // A non-delivery report (code 14) injected as MESH would send it after 5 days.
    reset();
    inject_report(
        SENDER,
        "14",
        "Message not collected by recipient after 5 days",
        "ABC123",
        "undeliverable",
    );
    let InboxMessage::Report(report) = only_message(&sender) else {
        panic!("expected a report")
    };
    assert_eq!(report.code(), Some(&StatusCode::NotCollected));
    assert_eq!(report.linked_message_id.as_deref(), Some("ABC123"));
}

#[test]
fn a_connection_dropped_mid_chunk_is_retried_and_delivers_once() {
    let _g = exclusive();
    let proxy = Proxy::start(&sandbox_url());
    let mut cfg = config(&proxy.url, SENDER);
    cfg.chunk_size = 256 * 1024;
    let sender = MeshClient::new(cfg).unwrap();
    let body = payload(700 * 1024, 3); // 3 chunks
    proxy.fail("POST", "/outbox/", Fault::DropMidBody, 1); // chunk 2, once
    proxy.fail("POST", "/3", Fault::DropAfterForward, 1); // chunk 3 accepted, answer lost
    let id = sender
        .send(&message(PRACTICE, body.clone()))
        .expect("retried send");
    let stats = sender.stats();
    assert_eq!(stats.retries, 2, "{:?}\n{:?}", stats, proxy.seen());
    let practice = client(PRACTICE);
    let InboxMessage::Data(data) = only_message(&practice) else {
        panic!("expected data")
    };
    assert_eq!(data.message_id, id);
    assert!(data.body == body, "payload differs after retries");
}

#[test]
fn a_connection_that_keeps_dropping_ends_in_a_clear_error_and_no_delivery() {
    let _g = exclusive();
    let proxy = Proxy::start(&sandbox_url());
    let mut cfg = config(&proxy.url, SENDER);
    cfg.chunk_size = 256 * 1024;
    cfg.retry = RetryPolicy {
        max_retries: 2,
        initial_backoff: std::time::Duration::from_millis(10),
        max_backoff: std::time::Duration::from_millis(50),
    };
    let sender = MeshClient::new(cfg).unwrap();
    proxy.fail("POST", "/outbox/", Fault::DropMidBody, 100);
    let err = sender
        .send(&message(PRACTICE, payload(600 * 1024, 4)))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, MeshError::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(
        text.contains("chunk 2 of 3") && text.contains("gave up after 3 attempts"),
        "{text}"
    );
    assert!(
        client(PRACTICE).inbox(None).unwrap().is_empty(),
        "an incomplete message must not be delivered"
    );

    // The first POST is never retried on a broken connection: MESH may have created
    // the message, and a retry could deliver it twice.
    let proxy = Proxy::start(&sandbox_url());
    let sender = MeshClient::new(config(&proxy.url, SENDER)).unwrap();
    proxy.fail("POST", "/outbox", Fault::DropAfterForward, 1);
    let err = sender
        .send(&message(PRACTICE, b"<Bundle/>".to_vec()))
        .unwrap_err();
    assert!(
        matches!(err, MeshError::Transport { attempts: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("not retried"), "{err}");
    assert_eq!(
        client(PRACTICE).inbox(None).unwrap().len(),
        1,
        "exactly one copy reached MESH"
    );
}

#[test]
fn busy_and_failing_servers_are_retried_with_a_bound() {
    let _g = exclusive();
    let proxy = Proxy::start(&sandbox_url());
    let c = MeshClient::new(config(&proxy.url, PRACTICE)).unwrap();
    proxy.fail("GET", "/inbox", Fault::Status(429), 2);
    assert!(c.inbox(None).unwrap().is_empty());
    assert_eq!(c.stats().retries, 2);
    proxy.fail("GET", "/inbox", Fault::Status(503), 10);
    let err = c.inbox(None).unwrap_err();
    assert!(
        matches!(
            err,
            MeshError::Unavailable {
                status: 503,
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
    // A 503 on the first POST proves MESH did not take the message: retried.
    let sender = MeshClient::new(config(&proxy.url, SENDER)).unwrap();
    proxy.fail("POST", "/outbox", Fault::Status(503), 1);
    sender
        .send(&message(PRACTICE, b"<Bundle/>".to_vec()))
        .unwrap();
    assert_eq!(client(PRACTICE).inbox(None).unwrap().len(), 1);
}

#[test]
fn mutual_tls_uses_the_client_certificate() {
    let dir = tls_dir();
    let url = std::fs::read_to_string(dir.join("url")).expect("TLS sandbox url");
    let url = url.trim();
    assert!(url.starts_with("https://"), "{url}");
    let mut cfg = config(url, SENDER);
    cfg.tls = tls_settings(true);
    let c = MeshClient::new(cfg).unwrap();
    c.handshake().expect("handshake over mutual TLS");
    let id = c.send(&message(PRACTICE, b"<Bundle/>".to_vec())).unwrap();
    assert!(!id.is_empty());

    let mut cfg = config(url, SENDER);
    cfg.tls = tls_settings(false);
    cfg.retry.max_retries = 0;
    let err = MeshClient::new(cfg).unwrap().handshake().unwrap_err();
    assert!(matches!(err, MeshError::Transport { .. }), "{err:?}");
    // Without our CA the server itself is not trusted.
    let mut cfg = config(url, SENDER);
    cfg.retry.max_retries = 0;
    let err = MeshClient::new(cfg).unwrap().handshake().unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("tls") || err.to_string().contains("certificate"),
        "{err}"
    );
}
