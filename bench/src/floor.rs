//! The floors: the same work as a benchmark, done with plain pipes, fork and
//! exec, as the kernel allows it at best. Each is a program (`src/bin/`)
//! that prints one [`Outcome`] line; the driver runs it between its own
//! samples. A floor forks before it starts any thread, and reaps every
//! process it starts.

use std::io;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::{Measured, run_for};
use crate::sys::{self, Forked};

/// The options that take a value, on every floor's command line.
pub const VALUED: &[&str] = &[
    "ms",
    "warmup-ms",
    "size",
    "mode",
    "exec",
    "copiers",
    "bytes",
    "producer",
    "cat",
    "chunk",
];

/// Bytes read or written at once by the floors' copying processes, by the
/// producer, and by the readers: the size of a pipe's buffer, and the
/// largest chunk the alcove loop relays in one frame.
pub const CHUNK: usize = 64 << 10;

/// What a floor did, as one line on its stdout: `<count> <nanoseconds>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Operations, or bytes.
    pub count: u64,
    /// Nanoseconds they took.
    pub nanos: u64,
}

impl Outcome {
    /// The line a floor prints.
    pub fn line(&self) -> String {
        format!("{} {}", self.count, self.nanos)
    }

    /// Reads a floor's line back.
    pub fn parse(line: &str) -> Option<Self> {
        let mut words = line.split_whitespace();
        let count = words.next()?.parse().ok()?;
        let nanos = words.next()?.parse().ok()?;
        words.next().is_none().then_some(Self { count, nanos })
    }

    /// As a [`Measured`].
    pub fn measured(&self) -> Measured {
        Measured {
            count: self.count,
            elapsed: Duration::from_nanos(self.nanos),
        }
    }
}

impl From<Measured> for Outcome {
    fn from(m: Measured) -> Self {
        Self {
            count: m.count,
            nanos: m.elapsed.as_nanos().try_into().unwrap_or(u64::MAX),
        }
    }
}

fn err(e: io::Error) -> String {
    e.to_string()
}

fn ms(args: &crate::Args, name: &str, default: u64) -> Result<Duration, String> {
    Ok(Duration::from_millis(args.number(name, default)?))
}

