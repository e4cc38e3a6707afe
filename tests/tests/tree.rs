//! The process tree, end to end: the real `alcove` binary driven through
//! `Drv`. Each test shows one guarantee of ARCHITECTURE.md.

use std::time::{Duration, Instant};

use alcove_client::{Drv, Errno, Error, Event, Message, Notice, Opt, Options, Pid};
use alcove_tests::{drv, fds_of, require_root, start};

const SIGKILL: i32 = 9;
const SIGSTOP: i32 = 19;
const SIGCONT: i32 = 18;
const SIGCHLD: i32 = 17;

/// Reads stdout of `path` until `want` bytes came, or fails.
fn read_exactly(drv: &Drv, path: &[Pid], want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < want {
        assert!(
            Instant::now() < deadline,
            "only {} of {want} bytes",
            got.len()
        );
        if let Some(chunk) = drv.stdout(path, Duration::from_secs(1)).expect("stdout") {
            got.extend_from_slice(&chunk);
        }
    }
    got
}

/// The next event of `path`, within 30 s.
fn next_event(drv: &Drv, path: &[Pid]) -> Event {
    drv.event(path, Duration::from_secs(30))
        .expect("event")
        .expect("an event within 30 s")
}

#[test]
fn the_seed_overview_forks_two_deep_and_talks_to_cat() {
    let drv = drv();
    let c1 = drv.fork(&[]).unwrap();
    let c2 = drv.fork(&[c1]).unwrap();
    assert_eq!(drv.getpid(&[c1, c2]).unwrap(), c2);
    assert_eq!(drv.getpid(&[c1]).unwrap(), c1);
    assert_eq!(drv.pid(&[]).unwrap(), vec![c1]);
    assert_eq!(drv.pid(&[c1]).unwrap(), vec![c2]);
    assert_eq!(drv.getpid(&[]).unwrap().as_raw() as u32, drv.port_pid());

    drv.execvp(&[c1, c2], "/bin/cat", &["/bin/cat"]).unwrap();
    drv.stdin(&[c1, c2], b"hello process\n").unwrap();
    assert_eq!(read_exactly(&drv, &[c1, c2], 14), b"hello process\n");
}

#[test]
fn the_port_greets_with_its_version_and_protocol() {
    let drv = drv();
    assert_eq!(drv.greeting().protocol, alcove_proto::PROTOCOL_VERSION);
    assert_eq!(drv.greeting().version, drv.version(&[]).unwrap());
    let c = drv.fork(&[]).unwrap();
    assert_eq!(drv.version(&[c]).unwrap(), env!("CARGO_PKG_VERSION"));
}

/// Every byte a child wrote arrives before its exit event: 3 MiB on stdout
/// (three times the output credit, so flow control pauses it) and a line
/// on stderr, then the exit status, in that order.
#[test]
fn all_output_arrives_before_the_exit_event() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let n = 3 << 20;
    let script = format!("head -c {n} /dev/zero; echo done; echo bye >&2; exit 7");
    drv.execvp(&[c], "/bin/sh", &["/bin/sh", "-c", &script])
        .unwrap();
    let (mut out, mut err) = (0usize, Vec::new());
    loop {
        match drv.recv(&[c], Duration::from_secs(30)).unwrap() {
            Some(Message::Stdout(d)) => out += d.len(),
            Some(Message::Stderr(d)) => err.extend(d),
            Some(Message::Event(e)) => {
                assert_eq!(e, Event::ExitStatus { status: 7 });
                break;
            }
            Some(Message::Notice(_)) => {}
            None => panic!("nothing for 30 s; {out} bytes so far"),
        }
    }
    assert_eq!(out, n + 5, "stdout bytes before the exit event");
    assert_eq!(err, b"bye\n", "stderr before the exit event");
    // The parent reports SIGCHLD after the exit.
    assert_eq!(next_event(&drv, &[]), Event::Signal { signum: SIGCHLD });
}

