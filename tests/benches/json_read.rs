//! Reading FHIR JSON into the typed model, next to `serde_json::from_slice::<Value>`
//! on the same bytes in the same process run.
//!
//! `cargo bench -p workspace-tests --bench json_read` prints MB/s for both and
//! the ratio (typed / Value throughput; above 1.0 means the typed reader is faster).

use std::hint::black_box;
use std::time::{Duration, Instant};

use fhir_stu3::{ReadOptions, Resource, WriteOptions};
use workspace_tests::bench::paired_medians;
use workspace_tests::shared_files;

fn report(name: &str, bytes: usize, ours: f64, baseline: f64, what: &str) {
    let mb = bytes as f64 / 1e6;
    println!(
        "{name:<34} {:>8.1} MB/s typed   {:>8.1} MB/s {what}   ratio {:.2}",
        mb / ours,
        mb / baseline,
        baseline / ours
    );
}

/// A collection Bundle of the examples, repeated until it is at least `target` bytes.
fn big_bundle(examples: &[Vec<u8>], target: usize) -> Vec<u8> {
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
            out.push_str(std::str::from_utf8(ex).unwrap().trim());
            out.push('}');
            if out.len() >= target {
                break;
            }
        }
    }
    out.push_str("]}");
    out.into_bytes()
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("BENCH_MILLIS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000),
    );
    let examples: Vec<Vec<u8>> = shared_files("fhir-examples/json", "json")
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let total: usize = examples.iter().map(Vec::len).sum();
    if std::env::var("BENCH_PROFILE").is_ok() {
        // Only our reader, for a profiler.
        let t = Instant::now();
        while t.elapsed() < budget {
            for ex in &examples {
                black_box(Resource::from_json(black_box(ex)).unwrap());
            }
        }
        return;
    }
    println!(
        "inputs: {} official examples ({:.2} MB)",
        examples.len(),
        total as f64 / 1e6
    );

    let (ours, base) = paired_medians(
        budget,
        || {
            for ex in &examples {
                black_box(Resource::from_json_with(black_box(ex), &ReadOptions::strict()).unwrap());
            }
        },
        || {
            for ex in &examples {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(ex)).unwrap());
            }
        },
    );
    report("read: 176 examples", total, ours, base, "serde_json::Value");

    let bundle = big_bundle(&examples, 5_000_000);
    println!("large Bundle: {:.2} MB", bundle.len() as f64 / 1e6);
    let (ours, base) = paired_medians(
        budget,
        || {
            black_box(Resource::from_json(black_box(&bundle)).unwrap());
        },
        || {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(&bundle)).unwrap());
        },
    );
    report(
        "read: 5 MB Bundle",
        bundle.len(),
        ours,
        base,
        "serde_json::Value",
    );

    // Writing, for the record: typed model -> JSON next to Value -> JSON.
    let model = Resource::from_json(&bundle).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    let (ours, base) = paired_medians(
        budget,
        || {
            black_box(model.to_json_with(&WriteOptions::compact()));
        },
        || {
            black_box(serde_json::to_string(&value).unwrap());
        },
    );
    report(
        "write: 5 MB Bundle",
        bundle.len(),
        ours,
        base,
        "serde_json::Value",
    );
}
