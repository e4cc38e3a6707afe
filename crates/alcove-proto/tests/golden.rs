//! Golden bytes: the wire format of `PROTOCOL.md`, frozen.
//!
//! Every expected frame below was written by hand from `PROTOCOL.md`
//! (length prefix, header, payload). Each test encodes a frame and compares
//! it with the literal bytes, then decodes the literal bytes with a
//! [`Reassembler`] and compares the result with the value encoded.
//!
//! If one of these tests fails, the wire format changed: either the change
//! is a mistake, or it is a new protocol version and `PROTOCOL.md` changes
//! with it. Never update a literal to make a test pass.

use std::fmt;

use alcove_proto::{
    ByteBuf, Call, CallError, Cpid, Error, Event, Field, Greeting, Header, HeaderRef,
    INITIAL_OUTPUT_CREDIT, Kind, LEN_PREFIX, MAX_FRAME, MAX_HEADER, MAX_PATH, MAX_PAYLOAD,
    MAX_PREFIX, Notice, Opt, PROTOCOL_VERSION, Path, Pid, PrctlArg, Prefix, Reassembler, Reply,
    Rlimit, STDIN_WINDOW, SigHandler, Table, encode_frame, encode_message,
};
use serde::{Serialize, de::DeserializeOwned};

/// The payload of a reply frame.
type ReplyResult = Result<Reply, CallError>;

/// Bytes written as whitespace-separated hex pairs.
fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("bad hex byte {b:?}")))
        .collect()
}

/// Shows bytes as hex in assertion failures.
#[derive(PartialEq, Eq)]
struct Hex<'a>(&'a [u8]);

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

fn pids(raw: &[i32]) -> Vec<Pid> {
    raw.iter().copied().map(Pid::from_raw).collect()
}

fn header(kind: Kind, id: u64, path: &[i32]) -> Header {
    Header {
        kind,
        id,
        path: Path::from(pids(path)),
    }
}

/// Reassembles `wire`, which must hold exactly one valid frame, and
/// returns its header and payload.
#[track_caller]
fn decode_one(wire: &[u8]) -> (Header, Vec<u8>) {
    let mut rx = Reassembler::new();
    rx.feed(wire);
    let frame = rx
        .next_frame()
        .expect("a whole frame")
        .expect("a valid frame");
    let out = (frame.header.to_owned(), frame.payload.to_vec());
    assert!(rx.next_frame().is_none(), "more than one frame");
    assert_eq!(rx.buffered(), 0);
    out
}

/// The header bytes are postcard's encoding of [`Header`].
#[track_caller]
fn assert_header_is_postcard(wire: &[u8], header: &Header, payload_len: usize) {
    let body = &wire[LEN_PREFIX..];
    let header_bytes = &body[..body.len() - payload_len];
    let postcard_bytes = postcard::to_allocvec(header).expect("header encodes");
    assert_eq!(
        Hex(header_bytes),
        Hex(&postcard_bytes),
        "header is postcard"
    );
    assert_eq!(
        postcard::from_bytes::<Header>(header_bytes).expect("postcard decodes the header"),
        *header
    );
}

/// Encodes `msg` in a frame, compares it with `expected`, decodes
/// `expected` and compares it with `msg`.
#[track_caller]
fn golden<T>(kind: Kind, id: u64, path: &[i32], msg: &T, expected: &str)
where
    T: Serialize + DeserializeOwned + PartialEq + fmt::Debug,
{
    let expected = hex(expected);
    let mut wire = Vec::new();
    encode_message(&mut wire, kind, id, &pids(path), msg).expect("encodes");
    assert_eq!(Hex(&wire), Hex(&expected), "encoding of {msg:?}");

    let (got_header, payload) = decode_one(&expected);
    let want_header = header(kind, id, path);
    assert_eq!(got_header, want_header);
    assert_eq!(
        Hex(&payload),
        Hex(&postcard::to_allocvec(msg).expect("postcard encodes")),
        "payload is postcard"
    );
    assert_header_is_postcard(&expected, &want_header, payload.len());

    let mut rx = Reassembler::new();
    rx.feed(&expected);
    let frame = rx.next_frame().expect("a whole frame").expect("valid");
    assert_eq!(frame.decode::<T>().expect("payload decodes"), *msg);
}

/// As [`golden`], for a frame with a raw payload.
#[track_caller]
fn golden_raw(kind: Kind, id: u64, path: &[i32], payload: &[u8], expected: &str) {
    let expected = hex(expected);
    let mut wire = Vec::new();
    encode_frame(&mut wire, kind, id, &pids(path), payload).expect("encodes");
    assert_eq!(Hex(&wire), Hex(&expected));

    let (got_header, got_payload) = decode_one(&expected);
    let want_header = header(kind, id, path);
    assert_eq!(got_header, want_header);
    assert_eq!(Hex(&got_payload), Hex(payload));
    assert_header_is_postcard(&expected, &want_header, payload.len());
}

// ---------------------------------------------------------------------------
// Constants

#[test]
fn constants() {
    assert_eq!(PROTOCOL_VERSION, 1);
    assert_eq!(LEN_PREFIX, 4);
    assert_eq!(MAX_FRAME, 16_777_216);
    assert_eq!(MAX_PATH, 256);
    assert_eq!(MAX_HEADER, 1293);
    assert_eq!(MAX_PREFIX, 1297);
    assert_eq!(MAX_PAYLOAD, 16_775_923);
    assert_eq!(INITIAL_OUTPUT_CREDIT, 1_048_576);
    assert_eq!(STDIN_WINDOW, 1_048_576);
}

// ---------------------------------------------------------------------------
// Header: kinds, ids, paths

#[test]
fn kind_greeting_is_0() {
    golden_raw(Kind::Greeting, 0, &[], b"", "03 00 00 00 00 00 00");
}

#[test]
fn kind_call_is_1() {
    golden_raw(Kind::Call, 0, &[], b"", "03 00 00 00 01 00 00");
}

#[test]
fn kind_reply_is_2() {
    golden_raw(Kind::Reply, 0, &[], b"", "03 00 00 00 02 00 00");
}

#[test]
fn kind_event_is_3() {
    golden_raw(Kind::Event, 0, &[], b"", "03 00 00 00 03 00 00");
}

#[test]
fn kind_stdin_is_4() {
    golden_raw(Kind::Stdin, 0, &[], b"", "03 00 00 00 04 00 00");
}

