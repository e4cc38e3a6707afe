//! The fuzz targets' properties (`fuzz/fuzz_targets/`, checks in
//! `fuzz_checks/mod.rs`) as property tests: the fallback that runs
//! wherever cargo-fuzz and a nightly compiler are missing.
//!
//! `ALCOVE_FUZZ_CASES` sets the number of cases of each property (default
//! 2000, so that a plain `cargo test` stays fast); `cargo xtask fuzz` and
//! the `fuzz` step of `cargo xtask test` run a million in release mode.
//! Each test prints `FIGURE fuzz_prop <target>: <n> cases in <s> s`.

mod fuzz_checks;

use std::time::Instant;

use alcove_proto::{
    ByteBuf, Call, CallError, Error, Event, Greeting, Header, Kind, MAX_FRAME, MAX_PATH, Notice,
    Opt, Path, Pid, Reply, Rlimit,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};

/// Cases per property unless `ALCOVE_FUZZ_CASES` says otherwise.
const DEFAULT_CASES: u32 = 2000;

fn cases() -> u32 {
    match std::env::var("ALCOVE_FUZZ_CASES") {
        Ok(n) => n
            .parse()
            .unwrap_or_else(|_| panic!("ALCOVE_FUZZ_CASES={n:?} is not a number")),
        Err(_) => DEFAULT_CASES,
    }
}

/// Runs `check` on `cases()` values of `strategy`; prints the figure.
fn run<S: Strategy>(target: &str, strategy: S, check: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let cases = cases();
    let config = Config {
        cases,
        // No regression files: a failure prints its (shrunk) input.
        failure_persistence: None,
        ..Config::default()
    };
    let start = Instant::now();
    TestRunner::new(config)
        .run(&strategy, |v| {
            check(v);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("fuzz_prop {target}: {e}"));
    let secs = start.elapsed().as_secs_f64();
    println!("FIGURE fuzz_prop {target}: {cases} cases in {secs:.1} s");
}

fn enc<T: serde::Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).expect("encodes")
}

/// Payloads of every type that decode, to be mutated: a decoder sees
/// mostly near-misses rather than bytes it refuses at the first one.
fn seeds() -> Vec<Vec<u8>> {
    let b = |s: &str| ByteBuf(s.as_bytes().to_vec());
    let calls = [
        Call::Fork,
        Call::Clone { flags: 1 << 30 },
        Call::Getpid,
        Call::Execvp {
            file: b("cat"),
            argv: vec![b("cat"), b("-")],
        },
        Call::Kill { pid: -1, signal: 9 },
        Call::Setopt {
            opt: Opt::Maxforkdepth,
            value: -3,
        },
        Call::Setrlimit {
            resource: 7,
            limit: Rlimit {
                cur: Some(1024),
                max: None,
            },
        },
        Call::Setgroups {
            gids: vec![0, u32::MAX],
        },
    ];
    let replies: [Result<Reply, CallError>; 6] = [
        Ok(Reply::Ok),
        Ok(Reply::Pid(Pid::from_raw(1234))),
        Ok(Reply::List(vec![b("A=1"), b("")])),
        Ok(Reply::MaybeBytes(Some(b("x")))),
        Err(CallError::Errno(13)),
        Err(CallError::TooLarge { len: 1, max: 2 }),
    ];
    let notices = [
        Notice::BadPid,
        Notice::StdinAck(4096),
        Notice::BadFrame(Error::Oversize {
            len: u64::MAX,
            max: MAX_FRAME as u64,
        }),
        Notice::BadFrame(Error::Header("truncated".into())),
    ];
    let mut out: Vec<Vec<u8>> = Vec::new();
    out.extend(calls.iter().map(enc));
    out.extend(replies.iter().map(enc));
    out.extend(notices.iter().map(enc));
    out.push(enc(&Event::ExitStatus { status: -1 }));
    out.push(enc(&Greeting {
        version: "0.1.0".into(),
        protocol: 1,
        pid: Pid::from_raw(1),
    }));
    out.push(enc(&u32::MAX));
    out.push(enc(&Header {
        kind: Kind::Credit,
        id: 1 << 40,
        path: Path::from(vec![Pid::from_raw(-5)]),
    }));
    out
}

/// A seed payload, changed a little or not at all: a byte replaced,
/// inserted or removed, or the end cut off.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let mutated = (
        select(seeds()),
        0..5u8,
        any::<prop::sample::Index>(),
        any::<u8>(),
    )
        .prop_map(|(mut p, how, at, byte)| {
            let i = at.index(p.len() + 1);
            match how {
                0 => {}
                1 if i < p.len() => p[i] = byte,
                2 => p.insert(i, byte),
                3 if i < p.len() => {
                    p.remove(i);
                }
                _ => p.truncate(i),
            }
            p
        });
    prop_oneof![3 => mutated, 1 => vec(any::<u8>(), 0..32)]
}

