//! The README's three ways of giving the port privileges (issue 5), each
//! tested for real as an unprivileged user: the client program
//! (`priv_client`) runs as a system user made for the test, and only the
//! port is privileged, through
//!
//! - `sudo -n` and a sudoers rule for the binary,
//! - a setuid root copy of the binary, which must not trust its caller's
//!   environment,
//! - file capabilities on a copy, with the capabilities each seed example
//!   needs, found by running its calls (and shown minimal: without any one
//!   of them, the example fails).
//!
//! Each test makes its own user (`alcove-test-<pid>-<n>`), directory
//! (`alcove-test-priv-<pid>-<n>`, holding copies of `alcove` and
//! `priv_client`), sudoers rule (`/etc/sudoers.d/alcove-test-<pid>`) and
//! cgroup, and removes them when it ends, passed or failed (Drop guards);
//! what a killed test run left is removed by the next one. They need root,
//! and run one at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use alcove_tests::require_root;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
static NEXT: AtomicU32 = AtomicU32::new(0);

/// The `PATH` a port started setuid or with capabilities sets
/// (`SECURE_PATH` of crates/alcove-loop/src/main.rs).
const SECURE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The static busybox the seed's examples run in their sandboxes.
const BUSYBOX: &str = "/bin/busybox";
/// The README's capabilities for the privileged calls of the tests.
const README_CAPS: &[&str] = &[
    "cap_sys_admin",
    "cap_sys_chroot",
    "cap_setuid",
    "cap_setgid",
];
/// What the calls of the seed's chrootex need (setrlimit, chroot, setgroups, setgid,
/// setuid, execvp): found by removing capabilities one at a time from all
/// of them until none could go.
const CHROOTEX_CAPS: &[&str] = &["cap_setgid", "cap_setuid", "cap_sys_chroot"];
/// What the calls of the seed's nsex need (cgroup mkdir and writes,
/// clone with new namespaces, sethostname, chroot, setgroups, setgid, setuid).
const NSEX_CAPS: &[&str] = &[
    "cap_dac_override",
    "cap_setgid",
    "cap_setuid",
    "cap_sys_admin",
    "cap_sys_chroot",
];
/// A hostile caller's environment.
const HOSTILE: &[(&str, &str)] = &[
    ("LD_PRELOAD", "/nonexistent.so"),
    ("LD_LIBRARY_PATH", "/tmp/evil"),
    ("PATH", "/tmp/evil"),
    ("IFS", "x"),
    ("ALCOVE_BIN", "/tmp/evil"),
    ("FOO", "bar"),
    ("TERM", "xterm-alcove"),
];

// ---- commands -------------------------------------------------------------------

/// Runs a command of the test's own (useradd, setcap, ...): its stdout, or
/// its failure with stderr.
fn try_run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn run(cmd: &mut Command) -> String {
    try_run(cmd).unwrap_or_else(|e| panic!("{e}"))
}

/// Whether `name` is a program in `PATH` or an sbin directory.
fn have(name: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .any(|d| d.join(name).is_file())
}

