//! Routing under arbitrary paths, against the real port: thousands of
//! calls with paths through loop processes, exec'd and exited children,
//! unknown, zero and negative pids, past `maxforkdepth` and past
//! `MAX_PATH`, each answered exactly once (or, past `MAX_PATH`, refused as
//! a frame whose header cannot be read), and the tree serves calls after.
//!
//! This test process makes itself a child subreaper to check that every
//! process of the tree is gone at the end.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alcove_proto::{
    ByteBuf, Call, CallError, Error, Header, Kind, MAX_PATH, Notice, Path, Pid, Reply,
    encode_message,
};
use alcove_tests::Rng;
use alcove_tests::raw::{Frame, RawPort};
use alcove_tests::{Gone, become_subreaper, wait_gone};

/// Calls sent with arbitrary paths.
const FRAMES: u64 = 3000;

/// How long all of them may take to be answered.
const LIMIT: Duration = Duration::from_secs(60);

/// First id of the arbitrary calls; the ids below are for building the tree.
const FIRST_ID: u64 = 1000;

/// The tree as the test built it.
#[derive(Debug)]
enum Node {
    /// A loop process and its children.
    Loop(Vec<(Pid, Node)>),
    /// A child that exec'd.
    Execd,
}

/// What the port must send back for a call at `path`, as `(kind, id,
/// path, payload)`; `id` 0 for a path whose header the port cannot read.
fn expected(tree: &Node, port: Pid, id: u64, path: &[Pid]) -> (Kind, u64, Vec<Pid>, Vec<u8>) {
    if path.len() > MAX_PATH {
        let e = Error::PathTooLong {
            len: path.len() as u64,
            max: MAX_PATH as u64,
        };
        let notice = postcard::to_allocvec(&Notice::BadFrame(e)).unwrap();
        return (Kind::Notice, 0, vec![], notice);
    }
    let mut node = tree;
    for (i, pid) in path.iter().enumerate() {
        let Node::Loop(children) = node else {
            unreachable!("exec'd nodes end the walk")
        };
        match children.iter().find(|(p, _)| p == pid) {
            None => {
                let notice = postcard::to_allocvec(&Notice::BadPid).unwrap();
                return (Kind::Notice, id, path[..=i].to_vec(), notice);
            }
            Some((_, Node::Execd)) => {
                let r: Result<Reply, CallError> = Err(CallError::Execd);
                return (
                    Kind::Reply,
                    id,
                    path[..=i].to_vec(),
                    postcard::to_allocvec(&r).unwrap(),
                );
            }
            Some((_, n)) => node = n,
        }
    }
    let r: Result<Reply, CallError> = Ok(Reply::Pid(*path.last().unwrap_or(&port)));
    (
        Kind::Reply,
        id,
        path.to_vec(),
        postcard::to_allocvec(&r).unwrap(),
    )
}

/// An arbitrary path: mostly down real children, with pids that name no
/// child (unknown, zero, negative, extreme, the exited child, the port
/// itself, a real pid in the wrong place) mixed in, of every length up to
/// a few past `MAX_PATH`.
fn arbitrary_path(rng: &mut Rng, tree: &Node, strangers: &[Pid]) -> Vec<Pid> {
    let len = match rng.below(20) {
        0..12 => rng.below(6),
        12..16 => 16 + rng.below(6),
        16..19 => rng.below(MAX_PATH as u64 + 1),
        _ => MAX_PATH as u64 + 1 + rng.below(3),
    } as usize;
    let mut node = Some(tree);
    let mut path = Vec::with_capacity(len);
    for _ in 0..len {
        let real = match node {
            Some(Node::Loop(children)) if !children.is_empty() && rng.below(10) < 7 => {
                Some(&children[rng.below(children.len() as u64) as usize])
            }
            _ => None,
        };
        let pid = match real {
            Some((pid, child)) => {
                node = Some(child);
                *pid
            }
            None => {
                node = None;
                match rng.below(4) {
                    0 => strangers[rng.below(strangers.len() as u64) as usize],
                    1 => Pid::from_raw(rng.next() as i32),
                    2 => Pid::from_raw(-(rng.below(3) as i32)),
                    _ => Pid::from_raw(rng.below(1 << 22) as i32),
                }
            }
        };
        path.push(pid);
    }
    path
}

/// A `Getpid` call frame; for a path too long to write with `Prefix`, the
/// header is written by postcard (the same bytes, one count too many).
fn getpid_frame(out: &mut Vec<u8>, id: u64, path: &[Pid]) {
    if path.len() <= MAX_PATH {
        encode_message(out, Kind::Call, id, path, &Call::Getpid).unwrap();
        return;
    }
    let header = Header {
        kind: Kind::Call,
        id,
        path: Path::from(path.to_vec()),
    };
    let mut body = postcard::to_allocvec(&header).unwrap();
    body.extend(postcard::to_allocvec(&Call::Getpid).unwrap());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
}

