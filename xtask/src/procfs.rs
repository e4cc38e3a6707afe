//! Reading processes from a `/proc` tree. Every function takes the tree's
//! root so tests can point it at a fake one.

use std::fs;
use std::path::Path;

/// One process as `/proc/<pid>` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    /// The state letter of `/proc/<pid>/stat`: `R`, `S`, `Z`, ...
    pub state: char,
    /// `/proc/<pid>/comm` without its newline.
    pub comm: String,
}

/// The processes under `proc_root`, by ascending PID. A process that exits
/// while it is read is left out.
pub fn processes(proc_root: &Path) -> Vec<Proc> {
    let Ok(entries) = fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut procs: Vec<Proc> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let dir = entry.path();
            let comm = fs::read_to_string(dir.join("comm")).ok()?;
            let stat = fs::read_to_string(dir.join("stat")).ok()?;
            let (state, ppid) = parse_stat(&stat)?;
            Some(Proc {
                pid,
                ppid,
                state,
                comm: comm.trim_end_matches('\n').to_owned(),
            })
        })
        .collect();
    procs.sort_by_key(|p| p.pid);
    procs
}

/// The state letter and parent PID from the text of `/proc/<pid>/stat`.
/// The command name before them is in parentheses and may itself hold
/// spaces and `)`.
pub fn parse_stat(stat: &str) -> Option<(char, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    Some((state, fields.next()?.parse().ok()?))
}

/// The command line of a process, arguments joined by spaces, or its comm
/// in brackets when the command line is empty (a kernel thread, a zombie).
pub fn cmdline(proc_root: &Path, p: &Proc) -> String {
    let raw = fs::read(proc_root.join(p.pid.to_string()).join("cmdline")).unwrap_or_default();
    let args: Vec<_> = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(String::from_utf8_lossy)
        .collect();
    if args.is_empty() {
        format!("[{}]", p.comm)
    } else {
        args.join(" ")
    }
}

/// The PIDs of every process below `root` (children, their children, ...).
pub fn descendants(procs: &[Proc], root: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for p in procs {
            if p.ppid == parent && p.pid != root && !found.contains(&p.pid) {
                found.push(p.pid);
                frontier.push(p.pid);
            }
        }
    }
    found.sort_unstable();
    found
}

/// The effective user ID from the text of `/proc/self/status`.
pub fn euid_from_status(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line["Uid:".len()..].split_whitespace().nth(1)?.parse().ok()
}

/// Whether this process runs with effective user ID 0.
pub fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| euid_from_status(&s))
        == Some(0)
}

#[cfg(test)]
pub mod fake {
    //! Scratch directories for tests, named with the `alcove-test` prefix
    //! and removed on drop so the leak check never finds them.

    use std::fs;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug)]
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!(
                "{}-xtask-{}-{n}",
                crate::leaks::PREFIX,
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("creating a scratch directory");
            TempDir(dir)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }

        /// Writes `text` to `rel`, creating the directories above it.
        pub fn write(&self, rel: &str, text: &str) {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }

        pub fn mkdir(&self, rel: &str) {
            fs::create_dir_all(self.0.join(rel)).unwrap();
        }

        /// A fake `/proc/<pid>` with its comm, stat and cmdline; a zombie when
        /// `argv` is empty.
        pub fn process(&self, pid: u32, ppid: u32, comm: &str, argv: &[&str]) {
            let state = if argv.is_empty() { 'Z' } else { 'S' };
            self.write(&format!("{pid}/comm"), &format!("{comm}\n"));
            self.write(
                &format!("{pid}/stat"),
                &format!("{pid} ({comm}) {state} {ppid} {pid} {pid} 0 -1 4194560 0 0"),
            );
            let mut cmdline = argv.join("\0");
            if !argv.is_empty() {
                cmdline.push('\0');
            }
            self.write(&format!("{pid}/cmdline"), &cmdline);
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::TempDir;
    use super::*;

    #[test]
    fn stat_ppid_survives_odd_command_names() {
        assert_eq!(parse_stat("7 (sh) S 1 7 7 0"), Some(('S', 1)));
        assert_eq!(parse_stat("8 (a) b (c)) R 42 8 8"), Some(('R', 42)));
        assert_eq!(parse_stat("9 (x y) Z 0"), Some(('Z', 0)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (init)"), None);
    }

    #[test]
    fn euid_is_the_second_uid() {
        let status = "Name:\tsh\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n";
        assert_eq!(euid_from_status(status), Some(0));
        assert_eq!(euid_from_status("Name:\tsh\n"), None);
    }

    #[test]
    fn processes_of_a_fake_proc() {
        let root = TempDir::new();
        root.process(1, 0, "init", &["/sbin/init"]);
        root.process(20, 1, "cargo", &["cargo", "test"]);
        root.process(21, 20, "alcove", &["alcove", "--depth", "1"]);
        root.process(22, 21, "alcove", &[]);
        root.process(30, 1, "kworker/0:1", &[]);
        root.write("self/comm", "xtask\n");
        root.write("meminfo", "");
        root.mkdir("99"); // exited while listed: no comm
        let procs = processes(root.path());
        let pids: Vec<u32> = procs.iter().map(|p| p.pid).collect();
        assert_eq!(pids, [1, 20, 21, 22, 30]);
        assert_eq!(procs[2].comm, "alcove");
        assert_eq!((procs[2].state, procs[2].ppid), ('S', 20));
        assert_eq!(procs[3].state, 'Z');
        assert_eq!(cmdline(root.path(), &procs[2]), "alcove --depth 1");
        assert_eq!(cmdline(root.path(), &procs[3]), "[alcove]");
        assert_eq!(descendants(&procs, 20), [21, 22]);
        assert_eq!(descendants(&procs, 1), [20, 21, 22, 30]);
        assert_eq!(descendants(&procs, 22), Vec::<u32>::new());
        assert!(processes(&root.path().join("missing")).is_empty());
    }

    #[test]
    fn scratch_dirs_are_removed() {
        let dir = TempDir::new();
        let path = dir.path().to_owned();
        dir.write("a/b", "x");
        assert!(path.join("a/b").exists());
        drop(dir);
        assert!(!path.exists());
    }
}