/// Root, the tools and (for the examples) a busybox: or `SKIP`.
fn ready(test: &str, tools: &[&str], busybox: bool) -> bool {
    if !require_root(test) {
        return false;
    }
    if let Some(t) = tools.iter().find(|t| !have(t)) {
        println!("SKIP {test}: no {t} (cargo xtask deps installs it)");
        return false;
    }
    if busybox && !Path::new(BUSYBOX).is_file() {
        println!("SKIP {test}: no {BUSYBOX} (busybox-static)");
        return false;
    }
    sweep_stale();
    true
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The pid in a name `<prefix><pid>[-...|.tmp]`.
fn pid_in(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match rest[digits.len()..].chars().next() {
        None | Some('-') | Some('.') => digits.parse().ok(),
        _ => None,
    }
}

/// Removes what an earlier run of these tests left when it was killed
/// before its guards ran: only names with the pid of a dead process.
fn sweep_stale() {
    let dead = |name: &str, prefix: &str| pid_in(name, prefix).is_some_and(|p| !alive(p));
    if let Ok(passwd) = try_run(Command::new("getent").arg("passwd")) {
        for name in passwd.lines().filter_map(|l| l.split(':').next()) {
            if dead(name, "alcove-test-") {
                remove_user(name);
            }
        }
    }
    let entries = |dir: &Path| -> Vec<(String, PathBuf)> {
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| {
                    let e = e.ok()?;
                    Some((e.file_name().to_str()?.to_owned(), e.path()))
                })
                .collect()
            })
            .unwrap_or_default()
    };
    for dir in ["/etc/sudoers.d", "/run/sudo/ts"] {
        for (name, path) in entries(Path::new(dir)) {
            if dead(&name, "alcove-test-") {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    for base in [
        std::env::temp_dir(),
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
    ] {
        for (name, path) in entries(&base) {
            if dead(&name, "alcove-test-priv-") {
                let _ = std::fs::remove_dir_all(path);
            }
        }
    }
    for mount in cgroup_mounts() {
        for (name, path) in entries(&mount) {
            if dead(&name, "alcove-test-nsex-") {
                let _ = std::fs::remove_dir(path);
            }
        }
    }
}

/// A name `<prefix><pid>-<n>`, new in this process.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A high uid/gid for a sandbox, as the seed's `16#f0000000 + rand`: a new
/// one for each sandbox, since the sandbox's RLIMIT_NPROC of 1 counts the
/// processes of that uid.
fn sandbox_id() -> u32 {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    0xf000_0000 + (std::process::id().wrapping_mul(97).wrapping_add(n) & 0xffff)
}

// ---- what the tests make, and remove --------------------------------------------

/// A system user with no home and no shell, removed (with its group) when
/// dropped.
#[derive(Debug)]
struct User {
    name: String,
    uid: u32,
    gid: u32,
}

impl User {
    fn new() -> User {
        let name = unique("alcove-test-");
        assert!(name.len() <= 32, "{name}: too long a user name");
        run(Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            &name,
        ]));
        // From here on, the guard removes it.
        let mut user = User {
            name,
            uid: 0,
            gid: 0,
        };
        let entry = run(Command::new("getent").args(["passwd", &user.name]));
        let f: Vec<&str> = entry.trim().split(':').collect();
        user.uid = f[2].parse().expect("a uid");
        user.gid = f[3].parse().expect("a gid");
        assert_ne!(user.uid, 0);
        user
    }
}

/// `userdel`, retried while a process of the user is still going away;
/// then its group, if `userdel` left it, and the time stamp sudo keeps
/// for it.
fn remove_user(name: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Err(e) = try_run(Command::new("userdel").arg(name)) {
        if Instant::now() >= deadline {
            eprintln!("removing user {name}: {e}");
            if let Err(e) = try_run(Command::new("userdel").args(["--force", name])) {
                eprintln!("removing user {name}: {e}");
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if try_run(Command::new("getent").args(["group", name])).is_ok()
        && let Err(e) = try_run(Command::new("groupdel").arg(name))
    {
        eprintln!("removing group {name}: {e}");
    }
    let stamp = Path::new("/run/sudo/ts").join(name);
    if let Err(e) = std::fs::remove_file(&stamp)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("removing {}: {e}", stamp.display());
    }
}

impl Drop for User {
    fn drop(&mut self) {
        remove_user(&self.name);
    }
}

/// The per-test directory: root-owned, mode 0755, on a filesystem that
/// honours setuid bits, with copies of `alcove` and `priv_client` the
/// user can run, and `root/marker` to chroot into. Removed when dropped.
#[derive(Debug)]
struct Scratch {
    path: PathBuf,
}

/// Whether every directory up to `dir` lets others through, and its
/// filesystem honours setuid bits and file capabilities (no `nosuid`).
fn usable_base(dir: &Path) -> bool {
    let nosuid = rustix::fs::statvfs(dir)
        .map(|s| s.f_flag.contains(rustix::fs::StatVfsMountFlags::NOSUID))
        .unwrap_or(true);
    let searchable = dir.ancestors().all(|d| {
        d.metadata()
            .is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o001 != 0)
    });
    !nosuid && searchable
}

impl Scratch {
    /// `None` when neither the temporary directory nor the target's will do.
    fn new() -> Option<Scratch> {
        let base = [
            std::env::temp_dir(),
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        ]
        .into_iter()
        .find(|d| usable_base(d))?;
        let path = base.join(unique("alcove-test-priv-"));
        std::fs::create_dir(&path).expect("creating the test directory");
        let scratch = Scratch {
            path: path.canonicalize().expect("canonical test directory"),
        };
        let port = alcove_client::find_port().expect("the alcove binary");
        std::fs::copy(&port, scratch.alcove()).expect("copying alcove");
        std::fs::copy(env!("CARGO_BIN_EXE_priv_client"), scratch.client())
            .expect("copying priv_client");
        std::fs::create_dir(scratch.root()).expect("creating root/");
        std::fs::write(scratch.root().join("marker"), "").expect("creating root/marker");
        for (p, mode) in [
            (scratch.path.clone(), 0o755),
            (scratch.alcove(), 0o755),
            (scratch.client(), 0o755),
            (scratch.root(), 0o755),
        ] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                .expect("chmod in the test directory");
            assert_eq!(p.metadata().expect("stat").uid(), 0, "{}", p.display());
        }
        Some(scratch)
    }

    fn alcove(&self) -> PathBuf {
        self.path.join("alcove")
    }

    fn client(&self) -> PathBuf {
        self.path.join("priv_client")
    }

    fn root(&self) -> PathBuf {
        self.path.join("root")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("removing {}: {e}", self.path.display());
        }
    }
}

