//! Property tests of the wire format.
//!
//! (a) frames round-trip through [`Reassembler`], whatever the chunking of
//!     the byte stream;
//! (b) every message round-trips through `encode_message` and `decode`;
//! (c) arbitrary bytes never make the reassembler, the header parser or the
//!     payload decoders panic;
//! (d) a relay's pop followed by push gives back the original bytes.

use std::collections::BTreeSet;

use alcove_proto::{
    ByteBuf, Call, CallError, Cpid, Error, Event, Field, FrameRef, Greeting, Header, HeaderRef,
    Kind, LEN_PREFIX, MAX_FRAME, MAX_PATH, Notice, Opt, Path, Pid, PrctlArg, Prefix, Reassembler,
    Reply, Rlimit, SigHandler, Table, encode_frame, encode_message,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde::{Serialize, de::DeserializeOwned};

type ReplyResult = Result<Reply, CallError>;

// ---------------------------------------------------------------------------
// Strategies

fn kind() -> impl Strategy<Value = Kind> {
    select(Kind::ALL.to_vec())
}

fn pid() -> impl Strategy<Value = Pid> {
    any::<i32>().prop_map(Pid::from_raw)
}

fn path() -> impl Strategy<Value = Vec<Pid>> {
    vec(pid(), 0..=MAX_PATH)
}

prop_compose! {
    fn header()(kind in kind(), id in any::<u64>(), path in path()) -> Header {
        Header { kind, id, path: Path::from(path) }
    }
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..256)
}

fn bytes() -> impl Strategy<Value = ByteBuf> {
    vec(any::<u8>(), 0..24).prop_map(ByteBuf)
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,16}"
}

fn opt() -> impl Strategy<Value = Opt> {
    select(Opt::ALL.to_vec())
}

fn cpid() -> impl Strategy<Value = Cpid> {
    select(Cpid::ALL.to_vec())
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![bytes().prop_map(Field::Bytes), bytes().prop_map(Field::Ptr)]
}

fn prctl_arg() -> impl Strategy<Value = PrctlArg> {
    prop_oneof![
        any::<u64>().prop_map(PrctlArg::Int),
        bytes().prop_map(PrctlArg::Buf),
        vec(field(), 0..4).prop_map(PrctlArg::Struct),
    ]
}

/// `arg2` to `arg5`, and sometimes one too many: the wire does not count.
fn prctl_args() -> impl Strategy<Value = Vec<PrctlArg>> {
    vec(prctl_arg(), 0..=5)
}

fn sig_handler() -> impl Strategy<Value = SigHandler> {
    select(vec![SigHandler::Dfl, SigHandler::Ign, SigHandler::Trap])
}

fn table() -> impl Strategy<Value = Table> {
    select(vec![
        Table::Clone,
        Table::File,
        Table::Mount,
        Table::Prctl,
        Table::Rlimit,
        Table::Signal,
        Table::Errno,
    ])
}

