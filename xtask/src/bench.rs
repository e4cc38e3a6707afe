//! `cargo xtask bench`: builds the port and the benchmark programs in release
//! mode, runs the driver (`alcove-bench`, in `bench/`), writes its records to
//! `target/bench/results.json` and prints them as a markdown table.
//!
//! The driver prints one tab-separated line per benchmark (see
//! `alcove_bench::record`); this module only reads, stores and shows them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::shell::{command_line, run};

pub const USAGE: &str = "\
cargo xtask bench [--quick] [--only NAME]...
    build in release mode, run every benchmark beside its floor (several
    samples after a warm-up), write target/bench/results.json and print a
    markdown table; BENCHMARKS.md says what is measured and how
    --quick      about a second per benchmark: a smoke test of the harness
    --only NAME  only the benchmarks whose name starts with NAME (memory,
                 binary, getpid, idle, threads, fork_exit, fork_exec,
                 stdout, stdin); repeatable";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Opts {
    pub quick: bool,
    pub only: Vec<String>,
}

pub fn parse(args: &[String]) -> Result<Option<Opts>, String> {
    let mut opts = Opts::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--quick" => opts.quick = true,
            "--only" => opts
                .only
                .push(args.next().ok_or("--only needs a benchmark name")?.clone()),
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    Ok(Some(opts))
}

pub fn main(args: &[String]) -> Result<(), String> {
    let Some(opts) = parse(args)? else {
        println!("{USAGE}");
        return Ok(());
    };
    run(Command::new("cargo").args(["build", "--release", "-p", "alcove-bench"]))?;
    // The port as it ships: static (`cargo xtask dist`).
    let port = crate::dist::build()?;
    let target = target_dir();
    let release = target.join("release");
    let out_dir = target.join("bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;

    let mut cmd = Command::new(release.join("alcove-bench"));
    cmd.arg("--alcove")
        .arg(&port)
        .arg("--out-dir")
        .arg(&out_dir);
    if opts.quick {
        cmd.arg("--quick");
    }
    for name in &opts.only {
        cmd.arg("--only").arg(name);
    }
    let mut machine = Machine::this();
    let line = command_line(&cmd);
    eprintln!("$ {line}");
    let output = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run `{line}`: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let records = stdout
        .lines()
        .filter(|l| l.starts_with("record\t"))
        .map(Record::parse)
        .collect::<Result<Vec<_>, _>>()?;

    let json_path = out_dir.join("results.json");
    machine.load_after = loadavg();
    let json = results_json(&machine, opts.quick, &records);
    std::fs::write(&json_path, json).map_err(|e| format!("{}: {e}", json_path.display()))?;
    println!("{}", markdown(&records));
    eprintln!(
        "{} records written to {}",
        records.len(),
        json_path.display()
    );
    if !output.status.success() {
        return Err(format!("`{line}` failed: {}", output.status));
    }
    Ok(())
}

/// `$CARGO_TARGET_DIR`, or `target` in the workspace root (the current
/// directory of every task).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new("target").to_path_buf())
}

/// One benchmark's result, as the driver printed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub name: String,
    pub params: Vec<(String, String)>,
    pub samples: u64,
    pub iterations: u64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub unit: String,
    pub floor: String,
    pub floor_median: Option<f64>,
    pub ratio: Option<f64>,
    /// `<=2`, `>=0.8`, `<1`, or empty.
    pub goal: String,
    pub met: Option<bool>,
}

impl Record {
    /// Reads `record\t<name>\t<params>\t...` (13 fields after `record`).
    pub fn parse(line: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("bad record line ({why}): {line:?}");
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 14 || f[0] != "record" {
            return Err(bad("not 14 tab-separated fields"));
        }
        let opt = |s: &str| -> Result<Option<f64>, String> {
            match s {
                "-" => Ok(None),
                s => s.parse().map(Some).map_err(|_| bad("a number")),
            }
        };
        let num = |s: &str| opt(s)?.ok_or_else(|| bad("a missing number"));
        let int = |s: &str| s.parse::<u64>().map_err(|_| bad("a count"));
        let params = match f[2] {
            "-" | "" => Vec::new(),
            p => p
                .split(',')
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => Ok((k.to_owned(), v.to_owned())),
                    None => Err(bad("a parameter without `=`")),
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            name: f[1].to_owned(),
            params,
            samples: int(f[3])?,
            iterations: int(f[4])?,
            median: num(f[5])?,
            min: num(f[6])?,
            max: num(f[7])?,
            unit: f[8].to_owned(),
            floor: f[9].to_owned(),
            floor_median: opt(f[10])?,
            ratio: opt(f[11])?,
            goal: if f[12] == "-" {
                String::new()
            } else {
                f[12].to_owned()
            },
            met: match f[13] {
                "yes" => Some(true),
                "no" => Some(false),
                "-" => None,
                _ => return Err(bad("met is not yes, no or -")),
            },
        })
    }
}

