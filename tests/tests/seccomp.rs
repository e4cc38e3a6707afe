//! A loop process under a seccomp allowlist of exactly its steady-state
//! system calls (`alcove_loop::STEADY_STATE_SYSCALLS`) and what the calls
//! of the test need, with `SECCOMP_RET_KILL_PROCESS` for everything else:
//! it keeps serving calls, forking, relaying an exec'd program's output and
//! reporting exits, and then exits cleanly. A control takes one steady-state
//! syscall out of the same filter and watches the process die of `SIGSYS`,
//! which shows that the filter is enforced. (Checked by hand: taking out
//! any other single steady-state syscall but `munmap` and `mremap`, which
//! only some patterns of buffer growth need, also makes the first test
//! fail.)
//!
//! The filtered processes are children of the port and die with it; the
//! test's file is in a [`TempDir`].

use std::time::Duration;

use alcove_client::{Drv, Error, Event, Pid, PrctlArg};
use alcove_tests::bpf::sock_fprog;
use alcove_tests::{TempDir, drv, proc_status, require_busybox, require_root};

const PR_SET_SECCOMP: i32 = 22;
const PR_SET_NO_NEW_PRIVS: i32 = 38;
const SECCOMP_MODE_FILTER: u64 = 2;
const SIGSYS: i32 = 31;
const SIGTERM: i32 = 15;
const O_RDONLY: i32 = 0;

/// What the test's own calls need beyond the steady state: the served
/// `getcwd` and `open`, and the start-up of the static busybox exec'd
/// under the filter (`echo`, `seq`, which stats its stdout, and `sleep`).
#[cfg(target_arch = "x86_64")]
const EXTRA: &[(&str, libc::c_long)] = &[
    ("getcwd", libc::SYS_getcwd),
    ("open", libc::SYS_open),
    ("arch_prctl", libc::SYS_arch_prctl),
    ("set_tid_address", libc::SYS_set_tid_address),
    ("rseq", libc::SYS_rseq),
    ("prlimit64", libc::SYS_prlimit64),
    ("readlink", libc::SYS_readlink),
    ("getrandom", libc::SYS_getrandom),
    ("mprotect", libc::SYS_mprotect),
    ("getuid", libc::SYS_getuid),
    ("newfstatat", libc::SYS_newfstatat),
    ("clock_nanosleep", libc::SYS_clock_nanosleep),
];
#[cfg(target_arch = "aarch64")]
const EXTRA: &[(&str, libc::c_long)] = &[
    ("getcwd", libc::SYS_getcwd),
    ("openat", libc::SYS_openat),
    ("set_tid_address", libc::SYS_set_tid_address),
    ("rseq", libc::SYS_rseq),
    ("prlimit64", libc::SYS_prlimit64),
    ("readlinkat", libc::SYS_readlinkat),
    ("getrandom", libc::SYS_getrandom),
    ("mprotect", libc::SYS_mprotect),
    ("getuid", libc::SYS_getuid),
    ("newfstatat", libc::SYS_newfstatat),
    ("clock_nanosleep", libc::SYS_clock_nanosleep),
];

/// The steady-state syscall the control takes out: each turn of the loop
/// waits in it.
#[cfg(target_arch = "x86_64")]
const EPOLL_WAIT: &str = "epoll_wait";
#[cfg(target_arch = "aarch64")]
const EPOLL_WAIT: &str = "epoll_pwait";

/// A seccomp filter that allows exactly the syscalls `nrs` of this
/// architecture and kills the process for anything else, including any
/// syscall of another architecture's ABI.
fn allow_only(nrs: &[libc::c_long]) -> Vec<u8> {
    use alcove_tests::bpf::{AUDIT_ARCH, JEQ_K, LD_W_ABS, RET_ALLOW, RET_K, RET_KILL_PROCESS, bpf};
    let n = nrs.len();
    assert!(n < 255, "one jump must reach past every comparison");
    // struct seccomp_data: int nr; __u32 arch; ...
    let mut prog = vec![
        bpf(LD_W_ABS, 0, 0, 4),
        bpf(JEQ_K, 1, 0, AUDIT_ARCH),
        bpf(RET_K, 0, 0, RET_KILL_PROCESS),
        bpf(LD_W_ABS, 0, 0, 0),
    ];
    for (i, &nr) in nrs.iter().enumerate() {
        // Equal: jump over the comparisons left and the kill, to allow.
        let nr = u32::try_from(nr).expect("a syscall number");
        prog.push(bpf(JEQ_K, (n - i) as u8, 0, nr));
    }
    prog.push(bpf(RET_K, 0, 0, RET_KILL_PROCESS));
    prog.push(bpf(RET_K, 0, 0, RET_ALLOW));
    prog.concat()
}