/// A pid: small or any, zero and negative included.
fn pid() -> impl Strategy<Value = i32> {
    prop_oneof![3 => -2..100i32, 1 => any::<i32>()]
}

/// A path: short mostly, sometimes at the edge of `MAX_PATH` (one over it
/// cannot be written, and comes out as a bare kind byte).
fn path() -> impl Strategy<Value = Vec<i32>> {
    prop_oneof![
        8 => vec(pid(), 0..4),
        1 => vec(pid(), MAX_PATH - 1..=MAX_PATH + 1),
    ]
}

/// A frame body: a good header (any kind number, unknown ones included)
/// and a payload, or random bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let framed = (0..10u8, any::<u64>(), path(), payload())
        .prop_map(|(kind, id, path, payload)| fuzz_checks::body(kind, id, &path, &payload));
    prop_oneof![4 => framed, 1 => vec(any::<u8>(), 0..64)]
}

/// A length prefix that lies: empty, too short, too long, past the maximum.
fn lying_prefix() -> impl Strategy<Value = u32> {
    let max = MAX_FRAME as u32;
    prop_oneof![
        3 => 0u32..64,
        1 => (max - 2)..=(max + 2),
        1 => (u32::MAX - 2)..=u32::MAX,
        1 => any::<u32>(),
    ]
}

/// A stream of segments, each a whole frame or a lying prefix with a few
/// bytes after it, behind the feeding plan of [`fuzz_checks::reassembler`]
/// (a control byte and up to 15 chunk sizes).
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let segment = prop_oneof![
        3 => body().prop_map(|b| {
            let mut s = (b.len() as u32).to_le_bytes().to_vec();
            s.extend(b);
            s
        }),
        1 => (lying_prefix(), vec(any::<u8>(), 0..24)).prop_map(|(len, data)| {
            let mut s = len.to_le_bytes().to_vec();
            s.extend(data);
            s
        }),
    ];
    (any::<u8>(), vec(any::<u8>(), 0..16), vec(segment, 0..8)).prop_map(
        |(control, sizes, segments)| {
            let n = usize::from(control & 0x0f).min(sizes.len());
            let mut input = vec![(control & 0xf0) | n as u8];
            input.extend_from_slice(&sizes[..n]);
            input.extend(segments.concat());
            input
        },
    )
}

#[test]
fn frame() {
    run("frame", body(), |b| fuzz_checks::frame(&b));
}

#[test]
fn reassembler() {
    run("reassembler", stream(), |s| fuzz_checks::reassembler(&s));
}

/// The reference cutter the reassembler is held to, on streams whose cuts
/// are known: the checks compare with something right.
#[test]
fn the_reference_cuts_known_streams() {
    use fuzz_checks::{Cut, reference};
    let getpid = enc(&Call::Getpid);
    let body = fuzz_checks::body(1, 7, &[5, -1], &getpid);
    let header = Header {
        kind: Kind::Call,
        id: 7,
        path: Path::from(vec![Pid::from_raw(5), Pid::from_raw(-1)]),
    };
    let mut wire = (body.len() as u32).to_le_bytes().to_vec();
    wire.extend(&body);
    wire.extend(0u32.to_le_bytes());
    wire.extend(2u32.to_le_bytes());
    wire.extend([42, 0]);
    wire.extend((MAX_FRAME as u32 + 1).to_le_bytes());
    wire.extend([0xaa; 10]);
    assert_eq!(
        reference(&wire),
        (
            vec![
                Cut::Frame(header, getpid),
                Cut::Err(Error::Empty),
                Cut::Err(Error::UnknownKind(42)),
                Cut::Err(Error::Oversize {
                    len: MAX_FRAME as u64 + 1,
                    max: MAX_FRAME as u64
                }),
            ],
            0
        )
    );
    // A partial frame at the end is left over.
    assert_eq!(reference(&[9, 0, 0, 0, 1, 2]), (vec![], 6));
    assert_eq!(reference(&[9, 0]), (vec![], 2));

    // The checks pass on this stream cut at every byte, through both ways
    // of feeding, and on a prefix announcing the largest frame.
    fuzz_checks::frame(&body);
    for cut in 0..=wire.len() {
        for control in [0x01, 0x11, 0xf1] {
            let mut input = vec![control, cut.min(0xf0) as u8];
            input.extend(&wire);
            fuzz_checks::reassembler(&input);
        }
    }
    let mut input = vec![0x10];
    input.extend((MAX_FRAME as u32).to_le_bytes());
    input.extend([1, 0, 0]);
    fuzz_checks::reassembler(&input);
}