#[test]
fn execvp_answers_ok_on_success_and_the_errno_on_failure() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let err = drv
        .execvp(&[c], "/nonexistent/program", &["program"])
        .unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
    // A failed exec leaves the loop running.
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
    let err = drv
        .execve(&[c], "/etc/passwd", &["x"], &[] as &[&str])
        .unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EACCES), "{err}");
    assert_eq!(drv.getpid(&[c]).unwrap(), c);

    drv.execve(
        &[c],
        "/bin/sh",
        &["sh", "-c", "echo $ALCOVE_X"],
        &["ALCOVE_X=from-execve"],
    )
    .unwrap();
    assert_eq!(read_exactly(&drv, &[c], 12), b"from-execve\n");
    assert_eq!(next_event(&drv, &[c]), Event::ExitStatus { status: 0 });
}

#[test]
fn calls_to_or_through_an_execd_process_fail_at_once() {
    let drv = drv().with_timeout(Duration::from_secs(10));
    let c = drv.fork(&[]).unwrap();
    drv.execvp(&[c], "/bin/cat", &["/bin/cat"]).unwrap();
    let started = Instant::now();
    for path in [vec![c], vec![c, Pid::from_raw(4242)]] {
        let err = drv.getpid(&path).unwrap_err();
        match &err {
            Error::Execd { execd, .. } => assert_eq!(execd.pids(), [c]),
            other => panic!("expected Execd, got {other:?}"),
        }
        assert!(err.to_string().contains("exec'd"), "{err}");
    }
    let err = drv.fork(&[c]).unwrap_err();
    assert!(matches!(err, Error::Execd { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusals were not immediate"
    );
    // cat was not fed the calls: it still echoes exactly what it is sent.
    drv.stdin(&[c], b"only this\n").unwrap();
    assert_eq!(read_exactly(&drv, &[c], 10), b"only this\n");
}

#[test]
fn unknown_zero_and_negative_pids_fail_with_the_path() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let cases: [(Vec<Pid>, Pid, Vec<Pid>); 4] = [
        (vec![Pid::from_raw(999_999)], Pid::from_raw(999_999), vec![]),
        (vec![Pid::from_raw(0)], Pid::from_raw(0), vec![]),
        (vec![Pid::from_raw(-5), c], Pid::from_raw(-5), vec![]),
        (
            vec![c, Pid::from_raw(999_998)],
            Pid::from_raw(999_998),
            vec![c],
        ),
    ];
    for (path, bad, parent) in cases {
        let err = drv.getpid(&path).unwrap_err();
        match &err {
            Error::BadPid {
                path: p,
                pid,
                parent: par,
                ..
            } => {
                assert_eq!(p.pids(), &path[..]);
                assert_eq!(*pid, bad);
                assert_eq!(par.pids(), &parent[..]);
            }
            other => panic!("expected BadPid for {path:?}, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("getpid {}", alcove_client::Path::from(&path[..]))),
            "{text}"
        );
    }
    // The tree is healthy after the refusals.
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
}

#[test]
fn errors_name_the_call_the_path_and_the_errno() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    drv.setopt(&[c], Opt::Maxforkdepth, 1).unwrap();
    let err = drv.fork(&[c]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("fork [{c}]: EAGAIN: Resource temporarily unavailable")
    );
    let err = drv.kill(&[c], 999_999, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("kill [{c}]: ESRCH: No such process")
    );
}

/// An exec'd program sees fds 0, 1 and 2 only, even when the client (and
/// so the port it starts) holds a descriptor above 1023 without
/// close-on-exec, and the loops hold one per child pipe.
#[test]
fn an_execd_program_sees_only_stdio() {
    // A descriptor above 1023, not close-on-exec, in the client.
    let nofile = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    if nofile.current.is_some_and(|n| n <= 2048) {
        let raised = rustix::process::Rlimit {
            current: Some(nofile.maximum.unwrap_or(4096).min(4096)),
            maximum: nofile.maximum,
        };
        rustix::process::setrlimit(rustix::process::Resource::Nofile, raised).unwrap();
    }
    let null = rustix::fs::open(
        "/dev/null",
        rustix::fs::OFlags::RDONLY,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    let leak_fd = rustix::io::fcntl_dupfd_cloexec(&null, 1400).unwrap();
    rustix::io::fcntl_setfd(&leak_fd, rustix::io::FdFlags::empty()).unwrap();
    let leak_no = std::os::fd::AsRawFd::as_raw_fd(&leak_fd);
    assert!(leak_no >= 1024);

    let drv = drv();
    assert_eq!(
        fds_of(drv.port_pid() as i32)
            .iter()
            .filter(|&&f| f > 2 && f == leak_no)
            .count(),
        0,
        "the port closed the client's descriptor {leak_no}"
    );
    // What the port opens on purpose, above 1023, stays its own.
    drv.setrlimit(
        &[],
        7,
        alcove_client::Rlimit {
            cur: Some(4096),
            max: None,
        },
    )
    .or_else(|_| {
        drv.setrlimit(
            &[],
            7,
            alcove_client::Rlimit {
                cur: Some(4096),
                max: Some(4096),
            },
        )
    })
    .unwrap();
    let mut high = 0;
    while high < 1024 {
        high = drv.open(&[], "/dev/null", 0, 0).unwrap();
    }
    assert!(fds_of(drv.port_pid() as i32).contains(&high));
    // Siblings with pipes of their own, at two depths.
    let a = drv.fork(&[]).unwrap();
    let _b = drv.fork(&[]).unwrap();
    let c = drv.fork(&[a]).unwrap();
    let _d = drv.fork(&[a]).unwrap();
    drv.execvp(&[a, c], "/bin/cat", &["/bin/cat"]).unwrap();
    // Once cat echoes, its dynamic loader is done opening libraries.
    drv.stdin(&[a, c], b"ready\n").unwrap();
    assert_eq!(read_exactly(&drv, &[a, c], 6), b"ready\n");
    let fds = fds_of(c.as_raw());
    let links: Vec<_> = fds
        .iter()
        .map(|f| std::fs::read_link(format!("/proc/{c}/fd/{f}")))
        .collect();
    assert_eq!(fds, vec![0, 1, 2], "{links:?}");
    drop((null, leak_fd));
}

#[test]
fn options_have_the_seeds_defaults_and_are_inherited() {
    let drv = drv();
    assert_eq!(drv.getopt(&[], Opt::Maxforkdepth).unwrap(), 16);
    assert_eq!(drv.getopt(&[], Opt::ExitStatus).unwrap(), 1);
    assert_eq!(drv.getopt(&[], Opt::Sigchld).unwrap(), 1);
    assert_eq!(drv.getopt(&[], Opt::Termsig).unwrap(), 1);
    assert_eq!(drv.getopt(&[], Opt::Verbose).unwrap(), 0);
    assert_eq!(drv.getopt(&[], Opt::Signaloneof).unwrap(), 15);
    let limit = drv.getopt(&[], Opt::Childlimit).unwrap();
    assert!(limit > 0, "childlimit {limit}");

    drv.setopt(&[], Opt::Termsig, 0).unwrap();
    drv.setopt(&[], Opt::Maxchild, 5).unwrap();
    let c = drv.fork(&[]).unwrap();
    assert_eq!(drv.getopt(&[c], Opt::Termsig).unwrap(), 0);
    assert_eq!(drv.getopt(&[c], Opt::Childlimit).unwrap(), 5);
    assert_eq!(drv.getopt(&[c], Opt::Maxchild).unwrap(), 5);

    let err = drv.setopt(&[], Opt::Childlimit, 3).unwrap_err();
    assert!(matches!(err, Error::BadArg { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(drv.getopt(&[], Opt::Childlimit).unwrap(), limit);
}

#[test]
fn start_options_reach_the_port() {
    let drv = start(
        Options::default()
            .maxforkdepth(3)
            .maxchild(7)
            .exit_status(false)
            .verbose(0),
    );
    assert_eq!(drv.getopt(&[], Opt::Maxforkdepth).unwrap(), 3);
    assert_eq!(drv.getopt(&[], Opt::Childlimit).unwrap(), 7);
    assert_eq!(drv.getopt(&[], Opt::ExitStatus).unwrap(), 0);
}

/// With the default maxforkdepth of 16, a path can be 16 long; the 17th
/// fork answers EAGAIN and the tree stays healthy.
#[test]
fn a_fork_past_maxforkdepth_answers_eagain() {
    let drv = drv();
    let mut path = Vec::new();
    for _ in 0..16 {
        let pid = drv.fork(&path).unwrap();
        path.push(pid);
    }
    assert_eq!(drv.getpid(&path).unwrap(), *path.last().unwrap());
    let err = drv.fork(&path).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EAGAIN), "{err}");
    assert_eq!(drv.getpid(&path).unwrap(), *path.last().unwrap());
    assert_eq!(drv.getopt(&path, Opt::Maxforkdepth).unwrap(), 16);
}

#[test]
fn a_fork_past_maxchild_answers_eagain_until_a_child_exits() {
    let drv = drv();
    drv.setopt(&[], Opt::Maxchild, 2).unwrap();
    let c = drv.fork(&[]).unwrap();
    let k1 = drv.fork(&[c]).unwrap();
    let _k2 = drv.fork(&[c]).unwrap();
    let err = drv.fork(&[c]).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EAGAIN), "{err}");
    assert_eq!(drv.getpid(&[c]).unwrap(), c, "still healthy");

    drv.exit(&[c, k1], 0).unwrap();
    assert_eq!(next_event(&drv, &[c, k1]), Event::ExitStatus { status: 0 });
    let k3 = drv.fork(&[c]).unwrap();
    assert_eq!(drv.getpid(&[c, k3]).unwrap(), k3);
}

/// A call that times out gets `Timeout`; its late reply is dropped and
/// never taken for the answer of a later call.
#[test]
fn a_late_reply_to_a_timed_out_call_is_dropped() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    drv.kill(&[], c.as_raw(), SIGSTOP).unwrap();
    let err = drv
        .with_timeout(Duration::from_millis(300))
        .getpid(&[c])
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("getpid [{c}]: no reply within")),
        "{err}"
    );
    assert_eq!(drv.unmatched(), 0, "the stopped child has not answered");
    drv.kill(&[], c.as_raw(), SIGCONT).unwrap();
    // The stopped child now answers the getpid (late, dropped), then this.
    assert_eq!(drv.pid(&[c]).unwrap(), Vec::<Pid>::new());
    assert_eq!(drv.unmatched(), 1, "the late reply, counted");
    assert_eq!(drv.version(&[c]).unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
    assert_eq!(drv.unmatched(), 1);
}

