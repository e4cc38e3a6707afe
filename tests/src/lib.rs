//! Helpers for the end-to-end tests: starting a driver, guards for tests
//! that need root, and reading process state from `/proc`.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alcove_client::{Drv, Options, Pid};

/// Timeout of every call in the tests: a bug shows as an error, not a hang.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A driver with [`TIMEOUT`] as its call timeout.
pub fn drv() -> Drv {
    start(Options::default())
}

/// A driver with these options and [`TIMEOUT`].
pub fn start(opts: Options) -> Drv {
    Drv::start(opts.timeout(TIMEOUT)).expect("starting the alcove port")
}

/// Whether this process runs as root; if not, prints `SKIP <test>: <why>`.
pub fn require_root(test: &str) -> bool {
    let root = rustix::process::geteuid().is_root();
    if !root {
        println!("SKIP {test}: needs root");
    }
    root
}

/// State letter and parent PID of a process, from `/proc/<pid>/stat`, or
/// `None` when it does not exist.
pub fn proc_stat(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// The descriptors a process has open, ascending.
pub fn fds_of(pid: i32) -> Vec<i32> {
    let mut fds: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("reading /proc/<pid>/fd")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    fds
}

/// Makes this process the reaper of its orphaned descendants.
pub fn become_subreaper() {
    let me = rustix::process::getpid();
    rustix::process::set_child_subreaper(Some(me)).expect("PR_SET_CHILD_SUBREAPER");
}

/// A process still there: pid, state letter, parent pid.
pub type Alive = (i32, char, i32);

/// How a process ended, as far as this (subreaper) process could see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// It was reparented to us and we reaped it: exit status.
    Exited(i32),
    /// It was reparented to us and we reaped it: killed by this signal.
    Killed(i32),
    /// It disappeared: someone else reaped it.
    Vanished,
}

/// Waits, up to `limit`, until every pid in `pids` is gone, reaping those
/// that end up as our zombies. Reads `/proc/<pid>/stat`, never guesses.
/// Returns how each ended, or the pids still alive when time ran out.
pub fn wait_gone(
    pids: &[i32],
    limit: Duration,
) -> Result<HashMap<i32, Gone>, Vec<Alive>> {
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let deadline = Instant::now() + limit;
    let mut gone = HashMap::new();
    loop {
        let mut alive = Vec::new();
        for &pid in pids {
            if gone.contains_key(&pid) {
                continue;
            }
            match proc_stat(pid) {
                None => {
                    gone.insert(pid, Gone::Vanished);
                }
                Some(('Z', ppid)) if ppid == me => {
                    let p = rustix::process::Pid::from_raw(pid).expect("positive pid");
                    let status =
                        rustix::process::waitpid(Some(p), rustix::process::WaitOptions::empty())
                            .expect("waitpid")
                            .expect("a status")
                            .1;
                    let how = match (status.exit_status(), status.terminating_signal()) {
                        (Some(code), _) => Gone::Exited(code),
                        (None, Some(sig)) => Gone::Killed(sig),
                        _ => Gone::Vanished,
                    };
                    gone.insert(pid, how);
                }
                Some((state, ppid)) => alive.push((pid, state, ppid)),
            }
        }
        if alive.is_empty() {
            return Ok(gone);
        }
        if Instant::now() >= deadline {
            return Err(alive);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The PIDs of `path` as raw integers.
pub fn raw(path: &[Pid]) -> Vec<i32> {
    path.iter().map(|p| p.as_raw()).collect()
}

/// Builds the tree the lifecycle tests tear down: loop processes `[a]` and
/// `[a, d]`, and `sleep` exec'd at `[c]`, `[a, b]` and `[a, d, e]`.
/// Returns `(loop pids, exec'd pids)`.
pub fn build_tree(drv: &Drv) -> alcove_client::Result<(Vec<i32>, Vec<i32>)> {
    let a = drv.fork(&[])?;
    let c = drv.fork(&[])?;
    let b = drv.fork(&[a])?;
    let d = drv.fork(&[a])?;
    let e = drv.fork(&[a, d])?;
    for path in [vec![c], vec![a, b], vec![a, d, e]] {
        drv.execvp(&path, "sleep", &["sleep", "1000"])?;
    }
    Ok((raw(&[a, d]), raw(&[c, b, e])))
}

/// A temporary directory, `alcove-test-<name>-<pid>-<n>` under the system's
/// temporary directory, removed with everything in it when dropped (also
/// when the test fails). Entries a test made read-only or gave away are
/// removed too: the removal runs as the test process, root or the owner.
#[derive(Debug)]
pub struct TempDir {
    path: std::path::PathBuf,
}

impl TempDir {
    /// Creates a fresh directory, mode 0755.
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("alcove-test-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir(&path).expect("creating the temporary directory");
        TempDir { path }
    }

    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Its path as bytes, as the calls take it.
    pub fn bytes(&self) -> Vec<u8> {
        self.path.as_os_str().as_encoded_bytes().to_vec()
    }

    /// The path of `name` inside it, as bytes (`name` need not be UTF-8).
    pub fn join(&self, name: &[u8]) -> Vec<u8> {
        let mut p = self.bytes();
        p.push(b'/');
        p.extend_from_slice(name);
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("removing {}: {e}", self.path.display());
        }
    }
}

/// A byte path as a `std::path::PathBuf`, for checking from the test side.
pub fn os_path(bytes: &[u8]) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(bytes).into()
}

/// The value of a field of `/proc/<pid>/status` (`Uid`, `Seccomp`,
/// `SigCgt`, ...), or `None` when the process or the field is missing.
pub fn proc_status(pid: i32, field: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        l.strip_prefix(field)?
            .strip_prefix(':')
            .map(|v| v.trim().to_owned())
    })
}

