//! The programs of `cargo xtask bench`.
//!
//! - `alcove-bench`, the driver: measures alcove through `alcove_client::Drv`
//!   and, in the same run and interleaved with it, the floor that the
//!   kernel sets for the same work; prints one record per benchmark.
//! - The floors, plain Rust programs over std, rustix and libc with nothing
//!   of alcove in them: `floor-pingpong` (a pipe round trip between two
//!   processes), `floor-fork` (fork + exit or exec + waitpid),
//!   `floor-pipechain` (bytes through a chain of pipes with one copying
//!   process per hop), `floor-catpipe` (bytes through `cat` and back);
//! - `bench-producer`, the program whose stdout both sides read.
//!
//! This library holds what the floors and the driver share, and nothing of
//! alcove: timing ([`measure`]), the floors themselves ([`floor`]), the few
//! system calls they need ([`sys`]) and the record format ([`record`]).
#![deny(unsafe_code)]

#[allow(
    unsafe_code,
    reason = "the floors fork their helpers before they start any thread"
)]
pub mod floor;
pub mod measure;
pub mod record;
#[allow(
    unsafe_code,
    reason = "fork, exec and _exit in the floors' single-threaded processes"
)]
pub mod sys;

/// Parses `--name value` pairs and bare flags: the floors' and the
/// driver's command lines. Unknown options are an error.
#[derive(Debug, Default)]
pub struct Args {
    pairs: Vec<(String, Option<String>)>,
}

impl Args {
    /// The process's arguments; `valued` lists the options that take a
    /// value, every other `--option` is a flag.
    pub fn parse(args: impl IntoIterator<Item = String>, valued: &[&str]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument `{arg}`"));
            };
            if valued.contains(&name) {
                let value = args.next().ok_or(format!("--{name} needs a value"))?;
                pairs.push((name.to_owned(), Some(value)));
            } else {
                pairs.push((name.to_owned(), None));
            }
        }
        Ok(Self { pairs })
    }

    /// Whether the flag `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, v)| n == name && v.is_none())
    }

    /// The last value of `--name`, if given.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Every value of `--name`, in order.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }

    /// The value of `--name` as a number, or `default`.
    pub fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: not a number: `{v}`")),
        }
    }

    /// Names that are neither in `known` nor valued: typos.
    pub fn check(&self, known: &[&str]) -> Result<(), String> {
        match self
            .pairs
            .iter()
            .find(|(n, _)| !known.contains(&n.as_str()))
        {
            Some((n, _)) => Err(format!("unknown option `--{n}`")),
            None => Ok(()),
        }
    }
}

/// Runs a floor's `main`: prints its result line, or the error and exits 1.
pub fn floor_main(name: &str, run: impl FnOnce(&Args) -> Result<floor::Outcome, String>) {
    let result = Args::parse(std::env::args().skip(1), floor::VALUED).and_then(|args| {
        args.check(floor::VALUED)?;
        run(&args)
    });
    match result {
        Ok(outcome) => println!("{}", outcome.line()),
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_flags_and_values() {
        let a = Args::parse(
            args(&["--quick", "--ms", "5", "--only", "a", "--only", "b"]),
            &["ms", "only"],
        )
        .unwrap();
        assert!(a.flag("quick"));
        assert!(!a.flag("ms"));
        assert_eq!(a.number("ms", 1), Ok(5));
        assert_eq!(a.number("bytes", 7), Ok(7));
        assert_eq!(a.values("only"), ["a", "b"]);
        assert!(a.check(&["quick", "ms", "only"]).is_ok());
        assert!(a.check(&["ms", "only"]).is_err());
    }

    #[test]
    fn bad_command_lines_are_refused() {
        assert!(Args::parse(args(&["stray"]), &[]).is_err());
        assert!(Args::parse(args(&["--ms"]), &["ms"]).is_err());
        let a = Args::parse(args(&["--ms", "x"]), &["ms"]).unwrap();
        assert!(a.number("ms", 0).is_err());
    }
}
