//! Reliability under faults and load: processes killed at the worst
//! moment, a client killed with 50 busy children, programs that flood or
//! do not read, 100 000 pipelined calls, 10 000 fork/exit cycles. Each test
//! prints its figure (`FIGURE ...`); `cargo xtask test` runs this suite as
//! its own step, with the output shown.
//!
//! This process makes itself a child subreaper, so that orphans of the
//! tree end up as its own zombies and it sees how each ended; the tests
//! share that state and run one at a time.

use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alcove_client::{Call, Cpid, Drv, Error, Event, Opt, Options, Pid, Reply};
use alcove_tests::{Gone, Rng, become_subreaper, drv, proc_stat, proc_status, raw, wait_gone};

const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;
const SIGSTOP: i32 = 19;
const CLONE_NEWPID: u64 = 0x2000_0000;
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    become_subreaper();
    guard
}

fn signal(pid: Pid, sig: i32) {
    let p = rustix::process::Pid::from_raw(pid.as_raw()).expect("a positive pid");
    let sig = rustix::process::Signal::from_named_raw(sig).expect("a signal");
    rustix::process::kill_process(p, sig).expect("kill");
}

/// `VmRSS` of a process, in KiB.
fn rss_kib(pid: i32) -> u64 {
    let v = proc_status(pid, "VmRSS").unwrap_or_else(|| panic!("no VmRSS for {pid}"));
    v.trim_end_matches(" kB")
        .trim()
        .parse()
        .expect("VmRSS in kB")
}

/// Open descriptors of a process.
fn fd_count(pid: i32) -> usize {
    alcove_tests::fds_of(pid).len()
}

/// Zombie children of any of `parents`, from `/proc/*/stat`.
fn zombies_of(parents: &[i32]) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Some(('Z', ppid)) = proc_stat(pid)
            && parents.contains(&ppid)
        {
            found.push(pid);
        }
    }
    found
}

fn port_pid(drv: &Drv) -> i32 {
    drv.port_pid() as i32
}

// ---- faults ---------------------------------------------------------------------

/// A process in the middle of a fork path is SIGKILLed while calls to it
/// and below it wait in its pipe: every one of them fails at once with an
/// error naming the path that ended; later calls to the dead subtree get
/// the bad-pid error; the rest of the tree goes on; no zombie is left.
#[test]
fn killing_a_process_mid_path_fails_every_call_in_flight_below_it() {
    let _one = one_at_a_time();
    let drv = drv();
    let a = drv.fork(&[]).unwrap();
    let b = drv.fork(&[a]).unwrap();
    let c = drv.fork(&[a, b]).unwrap();
    let x = drv.fork(&[]).unwrap();

    // Stopped, b reads nothing: the calls pile up in its pipe.
    signal(b, SIGSTOP);
    let quick = drv.with_timeout(Duration::from_secs(1));
    let calls = 2000;
    let tickets: Vec<_> = (0..calls)
        .map(|i| {
            let path: &[Pid] = if i % 2 == 0 { &[a, b, c] } else { &[a, b] };
            quick.submit(path, &Call::Getpid).unwrap()
        })
        .collect();
    // They went down to a, which holds them for b.
    assert_eq!(drv.getpid(&[a]).unwrap(), a);
    let killed = Instant::now();
    signal(b, SIGKILL);
    let (mut answered, mut failed) = (0, 0);
    for t in tickets {
        let path = t.path().to_vec();
        match quick.wait(t) {
            Ok(Reply::Pid(p)) => {
                assert_eq!(Some(&p), path.last());
                answered += 1;
            }
            Err(e @ Error::Exited { .. }) => {
                let Error::Exited { exited, event, .. } = &e else {
                    unreachable!()
                };
                assert_eq!(exited.pids(), &[a, b]);
                assert_eq!(*event, Event::TermSig { signum: SIGKILL });
                let text = e.to_string();
                assert!(
                    text.contains(&format!("the process at [{a}, {b}] was killed by SIGKILL")),
                    "{text}"
                );
                failed += 1;
            }
            other => panic!("a call to {path:?}: {other:?}"),
        }
    }
    let elapsed = killed.elapsed();
    assert_eq!(answered + failed, calls);
    assert!(failed > 0, "no call was in flight");

    for path in [vec![a, b], vec![a, b, c]] {
        match drv.getpid(&path) {
            Err(Error::BadPid { pid, parent, .. }) => {
                assert_eq!((pid, parent.pids()), (b, &[a][..]));
            }
            other => panic!("getpid {path:?}: {other:?}"),
        }
    }
    assert_eq!(drv.getpid(&[a]).unwrap(), a);
    assert_eq!(drv.getpid(&[x]).unwrap(), x);
    assert_eq!(drv.pid(&[a]).unwrap(), Vec::<Pid>::new());

    // c lost its parent and its input: it ends (as our zombie).
    let gone = wait_gone(&raw(&[c]), Duration::from_secs(10)).expect("c ends");
    let port = port_pid(&drv);
    let zombies = zombies_of(&[port, a.as_raw(), x.as_raw()]);
    assert!(zombies.is_empty(), "zombies in the loop: {zombies:?}");
    println!(
        "FIGURE mid-path kill: {calls} calls in flight, {answered} answered, {failed} failed \
         with the path [a, b] in {elapsed:?} after the kill; c {:?}; no zombie",
        gone[&c.as_raw()]
    );
}