/// Pipelined calls: sent one after the other without waiting, answered
/// each with its own reply, in any order of waiting; a ticket dropped
/// unwaited abandons its call, whose reply is then counted as unmatched.
#[test]
fn submitted_calls_are_answered_each_by_its_own_reply() {
    use alcove_client::{Call, Reply};
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let tickets: Vec<_> = (0..200)
        .map(|i| {
            let path: &[Pid] = if i % 2 == 0 { &[] } else { &[c] };
            drv.submit(path, &Call::Getpid).unwrap()
        })
        .collect();
    // Waited for in reverse order.
    for t in tickets.into_iter().rev() {
        let want = t.path().last().copied();
        match drv.wait(t).unwrap() {
            Reply::Pid(p) if want.is_some() => assert_eq!(Some(p), want),
            Reply::Pid(p) => assert_eq!(p.as_raw() as u32, drv.port_pid()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(drv.tracked(), 0);
    drv.kill(&[], c.as_raw(), SIGSTOP).unwrap();
    let abandoned = drv.submit(&[c], &Call::Getpid).unwrap();
    assert_eq!(abandoned.call(), "getpid");
    drop(abandoned);
    drv.kill(&[], c.as_raw(), SIGCONT).unwrap();
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
    assert_eq!(drv.unmatched(), 1);
}

#[test]
fn one_drv_serves_many_threads_at_once() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Drv>();

    let drv = drv();
    let children: Vec<Pid> = (0..4).map(|_| drv.fork(&[]).unwrap()).collect();
    std::thread::scope(|s| {
        for &c in &children {
            let drv = &drv;
            s.spawn(move || {
                let k = drv.fork(&[c]).unwrap();
                for _ in 0..200 {
                    assert_eq!(drv.getpid(&[c]).unwrap(), c);
                    assert_eq!(drv.getpid(&[c, k]).unwrap(), k);
                }
            });
        }
    });
}

#[test]
fn eof_closes_a_childs_stdin_after_what_was_sent() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    drv.execvp(&[c], "/bin/cat", &["/bin/cat"]).unwrap();
    drv.stdin(&[c], b"last words\n").unwrap();
    drv.eof(&[c]).unwrap();
    assert_eq!(read_exactly(&drv, &[c], 11), b"last words\n");
    assert_eq!(next_event(&drv, &[c]), Event::ExitStatus { status: 0 });
    let err = drv.stdin(&[c], b"more").unwrap_err();
    assert!(matches!(err, Error::Closed { .. }), "{err:?}");
    let err = drv.eof(&[]).unwrap_err();
    assert!(matches!(err, Error::BadArg { .. }), "{err:?}");
}

#[test]
fn stdin_to_a_loop_process_is_refused() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let err = drv.stdin(&[c], b"x").unwrap_err();
    assert!(matches!(err, Error::NotExecd { .. }), "{err:?}");
    let err = drv.stdin(&[], b"x").unwrap_err();
    assert!(matches!(err, Error::NotExecd { .. }), "{err:?}");
}

