//! Throughput, unpinned: the stdout of an exec'd producer read by the
//! client, and bytes sent to an exec'd `cat` and read back.

use std::time::{Duration, Instant};

use alcove_bench::floor::CHUNK;
use alcove_bench::measure::Measured;
use alcove_bench::record::Goal;
use alcove_client::{Drv, Error, Options, Pid};

use crate::{Cpu, Ctx, Res, ctx, wait_exit};

/// Depths of the exec'd producer.
const DEPTHS: [usize; 2] = [1, 4];

/// What one read of the client waits for at most.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) fn run(c: &mut Ctx) -> Res<()> {
    if c.wants("stdout") {
        for depth in DEPTHS {
            stdout(c, depth)?;
        }
    }
    if c.wants("stdin") {
        stdin_cat(c)?;
    }
    Ok(())
}

/// Reads the stdout of the exec'd program at `path` until it closes.
fn read_all(drv: &Drv, path: &[Pid]) -> Res<u64> {
    let mut got = 0u64;
    loop {
        match drv.stdout(path, READ_TIMEOUT) {
            Ok(Some(data)) => got += data.len() as u64,
            Ok(None) => return Err(format!("{path:?}: no stdout within {READ_TIMEOUT:?}")),
            Err(Error::Closed { .. }) => return Ok(got),
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn check(got: u64, want: u64) -> Res<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("read {got} bytes where {want} were sent"))
    }
}

/// One run of the producer at depth `parent.len() + 1`: from its exec to
/// the last byte of its stdout in the client.
fn produce(c: &Ctx, drv: &Drv, parent: &[Pid], bytes: u64) -> Res<Measured> {
    let producer = c.floor_path("bench-producer");
    let producer = producer
        .to_str()
        .ok_or("the producer's path is not UTF-8")?;
    let leaf = drv.fork(parent).map_err(ctx("fork"))?;
    let mut path = parent.to_vec();
    path.push(leaf);
    let start = Instant::now();
    drv.execvp(&path, producer, &[producer, &bytes.to_string()])
        .map_err(ctx("execvp"))?;
    let got = read_all(drv, &path)?;
    let elapsed = start.elapsed();
    wait_exit(drv, &path)?;
    check(got, bytes)?;
    Ok(Measured {
        count: got,
        elapsed,
    })
}

/// stdout of an exec'd producer at depth 1 and 4, against a chain of pipes
/// with one copying process per hop.
fn stdout(c: &mut Ctx, depth: usize) -> Res<()> {
    let cpu = Cpu::Unpinned;
    c.pin(cpu)?;
    let drv = c.start(Options::default())?;
    let mut parent = Vec::new();
    for _ in 1..depth {
        let pid = drv.fork(&parent).map_err(ctx("fork"))?;
        parent.push(pid);
    }
    let producer = c.floor_path("bench-producer").display().to_string();
    let floor = |bytes: u64| -> Res<Measured> {
        c.floor(
            "floor-pipechain",
            &[
                "--producer".into(),
                producer.clone(),
                "--bytes".into(),
                bytes.to_string(),
                "--copiers".into(),
                depth.to_string(),
            ],
        )
    };
    let bytes = c.plan.bytes;
    floor(c.plan.warm_bytes)?;
    produce(c, &drv, &parent, c.plan.warm_bytes)?;
    let s = c.interleave(
        || floor(bytes).map(|m| m.mib_per_sec()),
        || produce(c, &drv, &parent, bytes).map(|m| (m.mib_per_sec(), m.count)),
    )?;
    c.emit(
        "stdout_read",
        &[
            ("depth", depth.to_string()),
            ("bytes", bytes.to_string()),
            ("cpu", cpu.name().into()),
        ],
        &s,
        "MiB/s",
        &format!("pipe chain, {depth} copying process(es)"),
        Goal::AtLeast(0.8),
    )?;
    c.done(drv)
}

/// One run of `cat` at depth 1: `bytes` to its stdin from one thread, its
/// stdout read back by another, from the first byte sent to the last read.
fn cat_once(drv: &Drv, bytes: u64) -> Res<Measured> {
    const CAT: &str = "/bin/cat";
    let pid = drv.fork(&[]).map_err(ctx("fork"))?;
    drv.execvp(&[pid], CAT, &[CAT]).map_err(ctx("execvp"))?;
    let path = [pid];
    let start = Instant::now();
    let (sent, got) = std::thread::scope(|s| {
        let writer = s.spawn(|| -> Res<()> {
            let buf = vec![0u8; 16 * CHUNK];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(buf.len() as u64) as usize;
                drv.stdin(&path, &buf[..n]).map_err(ctx("stdin"))?;
                left -= n as u64;
            }
            drv.eof(&path).map_err(ctx("eof"))
        });
        let got = read_all(drv, &path);
        let sent = writer
            .join()
            .unwrap_or_else(|_| Err("the writer panicked".into()));
        (sent, got)
    });
    let elapsed = start.elapsed();
    sent?;
    let got = got?;
    wait_exit(drv, &path)?;
    check(got, bytes)?;
    Ok(Measured {
        count: got,
        elapsed,
    })
}

/// stdin to an exec'd `cat` and its stdout back, against the same bytes
/// through plain pipes with one copying process per hop (the port's place).
fn stdin_cat(c: &mut Ctx) -> Res<()> {
    let cpu = Cpu::Unpinned;
    c.pin(cpu)?;
    let drv = c.start(Options::default())?;
    let floor = |bytes: u64| -> Res<Measured> {
        c.floor(
            "floor-catpipe",
            &[
                "--bytes".into(),
                bytes.to_string(),
                "--copiers".into(),
                "1".into(),
            ],
        )
    };
    let bytes = c.plan.bytes;
    floor(c.plan.warm_bytes)?;
    cat_once(&drv, c.plan.warm_bytes)?;
    let s = c.interleave(
        || floor(bytes).map(|m| m.mib_per_sec()),
        || cat_once(&drv, bytes).map(|m| (m.mib_per_sec(), m.count)),
    )?;
    c.emit(
        "stdin_cat",
        &[
            ("depth", "1".into()),
            ("bytes", bytes.to_string()),
            ("cpu", cpu.name().into()),
        ],
        &s,
        "MiB/s",
        "pipes through cat, one copying process per hop",
        Goal::AtLeast(0.8),
    )?;
    c.done(drv)
}
