//! Arbitrary bytes as a frame body: header parse, the relay's pop and push,
//! and every payload type's decoder never panic, and what decodes
//! round-trips. The checks are `alcove-proto/tests/fuzz_checks/mod.rs`,
//! shared with the property tests that always run in CI.
#![no_main]

#[path = "../../crates/alcove-proto/tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::frame(data));
