//! `cargo xtask test` (alias `cargo xtask ci`): the one gate, run by CI as
//! root and by hand. Steps: deps, fmt, clippy, build, test, doc, leaks. A
//! failing step does not stop the next ones (except that test needs build),
//! so one run shows every problem; the run fails if any step failed.

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::shell::{run, run_with_timeout};
use crate::{deps, leaks};

pub const USAGE: &str = "\
cargo xtask test [--quick] [--no-deps] [--timeout SECS] [-- CARGO-TEST-ARGS...]
    deps, fmt, clippy, build, test, doc, then check that the tests left no
    alcove process and no mount, cgroup or temporary file named alcove-test*
    --quick         skip fmt, clippy and doc
    --no-deps       skip installing busybox-static, iproute2, sudo, libcap2-bin
    --timeout SECS  kill the test step after SECS seconds (default 600)
    -- ARGS         passed to `cargo test --workspace --no-fail-fast`,
                    e.g. `cargo xtask test -- some_filter`
cargo xtask ci ...
    the same as `cargo xtask test ...`";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opts {
    pub quick: bool,
    pub no_deps: bool,
    pub timeout: Duration,
    /// Given after `--`, for `cargo test`.
    pub cargo_test_args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Opts),
    Help,
}

pub fn parse(args: &[String]) -> Result<Parsed, String> {
    let mut opts = Opts {
        quick: false,
        no_deps: false,
        timeout: DEFAULT_TIMEOUT,
        cargo_test_args: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--" => {
                opts.cargo_test_args = args.cloned().collect();
                break;
            }
            "-h" | "--help" => return Ok(Parsed::Help),
            "--quick" => opts.quick = true,
            "--no-deps" => opts.no_deps = true,
            "--timeout" => {
                let secs = args.next().ok_or("--timeout needs a number of seconds")?;
                opts.timeout = seconds(secs)?;
            }
            _ if arg.starts_with("--timeout=") => {
                opts.timeout = seconds(&arg["--timeout=".len()..])?;
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option `{arg}`")),
            _ => {
                return Err(format!(
                    "unexpected argument `{arg}`: arguments for cargo test go after `--`"
                ));
            }
        }
    }
    Ok(Parsed::Run(opts))
}

fn seconds(s: &str) -> Result<Duration, String> {
    match s.parse() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "--timeout wants a positive number of seconds, not `{s}`"
        )),
    }
}

pub fn main(args: &[String]) -> Result<(), String> {
    match parse(args)? {
        Parsed::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Parsed::Run(opts) => gate(&opts),
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed(String),
    Skipped(String),
}

type Action = Box<dyn FnOnce() -> Result<(), String>>;

struct Step {
    name: &'static str,
    /// Why the step does not run, if it does not.
    skip: Option<&'static str>,
    /// A step that must have succeeded for this one to run.
    after: Option<&'static str>,
    action: Action,
}

fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(args);
    cmd
}

fn steps(opts: &Opts) -> Vec<Step> {
    let quick = opts.quick.then_some("--quick");
    let step = |name, skip, action: Action| Step {
        name,
        skip,
        after: None,
        action,
    };
    let test_args = opts.cargo_test_args.clone();
    let timeout = opts.timeout;
    vec![
        step(
            "deps",
            opts.no_deps.then_some("--no-deps"),
            Box::new(deps::ensure),
        ),
        step(
            "fmt",
            quick,
            Box::new(|| run(&mut cargo(&["fmt", "--all", "--", "--check"]))),
        ),
        step(
            "clippy",
            quick,
            Box::new(|| {
                run(&mut cargo(&[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ]))
            }),
        ),
        step(
            "build",
            None,
            Box::new(|| {
                run(&mut cargo(&[
                    "build",
                    "--workspace",
                    "--bins",
                    "--examples",
                    "--tests",
                ]))
            }),
        ),
        Step {
            after: Some("build"),
            ..step(
                "test",
                None,
                Box::new(move || {
                    let mut cmd = cargo(&["test", "--workspace", "--no-fail-fast"]);
                    cmd.args(&test_args).env("RUST_BACKTRACE", "1");
                    run_with_timeout(&mut cmd, timeout)
                }),
            )
        },
        step(
            "doc",
            quick,
            Box::new(|| {
                run(cargo(&["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"))
            }),
        ),
        step("leaks", None, Box::new(leaks::check)),
    ]
}

/// Runs every step, prints the timing table and fails if a step failed.
fn gate(opts: &Opts) -> Result<(), String> {
    let steps = steps(opts);
    let total = steps.len();
    let start = Instant::now();
    let mut results: Vec<(&'static str, Outcome, Duration)> = Vec::new();
    for (i, step) in steps.into_iter().enumerate() {
        let blocked = step.after.filter(|after| {
            !results
                .iter()
                .any(|(name, outcome, _)| name == after && *outcome == Outcome::Ok)
        });
        let heading = format!("==> [{}/{total}] {}", i + 1, step.name);
        let step_start = Instant::now();
        let outcome = if let Some(why) = step.skip {
            eprintln!("\n{heading}: skipped ({why})");
            Outcome::Skipped(why.to_owned())
        } else if let Some(after) = blocked {
            eprintln!("\n{heading}: skipped ({after} failed)");
            Outcome::Skipped(format!("{after} failed"))
        } else {
            eprintln!("\n{heading}");
            match (step.action)() {
                Ok(()) => Outcome::Ok,
                Err(e) => {
                    eprintln!("FAILED {}: {e}", step.name);
                    Outcome::Failed(e)
                }
            }
        };
        results.push((step.name, outcome, step_start.elapsed()));
    }
    eprintln!("\n{}", table(&results, start.elapsed()));
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(name, outcome, _)| match outcome {
            Outcome::Failed(e) => Some(format!("\n  {name}: {e}")),
            _ => None,
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} step(s) failed:{}",
            failed.len(),
            failed.concat()
        ))
    }
}

