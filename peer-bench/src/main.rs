//! Peer benchmark: our FHIR STU3 JSON reader and writer (`fhir-stu3`) next to
//! `fhir-sdk`'s STU3 model (serde derives over `serde_json`), in one process on the
//! same inputs.
//!
//! `scripts/peer-bench.sh` (= `cargo run --release --manifest-path peer-bench/Cargo.toml`)
//! prints MB/s for each side and the ratio (ours / theirs throughput; above 1.0
//! means ours is faster). Inputs: every file in `$SHARED/fhir-examples/json`
//! (`SHARED` defaults to `../shared` beside the checkout) and a 5 MB collection
//! Bundle built from them. `BENCH_MILLIS` sets the time budget per case (3000).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fhir_sdk::stu3::resources::Resource as TheirResource;
use fhir_stu3::Resource as OurResource;

/// Median seconds per run of `ours` and `theirs`, run alternately (each first in
/// every other round) until `budget` has passed and each ran at least 5 times.
fn paired_medians(
    budget: Duration,
    mut ours: impl FnMut(),
    mut theirs: impl FnMut(),
) -> (f64, f64) {
    ours();
    theirs();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let timed = |f: &mut dyn FnMut(), into: &mut Vec<f64>| {
        let t = Instant::now();
        f();
        into.push(t.elapsed().as_secs_f64());
    };
    while start.elapsed() < budget || a.len() < 5 {
        // Neither always inherits the heap and caches the other left behind.
        if a.len() % 2 == 0 {
            timed(&mut ours, &mut a);
            timed(&mut theirs, &mut b);
        } else {
            timed(&mut theirs, &mut b);
            timed(&mut ours, &mut a);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|x, y| x.total_cmp(y));
        v[v.len() / 2]
    };
    (median(&mut a), median(&mut b))
}

/// A collection Bundle of the examples, repeated until it is at least `target` bytes
/// (the construction of `big_bundle` in tests/benches/json_read.rs).
fn big_bundle(examples: &[&[u8]], target: usize) -> Vec<u8> {
    let mut out = String::from(
        "{\"resourceType\":\"Bundle\",\"id\":\"big\",\"type\":\"collection\",\"entry\":[",
    );
    let mut first = true;
    let mut n = 0usize;
    while out.len() < target {
        for ex in examples {
            if !first {
                out.push(',');
            }
            first = false;
            n += 1;
            out.push_str(&format!(
                "{{\"fullUrl\":\"urn:uuid:00000000-0000-0000-0000-{n:012}\",\"resource\":"
            ));
            out.push_str(std::str::from_utf8(ex).expect("examples are UTF-8").trim());
            out.push('}');
            if out.len() >= target {
                break;
            }
        }
    }
    out.push_str("]}");
    out.into_bytes()
}

/// The examples folder: `$SHARED/fhir-examples/json`, or `../shared` beside the checkout.
fn examples_dir() -> PathBuf {
    let shared = match std::env::var_os("SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    let dir = shared.join("fhir-examples/json");
    if !dir.is_dir() {
        eprintln!(
            "peer-bench: the examples folder {} was not found (expected ../shared/fhir-examples/json \
             beside the checkout; set SHARED to the shared folder)",
            dir.display()
        );
        std::process::exit(2);
    }
    dir.canonicalize().unwrap_or(dir)
}

fn short(err: impl std::fmt::Display) -> String {
    let s = err.to_string().replace('\n', " ");
    match s.char_indices().nth(110) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

/// The checkout's commit, and whether our crates differ from it (best effort).
fn checkout() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(head) => {
            let dirty = git(&[
                "status",
                "--porcelain",
                "--",
                "crates/fhir-stu3",
                "crates/fhir-runtime",
            ])
            .is_some_and(|s| !s.is_empty());
            let state = if dirty {
                "with uncommitted changes in crates/fhir-stu3 or crates/fhir-runtime"
            } else {
                "clean"
            };
            format!("commit {head} ({state})")
        }
        None => "unknown commit (no git)".into(),
    }
}

