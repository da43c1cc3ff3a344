//! A loopback HTTP/1.1 proxy in front of the sandbox that can break chosen requests:
//! drop the connection part-way through the request body, drop it after the server
//! has answered, or answer with an error status itself. One request per connection.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// What to do to a matching request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Read the head and half the body, then close: the server never sees it.
    DropMidBody,
    /// Forward the request, let the server act on it, then close without answering.
    DropAfterForward,
    /// Answer with this status and an empty body; the server never sees it.
    Status(u16),
}

#[derive(Debug)]
struct Rule {
    method: String,
    path_contains: String,
    fault: Fault,
    remaining: usize,
}

/// The proxy; dropped with the test process.
pub struct Proxy {
    /// The proxy's base URL (`http://127.0.0.1:port`).
    pub url: String,
    rules: Arc<Mutex<Vec<Rule>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// A proxy forwarding to `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("the proxy fronts the plain-HTTP sandbox")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, s) = (rules.clone(), seen.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (r, s, up) = (r.clone(), s.clone(), upstream.clone());
                thread::spawn(move || {
                    let _ = serve(conn, &up, &r, &s);
                });
            }
        });
        Proxy { url, rules, seen }
    }

    /// Breaks the next `times` requests whose method is `method` and whose path
    /// contains `path_contains`.
    pub fn fail(&self, method: &str, path_contains: &str, fault: Fault, times: usize) {
        self.rules.lock().unwrap().push(Rule {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            fault,
            remaining: times,
        });
    }

    /// The request lines seen so far (`POST /path`), faulted or not.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    mut client: TcpStream,
    upstream: &str,
    rules: &Mutex<Vec<Rule>>,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    // Read the head.
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let head_end = loop {
        let n = client.read(&mut byte)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&byte[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let (method, path) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let length: usize = lines
        .clone()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    seen.lock().unwrap().push(format!("{method} {path}"));
    let fault = {
        let mut rules = rules.lock().unwrap();
        rules
            .iter_mut()
            .find(|r| r.remaining > 0 && r.method == method && path.contains(&r.path_contains))
            .map(|r| {
                r.remaining -= 1;
                r.fault
            })
    };
    if fault == Some(Fault::DropMidBody) {
        while buf.len() - head_end < length / 2 {
            let n = client.read(&mut byte)?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&byte[..n]);
        }
        let _ = client.shutdown(Shutdown::Both);
        return Ok(());
    }
    while buf.len() - head_end < length {
        let n = client.read(&mut byte)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&byte[..n]);
    }
    if let Some(Fault::Status(code)) = fault {
        let resp =
            format!("HTTP/1.1 {code} Injected\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        client.write_all(resp.as_bytes())?;
        let _ = client.shutdown(Shutdown::Both);
        return Ok(());
    }
    // Forward with `Connection: close`, so that the answer ends at EOF.
    let mut rewritten = String::new();
    rewritten.push_str(&request_line);
    rewritten.push_str("\r\n");
    for line in head[request_line.len() + 2..head_end - 2].split("\r\n") {
        if line.is_empty() || line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        rewritten.push_str(line);
        rewritten.push_str("\r\n");
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(rewritten.as_bytes())?;
    up.write_all(&buf[head_end..head_end + length])?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    if fault == Some(Fault::DropAfterForward) {
        let _ = client.shutdown(Shutdown::Both);
        return Ok(());
    }
    // Make sure the client does not reuse this connection.
    if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
        if !head.contains("\r\nconnection:") {
            answer.splice(end..end, b"\r\nconnection: close".iter().copied());
        }
    }
    client.write_all(&answer)?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}
