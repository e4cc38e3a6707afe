//! Bad input on the wire: each bad frame gets a clear answer, and the
//! tree goes on serving the frames after it; a stream that can no longer
//! be cut into frames (an oversize length, an end inside a frame) is a
//! protocol error: the port says so, acts on nothing more, and the tree
//! goes down cleanly.

use std::time::Duration;

use alcove_proto::{
    Call, CallError, Error, Kind, MAX_FRAME, Notice, Pid, Reply, encode_frame, encode_message,
};
use alcove_tests::Rng;
use alcove_tests::raw::{Frame, RawPort};

/// A `Mkdir` call frame to the port, for a directory that must not appear.
fn mkdir_frame(id: u64, dir: &std::path::Path) -> Vec<u8> {
    let call = Call::Mkdir {
        path: dir.as_os_str().as_encoded_bytes().into(),
        mode: 0o700,
    };
    let mut v = Vec::new();
    encode_message(&mut v, Kind::Call, id, &[], &call).unwrap();
    v
}

/// The one `BadFrame` notice among `frames`, which must be the last.
fn last_bad_frame(frames: &[Frame]) -> Error {
    let last = frames.last().expect("a notice before the end");
    assert_eq!((last.kind, last.id, &last.path), (Kind::Notice, 0, &vec![]));
    match postcard::from_bytes(&last.payload).unwrap() {
        Notice::BadFrame(e) => e,
        other => panic!("{other:?}"),
    }
}

fn fork(port: &mut RawPort) -> Pid {
    port.fork(1, &[])
}

#[test]
fn empty_and_unknown_frames_get_notices_and_the_stream_goes_on() {
    let mut port = RawPort::start();
    let c = fork(&mut port);

    port.send(&0u32.to_le_bytes());
    assert_eq!(port.notice().2, Notice::BadFrame(Error::Empty));

    port.send(&[3, 0, 0, 0, 99, 0, 0]);
    assert_eq!(port.notice().2, Notice::BadFrame(Error::UnknownKind(99)));

    // A frame of a kind that only goes up.
    let mut v = Vec::new();
    encode_frame(&mut v, Kind::Stdout, 5, &[], b"x").unwrap();
    port.send(&v);
    let (id, _, n) = port.notice();
    assert_eq!(id, 5);
    assert!(matches!(n, Notice::BadFrame(Error::Header(_))), "{n:?}");

    port.healthy(&[c]);
}

#[test]
fn malformed_calls_are_answered_at_the_port_and_below_it() {
    let mut port = RawPort::start();
    let c = fork(&mut port);
    for path in [vec![], vec![c]] {
        for payload in [&[200u8][..], &[2, 0xff], &[]] {
            let mut v = Vec::new();
            encode_frame(&mut v, Kind::Call, 40, &path, payload).unwrap();
            port.send(&v);
            let f = port.next_frame();
            assert_eq!((f.kind, f.id, &f.path), (Kind::Reply, 40, &path), "{f:?}");
            let r: Result<Reply, CallError> = postcard::from_bytes(&f.payload).unwrap();
            assert!(
                matches!(r, Err(CallError::Malformed(_))),
                "{payload:?}: {r:?}"
            );
        }
    }
    port.healthy(&[c]);
}

#[test]
fn stdin_and_credit_for_loop_processes_are_refused() {
    let mut port = RawPort::start();
    let c = fork(&mut port);
    for path in [vec![], vec![c]] {
        let mut v = Vec::new();
        encode_frame(&mut v, Kind::Stdin, 0, &path, b"not for a loop").unwrap();
        port.send(&v);
        let (_, at, n) = port.notice();
        assert_eq!((at, n), (path.clone(), Notice::NotExecd));
    }
    let mut v = Vec::new();
    encode_message(&mut v, Kind::Credit, 0, &[c], &1000u32).unwrap();
    port.send(&v);
    assert_eq!(port.notice(), (0, vec![c], Notice::NotExecd));
    port.healthy(&[c]);
}