/// Whether bit `signum` is set in a signal mask of `/proc/<pid>/status`
/// (`SigCgt`, `SigIgn`, `SigBlk`).
pub fn in_sigmask(pid: i32, mask: &str, signum: i32) -> bool {
    let hex = proc_status(pid, mask).unwrap_or_else(|| panic!("{mask} of {pid}"));
    let bits = u64::from_str_radix(&hex, 16).expect("a hex mask");
    bits & (1 << (signum - 1)) != 0
}

/// The namespace `/proc/<pid>/ns/<ns>` links to (`net:[4026531840]`);
/// `pid` may be `"self"`.
pub fn ns_of(pid: impl std::fmt::Display, ns: &str) -> std::path::PathBuf {
    std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .unwrap_or_else(|e| panic!("readlink /proc/{pid}/ns/{ns}: {e}"))
}

/// The mount points of `/proc/<pid>/mountinfo` (`pid` may be `"self"`),
/// each with its filesystem type and its optional fields
/// (`shared:1`, ...), as bytes, the octal escapes of the kernel decoded.
pub fn mounts_of(pid: impl std::fmt::Display) -> Vec<(Vec<u8>, String, String)> {
    fn unescape(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let octal = b
                .get(i + 1..i + 4)
                .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)))
                .and_then(|d| {
                    u8::try_from(d.iter().fold(0u32, |v, c| v * 8 + u32::from(c - b'0'))).ok()
                });
            match octal {
                Some(v) => {
                    out.push(v);
                    i += 4;
                }
                _ => {
                    out.push(b[i]);
                    i += 1;
                }
            }
        }
        out
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let info = std::fs::read(format!("/proc/{pid}/mountinfo"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/mountinfo: {e}"));
    info.split(|&c| c == b'\n')
        .filter_map(|line| {
            let f: Vec<&[u8]> = line.split(|&c| c == b' ').collect();
            let dash = f.iter().position(|w| *w == b"-")?;
            let optional: Vec<String> = f.get(6..dash)?.iter().map(|w| text(w)).collect();
            Some((
                unescape(f.get(4)?),
                text(f.get(dash + 1)?),
                optional.join(" "),
            ))
        })
        .collect()
}
