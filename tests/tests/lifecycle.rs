//! The tree goes away with its client: dropping the `Drv`, or killing the
//! client with SIGKILL, leaves no loop process behind, and every exec'd
//! program gets SIGTERM.
//!
//! This test process makes itself a child subreaper, so the processes of
//! the tree end up as its own zombies and it can see how each ended. The
//! tests share that state, so they run one at a time.

use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use alcove_tests::{Gone, become_subreaper, build_tree, drv, wait_gone};

const SIGTERM: i32 = 15;
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn check_all_gone(loops: &[i32], execd: &[i32], port: Option<i32>) {
    let mut all = loops.to_vec();
    all.extend(execd);
    all.extend(port);
    let gone = wait_gone(&all, Duration::from_secs(20))
        .unwrap_or_else(|alive| panic!("still alive (pid, state, ppid): {alive:?}"));
    for pid in loops.iter().chain(&port) {
        assert!(
            matches!(gone[pid], Gone::Exited(0) | Gone::Vanished),
            "loop process {pid}: {:?}",
            gone[pid]
        );
    }
    for pid in execd {
        assert_eq!(gone[pid], Gone::Killed(SIGTERM), "exec'd process {pid}");
    }
}

#[test]
fn dropping_the_drv_ends_the_tree_and_terms_execd_programs() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    become_subreaper();
    let drv = drv();
    let (loops, execd) = build_tree(&drv).unwrap();
    drop(drv);
    check_all_gone(&loops, &execd, None);
}

#[test]
fn sigkill_of_the_client_ends_the_tree_and_terms_execd_programs() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    become_subreaper();
    let mut client = Command::new(env!("CARGO_BIN_EXE_tree_client"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting tree_client");
    let line = alcove_tests::first_line(&mut client);
    let field = |name: &str| alcove_tests::pid_field(&line, name);
    let (port, loops, execd) = (field("port")[0], field("loops"), field("execd"));
    assert_eq!(execd.len(), 3, "{line}");

    client.kill().unwrap();
    let status = client.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    check_all_gone(&loops, &execd, Some(port));
}

/// The init of a PID namespace ignores signals from outside that it has no
/// handler for: it gets SIGKILL instead of SIGTERM, so it does not outlive
/// the tree. One that handles SIGTERM gets SIGTERM, and exits its own way.
#[test]
fn pid_namespace_inits_end_with_the_tree() {
    if !alcove_tests::require_root("pid_namespace_inits_end_with_the_tree") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    become_subreaper();
    const CLONE_NEWPID: u64 = 0x2000_0000;
    let drv = drv();
    let plain = drv.clone(&[], CLONE_NEWPID).unwrap();
    drv.execvp(&[plain], "sleep", &["sleep", "1000"]).unwrap();
    let handler = drv.clone(&[], CLONE_NEWPID).unwrap();
    // The shell runs its trap once the sleep of the moment ends: well
    // within the grace its parent gives it (2 s) before its SIGKILL.
    let script = "trap 'exit 3' TERM; echo ready; while :; do sleep 0.1; done";
    drv.execvp(&[handler], "/bin/sh", &["sh", "-c", script])
        .unwrap();
    // Once it said ready, its trap is set.
    let out = drv.stdout(&[handler], Duration::from_secs(30)).unwrap();
    assert_eq!(out.as_deref(), Some(&b"ready\n"[..]));
    drop(drv);
    let gone = wait_gone(&[plain.as_raw(), handler.as_raw()], Duration::from_secs(20))
        .unwrap_or_else(|alive| panic!("still alive: {alive:?}"));
    assert_eq!(gone[&plain.as_raw()], Gone::Killed(9));
    assert_eq!(gone[&handler.as_raw()], Gone::Exited(3));
}

/// An exec'd program leads its own process group, so the SIGTERM of the
/// tree's end reaches the children it started too.
#[test]
fn an_execd_programs_own_children_end_with_the_tree() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    become_subreaper();
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let script = "sleep 1000 & echo $!; wait";
    drv.execvp(&[c], "/bin/sh", &["sh", "-c", script]).unwrap();
    let out = drv.stdout(&[c], Duration::from_secs(30)).unwrap().unwrap();
    let grandchild: i32 = String::from_utf8_lossy(&out).trim().parse().unwrap();
    let pgrp = std::fs::read_to_string(format!("/proc/{c}/stat")).unwrap();
    let pgrp: i32 = pgrp[pgrp.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(pgrp, c.as_raw(), "the program leads its own process group");
    drop(drv);
    let gone = wait_gone(&[c.as_raw(), grandchild], Duration::from_secs(20))
        .unwrap_or_else(|alive| panic!("still alive: {alive:?}"));
    assert_eq!(gone[&grandchild], Gone::Killed(SIGTERM));
}

/// A port that does not exit when its stdin closes (stopped here; stuck in
/// a blocking call alike) does not hang the drop of its `Drv`: after the
/// shutdown timeout it is killed, and its tree ends with it.
#[test]
fn the_drop_of_a_drv_whose_port_is_stuck_kills_it_after_the_shutdown_timeout() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    become_subreaper();
    let limit = Duration::from_millis(500);
    let drv = alcove_tests::start(alcove_client::Options::default().shutdown_timeout(limit));
    let (loops, execd) = build_tree(&drv).unwrap();
    let port = drv.port_pid() as i32;
    let stop = rustix::process::Signal::STOP;
    rustix::process::kill_process(rustix::process::Pid::from_raw(port).unwrap(), stop).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let started = std::time::Instant::now();
    std::thread::spawn(move || {
        drop(drv);
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the drop returned");
    let took = started.elapsed();
    assert!(
        took >= limit,
        "the drop waited for the port first: {took:?}"
    );
    // The Drv reaped its port.
    assert_eq!(alcove_tests::proc_stat(port), None);
    // Its children ended with it: loop processes at the end of their
    // input, programs by their parent's signal or their death signal.
    let gone = wait_gone(
        &[loops.clone(), execd.clone()].concat(),
        Duration::from_secs(20),
    )
    .unwrap_or_else(|alive| panic!("still alive: {alive:?}"));
    for pid in &execd {
        assert!(
            matches!(gone[pid], Gone::Killed(SIGTERM) | Gone::Vanished),
            "exec'd process {pid}: {:?}",
            gone[pid]
        );
    }
}