prop_compose! {
    fn rlimit()(cur in proptest::option::of(any::<u64>()),
                max in proptest::option::of(any::<u64>())) -> Rlimit {
        Rlimit { cur, max }
    }
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        Just(Call::Fork),
        any::<u64>().prop_map(|flags| Call::Clone { flags }),
        Just(Call::Getpid),
        (bytes(), vec(bytes(), 0..4), vec(bytes(), 0..4))
            .prop_map(|(path, argv, env)| Call::Execve { path, argv, env }),
        (bytes(), vec(bytes(), 0..4)).prop_map(|(file, argv)| Call::Execvp { file, argv }),
        any::<i32>().prop_map(|status| Call::Exit { status }),
        (any::<i32>(), any::<i32>()).prop_map(|(pid, signal)| Call::Kill { pid, signal }),
        opt().prop_map(|opt| Call::Getopt { opt }),
        (opt(), any::<i64>()).prop_map(|(opt, value)| Call::Setopt { opt, value }),
        Just(Call::Pid),
        Just(Call::Version),
        pid().prop_map(|pid| Call::Eof { pid }),
        bytes().prop_map(|path| Call::Chdir { path }),
        (bytes(), any::<u32>()).prop_map(|(path, mode)| Call::Chmod { path, mode }),
        (bytes(), any::<u32>(), any::<u32>()).prop_map(|(path, uid, gid)| Call::Chown {
            path,
            uid,
            gid
        }),
        bytes().prop_map(|path| Call::Chroot { path }),
        Just(Call::Clearenv),
        any::<i32>().prop_map(|fd| Call::Close { fd }),
        Just(Call::Environ),
        Just(Call::Getcwd),
        bytes().prop_map(|name| Call::Getenv { name }),
        Just(Call::Getgid),
        Just(Call::Gethostname),
        any::<i32>().prop_map(|resource| Call::Getrlimit { resource }),
        Just(Call::Getuid),
        (bytes(), any::<u32>()).prop_map(|(path, mode)| Call::Mkdir { path, mode }),
        (bytes(), bytes(), bytes(), any::<u64>(), bytes()).prop_map(
            |(source, target, fstype, flags, data)| Call::Mount {
                source,
                target,
                fstype,
                flags,
                data
            }
        ),
        (bytes(), any::<i32>(), any::<u32>()).prop_map(|(path, flags, mode)| Call::Open {
            path,
            flags,
            mode
        }),
        (any::<i32>(), prctl_args()).prop_map(|(option, args)| Call::Prctl { option, args }),
        (any::<i32>(), any::<u64>()).prop_map(|(fd, count)| Call::Read { fd, count }),
        bytes().prop_map(|path| Call::Readdir { path }),
        bytes().prop_map(|path| Call::Rmdir { path }),
        (bytes(), bytes(), any::<bool>()).prop_map(|(name, value, overwrite)| Call::Setenv {
            name,
            value,
            overwrite
        }),
        any::<u32>().prop_map(|gid| Call::Setgid { gid }),
        bytes().prop_map(|name| Call::Sethostname { name }),
        (bytes(), any::<i32>()).prop_map(|(path, nstype)| Call::Setns { path, nstype }),
        (any::<i32>(), rlimit()).prop_map(|(resource, limit)| Call::Setrlimit { resource, limit }),
        any::<u32>().prop_map(|uid| Call::Setuid { uid }),
        (any::<i32>(), proptest::option::of(sig_handler()))
            .prop_map(|(signum, handler)| Call::Sigaction { signum, handler }),
        bytes().prop_map(|path| Call::Umount { path }),
        bytes().prop_map(|name| Call::Unsetenv { name }),
        any::<u64>().prop_map(|flags| Call::Unshare { flags }),
        (any::<i32>(), bytes()).prop_map(|(fd, data)| Call::Write { fd, data }),
        (table(), text()).prop_map(|(table, name)| Call::Constant { table, name }),
        (table(), any::<u64>()).prop_map(|(table, value)| Call::ConstantName { table, value }),
        vec(text(), 0..4).prop_map(|names| Call::Define { names }),
        vec(any::<u32>(), 0..4).prop_map(|gids| Call::Setgroups { gids }),
        (pid(), cpid(), any::<i64>()).prop_map(|(pid, opt, value)| Call::Setcpid {
            pid,
            opt,
            value
        }),
        (pid(), cpid()).prop_map(|(pid, opt)| Call::Getcpid { pid, opt }),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        Just(Reply::Ok),
        pid().prop_map(Reply::Pid),
        any::<i64>().prop_map(Reply::Int),
        vec(pid(), 0..8).prop_map(Reply::Pids),
        bytes().prop_map(Reply::Bytes),
        vec(bytes(), 0..4).prop_map(Reply::List),
        rlimit().prop_map(Reply::Rlimit),
        proptest::option::of(bytes()).prop_map(Reply::MaybeBytes),
        (any::<i64>(), prctl_args()).prop_map(|(ret, args)| Reply::Prctl { ret, args }),
        sig_handler().prop_map(Reply::Handler),
    ]
}