#[test]
fn bad_pids_name_the_call_they_refuse() {
    let mut port = RawPort::start();
    let c = fork(&mut port);
    port.call(77, &[c, Pid::from_raw(1)], &Call::Getpid);
    assert_eq!(
        port.notice(),
        (77, vec![c, Pid::from_raw(1)], Notice::BadPid)
    );
    port.call(78, &[Pid::from_raw(-1)], &Call::Getpid);
    assert_eq!(port.notice(), (78, vec![Pid::from_raw(-1)], Notice::BadPid));
    port.healthy(&[c]);
}

/// A call written right before the port's stdin closes is answered, and
/// the port then exits: the data and the hang-up come in one wake-up, and
/// the end of file behind a short read is still seen.
#[test]
fn a_call_then_the_end_of_stdin_is_answered_then_the_port_exits() {
    for _ in 0..50 {
        let mut port = RawPort::start();
        let c = fork(&mut port);
        let mut frames = Vec::new();
        encode_message(&mut frames, Kind::Call, 5, &[], &Call::Getpid).unwrap();
        encode_message(&mut frames, Kind::Call, 6, &[c], &Call::Getpid).unwrap();
        port.send(&frames);
        // Closing our end of its stdin: the port sees the end of file.
        port.close_input();
        let (frames, code) = port.end();
        let ids: Vec<u64> = frames
            .iter()
            .filter(|f| f.kind == Kind::Reply)
            .map(|f| f.id)
            .collect();
        assert!(ids.contains(&5), "the port's reply came: {ids:?}");
        assert_eq!(code, Some(0), "the port exited on its own");
    }
}

/// Thousands of frames of every kind, with random ids, paths and payloads
/// (calls among them never decode: their first byte names no call, so
/// nothing random is ever performed), to the port and below it: every one
/// is answered or dropped, and the tree keeps serving.
#[test]
fn random_frames_leave_the_tree_healthy() {
    let mut port = RawPort::start();
    let c = fork(&mut port);
    port.call(2, &[c], &Call::Fork);
    let k = match port.reply(2) {
        Ok(Reply::Pid(p)) => p,
        other => panic!("{other:?}"),
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..40 {
        let mut batch = Vec::new();
        for _ in 0..50 {
            let path: Vec<Pid> = match rng.below(4) {
                0 => vec![],
                1 => vec![c],
                2 => vec![c, k],
                _ => (0..rng.below(4))
                    .map(|_| Pid::from_raw(rng.next() as i32))
                    .collect(),
            };
            let id = rng.next();
            match rng.below(3) {
                // A whole body of random bytes: a header that may not parse.
                0 => {
                    let mut body = rng.bytes(64);
                    // Any kind but a call (not even a call spelled as a
                    // longer varint): random calls must never run.
                    if let Some(b) = body.first_mut()
                        && (*b & 0x80 != 0 || *b == Kind::Call as u8)
                    {
                        *b = 9 + (*b % 100);
                    }
                    batch.extend((body.len() as u32).to_le_bytes());
                    batch.extend(body);
                }
                // A good header of any kind, a random payload.
                _ => {
                    let kind = Kind::ALL[rng.below(Kind::ALL.len() as u64) as usize];
                    let mut payload = rng.bytes(40);
                    if kind == Kind::Call {
                        // First byte past the last call: never decodes.
                        match payload.first_mut() {
                            Some(b) => *b = 0x70 | (*b & 0x0f),
                            None => payload.push(0x7f),
                        }
                    }
                    encode_frame(&mut batch, kind, id, &path, &payload).unwrap();
                }
            }
        }
        port.send(&batch);
        port.call(900 + round, &[c, k], &Call::Getpid);
        // Skip what the bad frames brought back, up to the answer.
        loop {
            let f = port.next_frame();
            if f.kind == Kind::Reply && f.id == 900 + round {
                let r: Result<Reply, CallError> = postcard::from_bytes(&f.payload).unwrap();
                assert_eq!(r, Ok(Reply::Pid(k)), "round {round}");
                break;
            }
        }
    }
}

#[test]
fn an_oversize_length_is_a_protocol_error_and_the_tree_goes_down() {
    alcove_tests::become_subreaper();
    let tmp = alcove_tests::TempDir::new("oversize");
    let dir = tmp.path().join("made-after-the-bad-frame");
    let mut port = RawPort::start();
    let c = fork(&mut port);
    port.call(2, &[], &Call::Fork);
    let e = match port.reply(2) {
        Ok(Reply::Pid(p)) => p,
        other => panic!("{other:?}"),
    };
    let exec = Call::Execvp {
        file: b"sleep".as_slice().into(),
        argv: vec![b"sleep".as_slice().into(), b"600".as_slice().into()],
    };
    port.call(3, &[e], &exec);
    loop {
        let f = port.next_frame();
        if (f.kind, f.id) == (Kind::Reply, 3) {
            break;
        }
    }

    // A length no client writes, then a good call in the same write: the
    // call is never cut out of the stream, let alone run.
    let mut bytes = (MAX_FRAME as u32 + 1).to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0xab; 64]);
    bytes.extend_from_slice(&mkdir_frame(4, &dir));
    port.send(&bytes);
    let (frames, code) = port.end();
    assert!(
        matches!(last_bad_frame(&frames), Error::Oversize { len, .. } if len == MAX_FRAME as u64 + 1)
    );
    assert!(
        !frames.iter().any(|f| f.id == 4),
        "the call after the bad length was answered: {frames:?}"
    );
    assert_eq!(code, Some(2), "the port's exit code after a protocol error");
    assert!(!dir.exists(), "{} was made", dir.display());
    let gone = alcove_tests::wait_gone(&[c.as_raw(), e.as_raw()], Duration::from_secs(10))
        .expect("the loop child and the exec'd sleep end with the port");
    println!("FIGURE oversize: port exit 2, tree gone: {gone:?}");
}

