//! Sending and receiving a Send Document message with a 5 MiB PDF through NHS
//! Digital's MESH sandbox on loopback, and how the time splits between our code and
//! waiting on the server.
//!
//! `MESH_SANDBOX_URL=… cargo bench -p workspace-tests --bench mesh` (the sandbox:
//! `scripts/mesh-sandbox.sh start`; the bench refuses to run without it). Each round,
//! interleaved:
//!
//! - **send**: `send_document_mesh::send_message` of the built message as XML
//!   (serialise, gzip in transit, POST to a `GPPROVIDER_` address, which the sandbox
//!   launcher routes to the practice's mailbox);
//! - **receive**: `DocumentInbox::receive` at the practice (list, download, un-gzip,
//!   every receiver check, the 20013 response built and sent, MESH acknowledgement);
//! - **baseline**: the same serialised bytes POSTed to the practice's mailbox by a
//!   bare HTTP client (no gzip, no checks), then downloaded and acknowledged: the
//!   least any client must do with the server for this message.
//!
//! For send and receive, "in HTTP" is the time the MESH client spent inside HTTP
//! exchanges (request written to answer read: network and server), from
//! `MeshClient::stats`; the rest is our code. Medians of `MESH_BENCH_ROUNDS` rounds
//! (default 9); the sandbox is emptied between operations, untimed.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use nhs_mesh::auth::{Secret, TokenSource};
use nhs_mesh::{ClientConfig, MeshClient};
use send_document::build::{
    Attachment, AuthoringPractitioner, DocumentType, Format, Patient, SendDocumentBuilder,
    SendingOrganisation,
};
use send_document::receive::{MemoryReceiptLog, Receiver};
use send_document::response::{Outcome, Responder};
use send_document::{MeshMailbox, OdsCode};
use send_document_mesh::{send_message, DocumentInbox, Incoming};
use workspace_tests::bench::pdf;

const SENDER: &str = "X26OT001";
const PRACTICE: &str = "A20047OT001";
const PDF_LEN: usize = 5 * 1024 * 1024;

fn url() -> String {
    std::env::var("MESH_SANDBOX_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            eprintln!(
                "MESH_SANDBOX_URL is not set: start the sandbox with `scripts/mesh-sandbox.sh start` \
                 and run MESH_SANDBOX_URL=$(cat .mesh-sandbox/http/url) cargo bench -p workspace-tests --bench mesh"
            );
            std::process::exit(2)
        })
}

