//! An arbitrary byte stream fed to the reassembler in chunks derived from
//! the input: the frames that come out are those of a reference cutter, and
//! the buffer never grows with what a length prefix announces. The checks
//! are `alcove-proto/tests/fuzz_checks/mod.rs`, shared with the property
//! tests that always run in CI.
#![no_main]

#[path = "../../crates/alcove-proto/tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::reassembler(data));
