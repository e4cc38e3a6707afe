//! The properties both fuzzers check, written once: the cargo-fuzz targets
//! in `fuzz/` include this file (`#[path]`), and `tests/fuzz_prop.rs` runs
//! the same checks as property tests, the fallback that always runs in CI.
//!
//! Each check takes plain bytes, panics when a property fails, and never
//! panics otherwise:
//!
//! - [`frame`]: a frame body. Its header parses or is an error; a parsed
//!   header re-encodes to one that parses the same; a relay's pop and push
//!   move exactly one pid; every payload type decodes or is an error, and
//!   what decodes encodes and decodes again to the same value.
//! - [`reassembler`]: a byte stream, fed in chunks derived from the input.
//!   The frames (and errors) that come out are those a reference cutter
//!   finds in the whole stream, whatever the chunking, and the buffer grows
//!   only with the bytes fed, never with what a length prefix announces.
#![allow(dead_code, reason = "each fuzz target uses only its own check")]

use alcove_proto::{
    Call, CallError, Error, Event, FrameRef, Greeting, Header, HeaderRef, Kind, LEN_PREFIX,
    MAX_FRAME, MAX_PATH, MAX_PREFIX, Notice, Pid, Prefix, Reassembler, Reply, encode_message,
};
use serde::{Serialize, de::DeserializeOwned};

/// Most bytes a [`reassembler`] check asks of `spare` at once.
pub const MAX_SPARE_MIN: usize = 4096;

/// What the reassembler's buffer may hold beyond twice the bytes fed: its
/// first allocation (4 KiB) and one `spare` request.
pub const SLACK: usize = 4096 + MAX_SPARE_MIN;

/// Checks a frame body (header and payload).
pub fn frame(body: &[u8]) {
    let Ok((header, payload)) = HeaderRef::parse(body) else {
        return;
    };
    assert!(body.ends_with(payload));
    frame_ref(&FrameRef { header, payload });
}

/// Checks a frame that parsed, from [`frame`] or out of a reassembler.
pub fn frame_ref(f: &FrameRef<'_>) {
    let h = f.header;
    let pids: Vec<Pid> = h.pids().collect();
    assert_eq!(pids.len(), h.path_len());
    assert!(h.path_len() <= MAX_PATH);
    assert_eq!(h.first(), pids.first().copied());
    let owned = h.to_owned();
    assert_eq!((owned.kind, owned.id), (h.kind, h.id));
    assert_eq!(owned.path.pids(), &pids[..]);

    // The same header, written afresh: it parses back the same.
    let same = Prefix::of(&h, f.payload.len()).expect("a parsed header fits");
    assert_eq!(reparse(&same, f.payload), owned);

    // A relay going down: one pid fewer.
    match Prefix::pop(&h, f.payload.len()) {
        Ok((first, down)) => {
            assert_eq!(Some(first), pids.first().copied());
            let popped = reparse(&down, f.payload);
            assert_eq!(popped.path.pids(), &pids[1..]);
            assert_eq!((popped.kind, popped.id), (h.kind, h.id));
        }
        Err(_) => assert!(pids.is_empty(), "pop failed on {pids:?}"),
    }

    // A relay going up: one pid more, then down again.
    let child = Pid::from_raw(pids.len() as i32 - 2);
    match Prefix::push(&h, child, f.payload.len()) {
        Ok(up) => {
            let bytes = up.as_bytes();
            let pushed = reparse(&up, f.payload);
            let mut want = vec![child];
            want.extend_from_slice(&pids);
            assert_eq!(pushed.path.pids(), &want[..]);
            let (uh, _) = HeaderRef::parse(&bytes[LEN_PREFIX..]).expect("pushed header parses");
            let (first, down) = Prefix::pop(&uh, f.payload.len()).expect("pop after push");
            assert_eq!(first, child);
            assert_eq!(reparse(&down, f.payload), owned);
        }
        Err(Error::PathTooLong { .. }) => assert_eq!(pids.len(), MAX_PATH),
        // Only a frame at the very edge of `MAX_FRAME` has no room left.
        Err(Error::Oversize { .. }) => assert!(f.payload.len() + MAX_PREFIX > MAX_FRAME),
        Err(e) => panic!("push failed: {e}"),
    }

    // Every payload type: decodes or is an error; what decodes round-trips.
    round_trip::<Call>(f);
    round_trip::<Result<Reply, CallError>>(f);
    round_trip::<Event>(f);
    round_trip::<Notice>(f);
    round_trip::<Greeting>(f);
    round_trip::<u32>(f);
    round_trip::<Header>(f);
}

/// The header of `prefix` followed by `payload`, parsed; checks that the
/// prefix announces the right length and the payload comes back whole.
fn reparse(prefix: &Prefix, payload: &[u8]) -> Header {
    let bytes = prefix.as_bytes();
    let announced = u32::from_le_bytes(bytes[..LEN_PREFIX].try_into().unwrap()) as usize;
    assert_eq!(announced, bytes.len() - LEN_PREFIX + payload.len());
    assert!(announced <= MAX_FRAME);
    let mut body = bytes[LEN_PREFIX..].to_vec();
    body.extend_from_slice(payload);
    let (h, rest) = HeaderRef::parse(&body).expect("a written header parses");
    assert_eq!(rest, payload);
    h.to_owned()
}