/// 16 MiB through cat and back: more than the stdin window and the output
/// credit many times over, with nothing lost or reordered.
#[test]
fn large_stdin_and_stdout_flow_without_loss() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let k = drv.fork(&[c]).unwrap();
    let path = [c, k];
    drv.execvp(&path, "/bin/cat", &["/bin/cat"]).unwrap();
    let data: Vec<u8> = (0..16u32 << 20).map(|i| (i % 251) as u8).collect();
    let got = std::thread::scope(|s| {
        s.spawn(|| {
            for chunk in data.chunks(100_000) {
                drv.stdin(&path, chunk).unwrap();
            }
            drv.eof(&path).unwrap();
        });
        read_exactly(&drv, &path, data.len())
    });
    assert!(got == data, "bytes differ");
    assert_eq!(next_event(&drv, &path), Event::ExitStatus { status: 0 });
}

#[test]
fn kill_reports_the_termination_signal() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    drv.execvp(&[c], "/bin/sleep", &["sleep", "1000"]).unwrap();
    drv.kill(&[], c.as_raw(), SIGKILL).unwrap();
    assert_eq!(next_event(&drv, &[c]), Event::TermSig { signum: SIGKILL });
    // Its slot is released: calls to it are now bad pids.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match drv.getpid(&[c]) {
            Err(Error::BadPid { .. }) => break,
            Err(Error::Execd { .. }) if Instant::now() < deadline => {}
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn exit_answers_then_reports_the_status() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let k = drv.fork(&[c]).unwrap();
    drv.exit(&[c, k], 3).unwrap();
    assert_eq!(next_event(&drv, &[c, k]), Event::ExitStatus { status: 3 });
    assert_eq!(next_event(&drv, &[c]), Event::Signal { signum: SIGCHLD });
    assert_eq!(drv.pid(&[c]).unwrap(), Vec::<Pid>::new());
}

