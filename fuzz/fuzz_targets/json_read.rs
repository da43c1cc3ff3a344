//! Fuzz target `json_read`: see `senddoc_fuzz::checks::json_read` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| senddoc_fuzz::checks::json_read(data));
