//! The busybox end-to-end suite (issue 5): the seed's two sandboxes, built
//! with the real `alcove` binary through `Drv`, each attacked from inside
//! by a static busybox, and each attack shown to fail. Where it can, a test
//! also runs a control, the same check without the protection, which sees
//! the attack succeed: a check that cannot fail shows nothing.
//!
//! Built only with the `e2e` feature, and run by `cargo xtask test` as its
//! own step (`cargo test -p alcove-tests --features e2e --test e2e`). Every
//! test needs root (`SKIP` otherwise) and a static `/bin/busybox` (`SKIP`
//! otherwise: `cargo xtask deps` installs Debian's `busybox-static`).
//!
//! The sandboxes are chrooted into a directory holding `bin/busybox` and
//! empty `proc/`, `tmp/`, `dev/`: `$ALCOVE_E2E_ROOT` (the gate prepares
//! `target/alcove-e2e/root`), or, when unset, one this process prepares as
//! `alcove-test-e2e-root-<pid>` in the temporary directory and removes
//! when its last test is done. No test writes to it: tests that need to
//! write, or to own what is under their root, make their own copy.
//!
//! Nothing outlives a test, also when it fails: the processes end with the
//! `Drv` (their stdin closes, exec'd programs get SIGTERM), mounts are made
//! in the sandboxes' own mount namespaces and die with them (a guard
//! unmounts any that leaked into the test's), and the SIGKILL test's guard
//! kills what is left and removes its cgroup.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alcove_cgroup::Cgroups;
use alcove_client::{Drv, Errno, Event, Message, Notice, Options, Pid, PrctlArg, Rlimit};
use alcove_tests::{
    Gone, HostnameGuard, NS_SANDBOX, TIMEOUT, TempDir, become_subreaper, drop_privs, drv,
    enter_root, fds_of, high_id, host_name, in_sigmask, limit_sandbox, make_root, mount_proc,
    mount_tmpfs, mounts_of, ns_of, private_mounts, proc_stat, proc_status, require_busybox,
    require_root, under, wait_gone,
};

const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;
const O_RDONLY: i32 = 0;
/// `AT_SECURE` in the auxiliary vector: 1 when the exec changed
/// credentials (a setuid or setgid program, file capabilities).
const AT_SECURE: u64 = 23;
/// How long any one step may take before the test fails.
const LIMIT: Duration = Duration::from_secs(30);

/// Whether the test can run here; if not, prints `SKIP <test>: <why>`.
fn ready(test: &str) -> bool {
    require_root(test) && require_busybox(test)
}

// ---- the chroot directories ------------------------------------------------------

/// Users of the chroot directory this process prepared itself.
static OWN_ROOT_USERS: Mutex<usize> = Mutex::new(0);

/// The shared chroot directory: `$ALCOVE_E2E_ROOT`, or one this process
/// prepares, removed when its last user drops it.
struct SharedRoot {
    path: PathBuf,
    owned: bool,
}

impl SharedRoot {
    fn get() -> SharedRoot {
        if let Some(dir) = std::env::var_os("ALCOVE_E2E_ROOT") {
            // Canonical, as mountinfo and /proc/<pid>/root show it.
            let path = std::fs::canonicalize(&dir).unwrap_or_else(|e| {
                panic!("ALCOVE_E2E_ROOT={}: {e}", PathBuf::from(&dir).display())
            });
            assert!(
                path.join("bin/busybox").is_file(),
                "ALCOVE_E2E_ROOT={} holds no bin/busybox",
                path.display()
            );
            return SharedRoot { path, owned: false };
        }
        let tmp = std::fs::canonicalize(std::env::temp_dir()).expect("the temporary directory");
        let path = tmp.join(format!("alcove-test-e2e-root-{}", std::process::id()));
        let mut users = OWN_ROOT_USERS.lock().unwrap_or_else(|e| e.into_inner());
        if *users == 0 {
            // What an earlier test of this process left half made.
            if path.exists() {
                remove_root(&path);
            }
            std::fs::create_dir(&path)
                .and_then(|()| make_root(&path))
                .unwrap_or_else(|e| panic!("preparing {}: {e}", path.display()));
        }
        *users += 1;
        SharedRoot { path, owned: true }
    }

    fn bytes(&self) -> Vec<u8> {
        self.path.as_os_str().as_encoded_bytes().to_vec()
    }
}

impl Drop for SharedRoot {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let mut users = OWN_ROOT_USERS.lock().unwrap_or_else(|e| e.into_inner());
        *users -= 1;
        if *users == 0 {
            remove_root(&self.path);
        }
    }
}

/// Removes a chroot directory, unless something is mounted under it in
/// this mount namespace (removing would then reach into the mount).
fn remove_root(path: &Path) {
    let mounted = mounts_under(path);
    if !mounted.is_empty() {
        eprintln!(
            "not removing {}: mounted under it: {mounted:?}",
            path.display()
        );
        return;
    }
    if let Err(e) = std::fs::remove_dir_all(path) {
        eprintln!("removing {}: {e}", path.display());
    }
}

