//! Helpers for the end-to-end tests: starting a driver, guards for tests
//! that need root, and reading process state from `/proc`.
#![forbid(unsafe_code)]

pub mod bpf;
pub mod raw;

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
pub fn wait_gone(pids: &[i32], limit: Duration) -> Result<HashMap<i32, Gone>, Vec<Alive>> {
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
        TempDir::new_in(&std::env::temp_dir(), name)
    }

    /// Like [`new`](Self::new), in memory (`/dev/shm`) when there is one:
    /// for tests that make many entries, which some disks create slowly.
    pub fn in_memory(name: &str) -> TempDir {
        let shm = std::path::Path::new("/dev/shm");
        match std::fs::metadata(shm) {
            Ok(m) if m.is_dir() => TempDir::new_in(shm, name),
            _ => TempDir::new(name),
        }
    }

    /// Creates a fresh directory under `base`.
    pub fn new_in(base: &std::path::Path, name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("alcove-test-{name}-{}-{n}", std::process::id()));
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

// ---- the busybox end-to-end tests (tests/tests/e2e.rs, src/bin/e2e_client.rs) ----

/// The static busybox the end-to-end sandboxes run, copied into their
/// chroot directories as `bin/busybox`.
pub const BUSYBOX: &str = "/bin/busybox";

/// `Ok` when [`BUSYBOX`] is a statically linked ELF executable (a chroot
/// holding only it has no dynamic loader), else why not.
pub fn static_busybox() -> Result<(), String> {
    const PT_INTERP: u64 = 3;
    let elf = std::fs::read(BUSYBOX).map_err(|e| format!("{BUSYBOX}: {e}"))?;
    if elf.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(format!("{BUSYBOX} is not an ELF file"));
    }
    let (wide, big) = (elf.get(4) == Some(&2), elf.get(5) == Some(&2));
    // An unsigned field of the file, `None` past its end.
    let uint = |at: u64, len: u64| -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let field = elf.get(at..at.checked_add(usize::try_from(len).ok()?)?)?;
        let fold = |v: u64, b: &u8| v << 8 | u64::from(*b);
        Some(if big {
            field.iter().fold(0, fold)
        } else {
            field.iter().rev().fold(0, fold)
        })
    };
    let interp = || -> Option<bool> {
        let (phoff, phentsize, phnum) = if wide {
            (uint(0x20, 8)?, uint(0x36, 2)?, uint(0x38, 2)?)
        } else {
            (uint(0x1c, 4)?, uint(0x2a, 2)?, uint(0x2c, 2)?)
        };
        for i in 0..phnum {
            if uint(phoff.checked_add(i * phentsize)?, 4)? == PT_INTERP {
                return Some(true);
            }
        }
        Some(false)
    };
    match interp() {
        Some(false) => Ok(()),
        Some(true) => Err(format!(
            "{BUSYBOX} is dynamically linked (install busybox-static)"
        )),
        None => Err(format!("{BUSYBOX}: truncated ELF file")),
    }
}

/// Whether a static busybox is at [`BUSYBOX`]; if not, prints
/// `SKIP <test>: <why>`.
pub fn require_busybox(test: &str) -> bool {
    match static_busybox() {
        Ok(()) => true,
        Err(why) => {
            println!("SKIP {test}: {why}");
            false
        }
    }
}

/// Lays out a chroot directory in `dir` (which exists): `bin/busybox`, a
/// copy of [`BUSYBOX`], and empty `proc/`, `tmp/` and `dev/`, every
/// directory mode 0755 and nothing writable by anyone but its owner.
pub fn make_root(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path, m| std::fs::set_permissions(p, PermissionsExt::from_mode(m));
    mode(dir, 0o755)?;
    for sub in ["bin", "proc", "tmp", "dev"] {
        let d = dir.join(sub);
        std::fs::create_dir(&d)?;
        mode(&d, 0o755)?;
    }
    let busybox = dir.join("bin/busybox");
    std::fs::copy(BUSYBOX, &busybox)?;
    mode(&busybox, 0o755)
}

/// A high UID/GID that no one has, different for each call and each test
/// process (so that `RLIMIT_NPROC`, counted per user, counts only the
/// sandbox it was made for).
pub fn high_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0x1f;
    0xf000_0000 | (std::process::id() & 0x3f_ffff) << 5 | n
}