fn client(url: &str, mailbox: &str) -> MeshClient {
    let mut cfg = ClientConfig::new(
        url,
        mailbox,
        Secret::new("password"),
        Secret::new("TestKey"),
    );
    if let Some(level) = std::env::var("MESH_BENCH_GZIP_LEVEL")
        .ok()
        .and_then(|l| l.parse().ok())
    {
        cfg.gzip_level = level;
    }
    MeshClient::new(cfg).expect("client")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn reset(url: &str) {
    let r = agent()
        .delete(format!("{url}/messageexchange/admin/reset"))
        .call()
        .expect("reset");
    assert_eq!(r.status().as_u16(), 200);
}

/// The bare-HTTP baseline: POST the bytes, download and acknowledge them.
fn baseline(url: &str, body: &[u8]) -> (Duration, Duration) {
    let (a, tokens_s, tokens_p) = (
        agent(),
        TokenSource::new(SENDER, Secret::new("password"), Secret::new("TestKey")),
        TokenSource::new(PRACTICE, Secret::new("password"), Secret::new("TestKey")),
    );
    let t = Instant::now();
    let mut resp = a
        .post(format!("{url}/messageexchange/{SENDER}/outbox"))
        .header("Authorization", tokens_s.next())
        .header("Accept", "application/vnd.mesh.v2+json")
        .header("mex-To", PRACTICE)
        .header("mex-WorkflowID", "GPCONNECT_SEND_DOCUMENT")
        .header("Content-Type", "application/fhir+xml")
        .send(body)
        .expect("baseline POST");
    assert_eq!(resp.status().as_u16(), 202);
    let answer = resp.body_mut().read_to_string().unwrap();
    let post = t.elapsed();
    let id = answer.split('"').nth(3).expect("message id").to_owned();
    let t = Instant::now();
    let mut resp = a
        .get(format!("{url}/messageexchange/{PRACTICE}/inbox/{id}"))
        .header("Authorization", tokens_p.next())
        .header("Accept", "application/vnd.mesh.v2+json")
        .call()
        .expect("baseline GET");
    let got = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap();
    assert_eq!(got.len(), body.len());
    let r = a
        .put(format!(
            "{url}/messageexchange/{PRACTICE}/inbox/{id}/status/acknowledged"
        ))
        .header("Authorization", tokens_p.next())
        .header("Accept", "application/vnd.mesh.v2+json")
        .send_empty()
        .expect("baseline ack");
    assert_eq!(r.status().as_u16(), 200);
    (post, t.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:8.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let url = url();
    let rounds: usize = std::env::var("MESH_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(9);
    let built = SendDocumentBuilder::new()
        .patient(
            Patient::new(
                "9000000009",
                "Smith",
                NaiveDate::from_ymd_opt(2010, 10, 22).unwrap(),
            )
            .given("Jane"),
        )
        .sender(SendingOrganisation::new(
            "X26",
            "Bridge Street Out-of-hours Service",
            SENDER,
        ))
        .author(AuthoringPractitioner::new("G8133438", "Nightingale"))
        .document_type(DocumentType::REPORT_OF_CLINICAL_ENCOUNTER)
        .title("Consultation summary")
        .attachment(Attachment::pdf(pdf(PDF_LEN)))
        .build()
        .expect("the bench message builds");
    let xml = built.to_xml().into_bytes();
    let receiver = Receiver::default();
    let responder = Responder::new(
        OdsCode::new("A20047").unwrap(),
        MeshMailbox::new(PRACTICE).unwrap(),
    );
    let (sender, practice) = (client(&url, SENDER), client(&url, PRACTICE));

    let (mut send, mut send_http, mut recv, mut recv_http, mut base_post, mut base_get) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut sent_bytes = 0;
    for round in 0..=rounds {
        reset(&url);
        sender.reset_stats();
        let t = Instant::now();
        send_message(&sender, &built, Format::Xml).expect("send");
        let (s, sh) = (t.elapsed(), sender.stats().http_time);
        sent_bytes = sender.stats().bytes_sent;

        practice.reset_stats();
        let mut log = MemoryReceiptLog::new();
        let t = Instant::now();
        let incoming = DocumentInbox::new(&practice, &receiver, &responder, &mut log)
            .receive(|_| Outcome::Accepted)
            .expect("receive");
        let (r, rh) = (t.elapsed(), practice.stats().http_time);
        assert!(
            matches!(&incoming[..], [Incoming::Document(d)] if d.result.is_ok()),
            "{incoming:?}"
        );

        reset(&url);
        let (bp, bg) = baseline(&url, &xml);
        if round == 0 {
            continue; // warm-up
        }
        send.push(s);
        send_http.push(sh);
        recv.push(r);
        recv_http.push(rh);
        base_post.push(bp);
        base_get.push(bg);
    }
    reset(&url);
    let share = |wall: &[Duration], http: &[Duration]| {
        let ours: Vec<Duration> = wall
            .iter()
            .zip(http)
            .map(|(w, h)| w.saturating_sub(*h))
            .collect();
        let m = median(ours);
        (m, m.as_secs_f64() / median(wall.to_vec()).as_secs_f64())
    };
    let (send_ours, send_share) = share(&send, &send_http);
    let (recv_ours, recv_share) = share(&recv, &recv_http);
    println!(
        "Send Document over MESH, 5 MiB PDF ({} bytes of XML), {rounds} rounds, medians",
        xml.len()
    );
    println!(
        "gzip level {}: {} bytes on the wire ({:.1}% of the XML)",
        sender.config().gzip_level,
        sent_bytes,
        sent_bytes as f64 * 100.0 / xml.len() as f64
    );
    println!(
        "send     {}  in HTTP {}  our code {} ({:4.1}%)   vs bare POST {}: {:.2}x",
        ms(median(send.clone())),
        ms(median(send_http)),
        ms(send_ours),
        send_share * 100.0,
        ms(median(base_post.clone())),
        median(send).as_secs_f64() / median(base_post).as_secs_f64()
    );
    println!(
        "receive  {}  in HTTP {}  our code {} ({:4.1}%)   vs bare GET+ack {}: {:.2}x",
        ms(median(recv.clone())),
        ms(median(recv_http)),
        ms(recv_ours),
        recv_share * 100.0,
        ms(median(base_get.clone())),
        median(recv).as_secs_f64() / median(base_get).as_secs_f64()
    );
}