/// A chroot directory of the test's own, removed with the `TempDir`.
fn own_root(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    make_root(dir.path()).unwrap_or_else(|e| panic!("preparing {}: {e}", dir.path().display()));
    dir
}

/// The mount points of the test's mount namespace at or under `dir`.
fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.as_os_str().as_encoded_bytes();
    mounts_of("self")
        .into_iter()
        .filter(|(m, ..)| m == dir || (m.starts_with(dir) && m.get(dir.len()) == Some(&b'/')))
        .map(|(m, ..)| String::from_utf8_lossy(&m).into_owned())
        .collect()
}

/// Detaches, when dropped, whatever got mounted at or under a chroot
/// directory in the test's own mount namespace: the sandboxes mount in
/// theirs, and a mount that leaked out (propagation not made private)
/// fails the test and does not outlive it.
struct NoMountsUnder(PathBuf);

impl Drop for NoMountsUnder {
    fn drop(&mut self) {
        // Deepest first.
        let mut mounted = mounts_under(&self.0);
        mounted.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounted {
            if let Err(e) = rustix::mount::unmount(m.as_str(), rustix::mount::UnmountFlags::DETACH)
            {
                eprintln!("unmounting {m}: {e}");
            }
        }
    }
}

// ---- talking to busybox ------------------------------------------------------------

/// A busybox `sh` exec'd at a path, reading command lines on its stdin.
struct Sh<'a> {
    drv: &'a Drv,
    path: Vec<Pid>,
    n: u32,
}

impl<'a> Sh<'a> {
    fn new(drv: &'a Drv, path: &[Pid]) -> Self {
        Sh {
            drv,
            path: path.to_vec(),
            n: 0,
        }
    }