/// The allowlist: the loop's steady state, then [`EXTRA`], without the
/// names in `except`.
fn allowlist(except: &[&str]) -> Vec<(&'static str, libc::c_long)> {
    let steady = alcove_loop::STEADY_STATE_SYSCALLS.iter().map(|&name| {
        let nr = alcove_loop::steady_state_syscall(name).expect("a number");
        (name, nr)
    });
    let all: Vec<_> = steady
        .chain(EXTRA.iter().copied())
        .filter(|(name, _)| !except.contains(name))
        .collect();
    assert_eq!(
        all.len() + except.len(),
        alcove_loop::STEADY_STATE_SYSCALLS.len() + EXTRA.len(),
        "every name taken out is on the list"
    );
    all
}

/// `PR_SET_NO_NEW_PRIVS`, then `PR_SET_SECCOMP` with a filter allowing
/// exactly `allowed`, in the process at `path`.
fn install(drv: &Drv, path: &[Pid], allowed: &[(&str, libc::c_long)]) -> Result<(), Error> {
    let (ret, _) = drv.prctl(path, PR_SET_NO_NEW_PRIVS, &[PrctlArg::Int(1)])?;
    assert_eq!(ret, 0);
    let nrs: Vec<libc::c_long> = allowed.iter().map(|&(_, nr)| nr).collect();
    let (ret, _) = drv.prctl(
        path,
        PR_SET_SECCOMP,
        &[
            PrctlArg::Int(SECCOMP_MODE_FILTER),
            sock_fprog(allow_only(&nrs)),
        ],
    )?;
    assert_eq!(ret, 0);
    Ok(())
}

/// How the process at `path` ended: its next event that is not a
/// `SIGCHLD` it reported for its own children (the `sigchld` option),
/// within 30 s.
fn end_of(drv: &Drv, path: &[Pid]) -> Event {
    const SIGCHLD: i32 = 17;
    loop {
        match drv.event(path, Duration::from_secs(30)).expect("event") {
            Some(Event::Signal { signum: SIGCHLD }) => {}
            Some(e) => return e,
            None => panic!("{path:?} did not end within 30 s"),
        }
    }
}

/// Everything the exec'd program at `path` writes to stdout, to its end.
fn all_stdout(drv: &Drv, path: &[Pid]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        match drv.stdout(path, Duration::from_secs(30)) {
            Ok(Some(d)) => out.extend_from_slice(&d),
            Ok(None) => panic!("no stdout from {path:?} within 30 s, got {out:?}"),
            Err(Error::Closed { .. }) => return out,
            Err(e) => panic!("stdout of {path:?}: {e}"),
        }
    }
}

/// Whether this test can run here; if not, prints `SKIP <test>: <why>`.
fn runnable(test: &str) -> bool {
    if !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        println!("SKIP {test}: the filter is written for x86_64 and aarch64 only");
        return false;
    }
    require_root(test) && require_busybox(test)
}

