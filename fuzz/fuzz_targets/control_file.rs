//! Fuzz target `control_file`: see `senddoc_fuzz::checks::control_file` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| senddoc_fuzz::checks::control_file(data));