    /// Runs `line` with its stderr merged into its stdout, and returns what
    /// it printed.
    fn run(&mut self, line: &str) -> String {
        self.n += 1;
        let end = format!("__alcove_end_{}__\n", self.n);
        let input = format!("{{ {line}\n}} 2>&1; echo {end}");
        self.drv
            .stdin(&self.path, input.as_bytes())
            .unwrap_or_else(|e| panic!("sending {line:?}: {e}"));
        let mut out = Vec::new();
        let deadline = Instant::now() + LIMIT;
        while !out.ends_with(end.as_bytes()) {
            assert!(
                Instant::now() < deadline,
                "no end of {line:?}; got {:?}",
                String::from_utf8_lossy(&out)
            );
            match self.drv.stdout(&self.path, Duration::from_millis(200)) {
                Ok(Some(chunk)) => out.extend(chunk),
                Ok(None) => {}
                Err(e) => panic!("{line:?}: {e}; got {:?}", String::from_utf8_lossy(&out)),
            }
        }
        out.truncate(out.len() - end.len());
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Reads stdout (or stderr) of `path` until it holds `needle`; returns all
/// that came.
fn wait_text(drv: &Drv, path: &[Pid], stderr: bool, needle: &str) -> String {
    let mut got = Vec::new();
    let deadline = Instant::now() + LIMIT;
    while !String::from_utf8_lossy(&got).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "no {needle:?} on {}; got {:?}",
            if stderr { "stderr" } else { "stdout" },
            String::from_utf8_lossy(&got)
        );
        let chunk = if stderr {
            drv.stderr(path, Duration::from_millis(200))
        } else {
            drv.stdout(path, Duration::from_millis(200))
        };
        got.extend(chunk.expect("reading the sandbox").unwrap_or_default());
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Everything the exec'd program at `path` writes, until it ends: stdout,
/// stderr and how it ended. (Output always comes before the exit event.)
fn run_to_exit(drv: &Drv, path: &[Pid]) -> (String, String, Event) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + LIMIT;
    loop {
        assert!(Instant::now() < deadline, "{path:?} did not end");
        match drv.recv(path, Duration::from_millis(200)).expect("recv") {
            Some(Message::Stdout(d)) => out.extend(d),
            Some(Message::Stderr(d)) => err.extend(d),
            Some(Message::Event(e @ (Event::ExitStatus { .. } | Event::TermSig { .. }))) => {
                let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
                return (text(out), text(err), e);
            }
            _ => {}
        }
    }
}

// ---- descriptors -------------------------------------------------------------------

/// Descriptors listed by `ls -l /proc/self/fd`: number and link target
/// (`None` when ls could not read the link).
type FdListing = Vec<(i32, Option<String>)>;

/// The entries of the output of `ls -l /proc/self/fd`.
fn fd_listing(ls: &str) -> FdListing {
    // `lrwx------    1 0   0   64 Jan  1 00:00 0 -> pipe:[123]`; other
    // lines (`total 0`, ls's complaints) are not entries.
    let is_link = |mode: &str| mode.len() == 10 && mode.starts_with('l');
    ls.lines()
        .filter(|l| l.split_whitespace().next().is_some_and(is_link))
        .map(|l| {
            let (name, target) = match l.split_once(" -> ") {
                Some((name, target)) => (name, Some(target.to_owned())),
                None => (l, None),
            };
            let fd = name
                .split_whitespace()
                .last()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no descriptor in {l:?}"));
            (fd, target)
        })
        .collect()
}

/// The descriptors of an `ls -l /proc/self/fd` that are neither stdio nor
/// the directory ls itself had open while reading `/proc/self/fd` (the
/// lowest free number, 3, pointing to `/proc/<n>/fd` or already closed
/// when ls read the link).
fn unexpected_fds(listing: &[(i32, Option<String>)]) -> FdListing {
    let ls_dir = |t: &Option<String>| match t {
        None => true,
        Some(t) => t
            .strip_prefix("/proc/")
            .and_then(|t| t.strip_suffix("/fd"))
            .is_some_and(|n| n.parse::<u32>().is_ok()),
    };
    listing
        .iter()
        .filter(|(fd, target)| !((0..=2).contains(fd) || *fd == 3 && ls_dir(target)))
        .cloned()
        .collect()
}

#[test]
fn an_execd_program_sees_only_fds_0_1_2_even_when_the_port_holds_fds_above_1023() {
    let test = "an_execd_program_sees_only_fds_0_1_2_even_when_the_port_holds_fds_above_1023";
    if !ready(test) {
        return;
    }
    let root = SharedRoot::get();
    let _mounts = NoMountsUnder(root.path.clone());
    let drv = drv();

    // The port: a descriptor limit of at least 2048 (raising the hard
    // limit, if needed, takes CAP_SYS_RESOURCE), then /dev/null opened
    // (not close-on-exec) until the numbers pass 1023.
    const WANT: u64 = 2048;
    let nofile = drv.rlimit_define(&[], "RLIMIT_NOFILE").unwrap();
    let limit = drv.getrlimit(&[], nofile).unwrap();
    let raised = Rlimit {
        cur: limit.cur.map(|cur| cur.max(WANT)),
        max: limit.max.map(|max| max.max(WANT)),
    };
    drv.setrlimit(&[], nofile, raised)
        .unwrap_or_else(|e| panic!("raising the port's RLIMIT_NOFILE from {limit:?}: {e}"));
    assert_eq!(drv.getrlimit(&[], nofile).unwrap(), raised);
    let mut high = Vec::new();
    for _ in 0..1100 {
        let fd = drv.open(&[], "/dev/null", O_RDONLY, 0).unwrap();
        if fd > 1023 {
            high.push(fd);
            if high.len() == 8 {
                break;
            }
        }
    }
    assert_eq!(high.len(), 8, "no descriptor above 1023 after 1100 opens");
    let port_fds = fds_of(drv.port_pid() as i32);
    assert!(
        high.iter().all(|fd| port_fds.contains(fd)),
        "the port holds {high:?}"
    );

    // A child in new mount and PID namespaces, with its own /proc, runs
    // `ls -l /proc/self/fd` chrooted; the control first opens /dev/null in
    // the child itself, which an exec'd program inherits on purpose.
    let flags = drv.define(&[], &["CLONE_NEWNS", "CLONE_NEWPID"]).unwrap();
    let ls_fds = |control: bool| -> (FdListing, String, Option<i32>) {
        let c = drv.clone(&[], flags).unwrap();
        private_mounts(&drv, &[c]).unwrap();
        mount_proc(&drv, &[c], &root.path).unwrap();
        let opened = control.then(|| drv.open(&[c], "/dev/null", O_RDONLY, 0).unwrap());
        enter_root(&drv, &[c], root.bytes()).unwrap();
        drv.execvp(
            &[c],
            "/bin/busybox",
            &["/bin/busybox", "ls", "-l", "/proc/self/fd"],
        )
        .unwrap();
        let (out, err, end) = run_to_exit(&drv, &[c]);
        assert!(
            matches!(end, Event::ExitStatus { status: 0 | 1 }),
            "ls: {end:?}: {err}"
        );
        (fd_listing(&out), err, opened)
    };

    let (listing, err, _) = ls_fds(false);
    let fds: Vec<i32> = listing.iter().map(|(fd, _)| *fd).collect();
    for stdio in 0..=2 {
        let target = listing.iter().find(|(fd, _)| *fd == stdio);
        assert!(
            matches!(target, Some((_, Some(t))) if t.starts_with("pipe:")),
            "fd {stdio} is a pipe from the loop: {listing:?}"
        );
    }
    assert_eq!(
        unexpected_fds(&listing),
        [],
        "the exec'd program sees only 0, 1, 2 (and ls's own directory): {listing:?} ({err})"
    );
    assert!(fds.iter().all(|&fd| fd <= 3), "{fds:?}");

    // Control: a descriptor that is meant to be inherited is seen.
    let (listing, err, opened) = ls_fds(true);
    let opened = opened.expect("the control opened one");
    assert_eq!(
        unexpected_fds(&listing),
        [(opened, Some("/dev/null".to_owned()))],
        "the control's /dev/null is seen: {listing:?} ({err})"
    );
}

// ---- the chroot sandbox --------------------------------------------------------------

#[test]
fn the_chroot_sandbox_cannot_create_a_file_fork_or_regain_root() {
    let test = "the_chroot_sandbox_cannot_create_a_file_fork_or_regain_root";
    if !ready(test) {
        return;
    }
    let root = SharedRoot::get();
    let control_root = own_root("e2e-chroot");
    let drv = drv();

    // The seed's sandbox: limits, chroot, a high uid and gid.
    let id = high_id();
    let c = drv.fork(&[]).unwrap();
    limit_sandbox(&drv, &[c]).unwrap();
    enter_root(&drv, &[c], root.bytes()).unwrap();
    drop_privs(&drv, &[c], id).unwrap();
    // Root cannot be regained.
    let err = drv.setuid(&[c], 0).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EPERM), "setuid 0: {err}");
    let err = drv.setgid(&[c], 0).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EPERM), "setgid 0: {err}");
    assert_eq!(drv.getuid(&[c]).unwrap(), id);
    assert_eq!(drv.getgid(&[c]).unwrap(), id);
    drv.execvp(&[c], "/bin/busybox", &["/bin/busybox", "sh"])
        .unwrap();
    let ids = format!("{id}\t{id}\t{id}\t{id}");
    assert_eq!(proc_status(c.as_raw(), "Uid"), Some(ids.clone()));
    assert_eq!(proc_status(c.as_raw(), "Gid"), Some(ids));

    // No file can be created.
    drv.stdin(&[c], b"> foo\n").unwrap();
    let err = wait_text(&drv, &[c], true, "can't create foo");
    assert!(!root.path.join("foo").exists(), "{err}");
    // No process can be forked.
    drv.stdin(&[c], b"(echo forked)\n").unwrap();
    let err = wait_text(&drv, &[c], true, "can't fork");
    assert_eq!(
        drv.stdout(&[c], Duration::ZERO).unwrap_or_default(),
        None,
        "{err}"
    );

    // Control: the same shell, chrooted into a copy but with no limits
    // and still root, creates the file and forks; root stays root.
    let k = drv.fork(&[]).unwrap();
    enter_root(&drv, &[k], control_root.bytes()).unwrap();
    drv.setuid(&[k], 0).unwrap();
    drv.execvp(&[k], "/bin/busybox", &["/bin/busybox", "sh"])
        .unwrap();
    let mut sh = Sh::new(&drv, &[k]);
    assert_eq!(sh.run("> foo && echo created"), "created\n");
    assert!(control_root.path().join("foo").is_file());
    assert_eq!(sh.run("(echo forked)"), "forked\n");
}