#[test]
fn kind_stdout_is_5() {
    golden_raw(Kind::Stdout, 0, &[], b"", "03 00 00 00 05 00 00");
}

#[test]
fn kind_stderr_is_6() {
    golden_raw(Kind::Stderr, 0, &[], b"", "03 00 00 00 06 00 00");
}

#[test]
fn kind_notice_is_7() {
    golden_raw(Kind::Notice, 0, &[], b"", "03 00 00 00 07 00 00");
}

#[test]
fn kind_credit_is_8() {
    golden_raw(Kind::Credit, 0, &[], b"", "03 00 00 00 08 00 00");
}

#[test]
fn kind_numbers_are_positions_and_9_is_unknown() {
    for (n, kind) in Kind::ALL.into_iter().enumerate() {
        assert_eq!(kind as usize, n);
        assert_eq!(Kind::from_wire(n as u32), Ok(kind));
        assert_eq!(postcard::to_allocvec(&kind).unwrap(), [n as u8]);
    }
    assert_eq!(Kind::from_wire(9), Err(Error::UnknownKind(9)));
    let mut rx = Reassembler::new();
    rx.feed(&hex("03 00 00 00 09 00 00"));
    assert_eq!(rx.next_frame().unwrap().unwrap_err(), Error::UnknownKind(9));
}

#[test]
fn id_300_is_two_bytes() {
    golden(
        Kind::Call,
        300,
        &[],
        &Call::Getpid,
        "05 00 00 00 01 ac 02 00 02",
    );
}

#[test]
fn ids_at_varint_boundaries() {
    golden(
        Kind::Call,
        127,
        &[],
        &Call::Getpid,
        "04 00 00 00 01 7f 00 02",
    );
    golden(
        Kind::Call,
        128,
        &[],
        &Call::Getpid,
        "05 00 00 00 01 80 01 00 02",
    );
    golden(
        Kind::Call,
        16384,
        &[],
        &Call::Getpid,
        "06 00 00 00 01 80 80 01 00 02",
    );
    golden(
        Kind::Call,
        u64::from(u32::MAX),
        &[],
        &Call::Getpid,
        "08 00 00 00 01 ff ff ff ff 0f 00 02",
    );
}

#[test]
fn id_u64_max_is_ten_bytes() {
    golden::<ReplyResult>(
        Kind::Reply,
        u64::MAX,
        &[],
        &Ok(Reply::Ok),
        "0e 00 00 00 02 ff ff ff ff ff ff ff ff ff 01 00 00 00",
    );
}

#[test]
fn negative_and_large_pids_are_zigzag() {
    golden(
        Kind::Call,
        1,
        &[-1, 0, 1234, i32::MAX, i32::MIN, -70_000, 4_194_304],
        &Call::Getpid,
        "19 00 00 00 01 01 07 \
         01 00 a4 13 fe ff ff ff 0f ff ff ff ff 0f df c5 08 80 80 80 04 \
         02",
    );
}

#[test]
fn pids_at_varint_boundaries() {
    golden(
        Kind::Event,
        0,
        &[63, -64, 64, -65],
        &Event::ExitStatus { status: 0 },
        "0b 00 00 00 03 00 04 7e 7f 80 01 81 01 01 00",
    );
}

#[test]
fn longest_path_has_a_two_byte_count() {
    let path = vec![1; MAX_PATH];
    let mut expected = hex("06 01 00 00 02 00 80 02");
    expected.extend([0x02; MAX_PATH]);
    expected.extend(hex("00 00"));
    let msg: ReplyResult = Ok(Reply::Ok);

    let mut wire = Vec::new();
    encode_message(&mut wire, Kind::Reply, 0, &pids(&path), &msg).unwrap();
    assert_eq!(Hex(&wire), Hex(&expected));
    let (h, payload) = decode_one(&expected);
    assert_eq!(h, header(Kind::Reply, 0, &path));
    assert_eq!(payload, hex("00 00"));
}

#[test]
fn a_path_over_the_maximum_is_refused() {
    let path = pids(&vec![1; MAX_PATH + 1]);
    let mut wire = b"keep".to_vec();
    let err = encode_message(&mut wire, Kind::Call, 1, &path, &Call::Getpid).unwrap_err();
    assert_eq!(err, Error::PathTooLong { len: 257, max: 256 });
    assert_eq!(wire, b"keep");
    assert!(encode_frame(&mut wire, Kind::Stdin, 0, &path, b"x").is_err());
    // Kind 1, id 0, count 257.
    assert_eq!(
        HeaderRef::parse(&hex("01 00 81 02")),
        Err(Error::PathTooLong { len: 257, max: 256 })
    );
}

// ---------------------------------------------------------------------------
// Raw payloads

#[test]
fn stdin_raw_bytes() {
    golden_raw(
        Kind::Stdin,
        0,
        &[1234],
        b"hello\n",
        "0b 00 00 00 04 00 01 a4 13 68 65 6c 6c 6f 0a",
    );
}

#[test]
fn stdout_raw_bytes() {
    golden_raw(
        Kind::Stdout,
        0,
        &[1234, 5],
        b"hi",
        "08 00 00 00 05 00 02 a4 13 0a 68 69",
    );
}

#[test]
fn stdout_bytes_need_not_be_utf8() {
    golden_raw(
        Kind::Stdout,
        0,
        &[1234],
        &[0x00, 0xff, 0x80],
        "08 00 00 00 05 00 01 a4 13 00 ff 80",
    );
}

#[test]
fn stderr_raw_bytes() {
    golden_raw(
        Kind::Stderr,
        0,
        &[1234],
        b"oops",
        "09 00 00 00 06 00 01 a4 13 6f 6f 70 73",
    );
}

// ---------------------------------------------------------------------------
// Greeting and Credit

#[test]
fn greeting() {
    golden(
        Kind::Greeting,
        0,
        &[],
        &Greeting {
            version: "0.1.0".into(),
            protocol: PROTOCOL_VERSION,
            pid: Pid::from_raw(4321),
        },
        "0c 00 00 00 00 00 00 05 30 2e 31 2e 30 01 c2 43",
    );
}