#[test]
fn a_call_pending_when_its_process_dies_fails_with_how_it_ended() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    drv.kill(&[], c.as_raw(), SIGSTOP).unwrap();
    std::thread::scope(|s| {
        let pending = s.spawn(|| drv.getpid(&[c]));
        // Give the call time to be written before the kill; whether or not
        // it was, it must fail with the death, not hang.
        std::thread::sleep(Duration::from_millis(100));
        drv.kill(&[], c.as_raw(), SIGKILL).unwrap();
        let err = pending.join().unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                Error::Exited {
                    event: Event::TermSig { signum: SIGKILL },
                    ..
                }
            ),
            "{err:?}"
        );
    });
}

#[test]
fn clone_puts_a_child_in_new_namespaces() {
    if !require_root("clone_puts_a_child_in_new_namespaces") {
        return;
    }
    let drv = drv();
    const CLONE_NEWPID: u64 = 0x2000_0000;
    const CLONE_NEWUTS: u64 = 0x0400_0000;
    let c = drv.clone(&[], CLONE_NEWPID | CLONE_NEWUTS).unwrap();
    assert!(c.as_raw() > 1);
    assert_eq!(
        drv.getpid(&[c]).unwrap(),
        Pid::from_raw(1),
        "PID 1 in its namespace"
    );
    let k = drv.fork(&[c]).unwrap();
    assert_eq!(k, Pid::from_raw(2), "its child is PID 2 there");
    assert_eq!(drv.getpid(&[c, k]).unwrap(), k);
    let host = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let theirs = std::fs::read_link(format!("/proc/{c}/ns/pid")).unwrap();
    assert_ne!(host, theirs);
}