/// `AT_SECURE` of the auxiliary vector of `pid`, read from outside.
fn at_secure(pid: Pid) -> u64 {
    // Pairs of native words: type, value.
    const WORD: usize = std::mem::size_of::<usize>();
    let auxv = std::fs::read(format!("/proc/{pid}/auxv")).expect("reading auxv");
    let word = |b: &[u8]| usize::from_ne_bytes(b.try_into().expect("a word")) as u64;
    auxv.chunks_exact(2 * WORD)
        .map(|pair| (word(&pair[..WORD]), word(&pair[WORD..])))
        .find_map(|(key, value)| (key == AT_SECURE).then_some(value))
        .expect("AT_SECURE in auxv")
}

#[test]
fn no_new_privs_keeps_a_setuid_root_busybox_from_gaining_anything() {
    let test = "no_new_privs_keeps_a_setuid_root_busybox_from_gaining_anything";
    if !ready(test) {
        return;
    }
    // A root of the test's own with a setuid-root copy of busybox.
    let root = own_root("e2e-nnp");
    let busybox = root.path().join("bin/busybox");
    std::os::unix::fs::chown(&busybox, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&busybox, PermissionsExt::from_mode(0o4755)).unwrap();
    let vfs = rustix::fs::statvfs(root.path()).unwrap();
    if vfs.f_flag.contains(rustix::fs::StatVfsMountFlags::NOSUID) {
        println!(
            "SKIP {test}: {} is on a nosuid mount: a setuid program gains nothing there anyway",
            root.path().display()
        );
        return;
    }
    let drv = drv();
    let set_nnp = drv.prctl_define(&[], "PR_SET_NO_NEW_PRIVS").unwrap() as i32;
    let get_nnp = drv.prctl_define(&[], "PR_GET_NO_NEW_PRIVS").unwrap() as i32;

    // A sandbox dropped to a high id runs the setuid busybox's `cat`, which
    // waits on its stdin while the test reads its auxiliary vector. The
    // uid it shows is no evidence (busybox drops a setuid root itself for
    // most applets); AT_SECURE tells whether the kernel changed
    // credentials at exec.
    let run = |nnp: bool| -> (u64, Option<String>) {
        let c = drv.fork(&[]).unwrap();
        enter_root(&drv, &[c], root.bytes()).unwrap();
        drop_privs(&drv, &[c], high_id()).unwrap();
        if nnp {
            let (ret, _) = drv.prctl(&[c], set_nnp, &[PrctlArg::Int(1)]).unwrap();
            assert_eq!(ret, 0);
            assert_eq!(drv.prctl(&[c], get_nnp, &[]).unwrap().0, 1);
        }
        drv.execvp(&[c], "/bin/busybox", &["/bin/busybox", "cat"])
            .unwrap();
        let found = (at_secure(c), proc_status(c.as_raw(), "NoNewPrivs"));
        drv.eof(&[c]).unwrap();
        let (_, err, end) = run_to_exit(&drv, &[c]);
        assert_eq!(end, Event::ExitStatus { status: 0 }, "cat: {err}");
        found
    };
    assert_eq!(
        run(true),
        (0, Some("1".into())),
        "with no_new_privs: no privilege transition at exec"
    );
    assert_eq!(
        run(false),
        (1, Some("0".into())),
        "control, without no_new_privs: exec made it setuid root"
    );
}

