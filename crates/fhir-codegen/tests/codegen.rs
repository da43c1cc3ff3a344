//! The generator against the real packages: committed code is current, output
//! is deterministic, and a changed input is refused by name.

use std::path::{Path, PathBuf};

use fhir_codegen::{generate, run, Options};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The package cache: `$FHIR_PACKAGE_CACHE`, else `../shared/fhir-packages` beside the
/// checkout. Panics clearly when neither exists: these tests must not pass without it.
fn cache() -> PathBuf {
    let dir = match std::env::var_os("FHIR_PACKAGE_CACHE") {
        Some(d) => PathBuf::from(d),
        None => workspace().join("../shared/fhir-packages"),
    };
    assert!(
        dir.join("hl7.fhir.r3.core#3.0.1").is_dir(),
        "FHIR package cache not found at {} (set FHIR_PACKAGE_CACHE or put ../shared beside the checkout)",
        dir.display()
    );
    dir
}

fn options(cache: PathBuf) -> Options {
    Options {
        workspace: workspace(),
        cache,
        check: true,
        update_lock: false,
    }
}

#[test]
fn committed_generated_code_is_up_to_date() {
    match run(&options(cache())) {
        Ok(msg) => assert!(msg.contains("up to date"), "{msg}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn two_runs_are_byte_identical() {
    let a = generate(&options(cache())).unwrap();
    let b = generate(&options(cache())).unwrap();
    assert_eq!(a.files.len(), b.files.len());
    for (path, text) in &a.files {
        assert_eq!(Some(text), b.files.get(path), "{path} differs between runs");
    }
    assert_eq!(a.lock, b.lock);
    // Every STU3 resource type has a module; the summary counts them.
    assert!(a.summary.starts_with("117 resources"), "{}", a.summary);
    assert!(a.files["crates/fhir-stu3/src/generated/resource.rs"]
        .contains("Patient(ResourceBox<Patient>)"));
    assert!(a.files["crates/fhir-stu3/src/generated/mod.rs"]
        .starts_with("//! The generated STU3 model."));
    assert!(a.files["crates/fhir-stu3/src/generated/mod.rs"].contains("Do not edit by hand"));
}

/// Builds a package cache of symbolic links to the real one, with one file replaced.
fn cache_with_changed_file(real: &Path, tmp: &Path, rel: &str) {
    let core = "hl7.fhir.r3.core#3.0.1";
    for entry in std::fs::read_dir(real).unwrap().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy() != core {
            std::os::unix::fs::symlink(entry.path(), tmp.join(&name)).unwrap();
        }
    }
    let pkg = tmp.join(core).join("package");
    std::fs::create_dir_all(&pkg).unwrap();
    for entry in std::fs::read_dir(real.join(core).join("package"))
        .unwrap()
        .flatten()
    {
        let name = entry.file_name();
        if name.to_string_lossy() == rel {
            let mut text = std::fs::read_to_string(entry.path()).unwrap();
            text = text.replacen("\"short\"", "\"short\" ", 1);
            std::fs::write(pkg.join(&name), text).unwrap();
        } else {
            std::os::unix::fs::symlink(entry.path(), pkg.join(&name)).unwrap();
        }
    }
}

#[test]
fn a_changed_input_file_is_refused_by_name() {
    let real = cache();
    let tmp = std::env::temp_dir().join(format!("fhir-codegen-tamper-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    cache_with_changed_file(&real, &tmp, "StructureDefinition-Patient.json");
    let result = generate(&options(tmp.clone()));
    let _ = std::fs::remove_dir_all(&tmp);
    let err = result.err().expect("a changed input must be refused");
    assert!(
        err.contains("hl7.fhir.r3.core#3.0.1/package/StructureDefinition-Patient.json"),
        "the message must name the file: {err}"
    );
    assert!(err.contains("differs from profiles/packages.lock"), "{err}");
}