/// The client is SIGKILLed while 50 children at depths 1 to 3 are busy:
/// no loop process is left, every exec'd program got SIGTERM, and the
/// cgroup the test made is empty.
#[test]
fn sigkill_of_a_client_with_50_busy_children_ends_them_all() {
    let _one = one_at_a_time();
    // A v2 group for the exec'd programs, when there is a v2 hierarchy and
    // we may make one.
    let unified = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .find(|d| std::path::Path::new(&format!("{d}/cgroup.procs")).exists())
        .filter(|d| {
            std::path::Path::new(&format!("{d}/cgroup.controllers")).exists()
                && rustix::process::geteuid().is_root()
        });
    let group = unified.map(|d| format!("{d}/alcove-test-busy-{}", std::process::id()));
    match &group {
        Some(g) => std::fs::create_dir(g).expect("making the cgroup"),
        None => println!(
            "SKIP sigkill_of_a_client_with_50_busy_children_ends_them_all (cgroup part): \
             needs root and a cgroup v2 hierarchy"
        ),
    }
    let mut client = Command::new(env!("CARGO_BIN_EXE_busy_client"));
    client
        .args(&group)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut client = client.spawn().expect("starting busy_client");
    let line = alcove_tests::first_line(&mut client);
    let field = |name: &str| alcove_tests::pid_field(&line, name);
    let (port, loops, execd) = (field("port")[0], field("loops"), field("execd"));
    assert_eq!(loops.len() + execd.len(), 50, "{line}");
    if let Some(g) = &group {
        let procs = std::fs::read_to_string(format!("{g}/cgroup.procs")).unwrap();
        assert_eq!(procs.lines().count(), execd.len(), "{procs}");
    }

    let killed = Instant::now();
    client.kill().unwrap();
    client.wait().unwrap();
    let mut all = loops.clone();
    all.extend(&execd);
    all.push(port);
    let gone = wait_gone(&all, Duration::from_secs(1))
        .unwrap_or_else(|alive| panic!("alive 1 s after the kill (pid, state, ppid): {alive:?}"));
    let elapsed = killed.elapsed();
    for pid in loops.iter().chain([&port]) {
        assert!(
            matches!(gone[pid], Gone::Exited(0) | Gone::Vanished),
            "loop process {pid}: {:?}",
            gone[pid]
        );
    }
    for pid in &execd {
        assert_eq!(gone[pid], Gone::Killed(SIGTERM), "exec'd process {pid}");
    }
    if let Some(g) = &group {
        let procs = std::fs::read_to_string(format!("{g}/cgroup.procs")).unwrap();
        assert_eq!(procs, "", "left in {g}");
        std::fs::remove_dir(g).expect("removing the cgroup");
    }
    println!(
        "FIGURE client sigkill: 50 busy children ({} loop, {} exec'd, {}), all gone {elapsed:?} \
         after the kill, every exec'd program SIGTERMed",
        loops.len(),
        execd.len(),
        line.split_whitespace().last().unwrap_or_default()
    );
}