/// `floor-pingpong [--ms 300] [--warmup-ms 50] [--size 16]`: round trips of
/// a `size`-byte message between this process and a forked echo process,
/// over two pipes. Counts round trips.
pub fn pingpong(args: &crate::Args) -> Result<Outcome, String> {
    let target = ms(args, "ms", 300)?;
    let warmup = ms(args, "warmup-ms", 50)?;
    let size = args.number("size", 16)? as usize;
    if size == 0 {
        return Err("--size must be at least 1".into());
    }
    let (down_r, down_w) = sys::pipe().map_err(err)?;
    let (up_r, up_w) = sys::pipe().map_err(err)?;
    // SAFETY: the floor has not started any thread.
    let child = match unsafe { sys::fork() }.map_err(err)? {
        Forked::Child => {
            drop((down_w, up_r));
            let mut buf = vec![0u8; size];
            let status = loop {
                match sys::read_exact(&down_r, &mut buf) {
                    Ok(true) => {
                        if sys::write_all(&up_w, &buf).is_err() {
                            break 1;
                        }
                    }
                    Ok(false) => break 0,
                    Err(_) => break 1,
                }
            };
            sys::exit_now(status)
        }
        Forked::Parent(pid) => pid,
    };
    drop((down_r, up_w));
    let msg = vec![7u8; size];
    let mut buf = vec![0u8; size];
    let mut round_trips = |n: u64| -> io::Result<()> {
        for _ in 0..n {
            sys::write_all(&down_w, &msg)?;
            if !sys::read_exact(&up_r, &mut buf)? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(())
    };
    let result = run_for(warmup, &mut round_trips).and_then(|_| run_for(target, &mut round_trips));
    drop(down_w);
    sys::wait_ok(child, "the echo process").map_err(err)?;
    result.map(Outcome::from).map_err(err)
}

/// `floor-fork --mode fork|exec [--exec /bin/true] [--ms 300]
/// [--warmup-ms 50]`: `fork`, then `_exit(0)` in the child (`fork`) or
/// `execv` of the program (`exec`), then `waitpid`. Counts children.
pub fn fork(args: &crate::Args) -> Result<Outcome, String> {
    let target = ms(args, "ms", 300)?;
    let warmup = ms(args, "warmup-ms", 50)?;
    let prog = args.value("exec").unwrap_or("/bin/true");
    let exec = match args.value("mode") {
        Some("fork") => None,
        Some("exec") => Some(sys::Execv::new(prog, &[prog]).map_err(err)?),
        other => return Err(format!("--mode must be fork or exec, not {other:?}")),
    };
    let mut children = |n: u64| -> io::Result<()> {
        for _ in 0..n {
            // SAFETY: the floor has not started any thread.
            match unsafe { sys::fork() }? {
                Forked::Child => {
                    if let Some(e) = &exec {
                        let _ = e.exec();
                        sys::exit_now(127);
                    }
                    sys::exit_now(0)
                }
                Forked::Parent(pid) => sys::wait_ok(pid, "the child")?,
            }
        }
        Ok(())
    };
    run_for(warmup, &mut children)
        .and_then(|_| run_for(target, &mut children))
        .map(Outcome::from)
        .map_err(err)
}

/// The pipe ends of a chain, taken one by one by the processes that use
/// them; each forked process drops the rest, so that end of file travels
/// down the chain.
struct Ends(Vec<Option<OwnedFd>>);

impl Ends {
    /// `pipes` pipes: end `2 * i` reads pipe `i`, end `2 * i + 1` writes it.
    fn new(pipes: usize) -> io::Result<Self> {
        let mut v = Vec::with_capacity(2 * pipes);
        for _ in 0..pipes {
            let (r, w) = sys::pipe()?;
            v.push(Some(r));
            v.push(Some(w));
        }
        Ok(Self(v))
    }

    fn read(&mut self, pipe: usize) -> OwnedFd {
        self.0[2 * pipe].take().expect("a pipe end is taken once")
    }

    fn write(&mut self, pipe: usize) -> OwnedFd {
        self.0[2 * pipe + 1]
            .take()
            .expect("a pipe end is taken once")
    }

    /// Forks a process that copies pipe `from` into pipe `to` and exits.
    fn copier(&mut self, from: usize, to: usize) -> io::Result<rustix::process::Pid> {
        // SAFETY: the floors fork before they start any thread.
        match unsafe { sys::fork() }? {
            Forked::Child => {
                let (r, w) = (self.read(from), self.write(to));
                self.0.clear();
                let status = match sys::copy(&r, &w, CHUNK) {
                    Ok(_) => 0,
                    Err(_) => 1,
                };
                sys::exit_now(status)
            }
            Forked::Parent(pid) => {
                drop((self.read(from), self.write(to)));
                Ok(pid)
            }
        }
    }
}

/// Reads `fd` to its end; the number of bytes.
fn drain(fd: &OwnedFd) -> io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        match sys::read(fd, &mut buf)? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

fn check_bytes(got: u64, want: u64) -> io::Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "read {got} bytes where {want} were sent"
        )))
    }
}

/// `floor-pipechain --producer PATH --bytes N [--copiers K]`: runs
/// `PATH N` (which writes N bytes on its stdout) into a chain of K copying
/// processes, one per hop, and reads the end of the chain. Counts bytes,
/// from the start of the producer to the last byte read.
pub fn pipechain(args: &crate::Args) -> Result<Outcome, String> {
    let producer = args.value("producer").ok_or("--producer is needed")?;
    let bytes = args.number("bytes", 1 << 30)?;
    let copiers = args.number("copiers", 1)? as usize;
    let run = || -> io::Result<Outcome> {
        let start = Instant::now();
        let mut ends = Ends::new(copiers + 1)?;
        let mut copying = Vec::new();
        for hop in 0..copiers {
            copying.push(ends.copier(hop, hop + 1)?);
        }
        let mut child = Command::new(producer)
            .arg(bytes.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(ends.write(0)))
            .spawn()?;
        let last = ends.read(copiers);
        drop(ends);
        finish(&last, copying, &mut child, producer, bytes, start)
    };
    run().map_err(err)
}

