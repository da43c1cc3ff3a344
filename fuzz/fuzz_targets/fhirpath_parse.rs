//! Fuzz target `fhirpath_parse`: see `senddoc_fuzz::checks::fhirpath_parse` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| senddoc_fuzz::checks::fhirpath_parse(data));