// ---- the namespace sandbox -------------------------------------------------------------

/// The seed's container, up to exec: a child cloned into new IPC, network,
/// mount, PID and UTS namespaces, its mounts private, `proc` for its PID
/// namespace on `<root>/proc`, a tmpfs named `alcove-test-e2e-<pid>` on
/// `<root>/tmp`, host name `alcove-test-e2e-<pid>`, chrooted and dropped
/// to a high id. Returns the child's PID (in the test's namespace) and
/// that name.
fn ns_child(drv: &Drv, root: &SharedRoot) -> (Pid, String) {
    let flags = drv.define(&[], &NS_SANDBOX).unwrap();
    let c = drv.clone(&[], flags).unwrap();
    let name = format!("alcove-test-e2e-{c}");
    private_mounts(drv, &[c]).unwrap();
    mount_proc(drv, &[c], &root.path).unwrap();
    mount_tmpfs(drv, &[c], &root.path, &name).unwrap();
    drv.sethostname(&[c], &name).unwrap();
    enter_root(drv, &[c], root.bytes()).unwrap();
    drop_privs(drv, &[c], high_id()).unwrap();
    (c, name)
}

fn exec_sh(drv: &Drv, c: Pid) {
    drv.execvp(&[c], "/bin/busybox", &["/bin/busybox", "sh"])
        .unwrap();
}

/// The numeric entries of a `/proc` listing.
fn pids_in(listing: &str) -> Vec<i32> {
    listing
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect()
}

#[test]
fn the_namespace_sandbox_sees_only_its_own_processes() {
    let test = "the_namespace_sandbox_sees_only_its_own_processes";
    if !ready(test) {
        return;
    }
    let root = SharedRoot::get();
    let _mounts = NoMountsUnder(root.path.clone());
    let drv = drv();
    let (c, _) = ns_child(&drv, &root);
    exec_sh(&drv, c);
    let mut sh = Sh::new(&drv, &[c]);

    assert_eq!(sh.run("echo $$"), "1\n", "the shell is PID 1");
    let ps = sh.run("ps -o pid,args");
    let one = ps
        .lines()
        .find(|l| l.split_whitespace().next() == Some("1"))
        .unwrap_or_else(|| panic!("no PID 1 in {ps:?}"));
    assert!(one.ends_with("/bin/busybox sh"), "{ps:?}");
    let inside = pids_in(&sh.run("ls /proc"));
    assert!(inside.contains(&1), "{inside:?}");
    // Only the shell and the command it runs: nothing of the host.
    assert!(inside.len() <= 2, "{inside:?}");
    let host = [std::process::id() as i32, drv.port_pid() as i32, c.as_raw()];
    for pid in host {
        assert!(!inside.contains(&pid), "host pid {pid} seen in {inside:?}");
    }
    // Control: the host's /proc, as the test sees it, has them all.
    let host_proc: Vec<i32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    assert!(host.iter().all(|pid| host_proc.contains(pid)));
}

#[test]
fn the_namespace_sandbox_has_no_interface_but_lo() {
    let test = "the_namespace_sandbox_has_no_interface_but_lo";
    if !ready(test) {
        return;
    }
    let root = SharedRoot::get();
    let _mounts = NoMountsUnder(root.path.clone());
    let drv = drv();
    let (c, _) = ns_child(&drv, &root);
    exec_sh(&drv, c);
    let mut sh = Sh::new(&drv, &[c]);

    let links = sh.run("ip -o link");
    assert_eq!(link_names(&links), ["lo"], "{links:?}");
    assert_ne!(ns_of(c, "net"), ns_of("self", "net"));

    // Control: the same `ip -o link`, chrooted and unprivileged but in the
    // host's network namespace, lists the host's interfaces.
    let k = drv.fork(&[]).unwrap();
    enter_root(&drv, &[k], root.bytes()).unwrap();
    drop_privs(&drv, &[k], high_id()).unwrap();
    drv.execvp(&[k], "/bin/busybox", &["/bin/busybox", "ip", "-o", "link"])
        .unwrap();
    let (links, err, _) = run_to_exit(&drv, &[k]);
    let mut host: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    host.sort();
    assert_eq!(link_names(&links), host, "{links:?} ({err})");
    if host == ["lo"] {
        println!("note {test}: the host has no interface but lo either");
    }
}