/// The summary: one row per step with its result and seconds, then the
/// total.
pub fn table(results: &[(&str, Outcome, Duration)], total: Duration) -> String {
    let mut out = format!("{:<8} {:<24} {:>8}\n", "step", "result", "seconds");
    let mut failed = false;
    for (name, outcome, took) in results {
        let (result, secs) = match outcome {
            Outcome::Ok => ("ok".to_owned(), format!("{:.1}", took.as_secs_f64())),
            Outcome::Failed(_) => {
                failed = true;
                ("FAILED".to_owned(), format!("{:.1}", took.as_secs_f64()))
            }
            Outcome::Skipped(why) => (format!("skipped ({why})"), "-".to_owned()),
        };
        let _ = writeln!(out, "{name:<8} {result:<24} {secs:>8}");
    }
    let result = if failed { "FAILED" } else { "ok" };
    let _ = write!(
        out,
        "{:<8} {result:<24} {:>8.1}",
        "total",
        total.as_secs_f64()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn run_opts(a: &[&str]) -> Opts {
        match parse(&args(a)) {
            Ok(Parsed::Run(opts)) => opts,
            other => panic!("{a:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(
            run_opts(&[]),
            Opts {
                quick: false,
                no_deps: false,
                timeout: Duration::from_secs(600),
                cargo_test_args: vec![],
            }
        );
    }

    #[test]
    fn flags_and_passed_through_args() {
        let opts = run_opts(&[
            "--no-deps",
            "--quick",
            "--timeout",
            "90",
            "--",
            "filter",
            "--",
            "--nocapture",
        ]);
        assert!(opts.quick && opts.no_deps);
        assert_eq!(opts.timeout, Duration::from_secs(90));
        assert_eq!(opts.cargo_test_args, ["filter", "--", "--nocapture"]);
        // After `--`, flags belong to cargo test.
        let opts = run_opts(&["--", "--quick"]);
        assert!(!opts.quick);
        assert_eq!(opts.cargo_test_args, ["--quick"]);
        assert_eq!(run_opts(&["--timeout=5"]).timeout, Duration::from_secs(5));
    }

    #[test]
    fn help_and_errors() {
        assert_eq!(parse(&args(&["--quick", "--help"])), Ok(Parsed::Help));
        assert_eq!(parse(&args(&["-h"])), Ok(Parsed::Help));
        assert_eq!(
            parse(&args(&["--fast"])),
            Err("unknown option `--fast`".into())
        );
        assert!(
            parse(&args(&["filter"]))
                .unwrap_err()
                .contains("go after `--`")
        );
        assert!(parse(&args(&["--timeout"])).is_err());
        assert!(parse(&args(&["--timeout", "0"])).is_err());
        assert!(parse(&args(&["--timeout=soon"])).is_err());
    }

    #[test]
    fn the_quick_gate_skips_fmt_clippy_doc() {
        let names = |opts: &Opts| -> Vec<(&str, Option<&str>)> {
            steps(opts).iter().map(|s| (s.name, s.skip)).collect()
        };
        let mut opts = run_opts(&["--quick", "--no-deps"]);
        assert_eq!(
            names(&opts),
            [
                ("deps", Some("--no-deps")),
                ("fmt", Some("--quick")),
                ("clippy", Some("--quick")),
                ("build", None),
                ("test", None),
                ("doc", Some("--quick")),
                ("leaks", None),
            ]
        );
        opts.quick = false;
        opts.no_deps = false;
        assert!(names(&opts).iter().all(|(_, skip)| skip.is_none()));
    }

    #[test]
    fn timing_table() {
        let s = Duration::from_secs_f64;
        let results = [
            ("deps", Outcome::Skipped("--no-deps".into()), s(0.0)),
            ("build", Outcome::Ok, s(12.34)),
            ("test", Outcome::Failed("boom".into()), s(100.0)),
        ];
        assert_eq!(
            table(&results, s(112.4)),
            "\
step     result                    seconds
deps     skipped (--no-deps)             -
build    ok                           12.3
test     FAILED                      100.0
total    FAILED                      112.4"
        );
    }
}