#[test]
fn credit_initial() {
    golden(
        Kind::Credit,
        0,
        &[1234],
        &INITIAL_OUTPUT_CREDIT,
        "08 00 00 00 08 00 01 a4 13 80 80 40",
    );
    golden(
        Kind::Credit,
        0,
        &[1234, 5],
        &INITIAL_OUTPUT_CREDIT,
        "09 00 00 00 08 00 02 a4 13 0a 80 80 40",
    );
}

#[test]
fn credit_one_byte() {
    golden(
        Kind::Credit,
        0,
        &[1234, 5],
        &1u32,
        "07 00 00 00 08 00 02 a4 13 0a 01",
    );
}

// ---------------------------------------------------------------------------
// Call: id 1 to [1234], header 01 01 01 a4 13

#[test]
fn call_fork() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Fork,
        "06 00 00 00 01 01 01 a4 13 00",
    );
}

#[test]
fn call_clone() {
    // CLONE_NEWPID = 0x2000_0000 = 2^29.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Clone { flags: 0x2000_0000 },
        "0b 00 00 00 01 01 01 a4 13 01 80 80 80 80 02",
    );
}

#[test]
fn call_getpid() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Getpid,
        "06 00 00 00 01 01 01 a4 13 02",
    );
}

#[test]
fn call_execve() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Execve {
            path: "/bin/sh".into(),
            argv: vec!["sh".into(), "-c".into(), "true".into()],
            env: vec!["A=1".into()],
        },
        "1f 00 00 00 01 01 01 a4 13 \
         03 \
         07 2f 62 69 6e 2f 73 68 \
         03 02 73 68 02 2d 63 04 74 72 75 65 \
         01 03 41 3d 31",
    );
}

#[test]
fn call_execvp() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Execvp {
            file: "cat".into(),
            argv: vec!["cat".into()],
        },
        "0f 00 00 00 01 01 01 a4 13 04 03 63 61 74 01 03 63 61 74",
    );
}

#[test]
fn call_exit() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Exit { status: 255 },
        "08 00 00 00 01 01 01 a4 13 05 fe 03",
    );
}

#[test]
fn call_kill() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Kill {
            pid: -1234,
            signal: 15,
        },
        "09 00 00 00 01 01 01 a4 13 06 a3 13 1e",
    );
}

#[test]
fn call_getopt() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Getopt {
            opt: Opt::Maxforkdepth,
        },
        "07 00 00 00 01 01 01 a4 13 07 01",
    );
}

#[test]
fn call_setopt() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setopt {
            opt: Opt::Maxchild,
            value: 64,
        },
        "09 00 00 00 01 01 01 a4 13 08 00 80 01",
    );
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setopt {
            opt: Opt::Signaloneof,
            value: -1,
        },
        "08 00 00 00 01 01 01 a4 13 08 07 01",
    );
}

#[test]
fn call_pid() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Pid,
        "06 00 00 00 01 01 01 a4 13 09",
    );
}

#[test]
fn call_version() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Version,
        "06 00 00 00 01 01 01 a4 13 0a",
    );
}

#[test]
fn call_eof() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Eof {
            pid: Pid::from_raw(1240),
        },
        "08 00 00 00 01 01 01 a4 13 0b b0 13",
    );
}

#[test]
fn call_chdir() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Chdir {
            path: "/tmp".into(),
        },
        "0b 00 00 00 01 01 01 a4 13 0c 04 2f 74 6d 70",
    );
}

#[test]
fn call_chmod() {
    // 0o755 = 493 = 3 × 128 + 109.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Chmod {
            path: "/tmp/a".into(),
            mode: 0o755,
        },
        "0f 00 00 00 01 01 01 a4 13 0d 06 2f 74 6d 70 2f 61 ed 03",
    );
}

#[test]
fn call_chown() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Chown {
            path: "/tmp/a".into(),
            uid: 1000,
            gid: 100,
        },
        "10 00 00 00 01 01 01 a4 13 0e 06 2f 74 6d 70 2f 61 e8 07 64",
    );
    // (uid_t)-1 leaves the owner as it is: a u32, not a negative i32.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Chown {
            path: "/tmp/a".into(),
            uid: u32::MAX,
            gid: 0,
        },
        "13 00 00 00 01 01 01 a4 13 0e 06 2f 74 6d 70 2f 61 ff ff ff ff 0f 00",
    );
}

#[test]
fn call_chroot() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Chroot { path: "/".into() },
        "08 00 00 00 01 01 01 a4 13 0f 01 2f",
    );
}

#[test]
fn call_clearenv() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Clearenv,
        "06 00 00 00 01 01 01 a4 13 10",
    );
}

#[test]
fn call_close() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Close { fd: 3 },
        "07 00 00 00 01 01 01 a4 13 11 06",
    );
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Close { fd: -1 },
        "07 00 00 00 01 01 01 a4 13 11 01",
    );
}

#[test]
fn call_environ() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Environ,
        "06 00 00 00 01 01 01 a4 13 12",
    );
}

#[test]
fn call_getcwd() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Getcwd,
        "06 00 00 00 01 01 01 a4 13 13",
    );
}

#[test]
fn call_getenv() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Getenv {
            name: "HOME".into(),
        },
        "0b 00 00 00 01 01 01 a4 13 14 04 48 4f 4d 45",
    );
}

#[test]
fn call_getgid() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Getgid,
        "06 00 00 00 01 01 01 a4 13 15",
    );
}

#[test]
fn call_gethostname() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Gethostname,
        "06 00 00 00 01 01 01 a4 13 16",
    );
}

#[test]
fn call_getrlimit() {
    // RLIMIT_NOFILE = 7, zigzag 14.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Getrlimit { resource: 7 },
        "07 00 00 00 01 01 01 a4 13 17 0e",
    );
}

#[test]
fn call_getuid() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Getuid,
        "06 00 00 00 01 01 01 a4 13 18",
    );
}

#[test]
fn call_mkdir() {
    // 0o700 = 448 = 3 × 128 + 64.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Mkdir {
            path: "/tmp/d".into(),
            mode: 0o700,
        },
        "0f 00 00 00 01 01 01 a4 13 19 06 2f 74 6d 70 2f 64 c0 03",
    );
}