#[test]
fn clone_refuses_flags_that_share_memory() {
    let drv = drv();
    const CLONE_VM: u64 = 0x100;
    let err = drv.clone(&[], CLONE_VM).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
}

#[test]
fn notices_and_stderr_of_a_loop_process_arrive_on_its_path() {
    let drv = start(Options::default());
    let c = drv.fork(&[]).unwrap();
    drv.setopt(&[c], Opt::Verbose, 1).unwrap();
    let k = drv.fork(&[c]).unwrap();
    let err = drv
        .stderr(&[c], Duration::from_secs(10))
        .unwrap()
        .expect("verbose output on stderr");
    let text = String::from_utf8_lossy(&err);
    assert!(text.contains(&format!("forked {k}")), "{text}");
    drv.execvp(&[c, k], "/bin/true", &["true"]).unwrap();
    let mut notices = Vec::new();
    while let Some(m) = drv.recv(&[c, k], Duration::from_secs(10)).unwrap() {
        match m {
            Message::Notice(n) => notices.push(n),
            Message::Event(e) => {
                assert_eq!(e, Event::ExitStatus { status: 0 });
                break;
            }
            // k inherited verbose: its own debug output.
            Message::Stderr(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(notices.first(), Some(&Notice::Execd), "{notices:?}");
    assert!(notices.contains(&Notice::StdoutClosed), "{notices:?}");
}

/// A supervisor that reads what its children send keeps no memory of the
/// ones that ended; a stdio call made late still says `Closed`.
#[test]
fn inboxes_of_ended_processes_read_to_the_end_are_let_go() {
    let drv = drv();
    let first = drv.fork(&[]).unwrap();
    for _ in 0..200 {
        let c = drv.fork(&[]).unwrap();
        drv.execvp(&[c], "/bin/echo", &["echo", "hi"]).unwrap();
        while let Some(m) = drv.recv(&[c], Duration::from_secs(30)).unwrap() {
            if matches!(m, Message::Event(_)) {
                break;
            }
        }
        assert!(drv.recv(&[c], Duration::ZERO).unwrap().is_none());
        let err = drv.stdout(&[c], Duration::ZERO).unwrap_err();
        assert!(matches!(err, Error::Closed { .. }), "{err:?}");
    }
    // The port's own inbox (SIGCHLD events) and the idle child's.
    while drv.event(&[], Duration::ZERO).unwrap().is_some() {}
    assert!(drv.tracked() <= 3, "{} inboxes kept", drv.tracked());
    assert_eq!(drv.getpid(&[first]).unwrap(), first);
}

/// A port that dies before greeting is a clear error, with what it said on
/// stderr when stderr is captured, never a hang.
#[test]
fn a_port_that_cannot_start_says_why() {
    let opts = Options::default()
        .progname("/bin/ls")
        .stderr(alcove_client::Stderr::Capture);
    let err = Drv::start(opts).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Start { .. }), "{err:?}");
    assert!(text.contains("before greeting"), "{text}");
    assert!(
        text.contains("--maxforkdepth"),
        "ls names the option it refuses: {text}"
    );
    let err = Drv::start(Options::default().progname("/nonexistent/alcove")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/alcove"), "{err}");
}

/// A program that writes without end, and a client that does not read:
/// the program ends up blocked on its pipe, and neither the port nor the
/// client holds more than the output credit of it.
#[test]
fn a_flood_of_output_is_held_back_not_buffered() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    drv.execvp(&[c], "/bin/cat", &["cat", "/dev/zero"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // A call makes the client read what the port sent so far.
        drv.getpid(&[]).unwrap();
        let wchan = std::fs::read_to_string(format!("/proc/{c}/wchan")).unwrap_or_default();
        if wchan.ends_with("pipe_write") && drv.unread(&[c]) >= 1 << 20 {
            break;
        }
        assert!(Instant::now() < deadline, "cat never blocked: {wchan}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let unread = drv.unread(&[c]);
    assert!(unread <= 2 << 20, "{unread} bytes buffered in the client");
    let port_rss = std::fs::read_to_string(format!("/proc/{}/status", drv.port_pid())).unwrap();
    let kib: u64 = port_rss
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert!(kib < 16 * 1024, "the port holds {kib} KiB");
    // Reading lets it flow again.
    let got = read_exactly(&drv, &[c], 4 << 20);
    assert!(got.iter().all(|&b| b == 0));
}

/// A caller that polls with a timeout of zero still gets what the program
/// wrote: each poll looks once at what the port sent.
#[test]
fn polling_with_a_zero_timeout_sees_output() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    drv.execvp(&[c], "/bin/echo", &["echo", "polled"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    while got != b"polled\n" {
        assert!(
            Instant::now() < deadline,
            "only {got:?} after 30 s of polling"
        );
        match drv.stdout(&[c], Duration::ZERO) {
            Ok(Some(d)) => got.extend(d),
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => panic!("{e}"),
        }
    }
    loop {
        assert!(Instant::now() < deadline, "no exit event by polling");
        if let Some(e) = drv.event(&[c], Duration::ZERO).unwrap() {
            assert_eq!(e, Event::ExitStatus { status: 0 });
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The scheduling policy (field 41 of `/proc/<pid>/stat`).
fn policy_of(pid: i32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    // Fields from the third on; the policy is the 41st.
    rest.split_whitespace()
        .nth(41 - 3)
        .unwrap()
        .parse()
        .unwrap()
}

/// The loop processes run `SCHED_BATCH` (a relay woken by a write does not
/// preempt the writer); an exec'd program gets the default back.
#[test]
fn loops_run_sched_batch_and_programs_the_default() {
    const SCHED_OTHER: u32 = 0;
    const SCHED_BATCH: u32 = 3;
    if policy_of(std::process::id() as i32) != SCHED_OTHER {
        println!("SKIP loops_run_sched_batch_and_programs_the_default: not run under SCHED_OTHER");
        return;
    }
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let k = drv.fork(&[c]).unwrap();
    assert_eq!(policy_of(drv.getpid(&[]).unwrap().as_raw()), SCHED_BATCH);
    assert_eq!(policy_of(c.as_raw()), SCHED_BATCH);
    drv.execvp(&[c, k], "/bin/cat", &["/bin/cat"]).unwrap();
    assert_eq!(policy_of(k.as_raw()), SCHED_OTHER);
    // A failed exec leaves the loop as it was.
    let e = drv.fork(&[c]).unwrap();
    assert!(drv.execvp(&[c, e], "/nonexistent", &["x"]).is_err());
    assert_eq!(policy_of(e.as_raw()), SCHED_BATCH);
}
