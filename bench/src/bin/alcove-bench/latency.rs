//! Latency: getpid round trips down the tree and beside idle children,
//! calls from several threads, and the life of a child (fork + exit, fork +
//! exec + exit).

use std::sync::Barrier;
use std::time::{Duration, Instant};

use alcove_bench::measure::run_for;
use alcove_bench::record::Goal;
use alcove_bench::sys;
use alcove_client::{Drv, Options, Pid};

use crate::{Cpu, Ctx, Res, ctx, wait_exit};

/// Depths of the getpid benchmark.
const DEPTHS: [usize; 4] = [0, 1, 4, 16];

/// Threads of the threads benchmark.
const THREADS: usize = 4;

pub(crate) fn run(c: &mut Ctx) -> Res<()> {
    if c.wants("getpid") {
        for cpu in Cpu::BOTH {
            getpid_depth(c, cpu)?;
        }
    }
    if c.wants("idle") {
        for cpu in Cpu::BOTH {
            idle_children(c, cpu)?;
        }
    }
    if c.wants("threads") {
        threads(c)?;
    }
    if c.wants("fork_exit") {
        for cpu in Cpu::BOTH {
            fork_exit(c, cpu)?;
        }
    }
    if c.wants("fork_exec") {
        for cpu in Cpu::BOTH {
            fork_exec(c, cpu)?;
        }
    }
    Ok(())
}

/// Forks a chain of `depth` loop processes below the port.
fn chain(drv: &Drv, depth: usize) -> Res<Vec<Pid>> {
    let mut path = Vec::with_capacity(depth);
    for _ in 0..depth {
        let pid = drv.fork(&path).map_err(ctx("fork"))?;
        path.push(pid);
    }
    Ok(path)
}

fn getpid_n(drv: &Drv, path: &[Pid], n: u64) -> Res<()> {
    for _ in 0..n {
        drv.getpid(path).map_err(ctx("getpid"))?;
    }
    Ok(())
}

/// A pipe round trip between two processes, in microseconds.
fn pingpong(c: &Ctx) -> Res<f64> {
    c.floor("floor-pingpong", &c.floor_timing())
        .map(|m| m.us_per_op())
}

/// getpid at depth 0, 1, 4 and 16 against a pipe ping-pong times the hops.
fn getpid_depth(c: &mut Ctx, cpu: Cpu) -> Res<()> {
    c.pin(cpu)?;
    let drv = c.start(Options::default())?;
    let deepest = DEPTHS.iter().copied().max().unwrap_or(0);
    let path = chain(&drv, deepest)?;
    for depth in DEPTHS {
        let p = &path[..depth];
        let hops = (depth + 1) as f64;
        let s = c.latency(|n| getpid_n(&drv, p, n), || pingpong(c).map(|us| us * hops))?;
        c.emit(
            "getpid_depth",
            &[("depth", depth.to_string()), ("cpu", cpu.name().into())],
            &s,
            "us",
            &format!("pipe ping-pong x{}", depth + 1),
            Goal::AtMost(2.0),
        )?;
    }
    c.done(drv)
}

/// getpid in the port beside 0, 100, 1000, 4000 idle children, against the
/// same call in a port without children, both ports running side by side.
fn idle_children(c: &mut Ctx, cpu: Cpu) -> Res<()> {
    c.pin(cpu)?;
    let most = c.plan.idle.iter().copied().max().unwrap_or(0);
    // Four descriptors per child in the port, and some of its own.
    let want = u64::from(most) * 4 + 256;
    let nofile = sys::raise_nofile(want);
    let most = if nofile < want {
        let fit = (nofile.saturating_sub(256) / 4) as u32;
        eprintln!("[bench] RLIMIT_NOFILE is {nofile}: at most {fit} idle children");
        fit
    } else {
        most
    };
    let bare = c.start(Options::default())?;
    let busy = c.start(Options::default().maxchild(most + 16))?;
    let mut children = 0u32;
    for &n in &c.plan.idle.clone() {
        let n = n.min(most);
        let t = Instant::now();
        while children < n {
            busy.fork(&[])
                .map_err(ctx(format!("fork of child {children}")))?;
            children += 1;
        }
        if t.elapsed() > Duration::from_secs(1) {
            eprintln!(
                "[bench] forked up to {n} idle children in {:.1} s",
                t.elapsed().as_secs_f64()
            );
        }
        // Both ports warm up; the one without children is the floor.
        run_for(c.plan.warmup, |k| getpid_n(&bare, &[], k))?;
        let sample = c.plan.sample;
        let s = c.latency(
            |k| getpid_n(&busy, &[], k),
            || run_for(sample, |k| getpid_n(&bare, &[], k)).map(|m| m.us_per_op()),
        )?;
        c.emit(
            "getpid_idle_children",
            &[("children", n.to_string()), ("cpu", cpu.name().into())],
            &s,
            "us",
            "the same call with 0 children",
            // The goal is at 4000 children.
            if n >= 4000 {
                Goal::AtMost(1.1)
            } else {
                Goal::None
            },
        )?;
    }
    // Reaping waits for every child: both ports go first.
    drop(bare);
    c.done(busy)
}