#[test]
fn call_mount() {
    // MS_NOSUID | MS_NODEV = 2 | 4.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Mount {
            source: "tmpfs".into(),
            target: "/mnt".into(),
            fstype: "tmpfs".into(),
            flags: 6,
            data: "size=1m".into(),
        },
        "20 00 00 00 01 01 01 a4 13 1a \
         05 74 6d 70 66 73 \
         04 2f 6d 6e 74 \
         05 74 6d 70 66 73 \
         06 \
         07 73 69 7a 65 3d 31 6d",
    );
    // A bind mount: MS_BIND = 4096, empty fstype and data.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Mount {
            source: "/a".into(),
            target: "/b".into(),
            fstype: ByteBuf::default(),
            flags: 4096,
            data: ByteBuf::default(),
        },
        "10 00 00 00 01 01 01 a4 13 1a 02 2f 61 02 2f 62 00 80 20 00",
    );
}

#[test]
fn call_open() {
    // O_WRONLY | O_CREAT | O_TRUNC = 0x241 = 577, zigzag 1154 = 9 × 128 + 2;
    // 0o644 = 420 = 3 × 128 + 36.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Open {
            path: "/tmp/f".into(),
            flags: 0x241,
            mode: 0o644,
        },
        "11 00 00 00 01 01 01 a4 13 1b 06 2f 74 6d 70 2f 66 82 09 a4 03",
    );
}

#[test]
fn call_prctl() {
    // PR_SET_NO_NEW_PRIVS = 38, zigzag 76; arg2 = 1, arg3 to arg5 = 0.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Prctl {
            option: 38,
            args: vec![
                PrctlArg::Int(1),
                PrctlArg::Int(0),
                PrctlArg::Int(0),
                PrctlArg::Int(0),
            ],
        },
        "10 00 00 00 01 01 01 a4 13 1c 4c 04 00 01 00 00 00 00 00 00",
    );
    // PR_GET_DUMPABLE = 3, no arguments.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Prctl {
            option: 3,
            args: vec![],
        },
        "08 00 00 00 01 01 01 a4 13 1c 06 00",
    );
    // PR_SET_NAME = 15, zigzag 30, with a buffer.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Prctl {
            option: 15,
            args: vec![PrctlArg::Buf(b"worker\0".as_slice().into())],
        },
        "11 00 00 00 01 01 01 a4 13 1c 1e 01 01 07 77 6f 72 6b 65 72 00",
    );
}

#[test]
fn call_prctl_seccomp_filter() {
    // PR_SET_SECCOMP = 22 (zigzag 44), SECCOMP_MODE_FILTER = 2, and a
    // struct sock_fprog on x86_64: u16 len = 1 and 6 bytes of padding,
    // then a pointer to one struct sock_filter (BPF_RET | BPF_K,
    // SECCOMP_RET_ALLOW = 0x7fff0000), laid out by the caller.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Prctl {
            option: 22,
            args: vec![
                PrctlArg::Int(2),
                PrctlArg::Struct(vec![
                    Field::Bytes(vec![1, 0, 0, 0, 0, 0, 0, 0].into()),
                    Field::Ptr(vec![0x06, 0, 0, 0, 0, 0, 0xff, 0x7f].into()),
                ]),
            ],
        },
        "20 00 00 00 01 01 01 a4 13 1c 2c 02 \
         00 02 \
         02 02 \
         00 08 01 00 00 00 00 00 00 00 \
         01 08 06 00 00 00 00 00 ff 7f",
    );
}

#[test]
fn call_read() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Read { fd: 0, count: 4096 },
        "09 00 00 00 01 01 01 a4 13 1d 00 80 20",
    );
}

#[test]
fn call_readdir() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Readdir { path: "/".into() },
        "08 00 00 00 01 01 01 a4 13 1e 01 2f",
    );
}

#[test]
fn call_rmdir() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Rmdir {
            path: "/tmp/d".into(),
        },
        "0d 00 00 00 01 01 01 a4 13 1f 06 2f 74 6d 70 2f 64",
    );
}

#[test]
fn call_setenv() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setenv {
            name: "A".into(),
            value: "1".into(),
            overwrite: true,
        },
        "0b 00 00 00 01 01 01 a4 13 20 01 41 01 31 01",
    );
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setenv {
            name: "A".into(),
            value: "1".into(),
            overwrite: false,
        },
        "0b 00 00 00 01 01 01 a4 13 20 01 41 01 31 00",
    );
}

#[test]
fn call_setgid() {
    // 65534 = 3 × 16384 + 127 × 128 + 126.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setgid { gid: 65534 },
        "09 00 00 00 01 01 01 a4 13 21 fe ff 03",
    );
}

#[test]
fn call_sethostname() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Sethostname { name: "box".into() },
        "0a 00 00 00 01 01 01 a4 13 22 03 62 6f 78",
    );
}

#[test]
fn call_setns() {
    // CLONE_NEWNET = 0x40000000, zigzag 2^31.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setns {
            path: "/proc/1/ns/net".into(),
            nstype: 0x4000_0000,
        },
        "1a 00 00 00 01 01 01 a4 13 23 \
         0e 2f 70 72 6f 63 2f 31 2f 6e 73 2f 6e 65 74 \
         80 80 80 80 08",
    );
}

#[test]
fn call_setrlimit() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setrlimit {
            resource: 7,
            limit: Rlimit {
                cur: Some(1024),
                max: Some(4096),
            },
        },
        "0d 00 00 00 01 01 01 a4 13 24 0e 01 80 08 01 80 20",
    );
}

#[test]
fn call_setuid() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setuid { uid: 1000 },
        "08 00 00 00 01 01 01 a4 13 25 e8 07",
    );
}

#[test]
fn call_sigaction() {
    // SIGTERM = 15, zigzag 30.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Sigaction {
            signum: 15,
            handler: Some(SigHandler::Ign),
        },
        "09 00 00 00 01 01 01 a4 13 26 1e 01 01",
    );
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Sigaction {
            signum: 15,
            handler: None,
        },
        "08 00 00 00 01 01 01 a4 13 26 1e 00",
    );
}

#[test]
fn call_umount() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Umount {
            path: "/mnt".into(),
        },
        "0b 00 00 00 01 01 01 a4 13 27 04 2f 6d 6e 74",
    );
}

#[test]
fn call_unsetenv() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Unsetenv { name: "A".into() },
        "08 00 00 00 01 01 01 a4 13 28 01 41",
    );
}