/// Decodes the payload as `T`; if it decodes, encodes it again and checks
/// that it decodes to the same value.
fn round_trip<T>(f: &FrameRef<'_>)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let Ok(msg) = f.decode::<T>() else {
        return;
    };
    let mut wire = Vec::new();
    encode_message(&mut wire, f.header.kind, f.header.id, &[], &msg)
        .expect("a decoded message encodes");
    let (h, payload) = HeaderRef::parse(&wire[LEN_PREFIX..]).expect("header parses");
    let again = FrameRef { header: h, payload }
        .decode::<T>()
        .expect("an encoded message decodes");
    assert_eq!(again, msg);
    // Shortest varints never take more bytes than the input's.
    assert!(payload.len() <= f.payload.len());
}

/// One frame, or the error for one, as both cutters report it.
#[derive(Debug, PartialEq, Eq)]
pub enum Cut {
    /// A frame: its header and payload.
    Frame(Header, Vec<u8>),
    /// A frame refused.
    Err(Error),
}

/// How [`reassembler`] feeds the stream, read from the input's first bytes.
struct Plan<'a> {
    /// Chunk lengths, used in turn (0 means 1).
    sizes: &'a [u8],
    /// Feed through `spare` and `commit` rather than `feed`.
    use_spare: bool,
    /// What to ask `spare` for.
    min: usize,
}

/// Splits the input into a feeding plan and the stream: the first byte
/// holds the number of chunk-size bytes (low 4 bits), whether to go through
/// `spare` (bit 4) and the `spare` minimum (high 3 bits).
fn plan(data: &[u8]) -> (Plan<'_>, &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return (
            Plan {
                sizes: &[],
                use_spare: false,
                min: 1,
            },
            &[],
        );
    };
    let n = usize::from(first & 0x0f).min(rest.len());
    let (sizes, stream) = rest.split_at(n);
    let min = [1, 16, 100, 512, 1024, 2048, 3000, MAX_SPARE_MIN][usize::from(first >> 5)];
    (
        Plan {
            sizes,
            use_spare: first & 0x10 != 0,
            min,
        },
        stream,
    )
}

/// Feeds the stream described by `data` (see [`plan`]) to a reassembler in
/// chunks and checks it against [`reference`].
pub fn reassembler(data: &[u8]) {
    let (plan, stream) = plan(data);
    let mut rx = Reassembler::new();
    let mut got = Vec::new();
    let mut fed = 0;
    let mut turn = 0;
    while fed < stream.len() {
        let size = plan
            .sizes
            .get(turn % plan.sizes.len().max(1))
            .map_or(stream.len(), |&s| {
                // Small chunks mostly; a size byte over 0xf0 means a big one.
                if s > 0xf0 {
                    usize::from(s - 0xf0) << 12
                } else {
                    usize::from(s).max(1)
                }
            });
        turn += 1;
        let mut chunk = &stream[fed..(fed + size).min(stream.len())];
        fed += chunk.len();
        if plan.use_spare {
            while !chunk.is_empty() {
                let spare = rx.spare(plan.min);
                assert!(spare.len() >= plan.min);
                let n = spare.len().min(chunk.len());
                spare[..n].copy_from_slice(&chunk[..n]);
                rx.commit(n);
                chunk = &chunk[n..];
            }
        } else {
            rx.feed(chunk);
        }
        assert!(rx.buffered() <= fed);
        assert!(
            rx.capacity() <= 2 * fed + SLACK,
            "buffer of {} bytes after {fed} bytes fed",
            rx.capacity()
        );
        while let Some(frame) = rx.next_frame() {
            got.push(match frame {
                Ok(f) => {
                    frame_ref(&f);
                    Cut::Frame(f.header.to_owned(), f.payload.to_vec())
                }
                Err(e) => Cut::Err(e),
            });
        }
    }
    let (want, left) = reference(stream);
    assert_eq!(got, want);
    assert_eq!(rx.buffered(), left);
    assert_eq!(rx.unparsed().len(), left);
}

/// Cuts a whole stream into frames the simple way. Returns the cuts and the
/// bytes left over (a partial frame at the end).
pub fn reference(mut s: &[u8]) -> (Vec<Cut>, usize) {
    let mut out = Vec::new();
    while s.len() >= LEN_PREFIX {
        let len = u32::from_le_bytes(s[..LEN_PREFIX].try_into().unwrap()) as usize;
        let body = &s[LEN_PREFIX..];
        if len > MAX_FRAME {
            out.push(Cut::Err(Error::Oversize {
                len: len as u64,
                max: MAX_FRAME as u64,
            }));
            // The body is skipped as it arrives; whatever came is gone.
            s = &body[len.min(body.len())..];
            if len > body.len() {
                return (out, 0);
            }
        } else if len == 0 {
            out.push(Cut::Err(Error::Empty));
            s = body;
        } else if body.len() < len {
            break;
        } else {
            out.push(match HeaderRef::parse(&body[..len]) {
                Ok((h, payload)) => Cut::Frame(h.to_owned(), payload.to_vec()),
                Err(e) => Cut::Err(e),
            });
            s = &body[len..];
        }
    }
    (out, s.len())
}

/// A frame body: a well-formed header (kind number `kind`, `id`, `path`)
/// then `payload`; just the kind byte when `kind` or `path` cannot be
/// written. For `fuzz_prop.rs`, whose bodies thus get past the header more
/// often than random bytes do.
pub fn body(kind: u8, id: u64, path: &[i32], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let kind_ok = Kind::from_wire(u32::from(kind)).ok();
    match kind_ok {
        Some(k) => {
            let pids: Vec<Pid> = path.iter().copied().map(Pid::from_raw).collect();
            match Prefix::new(k, id, &pids, payload.len()) {
                Ok(p) => out.extend_from_slice(&p.as_bytes()[LEN_PREFIX..]),
                Err(_) => out.push(kind),
            }
        }
        None => out.push(kind),
    }
    out.extend_from_slice(payload);
    out
}
