//! `cargo xtask fuzz`, and the `fuzz` step of `cargo xtask test`: the
//! properties of the frame decoder and the reassembler
//! (`crates/alcove-proto/tests/fuzz_checks/`), checked two ways:
//!
//! - always, as property tests (`tests/fuzz_prop.rs`) with a million cases
//!   each, in release mode;
//! - when `cargo fuzz` and a compiler that takes `-Z` flags are present, by
//!   libFuzzer: `cargo fuzz run <target>` for a fixed time per target
//!   (`fuzz/`). The gate does not install cargo-fuzz (`cargo install
//!   cargo-fuzz` takes about a minute and a half on two cores); without it
//!   the step says so and runs only the property tests.

use std::process::{Command, Stdio};

use crate::shell::run;

pub const USAGE: &str = "\
cargo xtask fuzz [--time SECS] [--cases N]
    the fuzz properties of alcove-proto (frame decoding, reassembly): first
    as property tests, N cases each in release mode (default 1000000), then
    with `cargo fuzz run` for SECS seconds per target (default 60) when
    cargo-fuzz and a nightly toolchain (or stable with RUSTC_BOOTSTRAP=1)
    are there; corpus and crashes go to fuzz/corpus and fuzz/artifacts
    --time SECS  seconds of libFuzzer per target
    --cases N    cases per property test";

/// The cargo-fuzz targets, in `fuzz/fuzz_targets/`.
pub const TARGETS: [&str; 2] = ["frame", "reassembler"];

/// Cases per property in the gate and by default: a million, about 30 s
/// on two cores.
pub const CASES: u64 = 1_000_000;

/// Seconds of libFuzzer per target in the gate.
pub const GATE_SECS: u64 = 10;

/// Seconds of libFuzzer per target by hand, by default.
pub const DEFAULT_SECS: u64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opts {
    pub secs: u64,
    pub cases: u64,
}

pub fn parse(args: &[String]) -> Result<Option<Opts>, String> {
    let mut opts = Opts {
        secs: DEFAULT_SECS,
        cases: CASES,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            value
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or(format!("{name} needs a number"))
        };
        match name {
            "-h" | "--help" => return Ok(None),
            "--time" => opts.secs = positive(name, &value()?)?,
            "--cases" => opts.cases = positive(name, &value()?)?,
            _ => return Err(format!("unknown argument `{arg}`\n\n{USAGE}")),
        }
    }
    Ok(Some(opts))
}

fn positive(name: &str, s: &str) -> Result<u64, String> {
    match s.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{name} wants a positive number, not `{s}`")),
    }
}

pub fn main(args: &[String]) -> Result<(), String> {
    match parse(args)? {
        None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(opts) => fuzz(opts),
    }
}

/// The gate's step: a million cases per property, then libFuzzer for
/// [`GATE_SECS`] per target if it can run.
pub fn step() -> Result<(), String> {
    fuzz(Opts {
        secs: GATE_SECS,
        cases: CASES,
    })
}

fn fuzz(opts: Opts) -> Result<(), String> {
    property_tests(opts.cases)?;
    match toolchain() {
        Err(why) => {
            eprintln!("fuzz: ran only the property tests: {why}");
            Ok(())
        }
        Ok(how) => TARGETS
            .iter()
            .try_for_each(|target| run(&mut how.command(target, opts.secs))),
    }
}

/// `tests/fuzz_prop.rs` in release mode with `cases` cases per property;
/// each test prints its `FIGURE` line.
fn property_tests(cases: u64) -> Result<(), String> {
    run(Command::new("cargo")
        .args([
            "test",
            "--release",
            "-p",
            "alcove-proto",
            "--test",
            "fuzz_prop",
            "--",
            "--nocapture",
        ])
        .env("ALCOVE_FUZZ_CASES", cases.to_string()))
}

/// How to run `cargo fuzz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toolchain {
    /// `cargo +nightly fuzz`.
    Nightly,
    /// `RUSTC_BOOTSTRAP=1 cargo fuzz` on the default (stable) toolchain,
    /// which then takes libFuzzer's `-Z` flags.
    Bootstrap,
}

impl Toolchain {
    /// `cargo fuzz run <target>` for `secs` seconds. No sanitizer: the
    /// crate under test forbids unsafe code, and libFuzzer runs several
    /// times more inputs a second without AddressSanitizer.
    pub fn command(self, target: &str, secs: u64) -> Command {
        let mut cmd = Command::new("cargo");
        match self {
            Toolchain::Nightly => {
                cmd.arg("+nightly");
            }
            Toolchain::Bootstrap => {
                cmd.env("RUSTC_BOOTSTRAP", "1");
            }
        }
        cmd.args(["fuzz", "run", "--sanitizer", "none", target, "--"])
            .arg(format!("-max_total_time={secs}"));
        cmd
    }
}

/// Whether `cmd` runs and exits with status 0, its output discarded.
fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// How `cargo fuzz` can run here, or why it cannot.
fn toolchain() -> Result<Toolchain, String> {
    if !succeeds(Command::new("cargo").args(["fuzz", "--version"])) {
        return Err(
            "cargo-fuzz is not installed (`cargo install cargo-fuzz`, about 90 s, \
             is not done by the gate)"
                .into(),
        );
    }
    if succeeds(Command::new("rustup").args(["run", "nightly", "rustc", "--version"])) {
        Ok(Toolchain::Nightly)
    } else {
        Ok(Toolchain::Bootstrap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options() {
        assert_eq!(
            parse(&args(&[])),
            Ok(Some(Opts {
                secs: DEFAULT_SECS,
                cases: CASES
            }))
        );
        assert_eq!(
            parse(&args(&["--time", "300", "--cases=5"])),
            Ok(Some(Opts {
                secs: 300,
                cases: 5
            }))
        );
        assert_eq!(parse(&args(&["-h"])), Ok(None));
        assert!(parse(&args(&["--time"])).is_err());
        assert!(parse(&args(&["--time", "0"])).is_err());
        assert!(parse(&args(&["--cases", "many"])).is_err());
        assert!(parse(&args(&["--fast"])).unwrap_err().contains("unknown"));
    }

    #[test]
    fn the_targets_are_those_of_fuzz_cargo_toml() {
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/Cargo.toml");
        let text = std::fs::read_to_string(manifest).unwrap();
        let bins: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("name = \""))
            .filter_map(|l| l.strip_suffix('"'))
            .skip(1) // the package's own name
            .collect();
        assert_eq!(bins, TARGETS);
    }

    #[test]
    fn cargo_fuzz_command_lines() {
        let line = |t: Toolchain| crate::shell::command_line(&t.command("frame", 10));
        assert_eq!(
            line(Toolchain::Nightly),
            "cargo +nightly fuzz run --sanitizer none frame -- -max_total_time=10"
        );
        assert_eq!(
            line(Toolchain::Bootstrap),
            "RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none frame -- -max_total_time=10"
        );
    }
}