#[test]
fn call_unshare() {
    // CLONE_NEWNS | CLONE_NEWUSER = 0x00020000 | 0x10000000: bits 17 and 28.
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Unshare { flags: 0x1002_0000 },
        "0b 00 00 00 01 01 01 a4 13 29 80 80 88 80 01",
    );
}

#[test]
fn call_write() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Write {
            fd: 1,
            data: "hi\n".into(),
        },
        "0b 00 00 00 01 01 01 a4 13 2a 02 03 68 69 0a",
    );
}

#[test]
fn call_constant() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Constant {
            table: Table::Clone,
            name: "CLONE_NEWNS".into(),
        },
        "13 00 00 00 01 01 01 a4 13 2b 00 0b 43 4c 4f 4e 45 5f 4e 45 57 4e 53",
    );
}

#[test]
fn call_constant_name() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::ConstantName {
            table: Table::Signal,
            value: 9,
        },
        "08 00 00 00 01 01 01 a4 13 2c 05 09",
    );
}

#[test]
fn call_define() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Define {
            names: vec!["MS_NOSUID".into(), "MS_NODEV".into()],
        },
        "1a 00 00 00 01 01 01 a4 13 2d 02 \
         09 4d 53 5f 4e 4f 53 55 49 44 \
         08 4d 53 5f 4e 4f 44 45 56",
    );
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Define { names: vec![] },
        "07 00 00 00 01 01 01 a4 13 2d 00",
    );
}

#[test]
fn call_setgroups() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setgroups {
            gids: vec![1000, 0xf000_0000],
        },
        "0e 00 00 00 01 01 01 a4 13 2e 02 e8 07 80 80 80 80 0f",
    );
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setgroups { gids: vec![] },
        "07 00 00 00 01 01 01 a4 13 2e 00",
    );
}

#[test]
fn call_setcpid_and_getcpid() {
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Setcpid {
            pid: Pid::from_raw(1240),
            opt: Cpid::Flowcontrol,
            value: -1,
        },
        "0a 00 00 00 01 01 01 a4 13 2f b0 13 00 01",
    );
    golden(
        Kind::Call,
        1,
        &[1234],
        &Call::Getcpid {
            pid: Pid::from_raw(1240),
            opt: Cpid::Flowcontrol,
        },
        "09 00 00 00 01 01 01 a4 13 30 b0 13 00",
    );
}

#[test]
fn call_numbers_end_at_48_and_49_is_unknown() {
    // Getcpid is the last variant; nothing decodes past it, nor past the
    // last variant of an enum inside a call.
    for payload in [
        "31",                // Call 49
        "07 09",             // Getopt { opt: Opt 9 }
        "30 02 01",          // Getcpid { opt: Cpid 1 }
        "1c 00 01 03",       // Prctl { args: [PrctlArg 3] }
        "1c 00 01 02 01 02", // Prctl { args: [Struct([Field 2])] }
        "26 14 01 03",       // Sigaction { handler: Some(SigHandler 3) }
        "26 14 02",          // Sigaction { handler: Option tag 2 }
        "2c 07 01",          // ConstantName { table: Table 7 }
        "0c",                // Chdir without its path
    ] {
        let payload = hex(payload);
        let mut wire = Vec::new();
        encode_frame(&mut wire, Kind::Call, 1, &[], &payload).unwrap();
        let mut rx = Reassembler::new();
        rx.feed(&wire);
        let frame = rx.next_frame().unwrap().unwrap();
        assert!(
            matches!(
                frame.decode::<Call>(),
                Err(Error::Payload { ref what, .. }) if what == "Call"
            ),
            "{:?} decoded",
            Hex(&payload)
        );
    }
}

// ---------------------------------------------------------------------------
// Opt: Getopt id 2 to the port, header 01 02 00

#[test]
fn opt_every_variant() {
    let table = [
        (Opt::Maxchild, "05 00 00 00 01 02 00 07 00"),
        (Opt::Maxforkdepth, "05 00 00 00 01 02 00 07 01"),
        (Opt::ExitStatus, "05 00 00 00 01 02 00 07 02"),
        (Opt::Sigchld, "05 00 00 00 01 02 00 07 03"),
        (Opt::Termsig, "05 00 00 00 01 02 00 07 04"),
        (Opt::Verbose, "05 00 00 00 01 02 00 07 05"),
        (Opt::Childlimit, "05 00 00 00 01 02 00 07 06"),
        (Opt::Signaloneof, "05 00 00 00 01 02 00 07 07"),
        (Opt::Flowcontrol, "05 00 00 00 01 02 00 07 08"),
    ];
    assert_eq!(table.len(), Opt::ALL.len());
    for ((opt, expected), all) in table.into_iter().zip(Opt::ALL) {
        assert_eq!(opt, all, "Opt::ALL is in wire order");
        golden(Kind::Call, 2, &[], &Call::Getopt { opt }, expected);
    }
}

// ---------------------------------------------------------------------------
// PrctlArg and Field: Prctl { option: 0, args: [arg] }, id 2 to the port,
// header 01 02 00, payload 1c 00 01 <arg>

#[test]
fn prctl_arg_every_variant() {
    let table = [
        (PrctlArg::Int(0), "08 00 00 00 01 02 00 1c 00 01 00 00"),
        (
            PrctlArg::Int(u64::MAX),
            "11 00 00 00 01 02 00 1c 00 01 00 ff ff ff ff ff ff ff ff ff 01",
        ),
        (
            PrctlArg::Buf(ByteBuf::default()),
            "08 00 00 00 01 02 00 1c 00 01 01 00",
        ),
        (
            PrctlArg::Buf(vec![0x00, 0xff].into()),
            "0a 00 00 00 01 02 00 1c 00 01 01 02 00 ff",
        ),
        (
            PrctlArg::Struct(vec![]),
            "08 00 00 00 01 02 00 1c 00 01 02 00",
        ),
        (
            PrctlArg::Struct(vec![
                Field::Bytes(vec![1, 2].into()),
                Field::Ptr(ByteBuf::default()),
            ]),
            "0e 00 00 00 01 02 00 1c 00 01 02 02 00 02 01 02 01 00",
        ),
    ];
    for (arg, expected) in table {
        golden(
            Kind::Call,
            2,
            &[],
            &Call::Prctl {
                option: 0,
                args: vec![arg],
            },
            expected,
        );
    }
}

