//! `cargo xtask leaks`: checks that the tests left the machine clean. Tests
//! name everything they create with [`PREFIX`]; after them there must be no
//! running `alcove` process, no mount point, cgroup or temporary file with the
//! prefix. Each scan takes its root so tests can run it on a fake tree.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crate::procfs;

/// The prefix of everything a test creates.
pub const PREFIX: &str = "alcove-test";

/// How deep below each cgroup root the scan looks.
const CGROUP_DEPTH: usize = 3;

/// Something a test left behind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Leak {
    Process {
        pid: u32,
        ppid: u32,
        state: char,
        cmdline: String,
    },
    Mount(String),
    Cgroup(PathBuf),
    Temp {
        path: PathBuf,
        /// A running process whose PID the name holds: the test that made
        /// it may still run (another checkout's test run, say).
        maker: Option<(u32, String)>,
    },
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Leak::Process {
                pid,
                ppid,
                state,
                cmdline,
            } => write!(f, "process {pid} (state {state}, parent {ppid}): {cmdline}"),
            Leak::Mount(point) => write!(f, "mount point {point}"),
            Leak::Cgroup(dir) => write!(f, "cgroup {}", dir.display()),
            Leak::Temp { path, maker: None } => write!(f, "temporary file {}", path.display()),
            Leak::Temp {
                path,
                maker: Some((pid, cmdline)),
            } => write!(
                f,
                "temporary file {} (process {pid} still runs, another test run?: {cmdline})",
                path.display()
            ),
        }
    }
}

pub fn main(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!(
            "`cargo xtask leaks` takes no arguments, got `{arg}`"
        ));
    }
    check()
}

/// How long to wait for what is still going away: a port exiting as its
/// test ends, a temporary directory its test is removing.
const GRACE: Duration = Duration::from_secs(3);

/// Scans this machine and fails, listing them, when anything was left and
/// still is after [`GRACE`]. A zombie `alcove` is no failure: it has exited
/// and waits for its reaper (after the tests, init, which may be slow).
pub fn check() -> Result<(), String> {
    let start = Instant::now();
    let (mut leaks, mut zombies) = split(scan());
    while !leaks.is_empty() && start.elapsed() < GRACE {
        thread::sleep(Duration::from_millis(100));
        (leaks, zombies) = split(scan());
    }
    if !zombies.is_empty() {
        eprintln!(
            "note: {} exited alcove process(es) not yet reaped, not counted: {}",
            zombies.len(),
            zombies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if leaks.is_empty() {
        eprintln!("no alcove process, and no mount, cgroup or temporary file named {PREFIX}*");
        return Ok(());
    }
    for leak in &leaks {
        eprintln!("LEFT {leak}");
    }
    Err(format!(
        "the tests left {} thing(s) behind (listed above as LEFT)",
        leaks.len()
    ))
}

/// Leaks apart from zombie processes.
fn split(all: Vec<Leak>) -> (Vec<Leak>, Vec<Leak>) {
    all.into_iter()
        .partition(|leak| !matches!(leak, Leak::Process { state: 'Z', .. }))
}

/// Everything left on this machine.
pub fn scan() -> Vec<Leak> {
    let proc_root = Path::new("/proc");
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let self_cgroup = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let roots = cgroup_roots(Path::new("/sys/fs/cgroup"), &mountinfo, &self_cgroup);
    let mut leaks = Vec::new();
    leaks.extend(alcove_processes(proc_root));
    leaks.extend(mounts(&mountinfo).into_iter().map(Leak::Mount));
    leaks.extend(
        cgroup_dirs(&roots, CGROUP_DEPTH)
            .into_iter()
            .map(Leak::Cgroup),
    );
    leaks.extend(
        temp_entries(&std::env::temp_dir())
            .into_iter()
            .map(|path| Leak::Temp {
                maker: maker(proc_root, &path),
                path,
            }),
    );
    leaks
}

/// The processes under `proc_root` whose comm is `alcove`.
pub fn alcove_processes(proc_root: &Path) -> Vec<Leak> {
    procfs::processes(proc_root)
        .into_iter()
        .filter(|p| p.comm == "alcove")
        .map(|p| Leak::Process {
            pid: p.pid,
            ppid: p.ppid,
            state: p.state,
            cmdline: procfs::cmdline(proc_root, &p),
        })
        .collect()
}

/// The mount points in the text of a `mountinfo` file that hold [`PREFIX`].
pub fn mounts(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape)
        .filter(|point| point.contains(PREFIX))
        .collect()
}

/// `mountinfo` writes space, tab, newline and backslash as `\ooo` octal.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                let value = d.iter().fold(0u32, |v, b| v * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where to look for cgroups: `top` (`/sys/fs/cgroup`), every cgroup file
/// system mounted below it, and this process's own cgroup in each of those
/// (tests create theirs below their own, which may sit deeper than the
/// depth limit). Only existing directories, each once.
pub fn cgroup_roots(top: &Path, mountinfo: &str, self_cgroup: &str) -> Vec<PathBuf> {
    let mut mount_points = vec![top.to_owned()];
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let fstype = fields.get(dash + 1).copied().unwrap_or("");
        if let (Some(point), "cgroup" | "cgroup2") = (fields.get(4), fstype) {
            let point = PathBuf::from(unescape(point));
            if point.starts_with(top) {
                mount_points.push(point);
            }
        }
    }
    let mut roots = BTreeSet::new();
    for point in &mount_points {
        roots.insert(point.clone());
        for line in self_cgroup.lines() {
            if let Some(path) = line.splitn(3, ':').nth(2) {
                roots.insert(point.join(path.trim_start_matches('/')));
            }
        }
    }
    roots.into_iter().filter(|r| r.is_dir()).collect()
}