/// A program exits while its parent still writes a large input to it, and
/// a loop process dies while a large call is being written to it: the
/// writer gets an error at once, not a hang.
#[test]
fn a_child_that_exits_during_a_large_write_fails_the_writer() {
    let _one = one_at_a_time();
    let drv = drv();
    let p = drv.fork(&[]).unwrap();
    drv.execvp(&[p], "head", &["head", "-c", "1"]).unwrap();
    let data = vec![b'z'; 16 << 20];
    let started = Instant::now();
    let err = drv.stdin(&[p], &data).unwrap_err();
    let took = started.elapsed();
    match &err {
        Error::Stdin { sent, len, .. } => assert!(sent < len, "{err}"),
        Error::Closed { .. } => {}
        other => panic!("stdin to a program that exited: {other}"),
    }
    assert_eq!(
        drv.stdout(&[p], alcove_tests::TIMEOUT).unwrap().unwrap(),
        b"z"
    );

    let k = drv.fork(&[]).unwrap();
    signal(k, SIGSTOP);
    let big = Call::Write {
        fd: 1000,
        data: vec![0u8; 8 << 20].into(),
    };
    let ticket = drv.submit(&[k], &big).unwrap();
    signal(k, SIGKILL);
    let call_err = drv.wait(ticket).unwrap_err();
    assert!(
        matches!(&call_err, Error::Exited { exited, .. } if exited.pids() == [k]),
        "{call_err}"
    );
    assert_eq!(drv.getpid(&[]).unwrap().as_raw(), port_pid(&drv));
    println!(
        "FIGURE write to an exiting child: 16 MiB stdin -> `{err}` in {took:?}; 8 MiB call \
         -> `{call_err}`"
    );
}

// ---- load -----------------------------------------------------------------------

/// 100 000 calls pipelined from 4 threads to 8 children at depths 1 to 4:
/// every reply is its call's, none lost, none twice.
#[test]
fn pipelined_calls_from_4_threads_to_8_children_all_match() {
    let _one = one_at_a_time();
    let drv = drv();
    let mut children: Vec<Vec<Pid>> = Vec::new();
    for _ in 0..2 {
        let mut path = Vec::new();
        for _ in 0..4 {
            let pid = drv.fork(&path).unwrap();
            path.push(pid);
            children.push(path.clone());
        }
    }
    // A descriptor on /dev/null in each: a write of n bytes replies n.
    let nulls: Vec<i32> = children
        .iter()
        .map(|p| drv.open(p, "/dev/null", 1, 0).unwrap())
        .collect();
    const TOTAL: usize = 100_000;
    const WINDOW: usize = 64;
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (drv, children, nulls) = (&drv, &children, &nulls);
            s.spawn(move || {
                let mut inflight = std::collections::VecDeque::new();
                let check = |(i, ticket): (usize, alcove_client::Ticket)| {
                    let k = i % children.len();
                    match drv.wait(ticket) {
                        Ok(Reply::Pid(p)) if i % 2 == 0 => {
                            assert_eq!(Some(&p), children[k].last(), "call {i}")
                        }
                        Ok(Reply::Int(n)) if i % 2 == 1 => {
                            assert_eq!(n as usize, i % 1000, "call {i}")
                        }
                        other => panic!("call {i} to {:?}: {other:?}", children[k]),
                    }
                };
                for i in (t..TOTAL).step_by(4) {
                    let k = i % children.len();
                    let call = if i % 2 == 0 {
                        Call::Getpid
                    } else {
                        Call::Write {
                            fd: nulls[k],
                            data: vec![7u8; i % 1000].into(),
                        }
                    };
                    inflight.push_back((i, drv.submit(&children[k], &call).unwrap()));
                    if inflight.len() == WINDOW {
                        check(inflight.pop_front().unwrap());
                    }
                }
                inflight.into_iter().for_each(check);
            });
        }
    });
    let elapsed = started.elapsed();
    assert_eq!(drv.unmatched(), 0, "replies that matched no call");
    assert_eq!(drv.tracked(), 0, "calls still waiting");
    println!(
        "FIGURE pipelined: {TOTAL} calls from 4 threads ({WINDOW} in flight each) to 8 children \
         at depths 1-4 in {elapsed:?} ({:.0} calls/s), every reply its call's, 0 unmatched",
        TOTAL as f64 / elapsed.as_secs_f64()
    );
}