#[test]
fn field_every_variant() {
    let table = [
        (
            Field::Bytes("ab".into()),
            "0c 00 00 00 01 02 00 1c 00 01 02 01 00 02 61 62",
        ),
        (
            Field::Ptr("ab".into()),
            "0c 00 00 00 01 02 00 1c 00 01 02 01 01 02 61 62",
        ),
        (
            Field::Bytes(ByteBuf::default()),
            "0a 00 00 00 01 02 00 1c 00 01 02 01 00 00",
        ),
        (
            Field::Ptr(ByteBuf::default()),
            "0a 00 00 00 01 02 00 1c 00 01 02 01 01 00",
        ),
    ];
    for (field, expected) in table {
        golden(
            Kind::Call,
            2,
            &[],
            &Call::Prctl {
                option: 0,
                args: vec![PrctlArg::Struct(vec![field])],
            },
            expected,
        );
    }
}

// ---------------------------------------------------------------------------
// SigHandler: Sigaction { signum: 10 } (zigzag 20) id 2 to the port, and
// Handler replies id 2 from the port

#[test]
fn sig_handler_every_variant() {
    let table = [
        (SigHandler::Dfl, "00"),
        (SigHandler::Ign, "01"),
        (SigHandler::Trap, "02"),
    ];
    for (handler, n) in table {
        golden(
            Kind::Call,
            2,
            &[],
            &Call::Sigaction {
                signum: 10,
                handler: Some(handler),
            },
            &format!("07 00 00 00 01 02 00 26 14 01 {n}"),
        );
        golden::<ReplyResult>(
            Kind::Reply,
            2,
            &[],
            &Ok(Reply::Handler(handler)),
            &format!("06 00 00 00 02 02 00 00 09 {n}"),
        );
    }
}

// ---------------------------------------------------------------------------
// Table: ConstantName { value: 1 } id 2 to the port, header 01 02 00

#[test]
fn table_every_variant() {
    let table = [
        (Table::Clone, "06 00 00 00 01 02 00 2c 00 01"),
        (Table::File, "06 00 00 00 01 02 00 2c 01 01"),
        (Table::Mount, "06 00 00 00 01 02 00 2c 02 01"),
        (Table::Prctl, "06 00 00 00 01 02 00 2c 03 01"),
        (Table::Rlimit, "06 00 00 00 01 02 00 2c 04 01"),
        (Table::Signal, "06 00 00 00 01 02 00 2c 05 01"),
        (Table::Errno, "06 00 00 00 01 02 00 2c 06 01"),
    ];
    for (table, expected) in table {
        golden(
            Kind::Call,
            2,
            &[],
            &Call::ConstantName { table, value: 1 },
            expected,
        );
    }
}

// ---------------------------------------------------------------------------
// Reply: id 1 from [1234], header 02 01 01 a4 13

#[test]
fn reply_ok() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Ok),
        "07 00 00 00 02 01 01 a4 13 00 00",
    );
}

#[test]
fn reply_pid() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Pid(Pid::from_raw(1234))),
        "09 00 00 00 02 01 01 a4 13 00 01 a4 13",
    );
}

#[test]
fn reply_int() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Int(-2)),
        "08 00 00 00 02 01 01 a4 13 00 02 03",
    );
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Int(i64::MAX)),
        "11 00 00 00 02 01 01 a4 13 00 02 fe ff ff ff ff ff ff ff ff 01",
    );
}

#[test]
fn reply_pids() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Pids(pids(&[1240, 1241]))),
        "0c 00 00 00 02 01 01 a4 13 00 03 02 b0 13 b2 13",
    );
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Pids(Vec::new())),
        "08 00 00 00 02 01 01 a4 13 00 03 00",
    );
}

#[test]
fn reply_bytes() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Bytes("0.1.0".into())),
        "0d 00 00 00 02 01 01 a4 13 00 04 05 30 2e 31 2e 30",
    );
}

#[test]
fn reply_list() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::List(vec!["PATH=/bin".into(), ByteBuf::default()])),
        "13 00 00 00 02 01 01 a4 13 00 05 02 09 50 41 54 48 3d 2f 62 69 6e 00",
    );
}

#[test]
fn reply_rlimit() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Rlimit(Rlimit {
            cur: Some(1024),
            max: None,
        })),
        "0b 00 00 00 02 01 01 a4 13 00 06 01 80 08 00",
    );
}

#[test]
fn rlimit_none_and_some() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Rlimit(Rlimit {
            cur: None,
            max: None,
        })),
        "09 00 00 00 02 01 01 a4 13 00 06 00 00",
    );
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Rlimit(Rlimit {
            cur: Some(0),
            max: Some(u64::MAX),
        })),
        "14 00 00 00 02 01 01 a4 13 00 06 01 00 01 ff ff ff ff ff ff ff ff ff 01",
    );
}

#[test]
fn reply_maybe_bytes() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::MaybeBytes(Some("/root".into()))),
        "0e 00 00 00 02 01 01 a4 13 00 07 01 05 2f 72 6f 6f 74",
    );
    // Set but empty is not unset.
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::MaybeBytes(Some(ByteBuf::default()))),
        "09 00 00 00 02 01 01 a4 13 00 07 01 00",
    );
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::MaybeBytes(None)),
        "08 00 00 00 02 01 01 a4 13 00 07 00",
    );
}

#[test]
fn reply_prctl() {
    // PR_SET_NO_NEW_PRIVS: 0, and the four arguments back.
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Prctl {
            ret: 0,
            args: vec![
                PrctlArg::Int(1),
                PrctlArg::Int(0),
                PrctlArg::Int(0),
                PrctlArg::Int(0),
            ],
        }),
        "11 00 00 00 02 01 01 a4 13 00 08 00 04 00 01 00 00 00 00 00 00",
    );
    // PR_GET_NAME: the buffer as the kernel left it.
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Prctl {
            ret: 0,
            args: vec![
                PrctlArg::Buf(b"worker\0".as_slice().into()),
                PrctlArg::Int(0),
                PrctlArg::Int(0),
                PrctlArg::Int(0),
            ],
        }),
        "18 00 00 00 02 01 01 a4 13 00 08 00 04 \
         01 07 77 6f 72 6b 65 72 00 \
         00 00 00 00 00 00",
    );
    // ret is an i64: zigzag.
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Prctl {
            ret: 1,
            args: vec![],
        }),
        "09 00 00 00 02 01 01 a4 13 00 08 02 00",
    );
}