/// The directories named [`PREFIX`]`*` at most `depth` levels below any of
/// `roots`, each once, sorted. Symlinks are not followed, and the scan does
/// not enter a directory it reports.
pub fn cgroup_dirs(roots: &[PathBuf], depth: usize) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, found: &mut BTreeSet<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if entry.file_name().to_string_lossy().starts_with(PREFIX) {
                found.insert(entry.path());
            } else if depth > 1 {
                walk(&entry.path(), depth - 1, found);
            }
        }
    }
    let mut found = BTreeSet::new();
    for root in roots {
        walk(root, depth, &mut found);
    }
    found.into_iter().collect()
}

/// The entries of `dir` named [`PREFIX`]`*`, sorted.
pub fn temp_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// A running process whose PID is a `-`-separated number in the name of
/// `path` (tests name things `alcove-test-<what>-<pid>-<n>`), with its
/// command line.
pub fn maker(proc_root: &Path, path: &Path) -> Option<(u32, String)> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let procs = procfs::processes(proc_root);
    name.split('-')
        .filter_map(|word| word.parse::<u32>().ok())
        .find_map(|pid| procs.iter().find(|p| p.pid == pid && pid > 1))
        .map(|p| (p.pid, procfs::cmdline(proc_root, p)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procfs::fake::TempDir;

    #[test]
    fn alcove_processes_by_comm() {
        let root = TempDir::new();
        root.process(1, 0, "init", &["/sbin/init"]);
        root.process(300, 1, "alcove", &["/usr/bin/alcove", "--depth", "0"]);
        root.process(301, 300, "alcove", &[]);
        root.process(302, 300, "alcove-helper", &["alcove"]);
        root.process(303, 1, "sh", &["alcove"]);
        assert_eq!(
            alcove_processes(root.path()),
            [
                Leak::Process {
                    pid: 300,
                    ppid: 1,
                    state: 'S',
                    cmdline: "/usr/bin/alcove --depth 0".into()
                },
                Leak::Process {
                    pid: 301,
                    ppid: 300,
                    state: 'Z',
                    cmdline: "[alcove]".into()
                },
            ]
        );
    }

    #[test]
    fn zombies_are_set_apart() {
        let process = |pid, state| Leak::Process {
            pid,
            ppid: 1,
            state,
            cmdline: "[alcove]".into(),
        };
        let temp = Leak::Temp {
            path: "/tmp/alcove-test-a".into(),
            maker: None,
        };
        let (leaks, zombies) = split(vec![process(5, 'S'), process(6, 'Z'), temp.clone()]);
        assert_eq!(leaks, [process(5, 'S'), temp]);
        assert_eq!(zombies, [process(6, 'Z')]);
    }

    #[test]
    fn mounts_with_the_prefix() {
        let mountinfo = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
40 27 0:50 / /tmp/alcove-test-1/root rw - tmpfs tmpfs rw
41 27 0:51 / /tmp/alcove-test\\0402/a\\134b rw - tmpfs none rw
42 27 0:52 /alcove-test-src /mnt rw - ext4 /dev/sda1 rw
";
        assert_eq!(
            mounts(mountinfo),
            ["/tmp/alcove-test-1/root", "/tmp/alcove-test 2/a\\b"]
        );
        assert!(mounts("").is_empty());
    }

    #[test]
    fn unescape_leaves_other_backslashes() {
        assert_eq!(unescape(r"a\040b\011c"), "a b\tc");
        assert_eq!(unescape(r"a\9b\04"), r"a\9b\04");
    }

    #[test]
    fn cgroup_roots_from_mounts_and_own_cgroup() {
        let top = TempDir::new();
        let t = top.path();
        top.mkdir("memory/ci/job7");
        top.mkdir("unified/user.slice/session-1.scope");
        top.mkdir("cpu");
        let mountinfo = format!(
            "\
30 25 0:26 / {t}/memory rw - cgroup cgroup rw,memory
31 25 0:27 / {t}/unified rw - cgroup2 cgroup2 rw
32 25 0:28 / {t}/cpu rw - cgroup cgroup rw,cpu
33 25 0:29 / /elsewhere rw - cgroup2 cgroup2 rw
34 25 0:30 / {t}/tmp rw - tmpfs tmpfs rw
",
            t = t.display()
        );
        let self_cgroup = "4:memory:/ci/job7\n1:cpu:/\n0::/user.slice/session-1.scope\n";
        let roots = cgroup_roots(t, &mountinfo, self_cgroup);
        let want: Vec<PathBuf> = [
            "",
            "cpu",
            "memory",
            "memory/ci/job7",
            "unified",
            "unified/user.slice/session-1.scope",
        ]
        .iter()
        .map(|r| {
            if r.is_empty() {
                t.to_owned()
            } else {
                t.join(r)
            }
        })
        .collect();
        assert_eq!(roots, want);
    }

    #[test]
    fn cgroup_dirs_within_depth() {
        let top = TempDir::new();
        let t = top.path();
        top.mkdir("a/alcove-test-1/alcove-test-inner");
        top.mkdir("a/b/alcove-test-2");
        top.mkdir("a/b/c/alcove-test-too-deep");
        top.mkdir("own/x/y/alcove-test-3");
        top.write("a/alcove-test-file", "not a directory");
        let roots = [t.to_owned(), t.join("own"), t.join("missing")];
        assert_eq!(
            cgroup_dirs(&roots, 3),
            [
                t.join("a/alcove-test-1"),
                t.join("a/b/alcove-test-2"),
                t.join("own/x/y/alcove-test-3"),
            ]
        );
        assert!(cgroup_dirs(&[t.to_owned()], 1).is_empty());
    }

    #[test]
    fn temp_entries_with_the_prefix() {
        let tmp = TempDir::new();
        tmp.write("alcove-test-sock", "");
        tmp.mkdir("alcove-test-dir/inner");
        tmp.write("other", "");
        tmp.write("xalcove-test", "");
        assert_eq!(
            temp_entries(tmp.path()),
            [
                tmp.path().join("alcove-test-dir"),
                tmp.path().join("alcove-test-sock")
            ]
        );
        assert!(temp_entries(&tmp.path().join("missing")).is_empty());
    }

    #[test]
    fn the_maker_of_a_temporary_file_is_a_live_pid_in_its_name() {
        let root = TempDir::new();
        root.process(1, 0, "init", &["/sbin/init"]);
        root.process(4242, 1, "calls-0123", &["/x/deps/calls-0123", "--quiet"]);
        let maker = |name: &str| super::maker(root.path(), Path::new(name));
        assert_eq!(
            maker("/tmp/alcove-test-readdir-4242-1"),
            Some((4242, "/x/deps/calls-0123 --quiet".into()))
        );
        assert_eq!(maker("/tmp/alcove-test-readdir-4243-1"), None);
        assert_eq!(maker("/tmp/alcove-test-x-1-0"), None);
        assert_eq!(maker("/tmp/alcove-test"), None);
    }
}
