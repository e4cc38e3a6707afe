//! `alcove-bench`: measures alcove through `alcove_client::Drv`, each figure
//! beside its floor, and prints one record line per benchmark on stdout
//! (see [`alcove_bench::record`]); progress goes to stderr. Run by
//! `cargo xtask bench`, which builds it and turns the records into
//! `target/bench/results.json` and a markdown table.
//!
//! Latency figures are measured twice: pinned (this process, the port, the
//! whole tree and the floors on one CPU, as `taskset -c 0` does) and
//! unpinned; throughput figures unpinned. Floors run interleaved with the
//! alcove samples (floor, alcove, floor, alcove, ...), so that the drift of
//! a shared machine hits both.
#![forbid(unsafe_code)]

mod latency;
mod memory;
mod throughput;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alcove_bench::measure::{Measured, Stats, run_for};
use alcove_bench::record::{Goal, Record};
use alcove_bench::{Args, floor, sys};
use alcove_client::{Drv, Event, Options, Pid};
use rustix::thread::CpuSet;

const USAGE: &str = "\
usage: alcove-bench [--quick] [--alcove PATH] [--out-dir DIR] [--only NAME]...
    --quick        about a second per benchmark (a smoke test of the harness)
    --alcove PATH  the port binary (default: $ALCOVE_BIN, else `alcove` next
                   to this program)
    --out-dir DIR  where the stripped copy of the port goes (target/bench)
    --only NAME    run only the benchmarks whose name starts with NAME
                   (repeatable): memory, binary, getpid, idle, threads,
                   fork_exit, fork_exec, stdout, stdin";

/// Everything that fails here fails with a message.
type Res<T> = Result<T, String>;

/// Wraps an error with what was being done.
fn ctx<E: std::fmt::Display>(what: impl std::fmt::Display) -> impl FnOnce(E) -> String {
    move |e| format!("{what}: {e}")
}

/// How long and how often each benchmark runs.
#[derive(Debug, Clone)]
struct Plan {
    /// Warm-up of the alcove side, before the samples.
    warmup: Duration,
    /// Length of one latency sample, alcove's or the floor's.
    sample: Duration,
    /// Warm-up inside each floor run, before its timed part.
    floor_warmup: Duration,
    /// Samples per benchmark.
    samples: usize,
    /// Bytes per throughput sample...
    bytes: u64,
    /// ...and in the warm-up run.
    warm_bytes: u64,
    /// Idle children of the idle-children benchmark.
    idle: Vec<u32>,
}

impl Plan {
    fn full() -> Self {
        Self {
            warmup: Duration::from_millis(500),
            sample: Duration::from_millis(300),
            floor_warmup: Duration::from_millis(50),
            samples: 7,
            bytes: 1 << 30,
            warm_bytes: 64 << 20,
            idle: vec![0, 100, 1000, 4000],
        }
    }

    fn quick() -> Self {
        Self {
            warmup: Duration::from_millis(50),
            sample: Duration::from_millis(100),
            floor_warmup: Duration::from_millis(20),
            samples: 3,
            bytes: 32 << 20,
            warm_bytes: 4 << 20,
            // Forking 4000 children takes the port about 15 s (the child
            // closes its parent's descriptors one by one), too long here.
            idle: vec![0, 100, 1000],
        }
    }
}

/// Where the tree and the floors run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cpu {
    /// Everything on one CPU.
    Pinned,
    /// On every CPU this program may use.
    Unpinned,
}

impl Cpu {
    const BOTH: [Cpu; 2] = [Cpu::Pinned, Cpu::Unpinned];

    fn name(self) -> &'static str {
        match self {
            Cpu::Pinned => "pinned",
            Cpu::Unpinned => "unpinned",
        }
    }
}

/// The run's settings and what it found.
struct Ctx {
    alcove: PathBuf,
    bin_dir: PathBuf,
    out_dir: PathBuf,
    plan: Plan,
    all: CpuSet,
    one: CpuSet,
    only: Vec<String>,
    records: usize,
}