#[test]
fn reply_handler() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Ok(Reply::Handler(SigHandler::Dfl)),
        "08 00 00 00 02 01 01 a4 13 00 09 00",
    );
}

#[test]
fn reply_numbers_end_at_9_and_10_is_unknown() {
    for payload in ["00 0a", "00 09 03", "00 07 02", "00 08 00 01 03"] {
        let payload = hex(payload);
        let mut wire = Vec::new();
        encode_frame(&mut wire, Kind::Reply, 1, &[], &payload).unwrap();
        let mut rx = Reassembler::new();
        rx.feed(&wire);
        let frame = rx.next_frame().unwrap().unwrap();
        assert!(
            matches!(
                frame.decode::<ReplyResult>(),
                Err(Error::Payload { ref what, .. }) if what == "Result<Reply, CallError>"
            ),
            "{:?} decoded",
            Hex(&payload)
        );
    }
}

// ---------------------------------------------------------------------------
// CallError: Err replies, id 1 from [1234]

#[test]
fn call_error_errno() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Err(CallError::Errno(1)),
        "08 00 00 00 02 01 01 a4 13 01 00 02",
    );
}

#[test]
fn call_error_bad_arg() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Err(CallError::BadArg("flags".into())),
        "0d 00 00 00 02 01 01 a4 13 01 01 05 66 6c 61 67 73",
    );
}

#[test]
fn call_error_execd() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Err(CallError::Execd),
        "07 00 00 00 02 01 01 a4 13 01 02",
    );
}

#[test]
fn call_error_unsupported() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Err(CallError::Unsupported),
        "07 00 00 00 02 01 01 a4 13 01 03",
    );
}

#[test]
fn call_error_too_large() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Err(CallError::TooLarge {
            len: 16_777_216,
            max: MAX_PAYLOAD as u64,
        }),
        "0f 00 00 00 02 01 01 a4 13 01 04 80 80 80 08 f3 f5 ff 07",
    );
}

#[test]
fn call_error_malformed() {
    golden::<ReplyResult>(
        Kind::Reply,
        1,
        &[1234],
        &Err(CallError::Malformed("x".into())),
        "09 00 00 00 02 01 01 a4 13 01 05 01 78",
    );
}

// ---------------------------------------------------------------------------
// Event: id 0 about [1234], header 03 00 01 a4 13

#[test]
fn event_signal() {
    golden(
        Kind::Event,
        0,
        &[1234],
        &Event::Signal { signum: 17 },
        "07 00 00 00 03 00 01 a4 13 00 22",
    );
}

#[test]
fn event_exit_status() {
    golden(
        Kind::Event,
        0,
        &[1234],
        &Event::ExitStatus { status: 1 },
        "07 00 00 00 03 00 01 a4 13 01 02",
    );
}

#[test]
fn event_term_sig() {
    golden(
        Kind::Event,
        0,
        &[1234],
        &Event::TermSig { signum: 9 },
        "07 00 00 00 03 00 01 a4 13 02 12",
    );
}

// ---------------------------------------------------------------------------
// Notice: header 07 <id> <path>

#[test]
fn notice_bad_pid_carries_the_call_id() {
    golden(
        Kind::Notice,
        7,
        &[1234],
        &Notice::BadPid,
        "06 00 00 00 07 07 01 a4 13 00",
    );
}

#[test]
fn notice_execd() {
    golden(
        Kind::Notice,
        0,
        &[1234],
        &Notice::Execd,
        "06 00 00 00 07 00 01 a4 13 01",
    );
}

#[test]
fn notice_stdin_closed() {
    golden(
        Kind::Notice,
        0,
        &[1234],
        &Notice::StdinClosed,
        "06 00 00 00 07 00 01 a4 13 02",
    );
}

#[test]
fn notice_stdout_closed() {
    golden(
        Kind::Notice,
        0,
        &[1234],
        &Notice::StdoutClosed,
        "06 00 00 00 07 00 01 a4 13 03",
    );
}

#[test]
fn notice_stderr_closed() {
    golden(
        Kind::Notice,
        0,
        &[1234],
        &Notice::StderrClosed,
        "06 00 00 00 07 00 01 a4 13 04",
    );
}

#[test]
fn notice_stdin_ack() {
    golden(
        Kind::Notice,
        0,
        &[1234],
        &Notice::StdinAck(4096),
        "08 00 00 00 07 00 01 a4 13 05 80 20",
    );
}

#[test]
fn notice_not_execd() {
    golden(
        Kind::Notice,
        0,
        &[1234],
        &Notice::NotExecd,
        "06 00 00 00 07 00 01 a4 13 07",
    );
}

#[test]
fn notice_bad_frame_oversize() {
    golden(
        Kind::Notice,
        0,
        &[],
        &Notice::BadFrame(Error::Oversize {
            len: u64::from(u32::MAX),
            max: MAX_FRAME as u64,
        }),
        "0e 00 00 00 07 00 00 06 00 ff ff ff ff 0f 80 80 80 08",
    );
}

#[test]
fn notice_bad_frame_empty() {
    golden(
        Kind::Notice,
        0,
        &[],
        &Notice::BadFrame(Error::Empty),
        "05 00 00 00 07 00 00 06 01",
    );
    golden(
        Kind::Notice,
        0,
        &[1234],
        &Notice::BadFrame(Error::Empty),
        "07 00 00 00 07 00 01 a4 13 06 01",
    );
}

#[test]
fn notice_bad_frame_header() {
    golden(
        Kind::Notice,
        0,
        &[],
        &Notice::BadFrame(Error::Header("truncated header".into())),
        "16 00 00 00 07 00 00 06 02 10 \
         74 72 75 6e 63 61 74 65 64 20 68 65 61 64 65 72",
    );
}

#[test]
fn notice_bad_frame_unknown_kind() {
    golden(
        Kind::Notice,
        0,
        &[],
        &Notice::BadFrame(Error::UnknownKind(99)),
        "06 00 00 00 07 00 00 06 03 63",
    );
}

#[test]
fn notice_bad_frame_path_too_long() {
    golden(
        Kind::Notice,
        0,
        &[],
        &Notice::BadFrame(Error::PathTooLong { len: 257, max: 256 }),
        "09 00 00 00 07 00 00 06 04 81 02 80 02",
    );
}

