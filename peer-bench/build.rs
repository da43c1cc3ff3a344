//! Records the compiler and the fhir-sdk version the benchmark was built with.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PEER_RUSTC_VERSION={version}");

    // The locked versions of the peer crates, from this workspace's Cargo.lock.
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    for (name, var) in [
        ("fhir-stu3", "PEER_FHIR_STU3_VERSION"),
        ("fhir-sdk", "PEER_FHIR_SDK_VERSION"),
        ("fhir-model", "PEER_FHIR_MODEL_VERSION"),
        ("serde_json", "PEER_SERDE_JSON_VERSION"),
    ] {
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains(&format!("name = \"{name}\"\n")))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
            .map(|v| v.trim_end_matches('"').to_owned())
            .unwrap_or_else(|| "unknown".into());
        println!("cargo:rustc-env={var}={version}");
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=build.rs");
}