/// 10 000 fork/exit cycles under maxchild 8: slots recycle, and the port
/// holds as many descriptors and as much memory at the end as at the start.
#[test]
fn fork_exit_cycles_recycle_slots_and_leak_nothing() {
    let _one = one_at_a_time();
    let drv = alcove_tests::start(Options::default().maxchild(8));
    let port = port_pid(&drv);
    // Eight at a time, pipelined: fork eight, end eight, see eight exits.
    let cycle = |n: usize| {
        for _ in 0..n / 8 {
            let forks: Vec<_> = (0..8)
                .map(|_| drv.submit(&[], &Call::Fork).unwrap())
                .collect();
            let pids: Vec<Pid> = forks
                .into_iter()
                .map(|t| match drv.wait(t) {
                    Ok(Reply::Pid(p)) => p,
                    other => panic!("fork: {other:?}"),
                })
                .collect();
            let exits: Vec<_> = pids
                .iter()
                .map(|&c| drv.submit(&[c], &Call::Exit { status: 0 }).unwrap())
                .collect();
            for t in exits {
                assert_eq!(drv.wait(t).unwrap(), Reply::Ok);
            }
            for c in pids {
                let event = drv.event(&[c], alcove_tests::TIMEOUT).unwrap();
                assert_eq!(event, Some(Event::ExitStatus { status: 0 }));
            }
        }
    };
    // Warm up: buffers and tables reach their working size.
    cycle(500);
    let (fds, rss) = (fd_count(port), rss_kib(port));
    let started = Instant::now();
    const CYCLES: usize = 10_000;
    cycle(CYCLES);
    let elapsed = started.elapsed();
    let (fds_end, rss_end) = (fd_count(port), rss_kib(port));
    assert_eq!(fds_end, fds, "descriptors of the port");
    assert!(
        rss_end <= rss + 256,
        "the port grew from {rss} KiB to {rss_end} KiB"
    );
    // Eight at once still fit, and a ninth does not.
    let eight: Vec<Pid> = (0..8).map(|_| drv.fork(&[]).unwrap()).collect();
    assert!(matches!(
        drv.fork(&[]),
        Err(Error::Errno { errno, .. }) if errno == alcove_client::Errno::EAGAIN
    ));
    for c in eight {
        drv.exit(&[c], 0).unwrap();
    }
    println!(
        "FIGURE fork/exit: {CYCLES} cycles under maxchild 8 in {elapsed:?}; port fds \
         {fds} -> {fds_end}, VmRSS {rss} -> {rss_end} KiB"
    );
}

