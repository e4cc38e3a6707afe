//! `cargo xtask test` (alias `cargo xtask ci`): the one gate, run by CI as
//! root and by hand. Steps: deps, fmt, clippy, build, test, e2e,
//! reliability (faults, load and hostile input, figures shown), fuzz (a
//! million cases of the fuzz properties, and libFuzzer when it can run),
//! doc, bench (`--quick`, a smoke test of the harness), leaks. A failing step
//! does not stop the next ones (except that test and e2e need build), so
//! one run shows every problem; the run fails if any step failed.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::shell::{run, run_with_timeout};
use crate::{deps, fuzz, leaks};

pub const USAGE: &str = "\
cargo xtask test [--quick] [--no-deps] [--timeout SECS] [-- CARGO-TEST-ARGS...]
    deps, fmt, clippy, build, test, e2e (the busybox end-to-end suite, in a
    chroot directory prepared at target/alcove-e2e/root), reliability (faults,
    load and hostile input, with their FIGURE lines shown), fuzz (the fuzz
    properties of alcove-proto, a million cases each, then 10 s of
    `cargo fuzz run` per target if cargo-fuzz is installed: see
    `cargo xtask fuzz --help`), doc, bench, then check that the tests left
    no alcove process and no mount, cgroup or temporary file named
    alcove-test*
    --quick         skip fmt, clippy, fuzz, doc and bench
    --no-deps       skip installing busybox-static, iproute2, sudo, libcap2-bin
    --timeout SECS  kill the test or e2e step after SECS seconds (default 600)
    -- ARGS         passed to `cargo test --workspace --no-fail-fast`,
                    e.g. `cargo xtask test -- some_filter`
cargo xtask ci ...
    the same as `cargo xtask test ...`";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The busybox the e2e step copies into its chroot directory (the deps