/// The interface names of `ip -o link` (`1: lo: <LOOPBACK> mtu 65536
/// ...`, `5: veth0@if4: ...`), sorted.
fn link_names(links: &str) -> Vec<String> {
    let mut names: Vec<String> = links
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name).to_owned())
        .collect();
    names.sort();
    names
}

/// The host name, as the test process sees it.

#[test]
fn a_hostname_set_in_the_namespace_sandbox_stays_inside() {
    let test = "a_hostname_set_in_the_namespace_sandbox_stays_inside";
    if !ready(test) {
        return;
    }
    let root = SharedRoot::get();
    let _mounts = NoMountsUnder(root.path.clone());
    let before = HostnameGuard(host_name());
    let drv = drv();
    let port_before = drv.gethostname(&[]).unwrap();
    assert_eq!(port_before, before.0);

    let (c, name) = ns_child(&drv, &root);
    // Control: the same call sees a name that changed.
    assert_eq!(drv.gethostname(&[c]).unwrap(), name.as_bytes());
    assert_ne!(name.as_bytes(), before.0);
    exec_sh(&drv, c);
    let mut sh = Sh::new(&drv, &[c]);
    assert_eq!(sh.run("hostname"), format!("{name}\n"));
    // The sandbox, no longer root, cannot change it at all.
    let out = sh.run("hostname alcove-test-e2e-changed; hostname");
    assert!(
        out.contains("not permitted") && out.ends_with(&format!("{name}\n")),
        "{out:?}"
    );

    assert_eq!(drv.gethostname(&[]).unwrap(), port_before, "the port's");
    assert_eq!(host_name(), before.0, "the test's");
}

#[test]
fn a_mount_in_the_namespace_sandbox_is_invisible_outside() {
    let test = "a_mount_in_the_namespace_sandbox_is_invisible_outside";
    if !ready(test) {
        return;
    }
    let root = SharedRoot::get();
    let _mounts = NoMountsUnder(root.path.clone());
    let drv = drv();
    let (c, name) = ns_child(&drv, &root);
    exec_sh(&drv, c);
    let mut sh = Sh::new(&drv, &[c]);

    // `<source> on /tmp type tmpfs (...)`: the sandbox sees it.
    let inside = sh.run("mount");
    assert!(
        inside.contains(&format!("{name} on /tmp type tmpfs")),
        "{inside:?}"
    );
    // The test sees it in the sandbox's mount table (paths there are
    // relative to the sandbox's root), and not in its own.
    let mountinfo = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    let theirs = mountinfo(&c.to_string());
    assert!(
        theirs
            .lines()
            .any(|l| l.contains(" /tmp ") && l.contains(&format!(" - tmpfs {name} "))),
        "{theirs}"
    );
    assert!(!mountinfo("self").contains(&name));
    assert_eq!(mounts_under(&root.path), Vec::<String>::new());
    assert_ne!(ns_of(c, "mnt"), ns_of("self", "mnt"));
}

// ---- the control channel and the parent's memory ------------------------------------

