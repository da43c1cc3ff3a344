//! Fuzz target `receive`: see `senddoc_fuzz::checks::receive` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| senddoc_fuzz::checks::receive(data));