/// The first path where two JSON values differ (key order ignored), with the two
/// values there (`null` for a member missing on one side).
fn first_difference<'a>(
    a: &'a serde_json::Value,
    b: &'a serde_json::Value,
    at: &str,
) -> Option<(String, &'a serde_json::Value, &'a serde_json::Value)> {
    use serde_json::Value::{Array, Null, Object};
    match (a, b) {
        (Object(x), Object(y)) => {
            for (k, v) in x {
                let w = y.get(k).unwrap_or(&Null);
                if let Some(d) = first_difference(v, w, &format!("{at}.{k}")) {
                    return Some(d);
                }
            }
            y.iter()
                .find(|(k, _)| !x.contains_key(*k))
                .map(|(k, w)| (format!("{at}.{k}"), &Null, w))
        }
        (Array(x), Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{at}[{i}]"))),
        _ if a == b => None,
        _ => Some((at.to_owned(), a, b)),
    }
}

/// Times the cases; `BENCH_PROFILE=<case>:<ours|theirs>` (case as printed, spaces
/// and colons as dashes: `write-5-MB-Bundle:ours`) runs only that side of that case
/// for the budget, for a profiler, and prints nothing.
struct Bench {
    budget: Duration,
    profile: Option<String>,
}

impl Bench {
    fn case(&self, case: &str, bytes: usize, mut ours: impl FnMut(), mut theirs: impl FnMut()) {
        let key: String = case
            .chars()
            .filter(|c| *c != ':')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        if let Some(profile) = &self.profile {
            let side: &mut dyn FnMut() = if *profile == format!("{key}:ours") {
                &mut ours
            } else if *profile == format!("{key}:theirs") {
                &mut theirs
            } else {
                return;
            };
            let start = Instant::now();
            while start.elapsed() < self.budget {
                side();
            }
            return;
        }
        let (ours, theirs) = paired_medians(self.budget, ours, theirs);
        let mb = bytes as f64 / 1e6;
        println!(
            "{case:<24} {:>9.1} {:>9.1} {:>7.2}",
            mb / ours,
            mb / theirs,
            theirs / ours
        );
    }
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("BENCH_MILLIS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000),
    );
    let dir = examples_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let files: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
            )
        })
        .collect();

    println!(
        "peer-bench: fhir-stu3 {} vs fhir-sdk {} (fhir-model {}, features = [\"stu3\"]), serde_json {}, {}",
        env!("PEER_FHIR_STU3_VERSION"),
        env!("PEER_FHIR_SDK_VERSION"),
        env!("PEER_FHIR_MODEL_VERSION"),
        env!("PEER_SERDE_JSON_VERSION"),
        env!("PEER_RUSTC_VERSION"),
    );
    println!("our crate at: {}", checkout());
    println!(
        "examples: {} ({} files, {} bytes)",
        dir.display(),
        files.len(),
        files.iter().map(|f| f.1.len()).sum::<usize>()
    );

    // Which files each side reads.
    let (mut ours_ok, mut theirs_ok) = (0, 0);
    let mut both: Vec<&[u8]> = Vec::new();
    let mut both_names: Vec<&str> = Vec::new();
    let mut refused = Vec::new();
    for (name, bytes) in &files {
        let ours = OurResource::from_json(bytes);
        let theirs = serde_json::from_slice::<TheirResource>(bytes);
        ours_ok += ours.is_ok() as usize;
        theirs_ok += theirs.is_ok() as usize;
        if let Err(e) = &ours {
            refused.push(format!("  ours refuses   {name}: {}", short(e)));
        }
        if let Err(e) = &theirs {
            refused.push(format!("  theirs refuses {name}: {}", short(e)));
        }
        if ours.is_ok() && theirs.is_ok() {
            both.push(bytes);
            both_names.push(name);
        }
    }
    let both_bytes: usize = both.iter().map(|b| b.len()).sum();
    println!(
        "read: ours {ours_ok}/{n}, theirs {theirs_ok}/{n}",
        n = files.len()
    );
    for line in &refused {
        println!("{line}");
    }
    println!(
        "timed set: the {} files both read, {} bytes ({:.2} MB), one pass per run",
        both.len(),
        both_bytes,
        both_bytes as f64 / 1e6
    );

    let bundle = big_bundle(&both, 5_000_000);
    let our_bundle = OurResource::from_json(&bundle);
    let their_bundle = serde_json::from_slice::<TheirResource>(&bundle);
    println!(
        "bundle: {} bytes ({:.2} MB), {} entries from the timed set; ours {}, theirs {}",
        bundle.len(),
        bundle.len() as f64 / 1e6,
        bundle.windows(9).filter(|w| *w == b"\"fullUrl\"").count(),
        if our_bundle.is_ok() {
            "reads it"
        } else {
            "refuses it"
        },
        if their_bundle.is_ok() {
            "reads it"
        } else {
            "refuses it"
        },
    );
    let (our_bundle, their_bundle) = match (our_bundle, their_bundle) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            eprintln!(
                "peer-bench: the Bundle must read on both sides (ours: {:?}, theirs: {:?})",
                a.err().map(short),
                b.err().map(short)
            );
            std::process::exit(1);
        }
    };

    // The parsed models for writing; the written sizes, for the record.
    let ours_models: Vec<OurResource> = both
        .iter()
        .map(|b| OurResource::from_json(b).unwrap())
        .collect();
    let theirs_models: Vec<TheirResource> = both
        .iter()
        .map(|b| serde_json::from_slice(b).unwrap())
        .collect();
    let ours_out: usize = ours_models.iter().map(|m| m.to_json().len()).sum();
    let theirs_out: usize = theirs_models
        .iter()
        .map(|m| serde_json::to_string(m).unwrap().len())
        .sum();
    // Round trip as serde_json::Value (key order ignored, numbers as f64).
    let same = |out: &str, input: &[u8]| {
        serde_json::from_str::<serde_json::Value>(out).ok()
            == serde_json::from_slice::<serde_json::Value>(input).ok()
    };
    let ours_same = ours_models
        .iter()
        .zip(&both)
        .filter(|(m, b)| same(&m.to_json(), b))
        .count();
    let theirs_same = theirs_models
        .iter()
        .zip(&both)
        .filter(|(m, b)| same(&serde_json::to_string(m).unwrap(), b))
        .count();
    println!(
        "written (compact): ours {ours_out} bytes, theirs {theirs_out} bytes; \
         equal to the input as serde_json::Value: ours {ours_same}/{n}, theirs {theirs_same}/{n}",
        n = both.len()
    );
    // Where theirs differs, by kind: numbers (decimals held as f64) or otherwise.
    let (mut numbers, mut other) = (Vec::new(), Vec::new());
    for ((name, bytes), model) in both_names.iter().zip(&both).zip(&theirs_models) {
        let input: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let output: serde_json::Value = serde_json::to_value(model).unwrap();
        if let Some((at, a, b)) = first_difference(&input, &output, "") {
            if a.is_number() && b.is_number() {
                numbers.push(format!("{name} {at}: {a} -> {b}"));
            } else {
                other.push(format!("{name} {at}: {} -> {}", short(a), short(b)));
            }
        }
    }
    if !numbers.is_empty() {
        println!(
            "  theirs writes {} files' decimals as floats, e.g. {}",
            numbers.len(),
            numbers[0]
        );
    }
    for d in &other {
        println!("  theirs writes {d}");
    }
    let ours_bundle_out = our_bundle.to_json().len();
    let theirs_bundle_out = serde_json::to_string(&their_bundle).unwrap().len();
    println!("written Bundle: ours {ours_bundle_out} bytes, theirs {theirs_bundle_out} bytes");
    println!(
        "MB/s are input bytes per second (for writing too); budget {} ms per case",
        budget.as_millis()
    );
    let bench = Bench {
        budget,
        profile: std::env::var("BENCH_PROFILE").ok(),
    };
    println!();
    println!(
        "{:<24} {:>9} {:>9} {:>7}",
        "case", "ours", "theirs", "ratio"
    );

    bench.case(
        "read: examples",
        both_bytes,
        || {
            for b in &both {
                black_box(OurResource::from_json(black_box(b)).unwrap());
            }
        },
        || {
            for b in &both {
                black_box(serde_json::from_slice::<TheirResource>(black_box(b)).unwrap());
            }
        },
    );

    bench.case(
        "read: 5 MB Bundle",
        bundle.len(),
        || {
            black_box(OurResource::from_json(black_box(&bundle)).unwrap());
        },
        || {
            black_box(serde_json::from_slice::<TheirResource>(black_box(&bundle)).unwrap());
        },
    );

    bench.case(
        "write: examples",
        both_bytes,
        || {
            for m in &ours_models {
                black_box(black_box(m).to_json());
            }
        },
        || {
            for m in &theirs_models {
                black_box(serde_json::to_string(black_box(m)).unwrap());
            }
        },
    );

    bench.case(
        "write: 5 MB Bundle",
        bundle.len(),
        || {
            black_box(black_box(&our_bundle).to_json());
        },
        || {
            black_box(serde_json::to_string(black_box(&their_bundle)).unwrap());
        },
    );
}