#[test]
fn a_sandbox_cannot_reach_the_loops_descriptors_memory_or_environment() {
    let test = "a_sandbox_cannot_reach_the_loops_descriptors_memory_or_environment";
    if !ready(test) {
        return;
    }
    let root = SharedRoot::get();
    let _mounts = NoMountsUnder(root.path.clone());
    let drv = drv();
    let port = drv.port_pid() as i32;

    // A loop process `p`, and below it sandboxes that see the host's /proc
    // (bind-mounted in a new mount namespace, no new PID namespace): one
    // dropped to a high id, and the control, still root.
    let p = drv.fork(&[]).unwrap();
    let newns = drv.define(&[], &["CLONE_NEWNS"]).unwrap();
    let bind = drv.define(&[], &["MS_BIND", "MS_REC"]).unwrap();
    let sandbox = |drop: bool| -> Pid {
        let c = drv.clone(&[p], newns).unwrap();
        private_mounts(&drv, &[p, c]).unwrap();
        drv.mount(&[p, c], "/proc", under(&root.path, "proc"), "", bind, "")
            .unwrap();
        enter_root(&drv, &[p, c], root.bytes()).unwrap();
        if drop {
            drop_privs(&drv, &[p, c], high_id()).unwrap();
        }
        drv.execvp(&[p, c], "/bin/busybox", &["/bin/busybox", "sh"])
            .unwrap();
        c
    };
    let c = sandbox(true);
    let mut sh = Sh::new(&drv, &[p, c]);

    // Its own descriptors: 0, 1 and 2 only, so it holds no end of any
    // loop's control pipe.
    assert_eq!(fds_of(c.as_raw()), [0, 1, 2]);
    let own = fd_listing(&sh.run("ls -l /proc/self/fd"));
    assert_eq!(unexpected_fds(&own), [], "{own:?}");

    // Every descriptor of its parent loop and of the port (stdin, stdout,
    // the control pipes, ...), as the test sees them, can be neither
    // listed nor opened for reading or writing. dd with count=0 opens
    // without reading or writing a byte, so that even a broken protection
    // would not corrupt the tree; the plain attempts follow.
    for (what, pid) in [("parent loop", p.as_raw()), ("port", port)] {
        let out = sh.run(&format!("ls /proc/{pid}/fd/"));
        assert!(out.contains("Permission denied"), "{what}: {out:?}");
        for fd in fds_of(pid) {
            let file = format!("/proc/{pid}/fd/{fd}");
            for attempt in [
                format!("dd if={file} count=0"),
                format!("dd of={file} count=0 conv=notrunc"),
            ] {
                let out = sh.run(&attempt);
                assert!(
                    out.contains(&format!("can't open '{file}': Permission denied")),
                    "{what}: {attempt}: {out:?}"
                );
            }
        }
        let out = sh.run(&format!("echo attack > /proc/{pid}/fd/1"));
        assert!(
            out.contains(&format!("can't create /proc/{pid}/fd/1: Permission denied")),
            "{what}: {out:?}"
        );
        let out = sh.run(&format!("cat /proc/{pid}/fd/0"));
        assert!(out.contains("Permission denied"), "{what}: {out:?}");
        // busybox has no ptrace tool; opening /proc/<pid>/mem takes the
        // same ptrace-attach access that PTRACE_ATTACH does, so its
        // failure is the check that the loop cannot be traced either.
        for file in ["mem", "environ"] {
            let out = sh.run(&format!("cat /proc/{pid}/{file}"));
            assert!(
                out.contains(&format!(
                    "can't open '/proc/{pid}/{file}': Permission denied"
                )),
                "{what}: {file}: {out:?}"
            );
        }
    }

    // Nothing reached the loops: they answer calls as before, and the
    // port rejected no frame.
    for _ in 0..3 {
        assert_eq!(drv.getpid(&[p]).unwrap(), p);
        assert_eq!(drv.pid(&[p]).unwrap(), [c]);
        assert_eq!(drv.getpid(&[]).unwrap().as_raw(), port);
    }
    for path in [&[][..], &[p][..]] {
        while let Some(m) = drv.recv(path, Duration::ZERO).unwrap() {
            assert!(
                !matches!(m, Message::Notice(Notice::BadFrame(_))),
                "{path:?}: {m:?}"
            );
        }
    }

    // Control: the same sandbox, still root, can list the loop's
    // descriptors, open its memory (reading offset 0 then fails with EIO)
    // and read its environment.
    let k = sandbox(false);
    let mut root_sh = Sh::new(&drv, &[p, k]);
    let pid = p.as_raw();
    let fds = pids_in(&root_sh.run(&format!("ls /proc/{pid}/fd/")));
    assert_eq!(fds.len(), fds_of(pid).len(), "{fds:?}");
    let out = root_sh.run(&format!("cat /proc/{pid}/mem"));
    assert!(!out.contains("Permission denied"), "{out:?}");
    let out = root_sh.run(&format!("wc -c < /proc/{pid}/environ"));
    assert!(out.trim().parse::<u64>().is_ok_and(|n| n > 0), "{out:?}");
}

// ---- SIGKILL of the client ---------------------------------------------------------

/// What the SIGKILL test must not leave, also when it fails: the client,
/// any process of its tree, and its cgroup.
struct KillGuard {
    client: Option<Child>,
    pids: Vec<i32>,
    group: Option<String>,
}