/// step installs a static one).
const BUSYBOX: &str = "/bin/busybox";

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
                // --all-features: the e2e suite is built with a feature.
                run(&mut cargo(&[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--all-features",
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
        Step {
            after: Some("build"),
            ..step("e2e", None, Box::new(move || e2e(timeout)))
        },
        Step {
            after: Some("build"),
            ..step("reliability", None, Box::new(move || reliability(timeout)))
        },
        // About 30 s of property tests in release mode, plus 10 s of
        // libFuzzer per target when cargo-fuzz is installed.
        step("fuzz", quick, Box::new(fuzz::step)),
        step(
            "doc",
            quick,
            Box::new(|| {
                run(cargo(&["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"))
            }),
        ),
        step(
            "bench",
            quick,
            // The harness runs, about a second a benchmark; no speed is
            // asserted (BENCHMARKS.md records the full run).
            Box::new(|| crate::bench::main(&["--quick".to_string()])),
        ),
        step("leaks", None, Box::new(leaks::check)),
    ]
}

/// Where the e2e step prepares the chroot directory of the busybox
/// end-to-end suite, under the target directory.
fn e2e_root() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("alcove-e2e/root")
}

/// The e2e step: prepares the chroot directory afresh, then runs the
/// end-to-end suite (`tests/tests/e2e.rs`, feature `e2e`) in it.
fn e2e(timeout: Duration) -> Result<(), String> {
    let root = e2e_root();
    prepare_root(&root, Path::new(BUSYBOX))?;
    let root = fs::canonicalize(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut cmd = cargo(&[
        "test",
        "-p",
        "alcove-tests",
        "--features",
        "e2e",
        "--test",
        "e2e",
    ]);
    cmd.env("ALCOVE_E2E_ROOT", &root).env("RUST_BACKTRACE", "1");
    run_with_timeout(&mut cmd, timeout)
}

/// The suites that print figures (`FIGURE ...` lines), with their output
/// shown: the reliability suite (faults and load, feature `reliability`,
/// one test at a time) and the hostile-input tests (bad frames, routing of
/// arbitrary paths, bad arguments to every call, the loop under a seccomp
/// allowlist of its steady-state system calls), which the test step ran
/// already, silently.
fn reliability(timeout: Duration) -> Result<(), String> {
    let mut cmd = cargo(&[
        "test",
        "-p",
        "alcove-tests",
        "--features",
        "reliability",
        "--test",
        "reliability",
        "--test",
        "wire",
        "--test",
        "routing",
        "--test",
        "badargs",
        "--test",
        "seccomp",
        "--",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env("RUST_BACKTRACE", "1");
    run_with_timeout(&mut cmd, timeout)
}

/// Makes `root` anew: `bin/busybox` (a copy of `busybox`, when it exists:
/// without it the suite skips), empty `proc/`, `tmp/` and `dev/`, every
/// directory mode 0755. Refuses to remove an old one with something still
/// mounted under it.
pub fn prepare_root(root: &Path, busybox: &Path) -> Result<(), String> {
    let io = |what: &str, path: &Path| {
        let path = path.display().to_string();
        let what = what.to_owned();
        move |e: std::io::Error| format!("{what} {path}: {e}")
    };
    if root.exists() {
        let abs = fs::canonicalize(root).map_err(io("resolving", root))?;
        let mountinfo = fs::read_to_string("/proc/self/mountinfo")
            .map_err(io("reading", Path::new("/proc/self/mountinfo")))?;
        let mounted = mount_points_under(&mountinfo, &abs);
        if !mounted.is_empty() {
            return Err(format!(
                "not removing {}: still mounted under it: {}",
                abs.display(),
                mounted.join(", ")
            ));
        }
        fs::remove_dir_all(root).map_err(io("removing", root))?;
    }
    let mode = |path: &Path, mode| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io("chmod", path))
    };
    fs::create_dir_all(root).map_err(io("creating", root))?;
    mode(root, 0o755)?;
    for dir in ["bin", "proc", "tmp", "dev"] {
        let dir = root.join(dir);
        fs::create_dir(&dir).map_err(io("creating", &dir))?;
        mode(&dir, 0o755)?;
    }
    if busybox.exists() {
        let copy = root.join("bin/busybox");
        fs::copy(busybox, &copy).map_err(io("copying busybox to", &copy))?;
        mode(&copy, 0o755)?;
    } else {
        eprintln!("no {}: the end-to-end tests will skip", busybox.display());
    }
    eprintln!("prepared {}", root.display());
    Ok(())
}

/// The mount points of a `mountinfo` text at or under `dir`, as the kernel
/// writes them (space, tab, newline and backslash as `\ooo`).
pub fn mount_points_under(mountinfo: &str, dir: &Path) -> Vec<String> {
    let mut escaped = String::new();
    for c in dir.to_string_lossy().chars() {
        match c {
            ' ' | '\t' | '\n' | '\\' => {
                let _ = write!(escaped, "\\{:03o}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|point| {
            point
                .strip_prefix(escaped.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .map(str::to_owned)
        .collect()
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
                ("e2e", None),
                ("reliability", None),
                ("fuzz", Some("--quick")),
                ("doc", Some("--quick")),
                ("bench", Some("--quick")),
                ("leaks", None),
            ]
        );
        opts.quick = false;
        opts.no_deps = false;
        assert!(names(&opts).iter().all(|(_, skip)| skip.is_none()));
    }

    #[test]
    fn mount_points_under_a_directory() {
        let mountinfo = "\
27 1 254:0 / / rw - ext4 /dev/vda rw
40 27 0:5 / /w/target/alcove-e2e/root/proc rw - proc proc rw
41 27 0:6 / /w/target/alcove-e2e/root2 rw - tmpfs x rw
42 27 0:7 / /w/a\\040b/root rw - tmpfs y rw
43 27 0:8 / /w/target/alcove-e2e/root rw - tmpfs z rw";
        let under = |dir: &str| mount_points_under(mountinfo, Path::new(dir));
        assert_eq!(
            under("/w/target/alcove-e2e/root"),
            [
                "/w/target/alcove-e2e/root/proc",
                "/w/target/alcove-e2e/root"
            ]
        );
        assert_eq!(under("/w/a b"), ["/w/a\\040b/root"]);
        assert!(under("/w/target/alcove-e2e/roo").is_empty());
    }

    #[test]
    fn the_e2e_root_is_made_anew() {
        let tmp = crate::procfs::fake::TempDir::new();
        let root = tmp.path().join("alcove-e2e/root");
        let busybox = tmp.path().join("busybox");
        fs::write(&busybox, "#!/bin/sh\n").unwrap();
        prepare_root(&root, &busybox).unwrap();
        fs::write(root.join("tmp/stale"), "").unwrap();
        prepare_root(&root, &busybox).unwrap();
        let mut entries: Vec<String> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        entries.sort();
        assert_eq!(entries, ["bin", "dev", "proc", "tmp"]);
        assert_eq!(fs::read_dir(root.join("tmp")).unwrap().count(), 0);
        let mode = fs::metadata(root.join("bin/busybox"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755);
        assert_eq!(
            fs::metadata(&root).unwrap().permissions().mode() & 0o7777,
            0o755
        );
        // Without a busybox, the layout is still made (the suite skips).
        prepare_root(&root, &tmp.path().join("none")).unwrap();
        assert!(!root.join("bin/busybox").exists());
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