/// A program writes as fast as it can while the client reads nothing for
/// 5 s: the tree holds it back (bounded memory everywhere), other calls
/// are answered meanwhile, and then every byte arrives, in order.
#[test]
fn a_flood_the_client_does_not_read_is_held_back_and_then_arrives_whole() {
    let _one = one_at_a_time();
    let drv = drv();
    let a = drv.fork(&[]).unwrap();
    let b = drv.fork(&[a]).unwrap();
    let x = drv.fork(&[]).unwrap();
    const LINES: u32 = 2_000_000;
    drv.execvp(&[a, b], "seq", &["seq", "1", &LINES.to_string()])
        .unwrap();
    let port = port_pid(&drv);
    let loops = [port, a.as_raw(), x.as_raw()];
    let mut peak = [0u64; 3];
    let mut unread_peak = 0;
    let started = Instant::now();
    let mut answered = 0;
    while started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(250));
        for (p, pid) in peak.iter_mut().zip(loops) {
            *p = (*p).max(rss_kib(pid));
        }
        assert_eq!(drv.getpid(&[x]).unwrap(), x);
        assert_eq!(drv.getpid(&[a]).unwrap(), a);
        answered += 2;
        unread_peak = unread_peak.max(drv.unread(&[a, b]));
    }
    // seq is blocked writing, not done.
    assert_eq!(proc_stat(b.as_raw()).map(|s| s.0), Some('S'));
    const BOUND_KIB: u64 = 6 << 10;
    for (p, pid) in peak.iter().zip(loops) {
        assert!(*p < BOUND_KIB, "loop process {pid} reached {p} KiB");
    }
    assert!(
        unread_peak <= 2 << 20,
        "the client holds {unread_peak} bytes"
    );

    let mut want = Vec::new();
    for i in 1..=LINES {
        want.extend_from_slice(format!("{i}\n").as_bytes());
    }
    let mut got = Vec::with_capacity(want.len());
    loop {
        match drv.stdout(&[a, b], alcove_tests::TIMEOUT) {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => panic!("no output for {:?}", alcove_tests::TIMEOUT),
            Err(Error::Closed { .. }) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the output differs from seq's");
    assert_eq!(
        drv.event(&[a, b], alcove_tests::TIMEOUT).unwrap(),
        Some(Event::ExitStatus { status: 0 })
    );
    println!(
        "FIGURE flood: 5 s unread, {answered} calls answered meanwhile; peak VmRSS port {} KiB, \
         parent {} KiB, idle sibling {} KiB (bound {BOUND_KIB} KiB); at most {unread_peak} \
         bytes unread in the client; then {} bytes in order",
        peak[0],
        peak[1],
        peak[2],
        got.len()
    );
}

/// Flow control (alcove's `setcpid(..., flowcontrol, N)`): 0 pauses a
/// program's output, N lets N more bytes through, -1 lifts the limit; the
/// `flowcontrol` option is what children forked later start with.
#[test]
fn flow_control_pauses_meters_and_resumes_a_program() {
    let _one = one_at_a_time();
    let drv = drv();
    let a = drv.fork(&[]).unwrap();
    assert_eq!(drv.getcpid(&[], a, Cpid::Flowcontrol).unwrap(), -1);
    drv.setcpid(&[], a, Cpid::Flowcontrol, 0).unwrap();
    drv.execvp(&[a], "yes", &["yes"]).unwrap();
    let quiet = Duration::from_millis(300);
    assert_eq!(drv.stdout(&[a], quiet).unwrap(), None, "paused");

    drv.setcpid(&[], a, Cpid::Flowcontrol, 4096).unwrap();
    let mut got = 0;
    while got < 4096 {
        got += drv
            .stdout(&[a], alcove_tests::TIMEOUT)
            .unwrap()
            .unwrap()
            .len();
    }
    assert_eq!(got, 4096, "exactly the budget");
    assert_eq!(drv.stdout(&[a], quiet).unwrap(), None, "paused again");
    assert_eq!(drv.getcpid(&[], a, Cpid::Flowcontrol).unwrap(), 0);

    drv.setcpid(&[], a, Cpid::Flowcontrol, -1).unwrap();
    let mut more = 0;
    while more < 4 << 20 {
        more += drv
            .stdout(&[a], alcove_tests::TIMEOUT)
            .unwrap()
            .unwrap()
            .len();
    }
    assert_eq!(drv.getcpid(&[], a, Cpid::Flowcontrol).unwrap(), -1);

    // The option: children forked from now on start paused.
    drv.setopt(&[], Opt::Flowcontrol, 0).unwrap();
    let b = drv.fork(&[]).unwrap();
    assert_eq!(drv.getcpid(&[], b, Cpid::Flowcontrol).unwrap(), 0);
    drv.execvp(&[b], "yes", &["yes", "held"]).unwrap();
    assert_eq!(drv.stdout(&[b], quiet).unwrap(), None);
    drv.setcpid(&[], b, Cpid::Flowcontrol, -1).unwrap();
    let first = drv.stdout(&[b], alcove_tests::TIMEOUT).unwrap().unwrap();
    assert!(first.starts_with(b"held\nheld\n"), "{first:?}");

    // Not a child: a clear error naming it.
    let err = drv
        .setcpid(&[], Pid::from_raw(1), Cpid::Flowcontrol, 0)
        .unwrap_err();
    assert!(err.to_string().contains("1 is not a child"), "{err}");
    println!(
        "FIGURE flow control: paused 0 bytes, budget 4096 -> {got} bytes, unlimited -> \
         {more} bytes; option 0 holds a new child's output"
    );
}

/// Input for a program that does not read: the writer is held back, then
/// told how much went out, and nothing is dropped silently.
#[test]
fn stdin_to_a_program_that_does_not_read_pushes_back_with_a_count() {
    let _one = one_at_a_time();
    let drv = drv();
    let a = drv.fork(&[]).unwrap();
    let s = drv.fork(&[a]).unwrap();
    drv.execvp(&[a, s], "sleep", &["sleep", "600"]).unwrap();
    let data = vec![b'q'; 8 << 20];
    let impatient = drv.with_timeout(Duration::from_secs(2));
    let err = impatient.stdin(&[a, s], &data).unwrap_err();
    let Error::Stdin { sent, len, .. } = err else {
        panic!("{err}");
    };
    assert_eq!(len, data.len());
    assert!(
        (alcove_proto::STDIN_WINDOW as usize..len).contains(&sent),
        "{sent} of {len}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("{sent} of {len} bytes sent")),
        "{text}"
    );
    let parent_kib = rss_kib(a.as_raw());
    assert!(parent_kib < 8 << 10, "the parent holds {parent_kib} KiB");
    assert_eq!(drv.getpid(&[a]).unwrap(), a);
    println!("FIGURE stdin back-pressure: `{text}`; the parent's VmRSS {parent_kib} KiB");
}

/// Sanity of the helpers above: a zombie of ours is seen, then reaped.
#[test]
fn zombies_of_sees_a_zombie() {
    let _one = one_at_a_time();
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id() as i32;
    let me = std::process::id() as i32;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !zombies_of(&[me]).contains(&pid) {
        assert!(Instant::now() < deadline, "true never became a zombie");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait().unwrap();
    assert!(!zombies_of(&[me]).contains(&pid));
}

/// The client closes its end of the port's stdout (it will read no more):
/// the port's next write fails, and the port and its tree go away instead
/// of buffering output nobody reads.
#[test]
fn closing_the_ports_stdout_ends_the_tree() {
    use std::io::{Read, Write};
    let _one = one_at_a_time();
    let bin = alcove_client::find_port().expect("the alcove binary");
    let mut port = Command::new(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting alcove");
    let mut stdin = port.stdin.take().unwrap();
    let mut stdout = port.stdout.take().unwrap();
    let mut rx = alcove_proto::Reassembler::new();
    let mut next = move |rx: &mut alcove_proto::Reassembler| loop {
        if let Some(f) = rx.next_frame() {
            let f = f.unwrap();
            break (f.header.kind, f.payload.to_vec());
        }
        let n = stdout.read(rx.spare(4096)).unwrap();
        assert!(n > 0, "the port closed its stdout");
        rx.commit(n);
    };
    assert_eq!(next(&mut rx).0, alcove_proto::Kind::Greeting);
    let send = |stdin: &mut std::process::ChildStdin, id, path: &[Pid], call: &Call| {
        let mut v = Vec::new();
        alcove_proto::encode_message(&mut v, alcove_proto::Kind::Call, id, path, call).unwrap();
        stdin.write_all(&v).unwrap();
    };
    send(&mut stdin, 1, &[], &Call::Fork);
    let (kind, payload) = next(&mut rx);
    assert_eq!(kind, alcove_proto::Kind::Reply);
    let child = match postcard::from_bytes(&payload) {
        Ok(Ok::<Reply, alcove_proto::CallError>(Reply::Pid(p))) => p,
        other => panic!("{other:?}"),
    };
    let yes = Call::Execvp {
        file: b"yes".as_slice().into(),
        argv: vec![b"yes".as_slice().into()],
    };
    send(&mut stdin, 2, &[child], &yes);
    // Nobody reads the port's output from now on: our end is closed.
    drop(next);
    let closed = Instant::now();
    let status = port.wait().expect("waiting for the port");
    let elapsed = closed.elapsed();
    assert!(status.code().is_some(), "the port exited: {status}");
    let gone = wait_gone(&[child.as_raw()], Duration::from_secs(10))
        .unwrap_or_else(|alive| panic!("yes outlived the port: {alive:?}"));
    assert_eq!(gone[&child.as_raw()], Gone::Killed(SIGTERM));
    drop(stdin);
    println!(
        "FIGURE stdout closed: the port exited ({status}) {elapsed:?} after its reader went, \
         its exec'd `yes` SIGTERMed"
    );
}

/// Chaos: while three threads call random processes of a tree, a fourth
/// kills random ones of them with SIGKILL. Every call ends, each with its
/// reply, the end of a process on its way, or the bad-pid error (never a
/// timeout), and the port is left as it was: no zombie, no descriptor more.
#[test]
fn random_kills_under_random_calls_lose_no_call_and_leak_nothing() {
    let _one = one_at_a_time();
    let drv = drv().with_timeout(Duration::from_secs(10));
    let port = port_pid(&drv);
    let fds = fd_count(port);
    let (mut calls, mut killed, mut all) = (0, 0, Vec::new());
    let mut outcomes = [0usize; 3];
    for round in 0..20u64 {
        // Three chains of depth 3, the last of each exec'd.
        let mut paths: Vec<Vec<Pid>> = Vec::new();
        for _ in 0..3 {
            let mut path = Vec::new();
            for _ in 0..3 {
                path.push(drv.fork(&path).unwrap());
                paths.push(path.clone());
            }
            drv.execvp(&path, "sleep", &["sleep", "600"]).unwrap();
        }
        let loops: Vec<Vec<Pid>> = paths.iter().filter(|p| p.len() < 3).cloned().collect();
        all.extend(paths.iter().map(|p| p.last().unwrap().as_raw()));
        let results = std::thread::scope(|s| {
            let callers: Vec<_> = (0..3u64)
                .map(|t| {
                    let (drv, loops) = (&drv, &loops);
                    s.spawn(move || {
                        let mut rng = Rng((round * 7 + t + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                        let mut seen = [0usize; 3];
                        for _ in 0..100 {
                            let path = &loops[rng.below(loops.len() as u64) as usize];
                            match drv.getpid(path) {
                                Ok(p) => {
                                    assert_eq!(Some(&p), path.last());
                                    seen[0] += 1;
                                }
                                Err(Error::Exited { exited, .. }) => {
                                    assert!(path.starts_with(exited.pids()), "{path:?}");
                                    seen[1] += 1;
                                }
                                Err(Error::BadPid { .. }) => seen[2] += 1,
                                Err(e) => panic!("getpid {path:?}: {e}"),
                            }
                        }
                        seen
                    })
                })
                .collect();
            // Meanwhile: three kills, anywhere in the tree.
            let mut rng = Rng((round + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
            for _ in 0..3 {
                std::thread::sleep(Duration::from_micros(rng.below(3000)));
                let victim = &paths[rng.below(paths.len() as u64) as usize];
                let _ = rustix::process::kill_process(
                    rustix::process::Pid::from_raw(victim.last().unwrap().as_raw()).unwrap(),
                    rustix::process::Signal::KILL,
                );
            }
            callers
                .into_iter()
                .map(|c| c.join().unwrap())
                .collect::<Vec<_>>()
        });
        for seen in results {
            for (o, n) in outcomes.iter_mut().zip(seen) {
                *o += n;
            }
        }
        calls += 300;
        killed += 3;
        // The round ends: its three chains go.
        for top in drv.pid(&[]).unwrap() {
            drv.kill(&[], top.as_raw(), SIGKILL).unwrap();
        }
        while !drv.pid(&[]).unwrap().is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let gone = wait_gone(&all, Duration::from_secs(10))
        .unwrap_or_else(|alive| panic!("alive after the rounds: {alive:?}"));
    assert_eq!(gone.len(), all.len());
    let zombies = zombies_of(&[port]);
    assert!(zombies.is_empty(), "zombies of the port: {zombies:?}");
    assert_eq!(fd_count(port), fds, "descriptors of the port");
    assert_eq!(outcomes.iter().sum::<usize>(), calls);
    println!(
        "FIGURE chaos: {calls} calls while {killed} random SIGKILLs hit 20 trees of 9: \
         {} answered, {} failed naming the ended process, {} bad pid; none lost, \
         no zombie, port fds {fds} -> {fds}",
        outcomes[0], outcomes[1], outcomes[2]
    );
}

/// A loop process killed with SIGKILL cannot signal its exec'd programs:
/// the kernel does it for it (`PR_SET_PDEATHSIG`), with the `signaloneof`
/// the program's process had when it exec'd.
#[test]
fn the_programs_of_a_killed_loop_process_get_its_signaloneof() {
    let _one = one_at_a_time();
    let drv = drv();
    let a = drv.fork(&[]).unwrap();
    let s = drv.fork(&[a]).unwrap();
    drv.setopt(&[a], Opt::Signaloneof, SIGKILL.into()).unwrap();
    let k = drv.fork(&[a]).unwrap();
    for p in [s, k] {
        drv.execvp(&[a, p], "sleep", &["sleep", "600"]).unwrap();
    }
    // The init of a PID namespace (it would ignore SIGTERM without a
    // handler), when we may make one.
    let init = rustix::process::geteuid().is_root().then(|| {
        drv.setopt(&[a], Opt::Signaloneof, SIGTERM.into()).unwrap();
        let i = drv.clone(&[a], CLONE_NEWPID).unwrap();
        drv.execvp(&[a, i], "sleep", &["sleep", "600"]).unwrap();
        i
    });
    if init.is_none() {
        println!(
            "SKIP the_programs_of_a_killed_loop_process_get_its_signaloneof \
             (PID namespace part): needs root"
        );
    }
    signal(a, SIGKILL);
    let mut programs = raw(&[s, k]);
    programs.extend(init.map(|i| i.as_raw()));
    let gone = wait_gone(&programs, Duration::from_secs(10))
        .unwrap_or_else(|alive| panic!("programs outlived their parent: {alive:?}"));
    assert_eq!(
        gone[&s.as_raw()],
        Gone::Killed(SIGTERM),
        "forked before setopt"
    );
    assert_eq!(
        gone[&k.as_raw()],
        Gone::Killed(SIGKILL),
        "forked after setopt"
    );
    if let Some(i) = init {
        assert_eq!(
            gone[&i.as_raw()],
            Gone::Killed(SIGKILL),
            "a PID namespace's init"
        );
    }
    assert_eq!(
        drv.event(&[a], alcove_tests::TIMEOUT).unwrap(),
        Some(Event::TermSig { signum: SIGKILL })
    );
    println!(
        "FIGURE orphans: the programs of a SIGKILLed loop process got SIGTERM, SIGKILL as \
         their signaloneof, and SIGKILL as a PID namespace's init"
    );
}

/// A loop process blocked in a call (a read of a FIFO nobody writes)
/// cannot see its input end; its parent's death interrupts the call
/// (`PR_SET_PDEATHSIG` with a signal trapped without `SA_RESTART`), so it
/// still ends with its tree instead of staying behind.
#[test]
fn a_loop_process_blocked_in_a_call_ends_with_its_tree() {
    let _one = one_at_a_time();
    const O_RDWR: i32 = 0o2;
    let tmp = alcove_tests::TempDir::new("fifo");
    let fifo = tmp.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let drv = drv();
    let a = drv.fork(&[]).unwrap();
    let b = drv.fork(&[a]).unwrap();
    // Open for reading and writing: the open does not wait for a writer,
    // and a read waits for data that never comes.
    let fd = drv
        .open(&[a, b], fifo.as_os_str().as_encoded_bytes(), O_RDWR, 0)
        .unwrap();
    let err = drv
        .with_timeout(Duration::from_millis(300))
        .read(&[a, b], fd, 16)
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(
        proc_stat(b.as_raw()).map(|s| s.0),
        Some('S'),
        "b waits in read"
    );
    let ended = Instant::now();
    drop(drv);
    let gone = wait_gone(&raw(&[a, b]), Duration::from_secs(10)).unwrap_or_else(|alive| {
        // Not left behind, even when the test fails.
        for (pid, _, _) in &alive {
            signal(Pid::from_raw(*pid), SIGKILL);
        }
        panic!("a blocked loop process outlived its tree: {alive:?}")
    });
    println!(
        "FIGURE blocked call: a loop process blocked in read(2) of a FIFO ended {:?} after \
         its tree ({:?})",
        ended.elapsed(),
        gone[&b.as_raw()]
    );
}