impl Drop for KillGuard {
    fn drop(&mut self) {
        if let Some(mut client) = self.client.take() {
            let _ = client.kill();
            let _ = client.wait();
        }
        for &pid in &self.pids {
            if matches!(proc_stat(pid), Some((state, _)) if state != 'Z')
                && let Some(pid) = rustix::process::Pid::from_raw(pid)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        if let Err(alive) = wait_gone(&self.pids, Duration::from_secs(10)) {
            eprintln!("still alive (pid, state, ppid): {alive:?}");
        }
        if let Some(group) = self.group.take() {
            // No panic here: this may run while the test panics.
            let cg = Drv::start(Options::default().timeout(TIMEOUT))
                .map_err(|e| e.to_string())
                .and_then(|drv| Cgroups::new(&drv, &[]).map_err(|e| e.to_string()));
            let cg = match cg {
                Ok(cg) => cg,
                Err(e) => {
                    eprintln!("removing the cgroup {group}: {e}");
                    return;
                }
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while let Err(e) = cg.destroy(&group) {
                if Instant::now() > deadline {
                    eprintln!("removing the cgroup {group}: {e}");
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// The PIDs of every process in the namespace `ns` (`/proc/<pid>/ns/...`
/// links to it), or whose root directory is `root` or under it.
fn processes_in(ns: &[(&str, PathBuf)], root: &Path) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let in_ns = ns.iter().any(|(kind, link)| {
                std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).is_ok_and(|l| l == *link)
            });
            let chrooted =
                std::fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|r| r.starts_with(root));
            in_ns || chrooted
        })
        .collect()
}

#[test]
fn sigkill_of_the_client_leaves_no_loop_sandbox_mount_or_cgroup() {
    let test = "sigkill_of_the_client_leaves_no_loop_sandbox_mount_or_cgroup";
    if !ready(test) {
        return;
    }
    become_subreaper();
    // A root of the test's own: whatever is left under it is this test's.
    let own = own_root("e2e-kill");
    // Canonical, as mountinfo and /proc/<pid>/root show it.
    let root = std::fs::canonicalize(own.path()).unwrap();
    let _mounts = NoMountsUnder(root.clone());
    let mut guard = KillGuard {
        client: None,
        pids: Vec::new(),
        group: None,
    };
    let client = guard.client.insert(
        Command::new(env!("CARGO_BIN_EXE_e2e_client"))
            .arg(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting e2e_client"),
    );
    let group = format!("alcove-test-e2e-{}", client.id());
    guard.group = Some(group.clone());
    let line = alcove_tests::first_line(client);
    let field = |name: &str| alcove_tests::pid_field(&line, name);
    let (port, loops, sandboxes) = (field("port")[0], field("loops"), field("sandboxes"));
    assert!(line.contains(&format!("cgroup={group}")), "{line}");
    let [sleep, trap_sh, plain_sh] = sandboxes[..] else {
        panic!("three sandboxes: {line}");
    };
    guard.pids = [&[port][..], &loops, &sandboxes].concat();

    // Before: the namespace sandboxes are in the cgroup, have their mounts,
    // and only the one with a handler catches SIGTERM (a namespace's init
    // ignores what it has no handler for, SIGKILL aside).
    let deadline = Instant::now() + LIMIT;
    while !in_sigmask(trap_sh, "SigCgt", SIGTERM) {
        assert!(Instant::now() < deadline, "the trap is never set");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!in_sigmask(plain_sh, "SigCgt", SIGTERM));
    let mut namespaces = Vec::new();
    for pid in [trap_sh, plain_sh] {
        let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        assert!(cgroups.contains(&group), "{pid}: {cgroups}");
        let mountinfo = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
        assert!(
            mountinfo.contains(&format!(" - tmpfs alcove-test-e2e-{pid} ")),
            "{mountinfo}"
        );
        namespaces.extend([("pid", ns_of(pid, "pid")), ("mnt", ns_of(pid, "mnt"))]);
    }
    assert!(!processes_in(&namespaces, &root).is_empty());

    let client = guard.client.as_mut().unwrap();
    client.kill().unwrap();
    let status = client.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(SIGKILL)
    );
    guard.client = None;

    let gone = wait_gone(&guard.pids, Duration::from_secs(20))
        .unwrap_or_else(|alive| panic!("still alive (pid, state, ppid): {alive:?}"));
    // All reaped: the guard must not signal these numbers again.
    guard.pids.clear();
    for pid in loops.iter().chain([&port]) {
        assert!(
            matches!(gone[pid], Gone::Exited(0) | Gone::Vanished),
            "loop process {pid}: {:?}",
            gone[pid]
        );
    }
    assert_eq!(gone[&sleep], Gone::Killed(SIGTERM), "depth 1: sleep");
    assert_eq!(gone[&trap_sh], Gone::Exited(0), "depth 3: sh trapping TERM");
    assert_eq!(
        gone[&plain_sh],
        Gone::Killed(SIGKILL),
        "depth 3: plain sh, signaloneof 9"
    );
    // Nothing in their namespaces (the `sleep 1` of the shells included),
    // nothing chrooted in the directory, nothing mounted under it: a
    // namespace with no process is gone, and its mounts with it.
    let deadline = Instant::now() + LIMIT;
    loop {
        let left = processes_in(&namespaces, &root);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left behind: {left:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(mounts_under(&root), Vec::<String>::new());

    // The cgroup is empty: it can be removed, and is gone everywhere.
    let drv = drv();
    let cg = Cgroups::new(&drv, &[]).unwrap();
    cg.destroy(&group)
        .unwrap_or_else(|e| panic!("removing {group}: {e}"));
    guard.group = None;
    for h in cg.hierarchies() {
        let dir = h.mount().join(&group);
        assert!(!dir.exists(), "{} is left", dir.display());
    }
}