fn call_error() -> impl Strategy<Value = CallError> {
    prop_oneof![
        any::<i32>().prop_map(CallError::Errno),
        text().prop_map(CallError::BadArg),
        Just(CallError::Execd),
        Just(CallError::Unsupported),
        (any::<u64>(), any::<u64>()).prop_map(|(len, max)| CallError::TooLarge { len, max }),
        text().prop_map(CallError::Malformed),
    ]
}

fn reply_result() -> impl Strategy<Value = ReplyResult> {
    prop_oneof![reply().prop_map(Ok), call_error().prop_map(Err)]
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        any::<i32>().prop_map(|signum| Event::Signal { signum }),
        any::<i32>().prop_map(|status| Event::ExitStatus { status }),
        any::<i32>().prop_map(|signum| Event::TermSig { signum }),
    ]
}

fn error() -> impl Strategy<Value = Error> {
    prop_oneof![
        (any::<u64>(), any::<u64>()).prop_map(|(len, max)| Error::Oversize { len, max }),
        Just(Error::Empty),
        text().prop_map(Error::Header),
        any::<u32>().prop_map(Error::UnknownKind),
        (any::<u64>(), any::<u64>()).prop_map(|(len, max)| Error::PathTooLong { len, max }),
        (text(), text()).prop_map(|(what, reason)| Error::Payload { what, reason }),
        (text(), any::<u64>(), any::<u64>()).prop_map(|(what, len, max)| Error::TooLarge {
            what,
            len,
            max
        }),
        any::<u64>().prop_map(|have| Error::Truncated { have }),
    ]
}

fn notice() -> impl Strategy<Value = Notice> {
    prop_oneof![
        Just(Notice::BadPid),
        Just(Notice::Execd),
        Just(Notice::StdinClosed),
        Just(Notice::StdoutClosed),
        Just(Notice::StderrClosed),
        any::<u32>().prop_map(Notice::StdinAck),
        error().prop_map(Notice::BadFrame),
        Just(Notice::NotExecd),
    ]
}

prop_compose! {
    fn greeting()(version in text(), protocol in any::<u32>(), pid in pid()) -> Greeting {
        Greeting { version, protocol, pid }
    }
}

/// Cut points in `0..=len`, sorted, from arbitrary indices.
fn cuts(len: usize, at: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = at.iter().map(|i| i.index(len + 1)).collect();
    cuts.push(0);
    cuts.push(len);
    cuts.sort_unstable();
    cuts
}

/// Feeds `wire` in the chunks given by `at`, through `feed` or through
/// `spare` + `commit`, and collects every frame (or error) as it comes.
fn reassemble(wire: &[u8], at: &[Index], use_spare: bool) -> Vec<Result<(Header, Vec<u8>), Error>> {
    let mut rx = Reassembler::new();
    let mut out = Vec::new();
    let cuts = cuts(wire.len(), at);
    for w in cuts.windows(2) {
        let mut chunk = &wire[w[0]..w[1]];
        if use_spare {
            while !chunk.is_empty() {
                let spare = rx.spare(1);
                let n = spare.len().min(chunk.len());
                spare[..n].copy_from_slice(&chunk[..n]);
                rx.commit(n);
                chunk = &chunk[n..];
            }
        } else {
            rx.feed(chunk);
        }
        while let Some(frame) = rx.next_frame() {
            out.push(frame.map(|f| (f.header.to_owned(), f.payload.to_vec())));
        }
    }
    assert_eq!(rx.buffered(), 0, "all bytes consumed");
    out
}