/// `/etc/sudoers.d/alcove-test-<pid>`: `<user> ALL=(root) NOPASSWD:
/// <binary>`, validated with `visudo -cf` before it is put in place (under
/// a name with a dot, which sudo skips, then renamed). Removed when
/// dropped.
#[derive(Debug)]
struct Sudoers {
    path: PathBuf,
    tmp: PathBuf,
}

impl Sudoers {
    fn new(user: &User, binary: &Path) -> Sudoers {
        let name = format!("alcove-test-{}", std::process::id());
        let rule = Sudoers {
            path: Path::new("/etc/sudoers.d").join(&name),
            tmp: Path::new("/etc/sudoers.d").join(format!("{name}.tmp")),
        };
        // No arguments after the command: the port's own options are
        // allowed, whatever they are.
        let text = format!("{} ALL=(root) NOPASSWD: {}\n", user.name, binary.display());
        std::fs::write(&rule.tmp, text).expect("writing the sudoers rule");
        std::fs::set_permissions(&rule.tmp, std::fs::Permissions::from_mode(0o440))
            .expect("chmod 0440 the sudoers rule");
        run(Command::new("visudo").arg("-cf").arg(&rule.tmp));
        std::fs::rename(&rule.tmp, &rule.path).expect("installing the sudoers rule");
        rule
    }
}

impl Drop for Sudoers {
    fn drop(&mut self) {
        for p in [&self.path, &self.tmp] {
            match std::fs::remove_file(p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    eprintln!("removing {}: {e}", p.display());
                }
                _ => {}
            }
        }
    }
}

/// The cgroup hierarchies mounted here.
fn cgroup_mounts() -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let fstype = right.split(' ').next()?;
            let mount = left.split(' ').nth(4)?;
            (fstype == "cgroup" || fstype == "cgroup2")
                .then(|| PathBuf::from(mount.replace("\\040", " ")))
        })
        .collect()
}

/// The name of the cgroup an nsex run makes; the group is removed from
/// every hierarchy when dropped, if the client left it.
#[derive(Debug)]
struct Cgroup {
    name: String,
}

impl Cgroup {
    fn new() -> Cgroup {
        Cgroup {
            name: unique("alcove-test-nsex-"),
        }
    }