/// The limits of the seed's chroot sandbox: `RLIMIT_FSIZE` 0 (no file can
/// grow), `RLIMIT_NOFILE` 0 (none can be opened), `RLIMIT_NPROC` 1 (the
/// sandbox's user cannot fork).
pub fn limit_sandbox(drv: &Drv, path: &[Pid]) -> alcove_client::Result<()> {
    let limit = |n| alcove_client::Rlimit {
        cur: Some(n),
        max: Some(n),
    };
    for (name, n) in [
        ("RLIMIT_FSIZE", 0),
        ("RLIMIT_NOFILE", 0),
        ("RLIMIT_NPROC", 1),
    ] {
        let resource = drv.rlimit_define(path, name)?;
        drv.setrlimit(path, resource, limit(n))?;
    }
    Ok(())
}

/// `chroot(root)` then `chdir("/")` in the process at `path`.
pub fn enter_root(drv: &Drv, path: &[Pid], root: impl AsRef<[u8]>) -> alcove_client::Result<()> {
    drv.chroot(path, root)?;
    drv.chdir(path, "/")
}

/// `setgid(id)` then `setuid(id)` in the process at `path`.
pub fn drop_privs(drv: &Drv, path: &[Pid], id: u32) -> alcove_client::Result<()> {
    drv.setgid(path, id)?;
    drv.setuid(path, id)
}

/// The namespaces of the seed's container: IPC, network, mount, PID, UTS.
pub const NS_SANDBOX: [&str; 5] = [
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWPID",
    "CLONE_NEWUTS",
];

/// Makes every mount of the (new) mount namespace of the process at `path`
/// private, so that what it mounts next stays there whatever the host's
/// propagation.
pub fn private_mounts(drv: &Drv, path: &[Pid]) -> alcove_client::Result<()> {
    let flags = drv.define(path, &["MS_REC", "MS_PRIVATE"])?;
    drv.mount(path, "none", "/", "", flags, "")
}

/// `<root>/<dir>` as bytes, for the calls.
pub fn under(root: &std::path::Path, dir: &str) -> Vec<u8> {
    root.join(dir).into_os_string().into_encoded_bytes()
}

/// Mounts a `proc` for the PID namespace of the process at `path` on
/// `<root>/proc`, in its mount namespace.
pub fn mount_proc(drv: &Drv, path: &[Pid], root: &std::path::Path) -> alcove_client::Result<()> {
    let flags = drv.define(path, &["MS_NOSUID", "MS_NODEV", "MS_NOEXEC"])?;
    drv.mount(path, "proc", under(root, "proc"), "proc", flags, "")
}

/// Mounts a small tmpfs named `source` (its name in mountinfo) on
/// `<root>/tmp`, in the mount namespace of the process at `path`.
pub fn mount_tmpfs(
    drv: &Drv,
    path: &[Pid],
    root: &std::path::Path,
    source: &str,
) -> alcove_client::Result<()> {
    let flags = drv.define(path, &["MS_NOSUID", "MS_NODEV"])?;
    drv.mount(
        path,
        source,
        under(root, "tmp"),
        "tmpfs",
        flags,
        "size=64k,mode=0755",
    )
}

/// The PIDs a client helper printed for `name` on its status line
/// (`name=1,2,3`).
pub fn pid_field(line: &str, name: &str) -> Vec<i32> {
    let value = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"));
    value
        .split(',')
        .map(|p| {
            p.parse()
                .unwrap_or_else(|_| panic!("{name}: bad pid {p:?} in {line:?}"))
        })
        .collect()
}

/// The first line a client binary (`tree_client`, `busy_client`,
/// `e2e_client`) prints on its piped stdout: the pids of its tree, once it
/// is built.
pub fn first_line(client: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let stdout = client.stdout.take().expect("the client's stdout is piped");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reading the client's first line");
    line
}

/// This host's name (its UTS namespace's).
pub fn host_name() -> Vec<u8> {
    rustix::system::uname().nodename().to_bytes().to_vec()
}

/// Puts the host name back when dropped, if it changed: it would only if a
/// sethostname meant for a new UTS namespace reached the host's.
#[derive(Debug)]
pub struct HostnameGuard(pub Vec<u8>);

impl Drop for HostnameGuard {
    fn drop(&mut self) {
        if host_name() != self.0
            && let Err(e) = rustix::system::sethostname(&self.0)
        {
            eprintln!("restoring the host name: {e}");
        }
    }
}

/// A deterministic xorshift generator: the same sequence on every run.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Up to `max` random bytes.
    pub fn bytes(&mut self, max: u64) -> Vec<u8> {
        let n = self.below(max + 1) as usize;
        (0..n).map(|_| self.next() as u8).collect()
    }
}
