//! Bad arguments for every call the `Drv` offers: wrong, out of range,
//! empty and oversize. Each is refused with an `Err` whose message names
//! the call and the process and says what was wrong (the errno's name when
//! the kernel refused it), never a panic, a hang or a wrong `Ok`; and after
//! each, the same process still answers `getpid`. Then payloads the typed
//! API cannot produce, sent as raw `Call` frames: each is answered with
//! `Malformed`, and the process serves on.
//!
//! Everything happens in children of the port (credentials, host name and
//! environment of the test process are never touched), which die with the
//! `Drv`; files are made in a [`TempDir`].

use alcove_client::{Drv, Error, Opt, Path, Pid, PrctlArg, Rlimit, SigHandler};
use alcove_proto::{Call, CallError, Reply};
use alcove_tests::raw::RawPort;
use alcove_tests::{HostnameGuard, TempDir, drv, host_name, require_root};

const O_RDONLY: i32 = 0;
const O_WRONLY: i32 = 0o1;
const O_CREAT: i32 = 0o100;
const O_DIRECTORY: i32 = 0o200000;
const O_TMPFILE: i32 = 0o20000000 | O_DIRECTORY;
const SIGKILL: i32 = 9;
const SIGPIPE: i32 = 13;
const SIGCHLD: i32 = 17;
const PR_SET_NAME: i32 = 15;
const PR_GET_NAME: i32 = 16;
const PR_SET_NO_NEW_PRIVS: i32 = 38;
const CLONE_VM: u64 = 0x100;
const CLONE_IO: u64 = 0x8000_0000;
const CLONE_NEWUTS: i32 = 0x0400_0000;
const RLIMIT_NOFILE: i32 = 7;
/// Longer than `PATH_MAX` (4096).
const LONG: usize = 5000;

/// Counts the refusals, and checks each one.
struct Refusals<'a> {
    drv: &'a Drv,
    count: usize,
}

impl Refusals<'_> {
    /// `result`, of `call` sent to `path`, is an `Err` whose message starts
    /// with the call and the path and holds each of `want`; and the process
    /// at `serving` still answers `getpid`.
    #[track_caller]
    fn check<T: std::fmt::Debug>(
        &mut self,
        call: &str,
        path: &[Pid],
        serving: &[Pid],
        result: Result<T, Error>,
        want: &[&str],
    ) {
        let err = match result {
            Ok(v) => panic!("{call} {}: a bad argument got Ok({v:?})", Path::from(path)),
            Err(e) => e,
        };
        let text = err.to_string();
        let head = format!("{call} {}: ", Path::from(path));
        assert!(text.starts_with(&head), "{text:?} does not start {head:?}");
        for w in want {
            assert!(text.contains(w), "{text:?} does not say {w:?}");
        }
        match self.drv.getpid(serving) {
            Ok(pid) => {
                if let Some(&last) = serving.last() {
                    assert_eq!(pid, last, "after {text:?}");
                }
            }
            Err(e) => panic!("after {text:?}, {serving:?} no longer serves: {e}"),
        }
        self.count += 1;
    }

    /// [`check`](Self::check) of a call to `path` that must leave `path`
    /// itself serving.
    #[track_caller]
    fn at<T: std::fmt::Debug>(
        &mut self,
        call: &str,
        path: &[Pid],
        result: Result<T, Error>,
        want: &[&str],
    ) {
        self.check(call, path, path, result, want);
    }
}

fn bytes_with_nul(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.insert(v.len() / 2, 0);
    v
}

fn long_path() -> Vec<u8> {
    let mut v = b"/".to_vec();
    v.resize(LONG, b'a');
    v
}