/// Encodes `msg` in one frame, reassembles it and decodes it.
fn round_trip<T>(kind: Kind, id: u64, path: &[Pid], msg: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let mut wire = Vec::new();
    encode_message(&mut wire, kind, id, path, msg)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let announced = u32::from_le_bytes(wire[..LEN_PREFIX].try_into().unwrap()) as usize;
    prop_assert_eq!(announced, wire.len() - LEN_PREFIX);

    let mut rx = Reassembler::new();
    rx.feed(&wire);
    let frame = rx
        .next_frame()
        .expect("a whole frame")
        .expect("a valid frame");
    prop_assert_eq!(frame.header.kind, kind);
    prop_assert_eq!(frame.header.id, id);
    prop_assert!(frame.header.pids().eq(path.iter().copied()));
    prop_assert_eq!(&frame.decode::<T>().expect("decodes"), msg);
    prop_assert!(rx.next_frame().is_none());
    Ok(())
}

/// Exercises everything that can be asked of a frame that came out of a
/// reassembler; none of it may panic.
fn poke(frame: &FrameRef<'_>) {
    let h = frame.header;
    assert_eq!(h.pids().count(), h.path_len());
    let owned = h.to_owned();
    assert_eq!(owned.path.len(), h.path_len());
    let _ = h.first();
    let _ = Prefix::pop(&h, frame.payload.len());
    let _ = Prefix::push(&h, Pid::from_raw(-1), frame.payload.len());
    let _ = frame.decode::<Call>();
    let _ = frame.decode::<ReplyResult>();
    let _ = frame.decode::<Event>();
    let _ = frame.decode::<Notice>();
    let _ = frame.decode::<Greeting>();
    let _ = frame.decode::<u32>();
    let _ = frame.decode::<Header>();
}

/// A length prefix: mostly small, sometimes anything, sometimes at the
/// edge of `MAX_FRAME`.
fn length_prefix() -> impl Strategy<Value = u32> {
    let max = MAX_FRAME as u32;
    prop_oneof![
        6 => 0u32..64,
        1 => any::<u32>(),
        1 => (max - 2)..=(max + 2),
        1 => (u32::MAX - 2)..=u32::MAX,
    ]
}

/// A stream of length prefixes each followed by a little data, as
/// `(prefix, data)` segments.
fn hostile_stream() -> impl Strategy<Value = Vec<u8>> {
    vec((length_prefix(), vec(any::<u8>(), 0..48)), 0..8).prop_map(|segments| {
        let mut wire = Vec::new();
        for (len, data) in segments {
            wire.extend_from_slice(&len.to_le_bytes());
            wire.extend_from_slice(&data);
        }
        wire
    })
}

/// Feeds `wire` in chunks and drains frames after each one; must not panic
/// and must not buffer more than it was given.
fn drain_hostile(wire: &[u8], at: &[Index]) {
    let mut rx = Reassembler::new();
    let cuts = cuts(wire.len(), at);
    let mut fed = 0;
    for w in cuts.windows(2) {
        rx.feed(&wire[w[0]..w[1]]);
        fed += w[1] - w[0];
        while let Some(frame) = rx.next_frame() {
            if let Ok(frame) = frame {
                poke(&frame);
            }
        }
        assert!(rx.buffered() <= fed);
    }
}

// ---------------------------------------------------------------------------
// Variant numbers: each match is exhaustive, so appending a variant fails to
// compile here until its strategy above is written too.

fn call_index(c: &Call) -> u8 {
    match c {
        Call::Fork => 0,
        Call::Clone { .. } => 1,
        Call::Getpid => 2,
        Call::Execve { .. } => 3,
        Call::Execvp { .. } => 4,
        Call::Exit { .. } => 5,
        Call::Kill { .. } => 6,
        Call::Getopt { .. } => 7,
        Call::Setopt { .. } => 8,
        Call::Pid => 9,
        Call::Version => 10,
        Call::Eof { .. } => 11,
        Call::Chdir { .. } => 12,
        Call::Chmod { .. } => 13,
        Call::Chown { .. } => 14,
        Call::Chroot { .. } => 15,
        Call::Clearenv => 16,
        Call::Close { .. } => 17,
        Call::Environ => 18,
        Call::Getcwd => 19,
        Call::Getenv { .. } => 20,
        Call::Getgid => 21,
        Call::Gethostname => 22,
        Call::Getrlimit { .. } => 23,
        Call::Getuid => 24,
        Call::Mkdir { .. } => 25,
        Call::Mount { .. } => 26,
        Call::Open { .. } => 27,
        Call::Prctl { .. } => 28,
        Call::Read { .. } => 29,
        Call::Readdir { .. } => 30,
        Call::Rmdir { .. } => 31,
        Call::Setenv { .. } => 32,
        Call::Setgid { .. } => 33,
        Call::Sethostname { .. } => 34,
        Call::Setns { .. } => 35,
        Call::Setrlimit { .. } => 36,
        Call::Setuid { .. } => 37,
        Call::Sigaction { .. } => 38,
        Call::Umount { .. } => 39,
        Call::Unsetenv { .. } => 40,
        Call::Unshare { .. } => 41,
        Call::Write { .. } => 42,
        Call::Constant { .. } => 43,
        Call::ConstantName { .. } => 44,
        Call::Define { .. } => 45,
        Call::Setgroups { .. } => 46,
        Call::Setcpid { .. } => 47,
        Call::Getcpid { .. } => 48,
    }
}

