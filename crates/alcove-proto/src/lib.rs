//! The wire protocol of alcove-rs.
//!
//! A client talks to a tree of alcove processes over one byte stream: the
//! stdin and stdout of the port. Everything on that stream is a *frame*:
//!
//! ```text
//! frame  = len:u32 little-endian | body[len]
//! body   = header | payload
//! header = kind:varint | id:varint(u64) | path:varint(n) pid:zigzag-varint(i32) × n
//! ```
//!
//! The header is a [postcard] encoding of [`Header`], written and read here
//! by hand so that a relay can route a frame without allocating and without
//! decoding its payload. The payload is either raw bytes (stdin, stdout,
//! stderr) or the postcard encoding of a typed message ([`Call`], a reply
//! `Result<Reply, CallError>`, [`Event`], [`Notice`], [`Greeting`]).
//!
//! `PROTOCOL.md`, next to this crate's `Cargo.toml`, specifies the bytes;
//! the golden tests in `tests/golden.rs` freeze them. Enum variants are
//! append-only.
//!
//! # Example
//!
//! ```
//! use alcove_proto::{encode_message, Call, Kind, Pid, Reassembler};
//!
//! let mut wire = Vec::new();
//! encode_message(&mut wire, Kind::Call, 7, &[Pid::from_raw(1234)], &Call::Getpid)?;
//!
//! let mut rx = Reassembler::new();
//! rx.feed(&wire);
//! let frame = rx.next_frame().expect("one whole frame")?;
//! assert_eq!(frame.header.kind, Kind::Call);
//! assert_eq!(frame.header.id, 7);
//! assert_eq!(frame.header.first(), Some(Pid::from_raw(1234)));
//! assert_eq!(frame.decode::<Call>()?, Call::Getpid);
//! # Ok::<(), alcove_proto::Error>(())
//! ```
#![forbid(unsafe_code)]

mod error;
mod frame;
mod header;
mod message;
mod pid;

pub use error::Error;
pub use frame::{FrameRef, Reassembler, encode_frame, encode_message};
pub use header::{Header, HeaderRef, Kind, MAX_HEADER, MAX_PREFIX, Prefix};
pub use message::{
    ByteBuf, Call, CallError, Cpid, Event, Field, Greeting, Notice, Opt, PrctlArg, Reply, Rlimit,
    SigHandler, Table,
};
pub use pid::{Path, Pid};

/// Version of the wire format described in `PROTOCOL.md`. The port sends
/// it in its [`Greeting`]; a client refuses a port that speaks another.
pub const PROTOCOL_VERSION: u32 = 1;

/// Bytes in the length prefix of a frame.
pub const LEN_PREFIX: usize = 4;

/// Largest body (header and payload) of one frame: 16 MiB.
///
/// alcove 1.0.1 capped whole messages at 64 KiB; here a `read` of 1 MiB or
/// an `environ` of tens of thousands of entries fits in one reply.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// Largest payload a process may put in a frame it originates, whatever its
/// depth: what is left of [`MAX_FRAME`] after the largest header, so that a
/// reply still fits after every hop has added its pid to the path.
pub const MAX_PAYLOAD: usize = MAX_FRAME - MAX_HEADER;

/// Longest fork path a frame can carry.
pub const MAX_PATH: usize = 256;

/// Bytes of stdout and stderr a process relays for an exec'd child before
/// the client grants more with a [`Kind::Credit`] frame.
pub const INITIAL_OUTPUT_CREDIT: u32 = 1024 * 1024;

/// Bytes of stdin a client may have in flight towards one exec'd child
/// before the parent of that child acknowledges them with
/// [`Notice::StdinAck`].
pub const STDIN_WINDOW: u32 = 1024 * 1024;
