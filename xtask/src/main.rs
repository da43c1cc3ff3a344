//! Project automation. `cargo xtask codegen [--check] [--update-lock]`
//! regenerates the STU3 model from the FHIR packages in the package cache
//! (`FHIR_PACKAGE_CACHE`, default `~/.fhir/packages`).

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask codegen [--check] [--update-lock]\n\n\
         Reads FHIR packages from $FHIR_PACKAGE_CACHE (default ~/.fhir/packages) and writes\n\
         crates/fhir-stu3/src/generated/.\n  --check        fail, naming the files, when committed code differs from what would be written\n  --update-lock  record the SHA-256 of every input read in profiles/packages.lock"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("codegen") {
        return usage();
    }
    let mut check = false;
    let mut update_lock = false;
    for a in &args[1..] {
        match a.as_str() {
            "--check" => check = true,
            "--update-lock" => update_lock = true,
            _ => return usage(),
        }
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned();
    let cache = match std::env::var_os("FHIR_PACKAGE_CACHE") {
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_relative() {
                std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
            } else {
                p
            }
        }
        None => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".fhir").join("packages")
        }
    };
    let opts = fhir_codegen::Options {
        workspace,
        cache,
        check,
        update_lock,
    };
    match fhir_codegen::run(&opts) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