fn reply_index(r: &Reply) -> u8 {
    match r {
        Reply::Ok => 0,
        Reply::Pid(_) => 1,
        Reply::Int(_) => 2,
        Reply::Pids(_) => 3,
        Reply::Bytes(_) => 4,
        Reply::List(_) => 5,
        Reply::Rlimit(_) => 6,
        Reply::MaybeBytes(_) => 7,
        Reply::Prctl { .. } => 8,
        Reply::Handler(_) => 9,
    }
}

fn prctl_arg_index(a: &PrctlArg) -> u8 {
    match a {
        PrctlArg::Int(_) => 0,
        PrctlArg::Buf(_) => 1,
        PrctlArg::Struct(_) => 2,
    }
}

fn field_index(f: &Field) -> u8 {
    match f {
        Field::Bytes(_) => 0,
        Field::Ptr(_) => 1,
    }
}

fn sig_handler_index(h: &SigHandler) -> u8 {
    match h {
        SigHandler::Dfl => 0,
        SigHandler::Ign => 1,
        SigHandler::Trap => 2,
    }
}

fn table_index(t: &Table) -> u8 {
    match t {
        Table::Clone => 0,
        Table::File => 1,
        Table::Mount => 2,
        Table::Prctl => 3,
        Table::Rlimit => 4,
        Table::Signal => 5,
        Table::Errno => 6,
    }
}

fn call_error_index(e: &CallError) -> u8 {
    match e {
        CallError::Errno(_) => 0,
        CallError::BadArg(_) => 1,
        CallError::Execd => 2,
        CallError::Unsupported => 3,
        CallError::TooLarge { .. } => 4,
        CallError::Malformed(_) => 5,
    }
}

fn event_index(e: &Event) -> u8 {
    match e {
        Event::Signal { .. } => 0,
        Event::ExitStatus { .. } => 1,
        Event::TermSig { .. } => 2,
    }
}

fn error_index(e: &Error) -> u8 {
    match e {
        Error::Oversize { .. } => 0,
        Error::Empty => 1,
        Error::Header(_) => 2,
        Error::UnknownKind(_) => 3,
        Error::PathTooLong { .. } => 4,
        Error::Payload { .. } => 5,
        Error::TooLarge { .. } => 6,
        Error::Truncated { .. } => 7,
    }
}

fn notice_index(n: &Notice) -> u8 {
    match n {
        Notice::BadPid => 0,
        Notice::Execd => 1,
        Notice::StdinClosed => 2,
        Notice::StdoutClosed => 3,
        Notice::StderrClosed => 4,
        Notice::StdinAck(_) => 5,
        Notice::BadFrame(_) => 6,
        Notice::NotExecd => 7,
    }
}

