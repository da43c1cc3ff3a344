//! Validating with `fhir_validator::Validator`, next to reading the same bytes
//! into the typed model in the same process run.
//!
//! `cargo bench -p workspace-tests --bench validate` prints, for the Send
//! Document fixture with its payload replaced by a 1 MB PDF and for the 176
//! official JSON examples: the median time to read (`Resource::from_xml` /
//! `from_json`), to build the element tree (`to_tree`) and to validate it
//! against its base definitions and every profile it claims
//! (`Validator::validate`), and the ratio validation time / read time
//! (interleaved runs, see `workspace_tests::bench::paired_medians`).
//!
//! Then the cost of the first validation in a fresh process: the bench runs
//! itself again (`VALIDATE_BENCH_CHILD`) several times; each child reads a
//! message, times its first `Validator::new()` + `validate`, a second
//! `Validator::new()` + `validate` (process-wide state warm, the validator's
//! caches cold) and the steady state (the first validator again), and the
//! parent reports the medians over the children.
//!
//! `BENCH_MILLIS` (default 3000) is the time budget per measurement;
//! `BENCH_PROFILE=message|fresh|examples` only validates (the message, the message
//! with a new `Validator` each time, the examples; `BENCH_EXAMPLE=text` only those
//! whose file name contains it), for a profiler.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fhir_runtime::Node;
use fhir_stu3::value::Base64Value;
use fhir_stu3::Resource;
use fhir_validator::{is_valid, Finding, Validator};
use workspace_tests::bench::paired_medians;
use workspace_tests::shared_files;

const CHILD: &str = "VALIDATE_BENCH_CHILD";
const CHILDREN: usize = 7;
const PDF_LEN: usize = 1 << 20;

/// Pseudorandom bytes (xorshift64*), the same every run.
fn pseudorandom(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// `len` bytes shaped like a PDF: header, one compressed-looking stream object
/// (pseudorandom bytes), trailer.
fn pdf_like(len: usize) -> Vec<u8> {
    let head =
        b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Length 0 /Filter /FlateDecode >>\nstream\n";
    let tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
    let mut out = head.to_vec();
    out.extend(pseudorandom(len - head.len() - tail.len()));
    out.extend_from_slice(tail);
    assert_eq!(out.len(), len);
    out
}

/// The first `Binary` in `resource`, looking through Bundle entries at any depth.
fn find_binary(resource: &mut Resource) -> Option<&mut fhir_stu3::resources::Binary> {
    match resource {
        Resource::Binary(b) => Some(&mut **b),
        Resource::Bundle(b) => b
            .entry
            .iter_mut()
            .filter_map(|e| e.resource.as_mut())
            .find_map(find_binary),
        _ => None,
    }
}

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/send-document-valid.xml")
}

