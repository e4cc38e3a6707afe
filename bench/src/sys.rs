//! The system calls of the floors and the driver that std does not offer:
//! fork, exec and `_exit` (libc), CPU affinity, limits and reaping (rustix).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::process::{Pid, WaitOptions, WaitStatus};
use rustix::thread::CpuSet;

/// Which side of a [`fork`] this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// The parent, with the child's PID.
    Parent(Pid),
    /// The child.
    Child,
}

/// `fork(2)` through the C library.
///
/// # Safety
/// The calling process must have one thread: the floors fork before they
/// start any, and run ordinary Rust code in the child.
pub unsafe fn fork() -> io::Result<Forked> {
    // SAFETY: the caller guarantees a single-threaded process.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(
            Pid::from_raw(pid).expect("fork returned a positive pid"),
        )),
    }
}

/// `_exit(2)`: ends a forked child at once, without running the parent's
/// atexit handlers or flushing its copy of the parent's stdio buffers.
pub fn exit_now(status: i32) -> ! {
    // SAFETY: `_exit` is always safe to call; it does not return.
    unsafe { libc::_exit(status) }
}

/// An `execv(3)` prepared before a fork, so that the child only calls
/// `execv` (it allocates nothing).
#[derive(Debug)]
pub struct Execv {
    path: CString,
    _args: Vec<CString>,
    argv: Vec<*const libc::c_char>,
}

impl Execv {
    /// `path` with `argv` (`argv[0]` included).
    pub fn new(path: &str, argv: &[&str]) -> io::Result<Self> {
        let cstr =
            |s: &str| CString::new(s).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e));
        let path = cstr(path)?;
        let args = argv
            .iter()
            .map(|a| cstr(a))
            .collect::<io::Result<Vec<_>>>()?;
        let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        Ok(Self {
            path,
            _args: args,
            argv,
        })
    }

    /// Replaces the process image; returns only on failure.
    pub fn exec(&self) -> io::Error {
        // SAFETY: `path` and every `argv` entry are NUL-terminated strings
        // owned by `self`, and `argv` ends with a null pointer.
        unsafe { libc::execv(self.path.as_ptr(), self.argv.as_ptr()) };
        io::Error::last_os_error()
    }
}

