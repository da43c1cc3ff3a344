//! Helpers for the workspace integration tests: locating `../shared`, and
//! comparing JSON documents with numbers compared by their exact text.

use std::path::{Path, PathBuf};

use fhir_runtime::serde_support::JsonTree;

/// The shared inputs folder (`../shared` beside the checkout, or `$SENDDOC_SHARED_DIR`).
///
/// Panics with a clear message when it is missing: a test that needs the shared
/// examples must not pass silently without them.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SENDDOC_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        dir.join("fhir-examples").is_dir(),
        "the shared inputs folder was not found at {} (expected ../shared beside the checkout, \
         or set SENDDOC_SHARED_DIR); these tests need it and do not pass without it",
        dir.display()
    );
    dir.canonicalize().unwrap_or(dir)
}

/// Every file in `shared/<sub>` with extension `ext`, sorted.
pub fn shared_files(sub: &str, ext: &str) -> Vec<PathBuf> {
    let dir = shared_dir().join(sub);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

/// Compares two JSON texts as values: same keys (order ignored), same array
/// order, numbers by exact text. Returns the path of the first difference.
pub fn json_equal(a: &str, b: &str) -> Result<(), String> {
    let a = JsonTree::parse(a).map_err(|e| format!("left is not JSON: {e}"))?;
    let b = JsonTree::parse(b).map_err(|e| format!("right is not JSON: {e}"))?;
    tree_equal(&a, &b, "$")
}

fn tree_equal(a: &JsonTree, b: &JsonTree, path: &str) -> Result<(), String> {
    tree_equal_with(a, b, path, false)
}

fn tree_equal_with(a: &JsonTree, b: &JsonTree, path: &str, divs: bool) -> Result<(), String> {
    if divs && path.ends_with(".div") {
        if let (JsonTree::String(x), JsonTree::String(y)) = (a, b) {
            return xhtml_equal(x, y).map_err(|e| format!("{path}: {e}"));
        }
    }
    match (a, b) {
        (JsonTree::Object(x), JsonTree::Object(y)) => {
            for (k, v) in x {
                match y.iter().find(|(k2, _)| k2 == k) {
                    Some((_, v2)) => tree_equal_with(v, v2, &format!("{path}.{k}"), divs)?,
                    None => return Err(format!("{path}.{k}: missing on the right")),
                }
            }
            for (k, _) in y {
                if !x.iter().any(|(k2, _)| k2 == k) {
                    return Err(format!("{path}.{k}: missing on the left"));
                }
            }
            if x.len() != y.len() {
                return Err(format!("{path}: duplicate keys differ"));
            }
            Ok(())
        }
        (JsonTree::Array(x), JsonTree::Array(y)) => {
            if x.len() != y.len() {
                return Err(format!("{path}: array lengths {} and {}", x.len(), y.len()));
            }
            for (i, (v, v2)) in x.iter().zip(y).enumerate() {
                tree_equal_with(v, v2, &format!("{path}[{i}]"), divs)?;
            }
            Ok(())
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{path}: {a:?} != {b:?}")),
    }
}

/// One XML item, for comparing documents: whitespace between elements is
/// ignored, attribute order is ignored, attribute values and text compare
/// after unescaping.
#[derive(Debug, PartialEq)]
enum XmlItem {
    Start(String, Vec<(String, String)>),
    End(String),
    Text(String),
    Comment(String),
}

fn xml_items(text: &str, collapse_text: bool) -> Result<Vec<XmlItem>, String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(text);
    r.config_mut().expand_empty_elements = true;
    let mut out = Vec::new();
    let mut pending_text = String::new();
    let flush = |pending: &mut String, out: &mut Vec<XmlItem>| {
        let t = if collapse_text {
            pending.split_whitespace().collect::<Vec<_>>().join(" ")
        } else {
            std::mem::take(pending)
        };
        pending.clear();
        if !t.trim().is_empty() {
            out.push(XmlItem::Text(t));
        }
    };
    loop {
        match r.read_event().map_err(|e| format!("not XML: {e}"))? {
            Event::Start(e) => {
                flush(&mut pending_text, &mut out);
                let mut attrs: Vec<(String, String)> = e
                    .attributes()
                    .map(|a| {
                        let a = a.map_err(|e| e.to_string())?;
                        let v = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| e.to_string())?;
                        Ok((
                            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                            v.into_owned(),
                        ))
                    })
                    .collect::<Result<_, String>>()?;
                attrs.sort();
                out.push(XmlItem::Start(
                    String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    attrs,
                ));
            }
            Event::End(e) => {
                flush(&mut pending_text, &mut out);
                out.push(XmlItem::End(
                    String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                ));
            }
            Event::Text(t) => pending_text.push_str(&t.xml10_content().map_err(|e| e.to_string())?),
            Event::GeneralRef(g) => {
                let name = String::from_utf8_lossy(&g).into_owned();
                let ch = match name.as_str() {
                    "amp" => "&".to_owned(),
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                        .map(String::from)
                        .unwrap_or_default(),
                    n if n.starts_with('#') => n[1..]
                        .parse()
                        .ok()
                        .and_then(char::from_u32)
                        .map(String::from)
                        .unwrap_or_default(),
                    n => format!("&{n};"),
                };
                pending_text.push_str(&ch);
            }
            Event::CData(c) => pending_text.push_str(&String::from_utf8_lossy(&c)),
            Event::Comment(c) => {
                flush(&mut pending_text, &mut out);
                out.push(XmlItem::Comment(String::from_utf8_lossy(&c).into_owned()));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    flush(&mut pending_text, &mut out);
    Ok(out)
}

/// Compares two XML documents: the same elements, attributes, text and
/// comments in the same order, ignoring whitespace-only text between elements
/// and attribute order. Returns the first difference.
pub fn xml_equal(a: &str, b: &str) -> Result<(), String> {
    let x = xml_items(a, false)?;
    let y = xml_items(b, false)?;
    for (i, (p, q)) in x.iter().zip(&y).enumerate() {
        if p != q {
            return Err(format!("item {i}: {p:?} != {q:?}"));
        }
    }
    if x.len() != y.len() {
        return Err(format!("{} items and {} items", x.len(), y.len()));
    }
    Ok(())
}

/// Compares two XHTML fragments ignoring escaping and runs of whitespace.
pub fn xhtml_equal(a: &str, b: &str) -> Result<(), String> {
    let x = xml_items(a, true)?;
    let y = xml_items(b, true)?;
    if x == y {
        Ok(())
    } else {
        let i = x
            .iter()
            .zip(&y)
            .position(|(p, q)| p != q)
            .unwrap_or(x.len().min(y.len()));
        Err(format!(
            "xhtml differs at item {i}: {:?} != {:?}",
            x.get(i),
            y.get(i)
        ))
    }
}

/// Like [`json_equal`], but narrative `div` strings are compared as XHTML
/// ([`xhtml_equal`]): the official JSON examples escape and space them
/// differently from their XML twins.
pub fn json_equal_xhtml_divs(a: &str, b: &str) -> Result<(), String> {
    let a = JsonTree::parse(a).map_err(|e| format!("left is not JSON: {e}"))?;
    let b = JsonTree::parse(b).map_err(|e| format!("right is not JSON: {e}"))?;
    tree_equal_with(&a, &b, "$", true)
}

/// Timing helpers shared by the benchmarks (`tests/benches/`).
/// Assertions on located errors and warnings, shared by the JSON and XML error suites.
pub mod located {
    use fhir_runtime::{Error, ErrorKind, Parsed, Severity};

    /// Asserts an error's kind, FHIRPath location, line and column.
    #[track_caller]
    pub fn check(e: &Error, kind: ErrorKind, path: &str, line: usize, column: usize) {
        assert_eq!(
            (e.kind(), e.path(), e.line(), e.column()),
            (kind, path, line, column),
            "unexpected error: {e}"
        );
    }

    /// Asserts that the warnings are exactly `expected` (kind, path, line, column), in order.
    #[track_caller]
    pub fn check_warnings<T>(p: &Parsed<T>, expected: &[(ErrorKind, &str, usize, usize)]) {
        let got: Vec<(ErrorKind, &str, usize, usize)> = p
            .warnings
            .iter()
            .map(|w| (w.kind(), w.path(), w.line(), w.column()))
            .collect();
        assert_eq!(got, expected, "warnings: {:#?}", p.warnings);
        for w in &p.warnings {
            assert_eq!(w.severity(), Severity::Warning, "{w}");
        }
    }
}

pub mod bench {
    use std::time::{Duration, Instant};

    /// `len` bytes shaped like a PDF: header, pseudorandom (incompressible, like a
    /// compressed stream) body, trailer; the same every run.
    pub fn pdf(len: usize) -> Vec<u8> {
        let head = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Filter /FlateDecode >>\nstream\n";
        let tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
        let mut out = head.to_vec();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        while out.len() < len - tail.len() {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        out.truncate(len - tail.len());
        out.extend_from_slice(tail);
        out
    }

    /// Runs `ours` and `base` alternately (each first in every other round) for
    /// about `budget` and returns the median seconds per run of each. Interleaving makes slow drifts of the
    /// machine (frequency, allocator state, the other core) hit both alike.
    pub fn paired_medians(
        budget: Duration,
        mut ours: impl FnMut(),
        mut base: impl FnMut(),
    ) -> (f64, f64) {
        ours();
        base();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let start = Instant::now();
        let timed = |f: &mut dyn FnMut(), into: &mut Vec<f64>| {
            let t = Instant::now();
            f();
            into.push(t.elapsed().as_secs_f64());
        };
        while start.elapsed() < budget || a.len() < 5 {
            // Each goes first every other round, so neither always inherits
            // the heap and caches the other left behind.
            if a.len() % 2 == 0 {
                timed(&mut ours, &mut a);
                timed(&mut base, &mut b);
            } else {
                timed(&mut base, &mut b);
                timed(&mut ours, &mut a);
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(|x, y| x.partial_cmp(y).unwrap());
            v[v.len() / 2]
        };
        (median(&mut a), median(&mut b))
    }
}

#[cfg(test)]
mod tests {
    use super::json_equal;

    #[test]
    fn xml_comparison_sees_comments_attributes_and_order() {
        use super::{xhtml_equal, xml_equal};
        assert!(xml_equal(
            "<a x=\"1\" y=\"2\">\n  <b/>\n</a>",
            "<a y=\"2\" x=\"1\"><b></b></a>"
        )
        .is_ok());
        assert!(xml_equal("<a><!--c--><b/></a>", "<a><b/></a>").is_err());
        assert!(xml_equal("<a><b/><!--c--></a>", "<a><!--c--><b/></a>").is_err());
        assert!(xml_equal("<a x=\"1\"/>", "<a x=\"2\"/>").is_err());
        assert!(xml_equal("<a><b/><c/></a>", "<a><c/><b/></a>").is_err());
        assert!(xhtml_equal("<div>a  &quot;b&quot;\n c</div>", "<div>a \"b\" c</div>").is_ok());
        assert!(xhtml_equal("<div><b>a</b></div>", "<div><i>a</i></div>").is_err());
    }

    #[test]
    fn numbers_compare_by_text_and_keys_ignore_order() {
        assert!(json_equal(r#"{"a":1.50,"b":[1,2]}"#, r#"{"b":[1,2],"a":1.50}"#).is_ok());
        assert!(json_equal(r#"{"a":1.50}"#, r#"{"a":1.5}"#).is_err());
        assert!(json_equal(r#"{"a":[1,2]}"#, r#"{"a":[2,1]}"#).is_err());
        assert!(json_equal(r#"{"a":1}"#, r#"{"a":1,"b":null}"#).is_err());
        assert!(json_equal(r#"{"a":"x"}"#, r#"{"a":"y"}"#).is_err());
    }
}

/// NHS Digital's MESH sandbox, as `scripts/test.sh` runs it for the tests: where it is,
/// exclusive use with empty mailboxes, and its admin API.
pub mod mesh_sandbox {
    use std::path::PathBuf;
    use std::sync::{Mutex, MutexGuard};

    /// The shared key and every mailbox's password (public sandbox defaults).
    pub const SHARED_KEY: &str = "TestKey";
    /// The password of every sandbox mailbox.
    pub const PASSWORD: &str = "password";

    /// The plain-HTTP sandbox's base URL, from `MESH_SANDBOX_URL`. Panics with how to
    /// start it when unset: a test that needs MESH must not pass without one.
    pub fn url() -> String {
        match std::env::var("MESH_SANDBOX_URL") {
            Ok(url) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
            _ => panic!(
                "MESH_SANDBOX_URL is not set: this test needs NHS Digital's MESH sandbox. \
                 Run the README's test command (scripts/test.sh), which starts it, or \
                 `scripts/mesh-sandbox.sh start` and export \
                 MESH_SANDBOX_URL=$(scripts/mesh-sandbox.sh url). The sandbox needs python3 3.11-3.13."
            ),
        }
    }

    /// The mutual-TLS sandbox's folder (`url`, `ca.pem`, `client.pem`, `client.key`),
    /// from `MESH_SANDBOX_TLS_DIR`; panics with how to start it when unset.
    pub fn tls_dir() -> PathBuf {
        match std::env::var("MESH_SANDBOX_TLS_DIR") {
            Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => panic!(
                "MESH_SANDBOX_TLS_DIR is not set: this test needs the mutual-TLS MESH sandbox. \
                 Run scripts/test.sh, or `MESH_SANDBOX_TLS=1 scripts/mesh-sandbox.sh start tls` \
                 and export MESH_SANDBOX_TLS_DIR=$PWD/.mesh-sandbox/tls"
            ),
        }
    }

    static SANDBOX: Mutex<()> = Mutex::new(());

    /// Exclusive use of the sandbox within this test binary, every mailbox emptied:
    /// tests that list inboxes must not see each other's messages. (Cargo runs test
    /// binaries one after another.)
    pub fn exclusive() -> MutexGuard<'static, ()> {
        let guard = SANDBOX.lock().unwrap_or_else(|e| e.into_inner());
        reset();
        guard
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    /// Empties every mailbox (sandbox admin API).
    pub fn reset() {
        let url = format!("{}/messageexchange/admin/reset", url());
        let resp = agent().delete(&url).call().expect("sandbox reset");
        assert_eq!(resp.status().as_u16(), 200, "sandbox reset failed: {url}");
    }

    /// Puts a REPORT about `linked` into `mailbox`'s inbox (sandbox admin API), as
    /// MESH sends one: `status` `undeliverable` (code 14) or `error`.
    pub fn inject_report(mailbox: &str, code: &str, description: &str, linked: &str, status: &str) {
        let url = format!("{}/messageexchange/admin/report", url());
        let body = format!(
            r#"{{"mailbox_id":"{mailbox}","code":"{code}","description":"{description}","workflow_id":"GPCONNECT_SEND_DOCUMENT","subject":"a subject","local_id":"X26","status":"{status}","linked_message_id":"{linked}"}}"#
        );
        let resp = agent()
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .expect("admin report");
        assert!(
            resp.status().is_success(),
            "admin report: HTTP {}",
            resp.status()
        );
    }
}