#[test]
fn notice_bad_frame_payload() {
    golden(
        Kind::Notice,
        0,
        &[],
        &Notice::BadFrame(Error::Payload {
            what: "Call".into(),
            reason: "x".into(),
        }),
        "0c 00 00 00 07 00 00 06 05 04 43 61 6c 6c 01 78",
    );
}

#[test]
fn notice_bad_frame_too_large() {
    golden(
        Kind::Notice,
        0,
        &[],
        &Notice::BadFrame(Error::TooLarge {
            what: "Reply".into(),
            len: 20,
            max: 10,
        }),
        "0d 00 00 00 07 00 00 06 06 05 52 65 70 6c 79 14 0a",
    );
}

#[test]
fn notice_bad_frame_truncated() {
    golden(
        Kind::Notice,
        0,
        &[],
        &Notice::BadFrame(Error::Truncated { have: 300 }),
        "07 00 00 00 07 00 00 06 07 ac 02",
    );
}

// ---------------------------------------------------------------------------
// The worked example of PROTOCOL.md: getpid through one hop

#[test]
fn worked_example_getpid_through_one_hop() {
    // The client's call.
    let call = hex("06 00 00 00 01 01 01 a4 13 02");
    let mut wire = Vec::new();
    encode_message(&mut wire, Kind::Call, 1, &pids(&[1234]), &Call::Getpid).unwrap();
    assert_eq!(Hex(&wire), Hex(&call));

    // The port pops 1234 and forwards the payload unchanged.
    let mut rx = Reassembler::new();
    rx.feed(&call);
    let frame = rx.next_frame().unwrap().unwrap();
    let (next, prefix) = Prefix::pop(&frame.header, frame.payload.len()).unwrap();
    assert_eq!(next, Pid::from_raw(1234));
    let mut down = prefix.as_bytes().to_vec();
    down.extend_from_slice(frame.payload);
    assert_eq!(Hex(&down), Hex(&hex("04 00 00 00 01 01 00 02")));

    // Child 1234 decodes the call and answers with the empty path.
    let (h, payload) = decode_one(&down);
    assert_eq!(h, header(Kind::Call, 1, &[]));
    assert_eq!(
        postcard::from_bytes::<Call>(&payload).unwrap(),
        Call::Getpid
    );
    let answer: ReplyResult = Ok(Reply::Pid(Pid::from_raw(1234)));
    let mut up = Vec::new();
    encode_message(&mut up, Kind::Reply, 1, &[], &answer).unwrap();
    assert_eq!(Hex(&up), Hex(&hex("07 00 00 00 02 01 00 00 01 a4 13")));

    // The port pushes 1234; the client receives the full path.
    let mut rx = Reassembler::new();
    rx.feed(&up);
    let frame = rx.next_frame().unwrap().unwrap();
    let prefix = Prefix::push(&frame.header, Pid::from_raw(1234), frame.payload.len()).unwrap();
    let mut to_client = prefix.as_bytes().to_vec();
    to_client.extend_from_slice(frame.payload);
    let reply = hex("09 00 00 00 02 01 01 a4 13 00 01 a4 13");
    assert_eq!(Hex(&to_client), Hex(&reply));

    let mut rx = Reassembler::new();
    rx.feed(&reply);
    let frame = rx.next_frame().unwrap().unwrap();
    assert_eq!(frame.header.to_owned(), header(Kind::Reply, 1, &[1234]));
    assert_eq!(frame.decode::<ReplyResult>().unwrap(), answer);
}

// ---------------------------------------------------------------------------
// Bad frames: errors for that frame, the stream goes on

#[test]
fn bad_frames_are_skipped_and_the_stream_goes_on() {
    let stream = hex("00 00 00 00 \
         03 00 00 00 09 00 00 \
         02 00 00 00 01 80 \
         04 00 00 00 01 00 81 02 \
         06 00 00 00 01 01 01 a4 13 2f \
         06 00 00 00 01 01 01 a4 13 0c \
         06 00 00 00 01 01 01 a4 13 02");
    let mut rx = Reassembler::new();
    rx.feed(&stream);
    assert_eq!(rx.next_frame().unwrap().unwrap_err(), Error::Empty);
    assert_eq!(rx.next_frame().unwrap().unwrap_err(), Error::UnknownKind(9));
    assert!(matches!(
        rx.next_frame().unwrap().unwrap_err(),
        Error::Header(_)
    ));
    assert_eq!(
        rx.next_frame().unwrap().unwrap_err(),
        Error::PathTooLong { len: 257, max: 256 }
    );
    // A good header with a payload that is no Call: variant 47, one past
    // Setgroups; then variant 12 (Chdir) without its path.
    for _ in 0..2 {
        let frame = rx.next_frame().unwrap().unwrap();
        assert_eq!(frame.header.id, 1);
        assert!(matches!(
            frame.decode::<Call>(),
            Err(Error::Payload { ref what, .. }) if what == "Call"
        ));
    }
    let frame = rx.next_frame().unwrap().unwrap();
    assert_eq!(frame.decode::<Call>().unwrap(), Call::Getpid);
    assert!(rx.next_frame().is_none());
    assert_eq!(rx.buffered(), 0);
}

#[test]
fn max_frame_is_accepted_and_one_more_is_oversize() {
    // 00 00 00 01 announces exactly MAX_FRAME: the reassembler waits for it.
    let mut rx = Reassembler::new();
    rx.feed(&hex("00 00 00 01 01 01 00"));
    assert!(rx.next_frame().is_none());

    // 01 00 00 01 announces MAX_FRAME + 1: an error, and its body is skipped.
    let mut rx = Reassembler::new();
    rx.feed(&hex("01 00 00 01"));
    assert_eq!(
        rx.next_frame().unwrap().unwrap_err(),
        Error::Oversize {
            len: 16_777_217,
            max: 16_777_216
        }
    );
    let mut rest = MAX_FRAME + 1;
    while rest > 0 {
        let spare = rx.spare(1);
        let n = spare.len().min(rest);
        spare[..n].fill(0x5a);
        rx.commit(n);
        rest -= n;
        assert!(rx.next_frame().is_none());
    }
    rx.feed(&hex("06 00 00 00 01 01 01 a4 13 02"));
    let frame = rx.next_frame().unwrap().unwrap();
    assert_eq!(frame.decode::<Call>().unwrap(), Call::Getpid);
}