/// Draws `n` values of `strategy` and returns the set of `index` of each,
/// checking that postcard writes that index as the first byte.
fn variants_seen<T: Serialize + std::fmt::Debug>(
    strategy: impl Strategy<Value = T>,
    index: impl Fn(&T) -> Vec<u8>,
    first_bytes: usize,
) -> BTreeSet<Vec<u8>> {
    let mut runner = TestRunner::deterministic();
    let mut seen = BTreeSet::new();
    for _ in 0..1000 {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        let wire = postcard::to_allocvec(&value).unwrap();
        let want = index(&value);
        assert_eq!(&wire[..first_bytes], &want[..], "{value:?}");
        seen.insert(want);
    }
    seen
}

#[test]
fn strategies_cover_every_variant_with_its_wire_number() {
    let all = |n: u8| (0..n).map(|i| vec![i]).collect::<BTreeSet<_>>();
    assert_eq!(variants_seen(call(), |c| vec![call_index(c)], 1), all(49));
    assert_eq!(
        variants_seen(prctl_arg(), |a| vec![prctl_arg_index(a)], 1),
        all(3)
    );
    assert_eq!(variants_seen(field(), |f| vec![field_index(f)], 1), all(2));
    assert_eq!(
        variants_seen(sig_handler(), |h| vec![sig_handler_index(h)], 1),
        all(3)
    );
    assert_eq!(variants_seen(table(), |t| vec![table_index(t)], 1), all(7));
    assert_eq!(variants_seen(event(), |e| vec![event_index(e)], 1), all(3));
    assert_eq!(variants_seen(error(), |e| vec![error_index(e)], 1), all(8));
    assert_eq!(
        variants_seen(notice(), |n| vec![notice_index(n)], 1),
        all(8)
    );
    let replies = variants_seen(
        reply_result(),
        |r| match r {
            Ok(r) => vec![0, reply_index(r)],
            Err(e) => vec![1, call_error_index(e)],
        },
        2,
    );
    let mut want: BTreeSet<Vec<u8>> = (0..10).map(|i| vec![0, i]).collect();
    want.extend((0..6).map(|i| vec![1, i]));
    assert_eq!(replies, want);
    let opts: BTreeSet<u8> = Opt::ALL
        .iter()
        .map(|o| postcard::to_allocvec(o).unwrap()[0])
        .collect();
    assert_eq!(opts, (0..9).collect());
}

// ---------------------------------------------------------------------------
// Properties