#[test]
fn a_loop_child_keeps_serving_under_an_allowlist_of_its_steady_state() {
    const TEST: &str = "a_loop_child_keeps_serving_under_an_allowlist_of_its_steady_state";
    if !runnable(TEST) {
        return;
    }
    let dir = TempDir::new("seccomp");
    let data = b"what the filtered child reads\n";
    let file = dir.join(b"data");
    std::fs::write(alcove_tests::os_path(&file), data).unwrap();
    let cwd = std::env::current_dir().unwrap();

    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let allowed = allowlist(&[]);
    install(&drv, &[c], &allowed).unwrap();
    assert_eq!(proc_status(c.as_raw(), "Seccomp").as_deref(), Some("2"));
    assert_eq!(
        proc_status(c.as_raw(), "Seccomp_filters").as_deref(),
        Some("1")
    );

    let mut served = 0usize;
    let mut count = |n: usize| served += n;
    for round in 0..40 {
        // Calls served by c itself.
        assert_eq!(drv.getpid(&[c]).unwrap(), c);
        assert_eq!(
            drv.getcwd(&[c]).unwrap(),
            cwd.as_os_str().as_encoded_bytes()
        );
        let fd = drv.open(&[c], &file, O_RDONLY, 0).unwrap();
        assert_eq!(drv.read(&[c], fd, 4096).unwrap(), data);
        drv.close(&[c], fd).unwrap();
        count(5);
        // A grandchild, forked under the filter (it inherits it), and
        // calls relayed to it through c.
        let g = drv.fork(&[c]).unwrap();
        assert_eq!(drv.getpid(&[c, g]).unwrap(), g);
        assert_eq!(
            drv.getcwd(&[c, g]).unwrap(),
            cwd.as_os_str().as_encoded_bytes()
        );
        assert_eq!(drv.pid(&[c]).unwrap(), vec![g]);
        drv.exit(&[c, g], 0).unwrap();
        count(5);
        assert_eq!(end_of(&drv, &[c, g]), Event::ExitStatus { status: 0 });
        // Every fourth round, a program exec'd in a grandchild, its output
        // relayed through c.
        if round % 4 == 0 {
            let e = drv.fork(&[c]).unwrap();
            let word = format!("round{round}");
            drv.execve(&[c, e], "/bin/busybox", &["echo", &word], &["PATH=/bin"])
                .unwrap();
            count(2);
            assert_eq!(all_stdout(&drv, &[c, e]), format!("{word}\n").as_bytes());
            assert_eq!(end_of(&drv, &[c, e]), Event::ExitStatus { status: 0 });
        }
    }
    // Output large enough to be spliced (32 KiB and more) through c.
    let e = drv.fork(&[c]).unwrap();
    drv.execve(
        &[c, e],
        "/bin/busybox",
        &["seq", "1", "30000"],
        &["PATH=/bin"],
    )
    .unwrap();
    count(2);
    let expected: String = (1..=30000).map(|i| format!("{i}\n")).collect();
    let got = all_stdout(&drv, &[c, e]);
    assert_eq!(got.len(), expected.len());
    assert!(got == expected.as_bytes(), "seq's output is intact");
    assert_eq!(end_of(&drv, &[c, e]), Event::ExitStatus { status: 0 });
    // A program that runs until c kills it.
    let k = drv.fork(&[c]).unwrap();
    drv.execve(&[c, k], "/bin/busybox", &["sleep", "1000"], &["PATH=/bin"])
        .unwrap();
    drv.kill(&[c], k.as_raw(), SIGTERM).unwrap();
    count(3);
    assert_eq!(end_of(&drv, &[c, k]), Event::TermSig { signum: SIGTERM });
    // Still filtered, still serving, and then a clean exit.
    assert_eq!(proc_status(c.as_raw(), "Seccomp").as_deref(), Some("2"));
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
    drv.exit(&[c], 0).unwrap();
    count(2);
    assert_eq!(end_of(&drv, &[c]), Event::ExitStatus { status: 0 });
    assert!(served >= 400, "{served} calls");
    println!(
        "FIGURE seccomp: {} syscalls allowed ({} steady-state + {} for the test's calls), {served} calls served",
        allowed.len(),
        alcove_loop::STEADY_STATE_SYSCALLS.len(),
        EXTRA.len()
    );
}

#[test]
fn the_filter_without_epoll_wait_kills_the_child_at_its_next_turn() {
    const TEST: &str = "the_filter_without_epoll_wait_kills_the_child_at_its_next_turn";
    if !runnable(TEST) {
        return;
    }
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let sibling = drv.fork(&[]).unwrap();
    // The reply to PR_SET_SECCOMP goes out in the same turn; the wait for
    // the next one is a syscall the filter no longer allows.
    install(&drv, &[c], &allowlist(&[EPOLL_WAIT])).unwrap();
    assert_eq!(end_of(&drv, &[c]), Event::TermSig { signum: SIGSYS });
    let err = drv.getpid(&[c]).unwrap_err();
    assert!(matches!(err, Error::BadPid { .. }), "{err}");
    // Only c: its sibling and the port serve on.
    assert_eq!(drv.getpid(&[sibling]).unwrap(), sibling);
    assert_eq!(drv.pid(&[]).unwrap(), vec![sibling]);
}

#[test]
fn the_filter_without_writev_kills_the_child_before_it_answers() {
    const TEST: &str = "the_filter_without_writev_kills_the_child_before_it_answers";
    if !runnable(TEST) {
        return;
    }
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    // Every frame goes out with writev: the reply to PR_SET_SECCOMP is the
    // first thing the filter stops.
    match install(&drv, &[c], &allowlist(&["writev"])) {
        Err(Error::Exited { exited, event, .. }) => {
            assert_eq!(&exited[..], [c]);
            assert_eq!(event, Event::TermSig { signum: SIGSYS });
        }
        other => panic!("expected the child to die of SIGSYS, got {other:?}"),
    }
    assert_eq!(drv.pid(&[]).unwrap(), vec![]);
}