/// The valid Send Document fixture with its Binary's content replaced by the
/// base64 of a `pdf_len`-byte PDF-like payload (one line), as XML.
fn send_document(pdf_len: usize) -> Vec<u8> {
    let path = fixture_path();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut message =
        Resource::from_xml(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let binary = find_binary(&mut message).expect("the fixture holds a Binary");
    binary.content.get_or_insert_with(Default::default).value =
        Some(Base64Value::from_bytes(&pdf_like(pdf_len)));
    message.to_xml().into_bytes()
}

fn errors(findings: &[Finding]) -> String {
    findings
        .iter()
        .filter(|f| f.severity == fhir_validator::Severity::Error)
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn ms(s: f64) -> String {
    format!("{:.3} ms", s * 1e3)
}

/// A child process: the first validation of this process, then the steady state.
fn child(path: &str) {
    let bytes = std::fs::read(path).unwrap();
    let read = |bytes: &[u8]| {
        if path.ends_with(".json") {
            Resource::from_json(bytes).unwrap()
        } else {
            Resource::from_xml(bytes).unwrap()
        }
    };
    let t = Instant::now();
    let resource = read(&bytes);
    let first_read = t.elapsed().as_secs_f64();
    let tree = resource.to_tree();

    let t = Instant::now();
    let v = Validator::new();
    let findings = v.validate(&tree);
    let first = t.elapsed().as_secs_f64();
    assert!(is_valid(&findings), "{}", errors(&findings));

    let t = Instant::now();
    let v2 = Validator::new();
    black_box(v2.validate(&tree));
    let second_new = t.elapsed().as_secs_f64();

    let steady = median(
        (0..9)
            .map(|_| {
                let t = Instant::now();
                black_box(v.validate(black_box(&tree)));
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let t = Instant::now();
    black_box(read(&bytes));
    let later_read = t.elapsed().as_secs_f64();
    println!("first={first} second_new={second_new} steady={steady} first_read={first_read} later_read={later_read}");
}

/// Runs `CHILDREN` fresh processes on `path` and reports the medians.
fn fresh_processes(name: &str, path: &Path) {
    let exe = std::env::current_exe().unwrap();
    let mut rows: Vec<[f64; 5]> = Vec::new();
    for _ in 0..CHILDREN {
        let out = Command::new(&exe)
            .env(CHILD, path)
            .output()
            .expect("the bench runs itself");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = text.lines().last().unwrap_or("");
        let field = |k: &str| -> f64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("{k} missing in {line:?}"))
                .parse()
                .unwrap()
        };
        rows.push([
            field("first"),
            field("second_new"),
            field("steady"),
            field("first_read"),
            field("later_read"),
        ]);
    }
    let m = |i: usize| median(rows.iter().map(|r| r[i]).collect());
    let (first, second_new, steady, first_read, later_read) = (m(0), m(1), m(2), m(3), m(4));
    println!(
        "fresh process, {name} (median of {CHILDREN}): first Validator::new()+validate {}, \
         a second new Validator {}, steady state {}; first-call overhead {} ({:.1}x steady); \
         first read {}, later read {}",
        ms(first),
        ms(second_new),
        ms(steady),
        ms(first - steady),
        first / steady,
        ms(first_read),
        ms(later_read),
    );
}

struct Example {
    name: String,
    bytes: Vec<u8>,
    tree: Node,
}

fn main() {
    if let Ok(path) = std::env::var(CHILD) {
        child(&path);
        return;
    }
    let budget = Duration::from_millis(
        std::env::var("BENCH_MILLIS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000),
    );
    let message = send_document(PDF_LEN);
    let tree = Resource::from_xml(&message).unwrap().to_tree();
    let examples: Vec<Example> = shared_files("fhir-examples/json", "json")
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            let tree = Resource::from_json(&bytes).unwrap().to_tree();
            Example {
                name: p.file_name().unwrap().to_string_lossy().into_owned(),
                bytes,
                tree,
            }
        })
        .collect();
    let v = Validator::new();
    let findings = v.validate(&tree);
    assert!(
        is_valid(&findings),
        "the 1 MB message is not valid:\n{}",
        errors(&findings)
    );

    match std::env::var("BENCH_PROFILE").as_deref() {
        Ok("message") => {
            let t = Instant::now();
            while t.elapsed() < budget {
                black_box(v.validate(black_box(&tree)));
            }
            return;
        }
        Ok("fresh") => {
            let t = Instant::now();
            while t.elapsed() < budget {
                black_box(Validator::new().validate(black_box(&tree)));
            }
            return;
        }
        Ok(_) => {
            // BENCH_EXAMPLE=part-of-a-file-name: only those examples.
            let only = std::env::var("BENCH_EXAMPLE").unwrap_or_default();
            let t = Instant::now();
            while t.elapsed() < budget {
                for ex in examples.iter().filter(|e| e.name.contains(&only)) {
                    black_box(v.validate(black_box(&ex.tree)));
                }
            }
            return;
        }
        Err(_) => {}
    }

    println!(
        "Send Document message with a {} byte PDF: {:.2} MB XML, {} findings (no errors)",
        PDF_LEN,
        message.len() as f64 / 1e6,
        findings.len()
    );
    for f in findings.iter().take(3) {
        println!("  {f}");
    }
    let (validate, read) = paired_medians(
        budget,
        || {
            black_box(v.validate(black_box(&tree)));
        },
        || {
            black_box(Resource::from_xml(black_box(&message)).unwrap());
        },
    );
    let parsed = Resource::from_xml(&message).unwrap();
    let (to_tree, read2) = paired_medians(
        budget,
        || {
            black_box(parsed.to_tree());
        },
        || {
            black_box(Resource::from_xml(black_box(&message)).unwrap());
        },
    );
    let (fresh, read3) = paired_medians(
        budget,
        || {
            black_box(Validator::new().validate(black_box(&tree)));
        },
        || {
            black_box(Resource::from_xml(black_box(&message)).unwrap());
        },
    );
    println!(
        "1 MB message: read {} | to_tree {} ({:.2}x read) | validate {} ({:.2}x read) | \
         validate with a new Validator {} ({:.2}x read)",
        ms(read),
        ms(to_tree),
        to_tree / read2,
        ms(validate),
        validate / read,
        ms(fresh),
        fresh / read3
    );
    println!(
        "1 MB message end to end (read + to_tree + validate): {}",
        ms(read + to_tree + validate)
    );

    let total_bytes: usize = examples.iter().map(|e| e.bytes.len()).sum();
    println!(
        "{} official JSON examples ({:.2} MB)",
        examples.len(),
        total_bytes as f64 / 1e6
    );
    let (validate, read) = paired_medians(
        budget,
        || {
            for ex in &examples {
                black_box(v.validate(black_box(&ex.tree)));
            }
        },
        || {
            for ex in &examples {
                black_box(Resource::from_json(black_box(&ex.bytes)).unwrap());
            }
        },
    );
    let models: Vec<Resource> = examples
        .iter()
        .map(|e| Resource::from_json(&e.bytes).unwrap())
        .collect();
    let (to_tree, read2) = paired_medians(
        budget,
        || {
            for m in &models {
                black_box(m.to_tree());
            }
        },
        || {
            for ex in &examples {
                black_box(Resource::from_json(black_box(&ex.bytes)).unwrap());
            }
        },
    );
    let n = examples.len() as f64;
    println!(
        "all examples: read {} | to_tree {} ({:.2}x read) | validate {} ({:.2}x read); \
         per example on average: read {}, validate {}",
        ms(read),
        ms(to_tree),
        to_tree / read2,
        ms(validate),
        validate / read,
        ms(read / n),
        ms(validate / n),
    );

    // Each example on its own: rounds over all of them, every call timed.
    let mut samples: Vec<[Vec<f64>; 2]> = examples.iter().map(|_| [vec![], vec![]]).collect();
    let start = Instant::now();
    let mut rounds = 0;
    while start.elapsed() < budget || rounds < 5 {
        for (i, ex) in examples.iter().enumerate() {
            let t = Instant::now();
            black_box(v.validate(black_box(&ex.tree)));
            samples[i][0].push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            black_box(Resource::from_json(black_box(&ex.bytes)).unwrap());
            samples[i][1].push(t.elapsed().as_secs_f64());
        }
        rounds += 1;
    }
    let mut per: Vec<(f64, f64, &Example)> = samples
        .into_iter()
        .zip(&examples)
        .map(|([val, rd], ex)| (median(val), median(rd), ex))
        .collect();
    per.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    let vals: Vec<f64> = per.iter().map(|p| p.0).collect();
    let ratios: Vec<f64> = per.iter().map(|p| p.0 / p.1).collect();
    let pct = |v: &[f64], q: f64| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[((v.len() - 1) as f64 * q).round() as usize]
    };
    println!(
        "per example ({rounds} rounds): validate median {}, p90 {}, max {}, sum of medians {}; \
         validate/read per example: median {:.1}x, p90 {:.1}x",
        ms(pct(&vals, 0.5)),
        ms(pct(&vals, 0.9)),
        ms(pct(&vals, 1.0)),
        ms(vals.iter().sum()),
        pct(&ratios, 0.5),
        pct(&ratios, 0.9),
    );
    println!(
        "  {:<58} {:>10} {:>10} {:>7}",
        "example", "validate", "read", "ratio"
    );
    for (val, rd, ex) in &per {
        println!(
            "  {:<58} {:>10} {:>10} {:>6.1}x",
            ex.name,
            ms(*val),
            ms(*rd),
            val / rd
        );
    }

    // The first validation in a fresh process.
    let dir = std::env::temp_dir().join(format!("validate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("send-document-1mb.xml");
    std::fs::write(&big, &message).unwrap();
    fresh_processes("1 MB message", &big);
    fresh_processes("the fixture (60 KB, small PDF)", &fixture_path());
    std::fs::remove_dir_all(&dir).ok();
}