proptest! {
    // (a) Frames round-trip, in one piece and in arbitrary chunks.
    #[test]
    fn frames_round_trip_in_any_chunks(
        frames in vec((header(), payload()), 1..4),
        at in vec(any::<Index>(), 0..8),
        use_spare in any::<bool>(),
    ) {
        let mut wire = Vec::new();
        for (h, p) in &frames {
            encode_frame(&mut wire, h.kind, h.id, h.path.pids(), p).unwrap();
        }
        let want: Vec<_> = frames.into_iter().map(Ok).collect();
        prop_assert_eq!(&reassemble(&wire, &[], false), &want);
        prop_assert_eq!(&reassemble(&wire, &at, use_spare), &want);
    }

    // (a) The hand-written header is postcard's encoding of `Header`.
    #[test]
    fn header_bytes_are_postcard(h in header(), payload_len in 0usize..1024) {
        let prefix = Prefix::new(h.kind, h.id, h.path.pids(), payload_len).unwrap();
        let bytes = &prefix.as_bytes()[LEN_PREFIX..];
        prop_assert_eq!(bytes, &postcard::to_allocvec(&h).unwrap()[..]);
        let (parsed, rest) = HeaderRef::parse(bytes).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(parsed.to_owned(), h);
        let announced = u32::from_le_bytes(prefix.as_bytes()[..LEN_PREFIX].try_into().unwrap());
        prop_assert_eq!(announced as usize, bytes.len() + payload_len);
    }

    // (b) Messages round-trip.
    #[test]
    fn calls_round_trip(msg in call(), id in any::<u64>(), path in vec(pid(), 0..4)) {
        round_trip(Kind::Call, id, &path, &msg)?;
    }

    #[test]
    fn replies_round_trip(msg in reply_result(), id in any::<u64>(), path in vec(pid(), 0..4)) {
        round_trip(Kind::Reply, id, &path, &msg)?;
    }

    #[test]
    fn events_round_trip(msg in event(), path in vec(pid(), 0..4)) {
        round_trip(Kind::Event, 0, &path, &msg)?;
    }

    #[test]
    fn notices_round_trip(msg in notice(), id in any::<u64>(), path in vec(pid(), 0..4)) {
        round_trip(Kind::Notice, id, &path, &msg)?;
    }

    #[test]
    fn greetings_and_credits_round_trip(msg in greeting(), credit in any::<u32>()) {
        round_trip(Kind::Greeting, 0, &[], &msg)?;
        round_trip(Kind::Credit, 0, &[Pid::from_raw(1)], &credit)?;
    }

    // (c) Arbitrary bytes never panic.
    #[test]
    fn arbitrary_bytes_never_panic_the_reassembler(
        wire in vec(any::<u8>(), 0..1024),
        at in vec(any::<Index>(), 0..8),
    ) {
        drain_hostile(&wire, &at);
    }

    #[test]
    fn hostile_length_prefixes_never_panic_the_reassembler(
        wire in hostile_stream(),
        at in vec(any::<Index>(), 0..8),
    ) {
        drain_hostile(&wire, &at);
    }

    #[test]
    fn mutated_frames_never_panic(
        msgs in vec((call(), reply_result(), notice()), 1..3),
        edits in vec((any::<Index>(), any::<u8>()), 1..6),
        cut in any::<Index>(),
        at in vec(any::<Index>(), 0..4),
    ) {
        let mut wire = Vec::new();
        for (c, r, n) in &msgs {
            encode_message(&mut wire, Kind::Call, 1, &[Pid::from_raw(7)], c).unwrap();
            encode_message(&mut wire, Kind::Reply, 1, &[Pid::from_raw(7)], r).unwrap();
            encode_message(&mut wire, Kind::Notice, 0, &[], n).unwrap();
        }
        // Leave the first length prefix alone so that something decodes.
        for (i, b) in edits {
            let i = LEN_PREFIX + i.index(wire.len() - LEN_PREFIX);
            wire[i] = b;
        }
        wire.truncate(cut.index(wire.len() + 1));
        drain_hostile(&wire, &at);
    }

    #[test]
    fn header_parse_never_panics(body in vec(any::<u8>(), 0..64)) {
        if let Ok((h, payload)) = HeaderRef::parse(&body) {
            prop_assert!(payload.len() <= body.len());
            poke(&FrameRef { header: h, payload });
        }
    }

    #[test]
    fn payload_decoders_never_panic(payload in vec(any::<u8>(), 0..64)) {
        let (header, _) = HeaderRef::parse(&[1, 0, 0]).unwrap();
        poke(&FrameRef { header, payload: &payload });
    }

    // (d) A hop down then a hop up restores the frame's prefix.
    #[test]
    fn pop_then_push_is_the_identity(
        kind in kind(),
        id in any::<u64>(),
        path in vec(pid(), 1..=MAX_PATH),
        payload_len in 0usize..4096,
    ) {
        let original = Prefix::new(kind, id, &path, payload_len).unwrap();
        let (h, _) = HeaderRef::parse(&original.as_bytes()[LEN_PREFIX..]).unwrap();
        let (first, down) = Prefix::pop(&h, payload_len).unwrap();
        prop_assert_eq!(first, path[0]);

        let (h2, rest) = HeaderRef::parse(&down.as_bytes()[LEN_PREFIX..]).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!((h2.kind, h2.id), (kind, id));
        prop_assert!(h2.pids().eq(path[1..].iter().copied()));
        let announced = u32::from_le_bytes(down.as_bytes()[..LEN_PREFIX].try_into().unwrap());
        prop_assert_eq!(announced as usize, down.as_bytes().len() - LEN_PREFIX + payload_len);

        let up = Prefix::push(&h2, first, payload_len).unwrap();
        prop_assert_eq!(up.as_bytes(), original.as_bytes());
    }
}