    fn left(&self) -> Vec<PathBuf> {
        cgroup_mounts()
            .into_iter()
            .map(|m| m.join(&self.name))
            .filter(|d| d.exists())
            .collect()
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        for dir in self.left() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while let Err(e) = std::fs::remove_dir(&dir) {
                if Instant::now() >= deadline {
                    eprintln!("removing {}: {e}", dir.display());
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn setcap(file: &Path, caps: &[&str]) {
    if caps.is_empty() {
        if !getcap(file).is_empty() {
            run(Command::new("setcap").arg("-r").arg(file));
        }
    } else {
        run(Command::new("setcap")
            .arg(format!("{}+ep", caps.join(",")))
            .arg(file));
    }
}

/// The capabilities `getcap` shows on `file`, sorted: `["cap_setgid", ...]`.
fn getcap(file: &Path) -> Vec<String> {
    let out = run(Command::new("getcap").arg(file));
    let Some(caps) = out.trim().strip_prefix(&*file.to_string_lossy()) else {
        return Vec::new();
    };
    let caps = caps.trim();
    let list = caps.strip_suffix("=ep").unwrap_or(caps);
    let mut v: Vec<String> = list
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

fn sorted(caps: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
    v.sort();
    v
}

// ---- the client -----------------------------------------------------------------

/// What `priv_client` said.
#[derive(Debug)]
struct Report {
    status: ExitStatus,
    keys: BTreeMap<String, String>,
    #[allow(dead_code, reason = "shown, with the rest, when a test fails")]
    stdout: String,
    stderr: String,
}

impl Report {
    /// The value of a check; panics, with everything the client said, when
    /// the run failed or the key is missing.
    fn get(&self, key: &str) -> &str {
        assert!(self.status.success(), "priv_client failed: {self:#?}");
        self.keys
            .get(key)
            .unwrap_or_else(|| panic!("no {key}= in {self:#?}"))
    }

    /// The `error=` of a failed run.
    fn error(&self) -> &str {
        assert!(!self.status.success(), "priv_client succeeded: {self:#?}");
        self.keys
            .get("error")
            .unwrap_or_else(|| panic!("no error= in {self:#?}"))
    }

    /// The port's environment, from `environ=`.
    fn environ(&self) -> BTreeSet<String> {
        self.get("environ")
            .split(' ')
            .filter(|e| !e.is_empty())
            .map(unescape)
            .collect()
    }
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match (b[i], s.get(i + 1..i + 3)) {
            (b'%', Some(hex)) if u8::from_str_radix(hex, 16).is_ok() => {
                out.push(u8::from_str_radix(hex, 16).unwrap_or_default());
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs `priv_client` as `user`, in `/`, with exactly the environment
/// `env`, and what it prints; fails the test when it runs more than two
/// minutes (a hang), after killing it.
fn client(user: &User, scratch: &Scratch, args: &[OsString], env: &[(&str, &str)]) -> Report {
    let mut cmd = Command::new(scratch.client());
    cmd.args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir("/")
        .uid(user.uid)
        .gid(user.gid)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("starting priv_client");
    let pipe = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = pipe(Box::new(child.stdout.take().expect("stdout")));
    let err = pipe(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for priv_client") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "priv_client {args:?} hung: stdout {:?}, stderr {:?}",
                out.join().unwrap_or_default(),
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let keys = stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Report {
        status,
        keys,
        stdout,
        stderr,
    }
}

/// Arguments: `--progname <copy>`, maybe `--exec`, then the checks.
fn args(scratch: &Scratch, exec: Option<&str>, rest: &[String]) -> Vec<OsString> {
    let mut v: Vec<OsString> = Vec::new();
    if let Some(e) = exec {
        v.extend(["--exec".into(), e.into()]);
    }
    v.extend(["--progname".into(), scratch.alcove().into_os_string()]);
    v.extend(rest.iter().map(OsString::from));
    v
}

/// The privileged calls every way must make possible, and what each
/// reports when it worked.
fn privileged_checks(scratch: &Scratch) -> (Vec<String>, Vec<(&'static str, String)>) {
    let id = sandbox_id();
    let checks = vec![
        "newuts".to_owned(),
        format!("chroot={}", scratch.root().display()),
        format!("setid={id}"),
    ];
    let expect = vec![
        ("newuts", "alcove-priv".to_owned()),
        ("chroot", "/:marker".to_owned()),
        ("setid", format!("{id},{id}")),
    ];
    (checks, expect)
}

fn check_all(report: &Report, expect: &[(&str, String)]) {
    for (key, value) in expect {
        assert_eq!(report.get(key), value, "{key}: {report:#?}");
    }
}

/// A sandbox `teardown=` reported alive: killed here (it runs as its own
/// high uid, which the test checks before killing it, by pid).
fn kill_sandbox(pid: &str, id: u32) {
    let Ok(pid) = pid.parse::<i32>() else {
        return;
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|u| u.split_whitespace().next());
    if uid == Some(&id.to_string())
        && let Some(p) = rustix::process::Pid::from_raw(pid)
    {
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    }
}

fn chrootex_check(id: u32) -> String {
    format!("chrootex={BUSYBOX},{id}")
}

fn teardown_check(id: u32) -> String {
    format!("teardown={BUSYBOX},{id}")
}

fn nsex_check(id: u32, group: &Cgroup) -> String {
    format!("nsex={BUSYBOX},{id},{}", group.name)
}

/// What a successful nsex run reports.
fn assert_nsex(report: &Report, id: u32) {
    let v = report.get("nsex");
    let fields: BTreeMap<&str, &str> = v.split(' ').filter_map(|f| f.split_once(':')).collect();
    assert_eq!(fields.get("pid"), Some(&"1"), "{v}: PID 1 of its namespace");
    assert!(
        fields
            .get("hostname")
            .is_some_and(|h| h.starts_with("alcove")),
        "{v}: its own hostname"
    );
    assert_eq!(fields.get("uid").copied(), Some(&*id.to_string()), "{v}");
    let (joined, all) = fields
        .get("cgroups")
        .and_then(|c| c.split_once('/'))
        .unwrap_or_else(|| panic!("{v}: cgroups"));
    assert_eq!(joined, all, "{v}: in the group in every hierarchy");
}

const CLIENT_ENV: &[(&str, &str)] = &[("PATH", SECURE_PATH)];

// ---- sudo -----------------------------------------------------------------------

#[test]
fn sudo_runs_the_port_as_root_for_an_unprivileged_client() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = "sudo_runs_the_port_as_root_for_an_unprivileged_client";
    if !ready(test, &["useradd", "userdel", "sudo", "visudo"], true) {
        return;
    }
    let Some(scratch) = Scratch::new() else {
        println!("SKIP {test}: no directory that honours setuid");
        return;
    };
    let user = User::new();
    let _rule = Sudoers::new(&user, &scratch.alcove());
    let group = Cgroup::new();
    let (mut checks, expect) = privileged_checks(&scratch);
    let ids = [sandbox_id(), sandbox_id(), sandbox_id()];
    checks.extend([
        "client_uid".to_owned(),
        "port_uid".to_owned(),
        "port_getuid".to_owned(),
        chrootex_check(ids[0]),
        nsex_check(ids[1], &group),
        teardown_check(ids[2]),
    ]);
    let report = client(
        &user,
        &scratch,
        &args(&scratch, Some("sudo -n"), &checks),
        CLIENT_ENV,
    );
    if let Some(pid) = report
        .keys
        .get("teardown")
        .and_then(|t| t.strip_prefix("alive:"))
    {
        kill_sandbox(pid, ids[2]);
    }
    let uid = user.uid;
    assert_eq!(report.get("client_uid"), format!("{uid},{uid}"));
    assert_eq!(report.get("port_uid"), "0,0,0", "the port runs as root");
    assert_eq!(report.get("port_getuid"), "0");
    check_all(&report, &expect);
    assert_eq!(report.get("chrootex"), "test test");
    assert_nsex(&report, ids[1]);
    assert_eq!(report.get("teardown"), "terminated");
    assert!(group.left().is_empty(), "nsex left {:?}", group.left());
}

#[test]
fn without_a_sudoers_rule_the_port_fails_to_start_with_sudos_refusal() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = "without_a_sudoers_rule_the_port_fails_to_start_with_sudos_refusal";
    if !ready(test, &["useradd", "userdel", "sudo"], false) {
        return;
    }
    let Some(scratch) = Scratch::new() else {
        println!("SKIP {test}: no directory that honours setuid");
        return;
    };
    let user = User::new();
    let started = Instant::now();
    let report = client(
        &user,
        &scratch,
        &args(&scratch, Some("sudo -n"), &["client_uid".to_owned()]),
        CLIENT_ENV,
    );
    let error = report.error();
    assert!(
        error.contains("starting the alcove port") && error.contains("exited before greeting"),
        "{report:#?}"
    );
    // sudo says why on the port's stderr, which is the client's.
    assert!(
        report.stderr.contains("sudo") && report.stderr.contains("password is required"),
        "{report:#?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30), "{report:#?}");
}

// ---- setuid ---------------------------------------------------------------------

fn make_setuid(file: &Path) {
    run(Command::new("chown").arg("root:root").arg(file));
    run(Command::new("chmod").arg("4755").arg(file));
    let m = file.metadata().expect("stat alcove");
    assert_eq!((m.uid(), m.mode() & 0o7777), (0, 0o4755));
}

#[test]
fn a_setuid_root_port_runs_privileged_for_an_unprivileged_client() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = "a_setuid_root_port_runs_privileged_for_an_unprivileged_client";
    if !ready(test, &["useradd", "userdel"], true) {
        return;
    }
    let Some(scratch) = Scratch::new() else {
        println!("SKIP {test}: no directory that honours setuid");
        return;
    };
    let user = User::new();
    make_setuid(&scratch.alcove());
    let (mut checks, expect) = privileged_checks(&scratch);
    let ids = [sandbox_id(), sandbox_id()];
    checks.extend([
        "client_uid".to_owned(),
        "port_uid".to_owned(),
        "port_getuid".to_owned(),
        chrootex_check(ids[0]),
        teardown_check(ids[1]),
    ]);
    let report = client(&user, &scratch, &args(&scratch, None, &checks), CLIENT_ENV);
    if let Some(pid) = report
        .keys
        .get("teardown")
        .and_then(|t| t.strip_prefix("alive:"))
    {
        kill_sandbox(pid, ids[1]);
    }
    let uid = user.uid;
    assert_eq!(report.get("client_uid"), format!("{uid},{uid}"));
    assert_eq!(
        report.get("port_uid"),
        format!("{uid},0,0"),
        "real uid the caller's, effective and saved root"
    );
    assert_eq!(report.get("port_getuid"), uid.to_string());
    check_all(&report, &expect);
    assert_eq!(report.get("chrootex"), "test test");
    assert_eq!(report.get("teardown"), "terminated");
}

fn hostile_env_args() -> Vec<String> {
    HOSTILE
        .iter()
        .flat_map(|(k, v)| ["--env".to_owned(), format!("{k}={v}")])
        .collect()
}

fn with_checks(mut v: Vec<String>, checks: &[&str]) -> Vec<String> {
    v.extend(checks.iter().map(|c| c.to_string()));
    v
}

/// The environment a secure-execution port keeps: `TERM`, and the secure
/// `PATH`.
fn sanitized() -> BTreeSet<String> {
    [
        "TERM=xterm-alcove".to_owned(),
        format!("PATH={SECURE_PATH}"),
    ]
    .into()
}

#[test]
fn a_setuid_port_keeps_nothing_of_its_callers_environment_and_umask() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = "a_setuid_port_keeps_nothing_of_its_callers_environment_and_umask";
    if !ready(test, &["useradd", "userdel"], false) {
        return;
    }
    let Some(scratch) = Scratch::new() else {
        println!("SKIP {test}: no directory that honours setuid");
        return;
    };
    let user = User::new();
    make_setuid(&scratch.alcove());
    let checks = ["--umask", "077", "port_uid", "port_umask", "environ"];

    // Given to the port by the client (Options::env).
    let given = with_checks(hostile_env_args(), &checks);
    let report = client(&user, &scratch, &args(&scratch, None, &given), CLIENT_ENV);
    assert_eq!(report.get("port_uid"), format!("{},0,0", user.uid));
    assert_eq!(report.environ(), sanitized(), "{report:#?}");
    assert_eq!(report.get("port_umask"), "0022");

    // Inherited from the client, itself started with it.
    let inherited = with_checks(Vec::new(), &checks);
    let report = client(&user, &scratch, &args(&scratch, None, &inherited), HOSTILE);
    assert_eq!(report.get("port_uid"), format!("{},0,0", user.uid));
    assert_eq!(report.environ(), sanitized(), "{report:#?}");
    assert_eq!(report.get("port_umask"), "0022");

    // Control: without the setuid bit, the same binary keeps them all.
    run(Command::new("chmod").arg("0755").arg(scratch.alcove()));
    let report = client(&user, &scratch, &args(&scratch, None, &given), CLIENT_ENV);
    let uid = user.uid;
    assert_eq!(report.get("port_uid"), format!("{uid},{uid},{uid}"));
    let env = report.environ();
    for (k, v) in HOSTILE {
        assert!(env.contains(&format!("{k}={v}")), "{k}: {env:?}");
    }
    assert_eq!(report.get("port_umask"), "0077");
}

// ---- file capabilities ----------------------------------------------------------

/// The bits of capabilities in a `CapEff` mask.
fn cap_bits(caps: &[&str]) -> u64 {
    caps.iter()
        .map(|c| match *c {
            "cap_dac_override" => 1,
            "cap_kill" => 5,
            "cap_setgid" => 6,
            "cap_setuid" => 7,
            "cap_sys_chroot" => 18,
            "cap_sys_admin" => 21,
            other => panic!("no bit for {other}"),
        })
        .fold(0, |m, b| m | 1 << b)
}

#[test]
fn file_capabilities_let_a_port_running_as_the_user_make_the_calls() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = "file_capabilities_let_a_port_running_as_the_user_make_the_calls";
    if !ready(test, &["useradd", "userdel", "setcap", "getcap"], false) {
        return;
    }
    let Some(scratch) = Scratch::new() else {
        println!("SKIP {test}: no directory that honours file capabilities");
        return;
    };
    let user = User::new();
    let alcove = scratch.alcove();
    setcap(&alcove, README_CAPS);
    assert_eq!(getcap(&alcove), sorted(README_CAPS));

    let (checks, expect) = privileged_checks(&scratch);
    let all = with_checks(
        hostile_env_args(),
        &[
            "--umask",
            "077",
            "client_uid",
            "port_uid",
            "port_caps",
            "port_umask",
            "environ",
        ],
    );
    let all = [all, checks.clone()].concat();
    let report = client(&user, &scratch, &args(&scratch, None, &all), CLIENT_ENV);
    let uid = user.uid;
    assert_eq!(report.get("client_uid"), format!("{uid},{uid}"));
    assert_eq!(
        report.get("port_uid"),
        format!("{uid},{uid},{uid}"),
        "the port is the user"
    );
    let caps = u64::from_str_radix(report.get("port_caps"), 16).expect("a hex mask");
    assert_eq!(caps, cap_bits(README_CAPS), "{caps:x}");
    check_all(&report, &expect);
    // Capabilities gained on exec are secure execution (AT_SECURE) too.
    assert_eq!(report.environ(), sanitized(), "{report:#?}");
    assert_eq!(report.get("port_umask"), "0022");

    // Control: without them, the same calls fail.
    setcap(&alcove, &[]);
    assert!(getcap(&alcove).is_empty());
    for check in &checks {
        let report = client(
            &user,
            &scratch,
            &args(&scratch, None, std::slice::from_ref(check)),
            CLIENT_ENV,
        );
        assert!(report.error().contains("EPERM"), "{check}: {report:#?}");
    }
}

/// Runs `check` with the port holding exactly `caps`.
fn with_caps(user: &User, scratch: &Scratch, caps: &[&str], check: String) -> Report {
    setcap(&scratch.alcove(), caps);
    assert_eq!(getcap(&scratch.alcove()), sorted(caps));
    client(user, scratch, &args(scratch, None, &[check]), CLIENT_ENV)
}

fn without<'a>(caps: &[&'a str], cap: &str) -> Vec<&'a str> {
    caps.iter().copied().filter(|c| *c != cap).collect()
}

#[test]
fn chrootex_needs_cap_setgid_setuid_sys_chroot_and_cap_kill_to_end_its_sandbox() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = "chrootex_needs_cap_setgid_setuid_sys_chroot_and_cap_kill_to_end_its_sandbox";
    if !ready(test, &["useradd", "userdel", "setcap", "getcap"], true) {
        return;
    }
    let Some(scratch) = Scratch::new() else {
        println!("SKIP {test}: no directory that honours file capabilities");
        return;
    };
    let user = User::new();

    // Exactly these: the seed's session works.
    let report = with_caps(&user, &scratch, CHROOTEX_CAPS, chrootex_check(sandbox_id()));
    assert_eq!(report.get("chrootex"), "test test");

    // Without any one of them, it does not.
    for (cap, call) in [
        // setgroups, before setgid, is the first call that needs it.
        ("cap_setgid", "setgroups"),
        ("cap_setuid", "setuid"),
        ("cap_sys_chroot", "chroot"),
    ] {
        let caps = without(CHROOTEX_CAPS, cap);
        let report = with_caps(&user, &scratch, &caps, chrootex_check(sandbox_id()));
        let error = report.error();
        assert!(
            error.contains(&format!("{call}: {call} [")) && error.contains("EPERM"),
            "without {cap}: {report:#?}"
        );
    }

    // The port cannot signal the sandbox, another user, without CAP_KILL:
    // when the Drv goes, a sandbox that does not stop at the end of its
    // stdin stays (killed here).
    let id = sandbox_id();
    let report = with_caps(&user, &scratch, CHROOTEX_CAPS, teardown_check(id));
    let left = report.keys.get("teardown").cloned().unwrap_or_default();
    if let Some(pid) = left.strip_prefix("alive:") {
        kill_sandbox(pid, id);
    }
    assert!(left.starts_with("alive:"), "{report:#?}");
    let mut caps = CHROOTEX_CAPS.to_vec();
    caps.push("cap_kill");
    let id = sandbox_id();
    let report = with_caps(&user, &scratch, &caps, teardown_check(id));
    if let Some(pid) = report
        .keys
        .get("teardown")
        .and_then(|t| t.strip_prefix("alive:"))
    {
        kill_sandbox(pid, id);
    }
    assert_eq!(report.get("teardown"), "terminated");
}

#[test]
fn nsex_needs_cap_dac_override_setgid_setuid_sys_admin_sys_chroot() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let test = "nsex_needs_cap_dac_override_setgid_setuid_sys_admin_sys_chroot";
    if !ready(test, &["useradd", "userdel", "setcap", "getcap"], true) {
        return;
    }
    if cgroup_mounts().is_empty() {
        println!("SKIP {test}: no cgroup hierarchy mounted");
        return;
    }
    let Some(scratch) = Scratch::new() else {
        println!("SKIP {test}: no directory that honours file capabilities");
        return;
    };
    let user = User::new();

    let group = Cgroup::new();
    let id = sandbox_id();
    let report = with_caps(&user, &scratch, NSEX_CAPS, nsex_check(id, &group));
    assert_nsex(&report, id);
    assert!(group.left().is_empty(), "nsex left {:?}", group.left());

    for (cap, call) in [
        ("cap_dac_override", "mkdir"),
        ("cap_setgid", "setgroups"),
        ("cap_setuid", "setuid"),
        ("cap_sys_admin", "clone"),
        ("cap_sys_chroot", "chroot"),
    ] {
        let group = Cgroup::new();
        let caps = without(NSEX_CAPS, cap);
        let report = with_caps(&user, &scratch, &caps, nsex_check(sandbox_id(), &group));
        let error = report.error();
        assert!(
            error.contains(&format!("{call} ["))
                && (error.contains("EPERM") || error.contains("EACCES")),
            "without {cap}: {report:#?}"
        );
        assert!(
            group.left().is_empty(),
            "without {cap}: left {:?}",
            group.left()
        );
    }
}