/// The machine a run happened on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub nproc: usize,
    pub cpu: String,
    pub kernel: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`, when the run started.
    pub date: String,
    /// The load averages (1, 5, 15 minutes) before and after the run: other
    /// work on a shared machine shows here.
    pub load_before: String,
    pub load_after: String,
}

/// The three load averages of `/proc/loadavg`.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

impl Machine {
    fn this() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            kernel,
            date: utc(secs),
            load_before: loadavg(),
            load_after: String::new(),
        }
    }
}

/// `secs` after the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (the proleptic
/// Gregorian calendar; Howard Hinnant's days-to-civil algorithm).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// `s` as a JSON string.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `x` as a JSON number, `null` when it is missing or not finite.
pub fn json_num(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => "null".into(),
    }
}

/// The contents of `results.json`.
pub fn results_json(machine: &Machine, quick: bool, records: &[Record]) -> String {
    let mut s = String::new();
    s.push_str("{\n");
    let _ = writeln!(s, "  \"quick\": {quick},");
    let _ = writeln!(
        s,
        "  \"machine\": {{\"nproc\": {}, \"cpu\": {}, \"kernel\": {}, \"date\": {}, \
         \"load_before\": {}, \"load_after\": {}}},",
        machine.nproc,
        json_str(&machine.cpu),
        json_str(&machine.kernel),
        json_str(&machine.date),
        json_str(&machine.load_before),
        json_str(&machine.load_after),
    );
    s.push_str("  \"records\": [");
    for (i, r) in records.iter().enumerate() {
        s.push_str(if i == 0 { "\n" } else { ",\n" });
        let params = r
            .params
            .iter()
            .map(|(k, v)| format!("{}: {}", json_str(k), json_str(v)))
            .collect::<Vec<_>>()
            .join(", ");
        let met = match r.met {
            Some(m) => m.to_string(),
            None => "null".into(),
        };
        let goal = if r.goal.is_empty() {
            "null".into()
        } else {
            json_str(&r.goal)
        };
        let _ = write!(
            s,
            "    {{\"name\": {}, \"params\": {{{params}}}, \"samples\": {}, \"iterations\": {}, \
             \"median\": {}, \"min\": {}, \"max\": {}, \"unit\": {}, \"floor\": {}, \
             \"floor_median\": {}, \"ratio\": {}, \"goal\": {goal}, \"met\": {met}}}",
            json_str(&r.name),
            r.samples,
            r.iterations,
            json_num(Some(r.median)),
            json_num(Some(r.min)),
            json_num(Some(r.max)),
            json_str(&r.unit),
            json_str(&r.floor),
            json_num(r.floor_median),
            json_num(r.ratio),
        );
    }
    s.push_str(if records.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    s
}

/// A figure with three significant digits or so.
fn figure(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The records as a markdown table.
pub fn markdown(records: &[Record]) -> String {
    let mut s = String::from(
        "| benchmark | params | median | min - max | floor median | ratio | goal | met? |\n\
         |---|---|---:|---:|---:|---:|---|---|\n",
    );
    for r in records {
        let params = if r.params.is_empty() {
            "-".to_owned()
        } else {
            r.params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let floor = r
            .floor_median
            .map_or_else(|| "-".to_owned(), |f| format!("{} {}", figure(f), r.unit));
        let ratio = r
            .ratio
            .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}x"));
        let goal = if r.goal.is_empty() {
            "-".to_owned()
        } else {
            format!(
                "{}x",
                r.goal
                    .replace("<=", "≤ ")
                    .replace(">=", "≥ ")
                    .replace('<', "< ")
            )
        };
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let _ = writeln!(
            s,
            "| {} | {params} | {} {} | {} - {} | {floor} | {ratio} | {goal} | {met} |",
            r.name,
            figure(r.median),
            r.unit,
            figure(r.min),
            figure(r.max),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "record\tgetpid_depth\tdepth=4,cpu=pinned\t7\t7000\t30.000000\t29.000000\t\
                        31.500000\tus\tpipe ping-pong x5\t20.000000\t1.500000\t<=2\tyes";

    fn record() -> Record {
        Record::parse(LINE).unwrap()
    }

    #[test]
    fn records_are_read_back() {
        let r = record();
        assert_eq!(r.name, "getpid_depth");
        assert_eq!(
            r.params,
            [
                ("depth".into(), "4".into()),
                ("cpu".into(), "pinned".into())
            ]
        );
        assert_eq!((r.samples, r.iterations), (7, 7000));
        assert_eq!((r.median, r.min, r.max), (30.0, 29.0, 31.5));
        assert_eq!(r.floor_median, Some(20.0));
        assert_eq!(r.ratio, Some(1.5));
        assert_eq!(r.goal, "<=2");
        assert_eq!(r.met, Some(true));
        let none = "record\tbinary_size\t-\t1\t1\t500.0\t500.0\t500.0\tKiB\tnone\t-\t-\t-\t-";
        let r = Record::parse(none).unwrap();
        assert!(r.params.is_empty());
        assert_eq!((r.floor_median, r.ratio, r.met), (None, None, None));
        assert_eq!(r.goal, "");
    }

    #[test]
    fn bad_records_are_refused() {
        assert!(Record::parse("record\tx").is_err());
        assert!(Record::parse(&LINE.replace("\t7000\t", "\tmany\t")).is_err());
        assert!(Record::parse(&LINE.replace("\tyes", "\tmaybe")).is_err());
        assert!(Record::parse(&LINE.replace("depth=4", "depth")).is_err());
    }

    #[test]
    fn json_strings_and_numbers() {
        assert_eq!(json_str("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
        assert_eq!(json_num(Some(1.5)), "1.5");
        assert_eq!(json_num(Some(f64::NAN)), "null");
        assert_eq!(json_num(None), "null");
    }

    #[test]
    fn results_json_holds_every_field() {
        let m = Machine {
            nproc: 2,
            cpu: "Some \"CPU\"".into(),
            kernel: "6.1".into(),
            date: "2025-01-02T03:04:05Z".into(),
            load_before: "0.10 0.20 0.30".into(),
            load_after: "1.00 0.50 0.40".into(),
        };
        let json = results_json(&m, true, &[record()]);
        assert!(json.contains("\"quick\": true"), "{json}");
        assert!(json.contains("\"cpu\": \"Some \\\"CPU\\\"\""), "{json}");
        assert!(
            json.contains("\"load_after\": \"1.00 0.50 0.40\""),
            "{json}"
        );
        assert!(
            json.contains(
                "{\"name\": \"getpid_depth\", \"params\": {\"depth\": \"4\", \"cpu\": \"pinned\"}, \
                 \"samples\": 7, \"iterations\": 7000, \"median\": 30, \"min\": 29, \"max\": 31.5, \
                 \"unit\": \"us\", \"floor\": \"pipe ping-pong x5\", \"floor_median\": 20, \
                 \"ratio\": 1.5, \"goal\": \"<=2\", \"met\": true}"
            ),
            "{json}"
        );
        assert_eq!(
            results_json(&m, false, &[]).lines().last(),
            Some("}"),
            "an empty run is still a JSON object"
        );
    }

    #[test]
    fn markdown_rows() {
        let table = markdown(&[record()]);
        let row = table.lines().nth(2).unwrap();
        assert_eq!(
            row,
            "| getpid_depth | depth=4 cpu=pinned | 30.0 us | 29.0 - 31.5 | 20.0 us | 1.50x | ≤ 2x | yes |"
        );
    }

    #[test]
    fn dates_in_utc() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_735_787_045), "2025-01-02T03:04:05Z");
    }

    #[test]
    fn options() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse(&args(&["--quick", "--only", "getpid"])),
            Ok(Some(Opts {
                quick: true,
                only: vec!["getpid".into()],
            }))
        );
        assert_eq!(parse(&args(&["--help"])), Ok(None));
        assert!(parse(&args(&["--only"])).is_err());
        assert!(parse(&args(&["--fast"])).is_err());
    }
}
