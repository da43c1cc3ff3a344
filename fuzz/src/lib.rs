//! What each fuzz target asserts. The checks live in `checks.rs`, which the
//! workspace's regression test (`tests/tests/fuzz_regressions.rs`) also compiles,
//! so a crasher kept under `fuzz/regressions/<target>/` is replayed by
//! `cargo test` through exactly the code the fuzzer ran.
pub mod checks;
