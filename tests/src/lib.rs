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
) -> Result<HashMap<i32, Gone>, Vec<(i32, char, i32)>> {
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