#[test]
fn every_call_refuses_bad_arguments_and_the_process_serves_on() {
    const TEST: &str = "every_call_refuses_bad_arguments_and_the_process_serves_on";
    if !require_root(TEST) {
        return;
    }
    let _hostname = HostnameGuard(host_name());
    let tmp = TempDir::new("badargs");
    let file = tmp.join(b"file");
    std::fs::write(alcove_tests::os_path(&file), b"data").unwrap();
    let dir = tmp.join(b"dir");
    std::fs::create_dir(alcove_tests::os_path(&dir)).unwrap();
    let missing = tmp.join(b"missing/below");
    let long = long_path();
    let nul = bytes_with_nul(&String::from_utf8_lossy(&file));

    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let p: &[Pid] = &[c];
    let mut r = Refusals {
        drv: &drv,
        count: 0,
    };
    const NAMETOOLONG: &[&str] = &["ENAMETOOLONG"];
    const INVAL: &[&str] = &["EINVAL"];
    const NOENT: &[&str] = &["ENOENT"];
    const NOTDIR: &[&str] = &["ENOTDIR"];
    const BADF: &[&str] = &["EBADF"];

    // ---- paths: too long, with a NUL, empty, missing, of the wrong type ----
    r.at("chdir", p, drv.chdir(p, &long), NAMETOOLONG);
    r.at("chdir", p, drv.chdir(p, &nul), INVAL);
    r.at("chdir", p, drv.chdir(p, ""), NOENT);
    r.at("chdir", p, drv.chdir(p, &missing), NOENT);
    r.at("chdir", p, drv.chdir(p, &file), NOTDIR);
    r.at("chmod", p, drv.chmod(p, &long, 0o644), NAMETOOLONG);
    r.at("chmod", p, drv.chmod(p, &nul, 0o644), INVAL);
    r.at("chmod", p, drv.chmod(p, &missing, 0o644), NOENT);
    r.at(
        "chmod",
        p,
        drv.chmod(p, &file, 0o17_7777),
        &["bad argument", "mode 0o177777", "0o7777"],
    );
    r.at("chown", p, drv.chown(p, &long, 0, 0), NAMETOOLONG);
    r.at("chown", p, drv.chown(p, &nul, 0, 0), INVAL);
    r.at("chown", p, drv.chown(p, &missing, 0, 0), NOENT);
    r.at("chroot", p, drv.chroot(p, &long), NAMETOOLONG);
    r.at("chroot", p, drv.chroot(p, &nul), INVAL);
    r.at("chroot", p, drv.chroot(p, ""), NOENT);
    r.at("chroot", p, drv.chroot(p, &missing), NOENT);
    r.at("chroot", p, drv.chroot(p, &file), NOTDIR);
    r.at("mkdir", p, drv.mkdir(p, &long, 0o755), NAMETOOLONG);
    r.at("mkdir", p, drv.mkdir(p, &nul, 0o755), INVAL);
    r.at("mkdir", p, drv.mkdir(p, "", 0o755), NOENT);
    r.at("mkdir", p, drv.mkdir(p, &missing, 0o755), NOENT);
    r.at("mkdir", p, drv.mkdir(p, &dir, 0o755), &["EEXIST"]);
    let fresh = tmp.join(b"fresh");
    r.at(
        "mkdir",
        p,
        drv.mkdir(p, &fresh, 0o40_0755),
        &["bad argument", "mode 0o400755", "0o7777"],
    );
    assert!(!alcove_tests::os_path(&fresh).exists(), "refused, not made");
    r.at("rmdir", p, drv.rmdir(p, &long), NAMETOOLONG);
    r.at("rmdir", p, drv.rmdir(p, &nul), INVAL);
    r.at("rmdir", p, drv.rmdir(p, ""), NOENT);
    r.at("rmdir", p, drv.rmdir(p, &missing), NOENT);
    r.at("rmdir", p, drv.rmdir(p, &file), NOTDIR);
    r.at("readdir", p, drv.readdir(p, &long), NAMETOOLONG);
    r.at("readdir", p, drv.readdir(p, &nul), INVAL);
    r.at("readdir", p, drv.readdir(p, ""), NOENT);
    r.at("readdir", p, drv.readdir(p, &missing), NOENT);
    r.at("readdir", p, drv.readdir(p, &file), NOTDIR);
    r.at("umount", p, drv.umount(p, &long), NAMETOOLONG);
    r.at("umount", p, drv.umount(p, &nul), INVAL);
    r.at("umount", p, drv.umount(p, &missing), NOENT);
    r.at("umount", p, drv.umount(p, &dir), INVAL); // not a mount point
    r.at(
        "mount",
        p,
        drv.mount(p, "none", &long, "tmpfs", 0, ""),
        NAMETOOLONG,
    );
    r.at(
        "mount",
        p,
        drv.mount(p, "none", &nul, "tmpfs", 0, ""),
        INVAL,
    );
    r.at("mount", p, drv.mount(p, &nul, &dir, "tmpfs", 0, ""), INVAL);
    r.at(
        "mount",
        p,
        drv.mount(p, "none", &dir, "tmp\0fs", 0, ""),
        INVAL,
    );
    r.at(
        "mount",
        p,
        drv.mount(p, "none", &dir, "tmpfs", 0, "a\0b"),
        INVAL,
    );
    r.at(
        "mount",
        p,
        drv.mount(p, "none", &missing, "tmpfs", 0, ""),
        NOENT,
    );
    r.at(
        "mount",
        p,
        drv.mount(p, "none", &dir, "nosuchfs", 0, ""),
        &["ENODEV"],
    );

    // ---- open, read, write, close: paths, flags, modes, descriptors ----
    r.at("open", p, drv.open(p, &long, O_RDONLY, 0), NAMETOOLONG);
    r.at("open", p, drv.open(p, &nul, O_RDONLY, 0), INVAL);
    r.at("open", p, drv.open(p, "", O_RDONLY, 0), NOENT);
    r.at("open", p, drv.open(p, &missing, O_RDONLY, 0), NOENT);
    r.at("open", p, drv.open(p, &file, O_DIRECTORY, 0), NOTDIR);
    r.at("open", p, drv.open(p, &dir, O_TMPFILE, 0o600), INVAL); // O_TMPFILE needs write access
    let created = tmp.join(b"created");
    r.at(
        "open",
        p,
        drv.open(p, &created, O_CREAT | O_WRONLY, 0o1_0644),
        &["bad argument", "mode 0o10644", "0o7777"],
    );
    assert!(
        !alcove_tests::os_path(&created).exists(),
        "refused, not made"
    );
    for fd in [-1, i32::MIN, 1_000_000, i32::MAX] {
        r.at("read", p, drv.read(p, fd, 16), BADF);
        r.at("write", p, drv.write(p, fd, "x"), BADF);
        r.at("close", p, drv.close(p, fd), BADF);
    }
    for fd in [0, 1, 2] {
        r.at(
            "read",
            p,
            drv.read(p, fd, 16),
            &["bad argument", "the loop's own"],
        );
        r.at(
            "write",
            p,
            drv.write(p, fd, "x"),
            &["bad argument", "the loop's own"],
        );
        r.at(
            "close",
            p,
            drv.close(p, fd),
            &["bad argument", "the loop's own"],
        );
    }
    let fd = drv.open(p, &file, O_RDONLY, 0).unwrap();
    for count in [u64::MAX, 1 << 40, alcove_proto::MAX_PAYLOAD as u64] {
        r.at(
            "read",
            p,
            drv.read(p, fd, count),
            &["bad argument", "bytes"],
        );
    }
    r.at("write", p, drv.write(p, fd, "x"), BADF); // opened read-only
    r.at(
        "write",
        p,
        drv.write(p, fd, vec![0u8; alcove_proto::MAX_FRAME]),
        &["exceeds"],
    );
    drv.close(p, fd).unwrap();
    r.at("close", p, drv.close(p, fd), BADF); // closed already

    // ---- the environment ----
    for name in [&b""[..], b"A=B", b"A\0B", b"="] {
        r.at("setenv", p, drv.setenv(p, name, "v", true), INVAL);
        r.at("unsetenv", p, drv.unsetenv(p, name), INVAL);
    }
    r.at("setenv", p, drv.setenv(p, "NAME", "a\0b", true), INVAL);
    assert_eq!(drv.getenv(p, "NAME").unwrap(), None, "refused, not set");

    // ---- credentials, limits, host name, namespaces ----
    r.at("setuid", p, drv.setuid(p, u32::MAX), INVAL);
    r.at("setgid", p, drv.setgid(p, u32::MAX), INVAL);
    r.at("setgroups", p, drv.setgroups(p, &[u32::MAX]), INVAL);
    r.at("setgroups", p, drv.setgroups(p, &vec![0; 70_000]), INVAL); // > NGROUPS_MAX
    assert_eq!(drv.getuid(p).unwrap(), 0);
    for resource in [-1, 16, 999, i32::MIN] {
        r.at("getrlimit", p, drv.getrlimit(p, resource), INVAL);
        let lim = Rlimit {
            cur: Some(1),
            max: Some(1),
        };
        r.at("setrlimit", p, drv.setrlimit(p, resource, lim), INVAL);
    }
    let upside_down = Rlimit {
        cur: Some(100),
        max: Some(10),
    };
    r.at(
        "setrlimit",
        p,
        drv.setrlimit(p, RLIMIT_NOFILE, upside_down),
        INVAL,
    );
    r.at("sethostname", p, drv.sethostname(p, vec![b'h'; 65]), INVAL);
    r.at("setns", p, drv.setns(p, &long, 0), NAMETOOLONG);
    r.at("setns", p, drv.setns(p, &nul, 0), INVAL);
    r.at("setns", p, drv.setns(p, &missing, 0), NOENT);
    r.at("setns", p, drv.setns(p, &file, 0), INVAL); // not a namespace
    r.at(
        "setns",
        p,
        drv.setns(p, "/proc/self/ns/net", CLONE_NEWUTS),
        INVAL,
    );
    r.at("setns", p, drv.setns(p, "/proc/self/ns/net", -1), INVAL);
    // (unshare(CLONE_VM) of a single-threaded process is a no-op that
    // succeeds; clone refuses it, the child would share our memory.)
    for flags in [1, 1 << 32, u64::MAX] {
        r.at("unshare", p, drv.unshare(p, flags), INVAL);
    }
    for flags in [1, CLONE_VM, 1 << 32, u64::MAX] {
        r.at("clone", p, drv.clone(p, flags), INVAL);
    }
    // The edge of the range: bit 31, CLONE_IO, is a flag, not too large.
    let io = drv.clone(p, CLONE_IO).unwrap();
    assert_eq!(drv.getpid(&[c, io]).unwrap(), io);
    drv.exit(&[c, io], 0).unwrap();

    // ---- signals and processes ----
    for signum in [-1, 0, 65, 1000, i32::MIN] {
        r.at(
            "sigaction",
            p,
            drv.sigaction(p, signum, SigHandler::Trap),
            INVAL,
        );
        if signum != 0 {
            // 0 only asks whether the process exists.
            r.at("kill", p, drv.kill(p, c.as_raw(), signum), INVAL);
        }
        r.at(
            "signal_constant",
            p,
            drv.signal_constant(p, signum),
            &["bad argument", &format!("no signal has the value {signum}")],
        );
    }
    r.at(
        "sigaction",
        p,
        drv.sigaction(p, SIGKILL, SigHandler::Trap),
        INVAL,
    );
    r.at(
        "sigaction",
        p,
        drv.sigaction(p, SIGCHLD, SigHandler::Ign),
        &["bad argument", "sigchld option"],
    );
    r.at(
        "sigaction",
        p,
        drv.sigaction(p, SIGPIPE, SigHandler::Dfl),
        &["bad argument", "SIGPIPE"],
    );
    for handler in [SigHandler::Dfl, SigHandler::Ign, SigHandler::Trap] {
        r.at(
            "sigaction",
            p,
            drv.sigaction(p, alcove_loop::PARENT_GONE, handler),
            &["bad argument", "parent is gone"],
        );
    }
    for pid in [999_999_999, -999_999_999, i32::MIN] {
        r.at("kill", p, drv.kill(p, pid, 0), &["ESRCH"]);
    }
    for (opt, value) in [
        (Opt::Maxchild, -1),
        (Opt::Maxchild, i64::MAX),
        (Opt::Maxforkdepth, -1),
        (Opt::Maxforkdepth, 1 << 40),
        (Opt::ExitStatus, 2),
        (Opt::Sigchld, -1),
        (Opt::Termsig, 7),
        (Opt::Verbose, -1),
        (Opt::Childlimit, 1),
        (Opt::Signaloneof, 65),
        (Opt::Signaloneof, -1),
    ] {
        r.at(
            "setopt",
            p,
            drv.setopt(p, opt, value),
            &["bad argument", opt.name()],
        );
    }
    // maxforkdepth reached: c is at depth 1.
    drv.setopt(p, Opt::Maxforkdepth, 1).unwrap();
    r.at("fork", p, drv.fork(p), &["EAGAIN"]);
    drv.setopt(p, Opt::Maxforkdepth, 16).unwrap();

    // ---- prctl ----
    r.at("prctl", p, drv.prctl(p, -1, &[]), INVAL);
    r.at("prctl", p, drv.prctl(p, 9999, &[]), INVAL);
    r.at(
        "prctl",
        p,
        drv.prctl(p, PR_SET_NAME, &vec![PrctlArg::Int(0); 5]),
        &["bad argument", "4 arguments"],
    );
    // PR_SET_NAME with a NULL name, PR_GET_NAME into address 1.
    r.at(
        "prctl",
        p,
        drv.prctl(p, PR_SET_NAME, &[PrctlArg::Int(0)]),
        &["EFAULT"],
    );
    r.at(
        "prctl",
        p,
        drv.prctl(p, PR_GET_NAME, &[PrctlArg::Int(1)]),
        &["EFAULT"],
    );
    // A buffer where an integer is wanted: its address is not 1.
    let buf = PrctlArg::Buf(b"1".to_vec().into());
    r.at("prctl", p, drv.prctl(p, PR_SET_NO_NEW_PRIVS, &[buf]), INVAL);
    assert_eq!(
        alcove_tests::proc_status(c.as_raw(), "NoNewPrivs").as_deref(),
        Some("0")
    );

    // ---- constants: unknown names and values ----
    for name in [
        "",
        "CLONE_NOSUCH",
        "SIGNOSUCH",
        "nosuch",
        "RLIMIT_",
        "O_RDONLY\0",
    ] {
        r.at(
            "define",
            p,
            drv.define(p, &[name]),
            &["bad argument", "unknown"],
        );
    }
    r.at(
        "define",
        p,
        drv.define(p, &["CLONE_NEWNS", "NOSUCH"]),
        &["NOSUCH"],
    );
    r.at(
        "clone_define",
        p,
        drv.clone_define(p, "SIGTERM"),
        &["bad argument", "SIGTERM"],
    );
    r.at(
        "file_define",
        p,
        drv.file_define(p, "MS_RDONLY"),
        &["bad argument", "MS_RDONLY"],
    );
    r.at(
        "mount_define",
        p,
        drv.mount_define(p, "O_RDONLY"),
        &["bad argument", "O_RDONLY"],
    );
    r.at(
        "prctl_define",
        p,
        drv.prctl_define(p, "PR_NOSUCH"),
        &["bad argument", "PR_NOSUCH"],
    );
    r.at(
        "rlimit_define",
        p,
        drv.rlimit_define(p, "RLIMIT_NOSUCH"),
        &["bad argument", "RLIMIT_NOSUCH"],
    );
    r.at(
        "signal_define",
        p,
        drv.signal_define(p, "SIGNOSUCH"),
        &["bad argument", "SIGNOSUCH"],
    );

    // ---- exec: in a child of its own, which stays a loop process ----
    let e = drv.fork(&[]).unwrap();
    let pe: &[Pid] = &[e];
    let no_env: &[&str] = &[];
    r.at(
        "execve",
        pe,
        drv.execve(pe, &long, &["x"], no_env),
        NAMETOOLONG,
    );
    r.at(
        "execve",
        pe,
        drv.execve(pe, &nul, &["x"], no_env),
        &["bad argument", "path holds a NUL"],
    );
    r.at("execve", pe, drv.execve(pe, "", &["x"], no_env), NOENT);
    r.at(
        "execve",
        pe,
        drv.execve(pe, &missing, &["x"], no_env),
        NOENT,
    );
    r.at(
        "execve",
        pe,
        drv.execve(pe, &file, &["x"], no_env),
        &["EACCES"],
    );
    r.at(
        "execve",
        pe,
        drv.execve(pe, &dir, &["x"], no_env),
        &["EACCES"],
    );
    r.at(
        "execve",
        pe,
        drv.execve(pe, "/bin/true", &["tr\0ue"], no_env),
        &["bad argument", "argv[0] holds a NUL"],
    );
    r.at(
        "execve",
        pe,
        drv.execve(pe, "/bin/true", &["true"], &["A=\0"]),
        &["bad argument", "env[0] holds a NUL"],
    );
    let no_argv: &[&str] = &[];
    r.at(
        "execve",
        pe,
        drv.execve(pe, "/bin/true", no_argv, no_env),
        &["bad argument", "argv is empty"],
    );
    r.at(
        "execve",
        pe,
        drv.execve(pe, "/bin/true", &["true"], &["NOEQUALS"]),
        &["bad argument", "env[0] is not NAME=value"],
    );
    r.at(
        "execvp",
        pe,
        drv.execvp(pe, &nul, &["x"]),
        &["bad argument", "file holds a NUL"],
    );
    r.at("execvp", pe, drv.execvp(pe, "", &["x"]), NOENT);
    r.at(
        "execvp",
        pe,
        drv.execvp(pe, "alcove-no-such-program", &["x"]),
        NOENT,
    );
    r.at(
        "execvp",
        pe,
        drv.execvp(pe, "true", &["tr\0ue"]),
        &["bad argument", "argv[0] holds a NUL"],
    );
    r.at(
        "execvp",
        pe,
        drv.execvp(pe, "true", no_argv),
        &["bad argument", "argv is empty"],
    );
    r.at(
        "execve",
        &[],
        drv.execve(&[], "/bin/true", &["true"], no_env),
        &["bad argument", "fork a child"],
    );

    // ---- paths that lead nowhere ----
    let nobody = Pid::from_raw(999_999_999);
    for bad in [
        vec![nobody],
        vec![c, nobody],
        vec![Pid::from_raw(0)],
        vec![Pid::from_raw(-5)],
    ] {
        r.check("getpid", &bad, &[], drv.getpid(&bad), &["no such process"]);
        r.check("fork", &bad, &[], drv.fork(&bad), &["no such process"]);
        r.check("getcwd", &bad, &[], drv.getcwd(&bad), &["no such process"]);
        r.check(
            "environ",
            &bad,
            &[],
            drv.environ(&bad),
            &["no such process"],
        );
        r.check(
            "version",
            &bad,
            &[],
            drv.version(&bad),
            &["no such process"],
        );
        r.check("pid", &bad, &[], drv.pid(&bad), &["no such process"]);
        r.check(
            "clearenv",
            &bad,
            &[],
            drv.clearenv(&bad),
            &["no such process"],
        );
        r.check("getuid", &bad, &[], drv.getuid(&bad), &["no such process"]);
        r.check("getgid", &bad, &[], drv.getgid(&bad), &["no such process"]);
        r.check(
            "gethostname",
            &bad,
            &[],
            drv.gethostname(&bad),
            &["no such process"],
        );
        r.check(
            "getopt",
            &bad,
            &[],
            drv.getopt(&bad, Opt::Maxchild),
            &["no such process"],
        );
        r.check("exit", &bad, &[], drv.exit(&bad, 0), &["no such process"]);
    }
    for status in [256, -1, i32::MIN] {
        r.at(
            "exit",
            p,
            drv.exit(p, status),
            &["bad argument", "not in 0..=255"],
        );
    }
    r.at("eof", &[], drv.eof(&[]), &["bad argument", "drop the Drv"]);
    r.check("eof", &[c, nobody], p, drv.eof(&[c, nobody]), &["ESRCH"]);
    r.at("stdin", p, drv.stdin(p, b"data"), &["has not exec'd"]);

    // The environment of c is untouched by all this, and c and e serve.
    assert_eq!(drv.getpid(p).unwrap(), c);
    assert_eq!(drv.getpid(pe).unwrap(), e);
    assert_eq!(drv.pid(&[]).unwrap().len(), 2);
    let raw = raw_frames();
    println!(
        "FIGURE badargs: {} bad calls through the Drv and {raw} raw frames, all refused, process serving",
        r.count
    );
}