/// Calls from 4 threads at once through one `Drv`, each to its own child,
/// against one thread: aggregate calls per second.
fn threads(c: &mut Ctx) -> Res<()> {
    let cpu = Cpu::Unpinned;
    c.pin(cpu)?;
    let drv = c.start(Options::default())?;
    let children = (0..THREADS)
        .map(|_| drv.fork(&[]).map_err(ctx("fork")))
        .collect::<Res<Vec<Pid>>>()?;
    let sample = c.plan.sample;
    let single = || -> Res<f64> {
        run_for(sample, |n| getpid_n(&drv, &children[..1], n)).map(|m| m.per_sec())
    };
    let multi = || -> Res<(f64, u64)> {
        let barrier = Barrier::new(THREADS);
        let results: Vec<Res<_>> = std::thread::scope(|s| {
            let handles: Vec<_> = children
                .iter()
                .map(|&child| {
                    let (drv, barrier) = (&drv, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        run_for(sample, |n| getpid_n(drv, &[child], n))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
                .collect()
        });
        let mut calls = 0u64;
        let mut longest = Duration::ZERO;
        for r in results {
            let m = r?;
            calls += m.count;
            longest = longest.max(m.elapsed);
        }
        Ok((calls as f64 / longest.as_secs_f64(), calls))
    };
    let warm = c.plan.warmup;
    run_for(warm, |n| getpid_n(&drv, &children[..1], n))?;
    multi()?;
    let s = c.interleave(single, multi)?;
    c.emit(
        "threads_getpid",
        &[
            ("threads", THREADS.to_string()),
            ("depth", "1".into()),
            ("cpu", cpu.name().into()),
        ],
        &s,
        "calls/s",
        "one thread, the same Drv",
        Goal::AtLeast(1.5),
    )?;
    c.done(drv)
}

/// Fork a child of the port, make it exit, wait for its exit event.
fn fork_exit(c: &mut Ctx, cpu: Cpu) -> Res<()> {
    c.pin(cpu)?;
    let drv = c.start(Options::default())?;
    let op = |n: u64| -> Res<()> {
        for _ in 0..n {
            let pid = drv.fork(&[]).map_err(ctx("fork"))?;
            drv.exit(&[pid], 0).map_err(ctx("exit"))?;
            wait_exit(&drv, &[pid])?;
        }
        Ok(())
    };
    let mut args = c.floor_timing();
    args.extend(["--mode".into(), "fork".into()]);
    let s = c.latency(op, || c.floor("floor-fork", &args).map(|m| m.us_per_op()))?;
    c.emit(
        "fork_exit",
        &[("cpu", cpu.name().into())],
        &s,
        "us",
        "fork + _exit + waitpid",
        Goal::AtMost(1.5),
    )?;
    c.done(drv)
}

/// Fork a child of the port, exec `/bin/true` in it, wait for its exit
/// event.
fn fork_exec(c: &mut Ctx, cpu: Cpu) -> Res<()> {
    const TRUE: &str = "/bin/true";
    c.pin(cpu)?;
    let drv = c.start(Options::default())?;
    let op = |n: u64| -> Res<()> {
        for _ in 0..n {
            let pid = drv.fork(&[]).map_err(ctx("fork"))?;
            drv.execvp(&[pid], TRUE, &[TRUE]).map_err(ctx("execvp"))?;
            wait_exit(&drv, &[pid])?;
        }
        Ok(())
    };
    let mut args = c.floor_timing();
    args.extend(["--mode".into(), "exec".into(), "--exec".into(), TRUE.into()]);
    let s = c.latency(op, || c.floor("floor-fork", &args).map(|m| m.us_per_op()))?;
    c.emit(
        "fork_exec_true",
        &[("cpu", cpu.name().into())],
        &s,
        "us",
        "fork + execv /bin/true + waitpid",
        Goal::AtMost(1.3),
    )?;
    c.done(drv)
}