#[test]
fn every_call_with_an_arbitrary_path_is_answered_once() {
    become_subreaper();
    let mut port = RawPort::start();
    let me = Pid::from_raw(port.pid());

    // [a, b, c] loops at depths 1 to 3, [d] a loop, [a, e] sleep, and [d, f]
    // exited.
    let a = port.fork(1, &[]);
    let b = port.fork(2, &[a]);
    let c = port.fork(3, &[a, b]);
    let d = port.fork(4, &[]);
    let e = port.fork(5, &[a]);
    let exec = Call::Execvp {
        file: ByteBuf(b"sleep".to_vec()),
        argv: vec![ByteBuf(b"sleep".to_vec()), ByteBuf(b"1000".to_vec())],
    };
    assert_eq!(port.ask(6, &[a, e], &exec), Ok(Reply::Ok));
    let f = port.fork(7, &[d]);
    assert_eq!(
        port.ask(8, &[d, f], &Call::Exit { status: 0 }),
        Ok(Reply::Ok)
    );
    // Until d has seen f go, a call for f could still go down its pipe.
    let deadline = Instant::now() + Duration::from_secs(10);
    while port.ask(9, &[d], &Call::Pid) != Ok(Reply::Pids(vec![])) {
        assert!(Instant::now() < deadline, "d still lists {f} as a child");
        std::thread::sleep(Duration::from_millis(10));
    }
    let tree = Node::Loop(vec![
        (
            a,
            Node::Loop(vec![
                (b, Node::Loop(vec![(c, Node::Loop(vec![]))])),
                (e, Node::Execd),
            ]),
        ),
        (d, Node::Loop(vec![])),
    ]);
    let strangers = [
        f,
        me,
        c,
        b,
        e,
        Pid::from_raw(i32::MAX),
        Pid::from_raw(i32::MIN),
    ];

    // The calls, all written at once (a thread writes, so that the port's
    // answers are read as they come).
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut want = HashMap::new();
    let mut unreadable = Vec::new();
    let mut wire = Vec::new();
    for id in FIRST_ID..FIRST_ID + FRAMES {
        let path = arbitrary_path(&mut rng, &tree, &strangers);
        getpid_frame(&mut wire, id, &path);
        let answer = expected(&tree, me, id, &path);
        if answer.1 == 0 {
            unreadable.push(answer);
        } else {
            want.insert(id, answer);
        }
    }
    let start = Instant::now();
    port.send(&wire);

    let mut got: HashMap<u64, Vec<Frame>> = HashMap::new();
    let mut refused = Vec::new();
    let deadline = start + LIMIT;
    while got.len() < want.len() || refused.len() < unreadable.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(frame) = port.frame_within(left) else {
            let missing: Vec<_> = want.keys().filter(|id| !got.contains_key(id)).collect();
            panic!(
                "within {LIMIT:?}: {} of {} calls answered, {} of {} unreadable frames \
                 refused; first missing: {:?}",
                got.len(),
                want.len(),
                refused.len(),
                unreadable.len(),
                missing
                    .iter()
                    .take(5)
                    .map(|id| &want[id])
                    .collect::<Vec<_>>()
            );
        };
        match frame.id {
            0 if frame.kind == Kind::Notice => refused.push(frame),
            // Events and output of the tree, none expected: kept to be seen.
            0 => panic!("unexpected frame {frame:?}"),
            id => got.entry(id).or_default().push(frame),
        }
    }
    let secs = start.elapsed().as_secs_f64();

    // Every call answered once, as the tree dictates.
    for (id, (kind, _, path, payload)) in &want {
        let frames = &got[id];
        assert_eq!(frames.len(), 1, "call {id}: {frames:?}");
        let f = &frames[0];
        assert_eq!(
            (f.kind, &f.path, &f.payload),
            (*kind, path, payload),
            "call {id}"
        );
    }
    assert!(
        got.keys().all(|id| want.contains_key(id)),
        "answers to no call"
    );
    for (f, (kind, _, path, payload)) in refused.iter().zip(&unreadable) {
        assert_eq!((f.kind, &f.path, &f.payload), (*kind, path, payload));
    }

    // The tree still serves, at every loop process; an answer to one of
    // the calls above arriving now would be a second one.
    for (id, path) in [
        (20, vec![]),
        (21, vec![a]),
        (22, vec![a, b]),
        (23, vec![a, b, c]),
        (24, vec![d]),
    ] {
        let reply = port.ask(id, &path, &Call::Getpid);
        assert_eq!(reply, Ok(Reply::Pid(*path.last().unwrap_or(&me))));
    }
    // The mix reached every kind of answer: executed at each depth, refused
    // as bad pids and as exec'd.
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for (kind, _, path, payload) in want.values() {
        let what = match kind {
            Kind::Notice => "bad pid".to_owned(),
            _ => match postcard::from_bytes::<Result<Reply, CallError>>(payload).unwrap() {
                Err(_) => "exec'd".to_owned(),
                Ok(_) => format!("executed at depth {}", path.len()),
            },
        };
        *kinds.entry(what).or_default() += 1;
    }
    let mut mix: Vec<_> = kinds.into_iter().collect();
    mix.sort();
    for what in [
        "bad pid",
        "exec'd",
        "executed at depth 0",
        "executed at depth 1",
        "executed at depth 2",
        "executed at depth 3",
    ] {
        assert!(
            mix.iter().any(|(w, _)| w == what),
            "no call {what}: {mix:?}"
        );
    }
    assert!(!unreadable.is_empty());
    let total = want.len() + unreadable.len();
    println!(
        "FIGURE routing: {total} frames, all answered ({} calls: {mix:?}; {} unreadable) \
         in {secs:.2} s",
        want.len(),
        unreadable.len()
    );

    // The port ends its tree when its stdin closes: nothing is left.
    let status = port.close(Duration::from_secs(20));
    assert!(status.success(), "the port exited with {status}");
    let pids: Vec<i32> = [a, b, c, d, e, f].iter().map(|p| p.as_raw()).collect();
    let gone = wait_gone(&pids, Duration::from_secs(20))
        .unwrap_or_else(|alive| panic!("still alive (pid, state, ppid): {alive:?}"));
    assert_eq!(gone[&e.as_raw()], Gone::Killed(15), "sleep gets SIGTERM");
}