/// Payloads of `Call` frames that the `Drv` cannot produce, each with an
/// out-of-range field, to the port and to a child: each is answered
/// `Malformed`, and both serve on. Returns how many were sent.
fn raw_frames() -> usize {
    let mut port = RawPort::start();
    let child = port.fork(1, &[]);
    // Variant numbers from PROTOCOL.md section 7.
    let cases: &[(&str, &[u8])] = &[
        ("an unknown call", &[200, 1]),
        ("Getopt with an Opt of 99", &[7, 99]),
        ("Setopt with an Opt of 9", &[8, 9, 2]),
        ("Sigaction with a SigHandler of 3", &[38, 2, 1, 3]),
        ("Setenv with a bool of 2", &[32, 1, b'A', 1, b'b', 2]),
        ("Constant with a Table of 7", &[43, 7, 1, b'A']),
        ("Prctl with a PrctlArg of 3", &[28, 30, 1, 3, 0]),
        ("Prctl with a Field of 2", &[28, 30, 1, 2, 1, 2, 0]),
        (
            "Kill with a pid past i32",
            &[6, 0xff, 0xff, 0xff, 0xff, 0x7f, 0],
        ),
        (
            "Read with a count past u64",
            &[
                29, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
        ),
        ("Open cut short", &[27, 5, b'/', b'e']),
        ("Getpid with bytes after it", &[2, 0]),
        ("Constant with a name not UTF-8", &[43, 0, 2, 0xff, 0xfe]),
        ("Setrlimit with an Option of 2", &[36, 14, 2, 0, 0]),
    ];
    let mut id = 10;
    for path in [vec![], vec![child]] {
        for (what, payload) in cases {
            id += 1;
            match port.call_raw(id, &path, payload) {
                Err(CallError::Malformed(why)) => assert!(!why.is_empty(), "{what}"),
                other => panic!("{what} to {path:?}: {other:?}"),
            }
            id += 1;
            match port.ask(id, &path, &Call::Getpid) {
                Ok(Reply::Pid(_)) => {}
                other => panic!("getpid after {what} to {path:?}: {other:?}"),
            }
        }
    }
    2 * cases.len()
}