impl Ctx {
    fn wants(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| name.starts_with(o.as_str()))
    }

    /// Sets the CPUs of this thread, and so of the port, the tree and the
    /// floors started after it.
    fn pin(&self, cpu: Cpu) -> Res<()> {
        let set = match cpu {
            Cpu::Pinned => &self.one,
            Cpu::Unpinned => &self.all,
        };
        sys::set_affinity(set).map_err(ctx("sched_setaffinity"))
    }

    /// Starts a port with these options (its binary, a call timeout added).
    fn start(&self, opts: Options) -> Res<Drv> {
        Drv::start(
            opts.progname(&self.alcove)
                .timeout(Duration::from_secs(120)),
        )
        .map_err(ctx("starting the port"))
    }

    /// Drops a tree and reaps what the subreaper inherited of it. No other
    /// tree may be alive: reaping waits for every child of this process.
    fn done(&self, drv: Drv) -> Res<()> {
        drop(drv);
        sys::reap_orphans(Duration::from_secs(60))
            .map(drop)
            .map_err(ctx("reaping the tree"))
    }

    fn floor_path(&self, prog: &str) -> PathBuf {
        self.bin_dir.join(prog)
    }

    /// Runs a floor program and reads its outcome.
    fn floor(&self, prog: &str, args: &[String]) -> Res<Measured> {
        let path = self.floor_path(prog);
        let out = Command::new(&path)
            .args(args)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(ctx(format!("running {}", path.display())))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "{prog} {}: {} ({text})",
                args.join(" "),
                out.status
            ));
        }
        floor::Outcome::parse(&text)
            .map(|o| o.measured())
            .ok_or_else(|| format!("{prog}: unexpected output `{}`", text.trim()))
    }

    /// `--ms` and `--warmup-ms` of a latency floor.
    fn floor_timing(&self) -> Vec<String> {
        vec![
            "--ms".into(),
            self.plan.sample.as_millis().to_string(),
            "--warmup-ms".into(),
            self.plan.floor_warmup.as_millis().to_string(),
        ]
    }

    /// Takes samples of the floor and of `alcove` in turn (the caller
    /// warmed both up); each returns one sample's figure, `alcove` with the
    /// operations or bytes it measured.
    fn interleave(
        &self,
        mut floor: impl FnMut() -> Res<f64>,
        mut alcove: impl FnMut() -> Res<(f64, u64)>,
    ) -> Res<Samples> {
        let mut s = Samples::default();
        for _ in 0..self.plan.samples {
            s.floor.push(floor()?);
            let (figure, count) = alcove()?;
            s.alcove.push(figure);
            s.count += count;
        }
        Ok(s)
    }

    /// A latency comparison in microseconds per operation: `op(n)` does
    /// `n` operations through alcove; `floor` measures one sample of the
    /// floor (which warms itself up).
    fn latency(
        &self,
        mut op: impl FnMut(u64) -> Res<()>,
        floor: impl FnMut() -> Res<f64>,
    ) -> Res<Samples> {
        run_for(self.plan.warmup, &mut op)?;
        let sample = self.plan.sample;
        self.interleave(floor, || {
            run_for(sample, &mut op).map(|m| (m.us_per_op(), m.count))
        })
    }

    fn emit(
        &mut self,
        name: &str,
        params: &[(&str, String)],
        samples: &Samples,
        unit: &str,
        floor: &str,
        goal: Goal,
    ) -> Res<()> {
        let stats = Stats::of(&samples.alcove).ok_or(format!("{name}: no samples"))?;
        let record = Record {
            name: name.into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            samples: samples.alcove.len(),
            iterations: samples.count,
            stats,
            unit: unit.into(),
            floor: floor.into(),
            floor_median: Stats::of(&samples.floor).map(|s| s.median),
            goal,
        };
        let ratio = record
            .ratio()
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"));
        let met = match goal.met(record.ratio()) {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        eprintln!(
            "[bench] {name} {}: {:.2} {unit} (floor {}) ratio {ratio} {met}",
            params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            stats.median,
            record
                .floor_median
                .map_or_else(|| "-".to_owned(), |f| format!("{f:.2}")),
        );
        println!("{}", record.line());
        self.records += 1;
        Ok(())
    }
}

/// The samples of one benchmark.
#[derive(Debug, Default)]
struct Samples {
    alcove: Vec<f64>,
    floor: Vec<f64>,
    /// Operations (or bytes) alcove did over all samples.
    count: u64,
}

/// Waits for the exit event of the process at `path`; fails unless it
/// exited with status 0.
fn wait_exit(drv: &Drv, path: &[Pid]) -> Res<()> {
    match drv.event(path, Duration::from_secs(60)) {
        Ok(Some(Event::ExitStatus { status: 0 })) => Ok(()),
        Ok(Some(e)) => Err(format!("{path:?} ended: {e:?}")),
        Ok(None) => Err(format!("{path:?}: no exit event within 60 s")),
        Err(e) => Err(e.to_string()),
    }
}

/// The port binary: `--alcove`, `$ALCOVE_BIN`, or `alcove` beside us.
fn port_binary(args: &Args, bin_dir: &Path) -> Res<PathBuf> {
    let path = match (args.value("alcove"), std::env::var_os("ALCOVE_BIN")) {
        (Some(p), _) => PathBuf::from(p),
        (None, Some(p)) => PathBuf::from(p),
        (None, None) => bin_dir.join("alcove"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the port binary {} does not exist: build it (cargo build --release -p alcove-loop) \
             or pass --alcove",
            path.display()
        ))
    }
}

fn run() -> Res<()> {
    let args = Args::parse(std::env::args().skip(1), &["alcove", "out-dir", "only"])?;
    if args.flag("help") || args.flag("h") {
        println!("{USAGE}");
        return Ok(());
    }
    args.check(&["quick", "alcove", "out-dir", "only"])?;
    let exe = std::env::current_exe().map_err(ctx("current_exe"))?;
    let bin_dir = exe
        .parent()
        .ok_or("this program has no directory")?
        .to_path_buf();
    let all = sys::affinity().map_err(ctx("sched_getaffinity"))?;
    let one = sys::first_cpu(&all).ok_or("no CPU to run on")?;
    let mut ctx = Ctx {
        alcove: port_binary(&args, &bin_dir)?,
        bin_dir,
        out_dir: PathBuf::from(args.value("out-dir").unwrap_or("target/bench")),
        plan: if args.flag("quick") {
            Plan::quick()
        } else {
            Plan::full()
        },
        all,
        one,
        only: args.values("only").into_iter().map(String::from).collect(),
        records: 0,
    };
    // The loop processes of a dropped tree are orphans for a moment: we
    // reap them rather than leave it to the machine's init.
    sys::become_subreaper().map_err(self::ctx("PR_SET_CHILD_SUBREAPER"))?;
    eprintln!(
        "[bench] port {}, CPUs {} (pinned: {}), {}",
        ctx.alcove.display(),
        sys::cpu_list(&ctx.all),
        sys::cpu_list(&ctx.one),
        if args.flag("quick") { "quick" } else { "full" },
    );
    let start = Instant::now();
    memory::run(&mut ctx)?;
    latency::run(&mut ctx)?;
    throughput::run(&mut ctx)?;
    ctx.pin(Cpu::Unpinned)?;
    eprintln!(
        "[bench] {} records in {:.0} s",
        ctx.records,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("alcove-bench: {e}");
        std::process::exit(1);
    }
}