/// `floor-catpipe --bytes N [--copiers K] [--cat /bin/cat]`: a forked
/// writer sends N bytes through K copying processes to `cat`, whose output
/// comes back through K more to this process. Counts bytes, from the first
/// written to the last read.
pub fn catpipe(args: &crate::Args) -> Result<Outcome, String> {
    let cat = args.value("cat").unwrap_or("/bin/cat");
    let bytes = args.number("bytes", 1 << 30)?;
    let copiers = args.number("copiers", 1)? as usize;
    let run = || -> io::Result<Outcome> {
        let start = Instant::now();
        // Pipes 0..=K go from the writer to cat's stdin, pipes K+1..=2K+1
        // from cat's stdout to this process.
        let mut ends = Ends::new(2 * copiers + 2)?;
        let mut forked = Vec::new();
        for hop in 0..copiers {
            forked.push(ends.copier(hop, hop + 1)?);
            forked.push(ends.copier(copiers + 1 + hop, copiers + 2 + hop)?);
        }
        // SAFETY: the floors fork before they start any thread.
        match unsafe { sys::fork() }? {
            Forked::Child => {
                let w = ends.write(0);
                drop(ends);
                let buf = vec![0u8; CHUNK];
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(CHUNK as u64) as usize;
                    if sys::write_all(&w, &buf[..n]).is_err() {
                        sys::exit_now(1);
                    }
                    left -= n as u64;
                }
                sys::exit_now(0)
            }
            Forked::Parent(pid) => {
                drop(ends.write(0));
                forked.push(pid);
            }
        }
        let mut cat_child = Command::new(cat)
            .stdin(Stdio::from(ends.read(copiers)))
            .stdout(Stdio::from(ends.write(copiers + 1)))
            .spawn()?;
        let last = ends.read(2 * copiers + 1);
        drop(ends);
        finish(&last, forked, &mut cat_child, cat, bytes, start)
    };
    run().map_err(err)
}

/// Reads the end of a pipe chain to its end of file, waits for the forked
/// processes of the chain and for `child`, and checks the byte count.
fn finish(
    last: &std::os::fd::OwnedFd,
    forked: Vec<rustix::process::Pid>,
    child: &mut std::process::Child,
    name: &str,
    bytes: u64,
    start: Instant,
) -> io::Result<Outcome> {
    let got = drain(last)?;
    let elapsed = start.elapsed();
    for pid in forked {
        sys::wait_ok(pid, "a writing or copying process")?;
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(io::Error::other(format!("{name}: {status}")));
    }
    check_bytes(got, bytes)?;
    Ok(Measured {
        count: got,
        elapsed,
    }
    .into())
}

/// `bench-producer N`: writes N zero bytes on stdout, [`CHUNK`] at a time.
pub fn produce(bytes: u64) -> io::Result<()> {
    let stdout = rustix::stdio::stdout();
    let buf = vec![0u8; CHUNK];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        sys::write_all(stdout, &buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lines_round_trip() {
        let o = Outcome {
            count: 12,
            nanos: 3456,
        };
        assert_eq!(o.line(), "12 3456");
        assert_eq!(Outcome::parse("12 3456\n"), Some(o));
        assert_eq!(Outcome::parse("12"), None);
        assert_eq!(Outcome::parse("12 x"), None);
        assert_eq!(Outcome::parse("1 2 3"), None);
        assert_eq!(o.measured().elapsed, Duration::from_nanos(3456));
    }
}