/// `waitpid(pid, 0)`: waits for `pid` to end.
pub fn wait(pid: Pid) -> io::Result<WaitStatus> {
    loop {
        match rustix::process::waitpid(Some(pid), WaitOptions::empty()) {
            Ok(Some((_, status))) => return Ok(status),
            Ok(None) => continue,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Waits for `pid` and fails unless it exited with status 0.
pub fn wait_ok(pid: Pid, what: &str) -> io::Result<()> {
    let status = wait(pid)?;
    match status.exit_status() {
        Some(0) => Ok(()),
        _ => Err(io::Error::other(format!(
            "{what} ({pid:?}) ended: {status:?}"
        ))),
    }
}

/// A pipe, both ends close-on-exec: `(read, write)`.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// `write(2)` of all of `buf`.
pub fn write_all(fd: impl AsFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match rustix::io::write(&fd, buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `read(2)` until `buf` is full; `false` at end of file before any byte.
pub fn read_exact(fd: impl AsFd, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(&fd, &mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// `read(2)`, retried on `EINTR`.
pub fn read(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match rustix::io::read(&fd, &mut *buf) {
            Err(rustix::io::Errno::INTR) => {}
            r => return r.map_err(Into::into),
        }
    }
}

/// Copies `from` to `to` until end of file, through a buffer of `chunk`
/// bytes: one hop of a chain of pipes.
pub fn copy(from: impl AsFd, to: impl AsFd, chunk: usize) -> io::Result<u64> {
    let mut buf = vec![0u8; chunk];
    let mut total = 0u64;
    loop {
        let n = read(&from, &mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        write_all(&to, &buf[..n])?;
        total += n as u64;
    }
}

/// The CPUs this thread may run on.
pub fn affinity() -> io::Result<CpuSet> {
    Ok(rustix::thread::sched_getaffinity(None)?)
}

/// Lets this thread run only on `cpus`; the threads and processes it starts
/// afterwards inherit the set.
pub fn set_affinity(cpus: &CpuSet) -> io::Result<()> {
    Ok(rustix::thread::sched_setaffinity(None, cpus)?)
}

/// The lowest-numbered CPU of `cpus`, alone.
pub fn first_cpu(cpus: &CpuSet) -> Option<CpuSet> {
    (0..CpuSet::MAX_CPU).find(|&c| cpus.is_set(c)).map(|c| {
        let mut one = CpuSet::new();
        one.set(c);
        one
    })
}

/// The CPU numbers in `cpus`, as `taskset -c` writes them (`0,1`).
pub fn cpu_list(cpus: &CpuSet) -> String {
    (0..CpuSet::MAX_CPU)
        .filter(|&c| cpus.is_set(c))
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Raises `RLIMIT_NOFILE` (the soft limit, and the hard one when allowed)
/// to at least `want`; returns the soft limit in force afterwards.
pub fn raise_nofile(want: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let old = getrlimit(Resource::Nofile);
    let cur = old.current.unwrap_or(u64::MAX);
    if cur >= want {
        return cur;
    }
    let max = old.maximum.unwrap_or(u64::MAX);
    let raised = Rlimit {
        current: Some(want),
        maximum: Some(max.max(want)),
    };
    if setrlimit(Resource::Nofile, raised).is_ok() {
        return want;
    }
    let capped = Rlimit {
        current: Some(want.min(max)),
        maximum: old.maximum,
    };
    match setrlimit(Resource::Nofile, capped) {
        Ok(()) => want.min(max),
        Err(_) => cur,
    }
}

/// Makes this process the reaper of its orphaned descendants, so that the
/// loop processes of a dropped tree end as its children and are reaped by
/// [`reap_orphans`], wherever the machine's init is.
pub fn become_subreaper() -> io::Result<()> {
    Ok(rustix::process::set_child_subreaper(Some(
        rustix::process::getpid(),
    ))?)
}

/// Reaps every child of this process until none is left, or until `limit`
/// passes; returns how many it reaped, or an error naming how many are
/// still there. Call it only when no child of ours should be alive (no
/// `Drv`, no floor running): it takes any child.
pub fn reap_orphans(limit: Duration) -> io::Result<usize> {
    let deadline = Instant::now() + limit;
    let mut reaped = 0;
    loop {
        match rustix::process::wait(WaitOptions::NOHANG) {
            Ok(Some(_)) => reaped += 1,
            Ok(None) => {
                if Instant::now() >= deadline {
                    return Err(io::Error::other(format!(
                        "children still alive after {limit:?} ({reaped} reaped)"
                    )));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(rustix::io::Errno::CHILD) => return Ok(reaped),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `RssAnon`, ...).
pub fn status_kib(pid: u32, field: &str) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status_kib(&status, field)
        .ok_or_else(|| io::Error::other(format!("/proc/{pid}/status has no `{field}:` in kB")))
}

fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let value = rest.trim().strip_suffix("kB")?;
        value.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_in_kib() {
        let status = "Name:\talcove\nVmRSS:\t    1234 kB\nRssAnon:\t  56 kB\nThreads:\t1\n";
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(1234));
        assert_eq!(parse_status_kib(status, "RssAnon"), Some(56));
        assert_eq!(parse_status_kib(status, "Threads"), None);
        assert_eq!(parse_status_kib(status, "Rss"), None);
        let me = std::process::id();
        assert!(status_kib(me, "VmRSS").unwrap() > 0);
    }

    #[test]
    fn cpu_sets() {
        let mut s = CpuSet::new();
        s.set(1);
        s.set(3);
        assert_eq!(cpu_list(&s), "1,3");
        assert_eq!(cpu_list(&first_cpu(&s).unwrap()), "1");
        assert_eq!(first_cpu(&CpuSet::new()), None);
    }

    #[test]
    fn pipes_carry_bytes() {
        let (r, w) = pipe().unwrap();
        write_all(&w, b"hello").unwrap();
        drop(w);
        let mut buf = [0u8; 5];
        assert!(read_exact(&r, &mut buf).unwrap());
        assert_eq!(&buf, b"hello");
        assert!(!read_exact(&r, &mut buf).unwrap());
    }
}