#[test]
fn a_stream_that_ends_inside_a_frame_runs_nothing_of_it() {
    let tmp = alcove_tests::TempDir::new("truncated");
    let dir = tmp.path().join("made-by-a-partial-call");
    let whole = mkdir_frame(5, &dir);
    // Every cut: inside the length prefix, the header, the payload.
    for cut in 1..whole.len() {
        let mut port = RawPort::start();
        port.send(&whole[..cut]);
        port.close_input();
        let (frames, code) = port.end();
        assert_eq!(
            last_bad_frame(&frames),
            Error::Truncated { have: cut as u64 },
            "cut at {cut}"
        );
        assert_eq!(code, Some(2), "cut at {cut}");
        assert!(!dir.exists(), "cut at {cut}: {} was made", dir.display());
    }
    // The whole frame, then the end: run, answered, and a clean exit.
    let mut port = RawPort::start();
    port.send(&whole);
    assert_eq!(port.reply(5), Ok(Reply::Ok));
    port.close_input();
    let (frames, code) = port.end();
    assert!(frames.is_empty(), "{frames:?}");
    assert_eq!(code, Some(0));
    assert!(dir.is_dir());
    println!(
        "FIGURE truncated: {} cuts of a {}-byte call, none run",
        whole.len() - 1,
        whole.len()
    );
}

#[test]
fn garbage_is_a_protocol_error_and_nothing_runs() {
    let tmp = alcove_tests::TempDir::new("garbage");
    let dir = tmp.path().join("made-from-garbage");
    // Another protocol's bytes (a length prefix of "GET "), and random
    // bytes (whose first four almost always announce more than MAX_FRAME;
    // here they do by construction), each with a good call behind.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut random: Vec<u8> = (0..64 << 10).map(|_| rng.next() as u8).collect();
    random[3] |= 0x80;
    let http = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec();
    for garbage in [http, random] {
        let mut port = RawPort::start();
        let mut bytes = garbage.clone();
        bytes.extend_from_slice(&mkdir_frame(6, &dir));
        // The port may close its stdin before all of it is written.
        let _ = port.try_send(&bytes);
        let (frames, code) = port.end();
        assert!(
            matches!(last_bad_frame(&frames), Error::Oversize { .. }),
            "{frames:?}"
        );
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_eq!(code, Some(2));
        assert!(!dir.exists());
    }
    println!("FIGURE garbage: 2 streams, each refused at its first length, nothing run");
}
