//! Reads a FHIR STU3 resource (JSON) and prints its type, id and any warnings.
use fhir_stu3::{ReadOptions, Resource};

fn main() {
    let path = std::env::args().nth(1).expect("usage: read-resource FILE.json");
    let bytes = std::fs::read(&path).expect("cannot read the file");
    match Resource::from_json_with(&bytes, &ReadOptions::lenient()) {
        Ok(parsed) => {
            println!("{} read from {path}", parsed.value.resource_type());
            for warning in &parsed.warnings {
                println!("  {warning}");
            }
            println!("{}", parsed.value.to_json());
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
}
