//! The frame header, read and written by hand.
//!
//! The bytes are exactly postcard's encoding of [`Header`] (a test holds
//! the two together), but a relay needs neither an allocation nor a look at
//! the payload to move a frame one hop: [`HeaderRef::parse`] borrows from
//! the frame, and [`Prefix::pop`] / [`Prefix::push`] write the next hop's
//! length prefix and header into a fixed buffer on the stack.

use serde::{Deserialize, Serialize};

use crate::{Error, LEN_PREFIX, MAX_FRAME, MAX_PATH, Path, Pid};

/// What a frame carries. The discriminant is the first byte of the header.
///
/// Variants are append-only: their numbers are the wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Kind {
    /// Port to client, once, first: a [`crate::Greeting`].
    Greeting = 0,
    /// Client to process: a [`crate::Call`] for the process at the path.
    Call = 1,
    /// Process to client: `Result<Reply, CallError>` for the call with the
    /// same id.
    Reply = 2,
    /// Process to client: an [`crate::Event`] about the process at the path.
    Event = 3,
    /// Client to exec'd process: raw bytes for its stdin.
    Stdin = 4,
    /// Exec'd process to client: raw bytes from its stdout.
    Stdout = 5,
    /// Process to client: raw bytes from its stderr.
    Stderr = 6,
    /// Process to client: a [`crate::Notice`] about the path.
    Notice = 7,
    /// Client to an exec'd process (its path; the last hop, its parent,
    /// acts on it): a postcard `u32`, more bytes of its stdout and stderr
    /// that may be relayed.
    Credit = 8,
}

impl Kind {
    /// Every kind, in wire order.
    pub const ALL: [Kind; 9] = [
        Kind::Greeting,
        Kind::Call,
        Kind::Reply,
        Kind::Event,
        Kind::Stdin,
        Kind::Stdout,
        Kind::Stderr,
        Kind::Notice,
        Kind::Credit,
    ];

    /// The kind with this wire number.
    pub fn from_wire(n: u32) -> Result<Self, Error> {
        Self::ALL
            .get(n as usize)
            .copied()
            .ok_or(Error::UnknownKind(n))
    }
}

/// The owned form of a frame header.
///
/// On the way down (client to process) the path is what remains to be
/// travelled; on the way up it is what has been travelled so far, so the
/// client receives the full path of the process a frame concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// What the frame carries.
    pub kind: Kind,
    /// The call id chosen by the client; a reply echoes it. Zero on frames
    /// that answer no call.
    pub id: u64,
    /// The fork path.
    pub path: Path,
}

/// Largest encoded header: kind, a 10-byte id, a 2-byte path length and
/// [`MAX_PATH`] pids of 5 bytes each.
pub const MAX_HEADER: usize = 1 + 10 + 2 + 5 * MAX_PATH;

/// Largest length prefix and header together.
pub const MAX_PREFIX: usize = LEN_PREFIX + MAX_HEADER;

/// A header borrowed from the frame it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderRef<'a> {
    /// What the frame carries.
    pub kind: Kind,
    /// The call id.
    pub id: u64,
    len: usize,
    /// The encoded pids of the path, as they appear on the wire.
    path: &'a [u8],
}

impl<'a> HeaderRef<'a> {
    /// Parses the header at the start of a frame body; returns it and the
    /// payload that follows it.
    pub fn parse(body: &'a [u8]) -> Result<(Self, &'a [u8]), Error> {
        let mut r = Reader { buf: body, pos: 0 };
        let kind = Kind::from_wire(r.varint_u32()?)?;
        let id = r.varint_u64()?;
        let len = r.varint_u32()? as usize;
        if len > MAX_PATH {
            return Err(Error::PathTooLong {
                len: len as u64,
                max: MAX_PATH as u64,
            });
        }
        let start = r.pos;
        for _ in 0..len {
            r.varint_u32()?;
        }
        let header = HeaderRef {
            kind,
            id,
            len,
            path: &body[start..r.pos],
        };
        Ok((header, &body[r.pos..]))
    }

    /// Number of pids in the path.
    pub fn path_len(&self) -> usize {
        self.len
    }

    /// The pids of the path, in order.
    pub fn pids(&self) -> impl Iterator<Item = Pid> + 'a {
        let mut r = Reader {
            buf: self.path,
            pos: 0,
        };
        (0..self.len).map(move |_| Pid::from_raw(unzigzag(r.varint_u32().unwrap_or(0))))
    }

    /// The first pid of the path: the next hop of a frame going down.
    pub fn first(&self) -> Option<Pid> {
        self.pids().next()
    }

    /// The owned header.
    pub fn to_owned(&self) -> Header {
        Header {
            kind: self.kind,
            id: self.id,
            path: Path::from(self.pids().collect::<Vec<_>>()),
        }
    }
}

/// A length prefix and header for the next hop, built on the stack (for a
/// path of up to 22 pids; a longer one spills to the heap).
///
/// `prefix.as_bytes()` followed by the unchanged payload is the whole frame.
#[derive(Clone)]
pub struct Prefix {
    /// The bytes, while they fit: a path of up to about 20 pids.
    inline: [u8; INLINE],
    len: usize,
    /// The bytes once they outgrew `inline` (a long path): empty, and
    /// unallocated, otherwise.
    spill: Vec<u8>,
}

/// Bytes of a prefix kept on the stack: the length, kind, id and path
/// count, and 22 pids of the longest encoding.
const INLINE: usize = LEN_PREFIX + 1 + 10 + 2 + 5 * 22;

impl std::fmt::Debug for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefix")
            .field("bytes", &self.as_bytes())
            .finish()
    }
}

impl Prefix {
    /// The prefix of a frame with this header and a payload of
    /// `payload_len` bytes.
    pub fn new(kind: Kind, id: u64, path: &[Pid], payload_len: usize) -> Result<Self, Error> {
        if path.len() > MAX_PATH {
            return Err(Error::PathTooLong {
                len: path.len() as u64,
                max: MAX_PATH as u64,
            });
        }
        let mut p = Self::start(kind, id, path.len());
        for pid in path {
            p.put_varint(zigzag(pid.as_raw()) as u64);
        }
        p.finish(payload_len)
    }

    /// The prefix of a frame with the same header as `header`.
    pub fn of(header: &HeaderRef<'_>, payload_len: usize) -> Result<Self, Error> {
        let mut p = Self::start(header.kind, header.id, header.len);
        p.put_bytes(header.path);
        p.finish(payload_len)
    }

    /// The prefix for the next hop down: the path without its first pid.
    /// Returns the first pid, to which the frame goes, and the prefix.
    pub fn pop(header: &HeaderRef<'_>, payload_len: usize) -> Result<(Pid, Self), Error> {
        let mut r = Reader {
            buf: header.path,
            pos: 0,
        };
        let first = match header.len {
            0 => return Err(Error::Header("cannot pop from the empty path".into())),
            _ => Pid::from_raw(unzigzag(r.varint_u32()?)),
        };
        let mut p = Self::start(header.kind, header.id, header.len - 1);
        p.put_bytes(&header.path[r.pos..]);
        Ok((first, p.finish(payload_len)?))
    }

    /// The prefix for the next hop up: `pid` (the child the frame came
    /// from) in front of the path.
    pub fn push(header: &HeaderRef<'_>, pid: Pid, payload_len: usize) -> Result<Self, Error> {
        if header.len + 1 > MAX_PATH {
            return Err(Error::PathTooLong {
                len: header.len as u64 + 1,
                max: MAX_PATH as u64,
            });
        }
        let mut p = Self::start(header.kind, header.id, header.len + 1);
        p.put_varint(zigzag(pid.as_raw()) as u64);
        p.put_bytes(header.path);
        p.finish(payload_len)
    }

    /// Length prefix and header, ready to be written before the payload.
    pub fn as_bytes(&self) -> &[u8] {
        if self.spill.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }

    fn start(kind: Kind, id: u64, path_len: usize) -> Self {
        let mut p = Self {
            inline: [0; INLINE],
            len: crate::LEN_PREFIX,
            spill: Vec::new(),
        };
        p.put_varint(kind as u64);
        p.put_varint(id);
        p.put_varint(path_len as u64);
        p
    }

    fn put_varint(&mut self, mut v: u64) {
        let mut bytes = [0u8; 10];
        let mut n = 0;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                bytes[n] = byte;
                n += 1;
                break;
            }
            bytes[n] = byte | 0x80;
            n += 1;
        }
        self.put_bytes(&bytes[..n]);
    }

    fn put_bytes(&mut self, bytes: &[u8]) {
        if self.spill.is_empty() && self.len + bytes.len() <= INLINE {
            self.inline[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        } else {
            if self.spill.is_empty() {
                self.spill.reserve(MAX_PREFIX);
                self.spill.extend_from_slice(&self.inline[..self.len]);
            }
            self.spill.extend_from_slice(bytes);
        }
        self.len += bytes.len();
    }

    fn finish(mut self, payload_len: usize) -> Result<Self, Error> {
        let body = self.len - LEN_PREFIX + payload_len;
        if body > MAX_FRAME {
            return Err(Error::Oversize {
                len: body as u64,
                max: MAX_FRAME as u64,
            });
        }
        let len = (body as u32).to_le_bytes();
        if self.spill.is_empty() {
            self.inline[..LEN_PREFIX].copy_from_slice(&len);
        } else {
            self.spill[..LEN_PREFIX].copy_from_slice(&len);
        }
        Ok(self)
    }
}

pub(crate) fn zigzag(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

pub(crate) fn unzigzag(n: u32) -> i32 {
    ((n >> 1) as i32) ^ -((n & 1) as i32)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn varint_u64(&mut self) -> Result<u64, Error> {
        self.varint(10)
    }

    fn varint_u32(&mut self) -> Result<u32, Error> {
        let v = self.varint(5)?;
        u32::try_from(v).map_err(|_| Error::Header("varint exceeds u32".into()))
    }

    fn varint(&mut self, max_bytes: usize) -> Result<u64, Error> {
        let mut v: u64 = 0;
        for i in 0..max_bytes {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(Error::Header("truncated header".into()));
            };
            self.pos += 1;
            let bits = u64::from(byte & 0x7f);
            if i == 9 && bits > 1 {
                return Err(Error::Header("varint exceeds u64".into()));
            }
            v |= bits << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Error::Header("varint too long".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pids(raw: &[i32]) -> Vec<Pid> {
        raw.iter().copied().map(Pid::from_raw).collect()
    }

    #[test]
    fn zigzag_round_trips_extremes() {
        for n in [0, 1, -1, 2, -2, i32::MAX, i32::MIN, 4_194_304] {
            assert_eq!(unzigzag(zigzag(n)), n);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    #[test]
    fn hand_written_header_is_postcard() {
        let header = Header {
            kind: Kind::Reply,
            id: 300,
            path: Path::from(pids(&[1, -70_000, i32::MAX])),
        };
        let postcard_bytes = postcard::to_allocvec(&header).unwrap();
        let prefix = Prefix::new(header.kind, header.id, header.path.pids(), 0).unwrap();
        assert_eq!(&prefix.as_bytes()[LEN_PREFIX..], &postcard_bytes[..]);
        let (parsed, payload) = HeaderRef::parse(&postcard_bytes).unwrap();
        assert!(payload.is_empty());
        assert_eq!(parsed.to_owned(), header);
        assert_eq!(
            postcard::from_bytes::<Header>(&postcard_bytes).unwrap(),
            header
        );
    }

    #[test]
    fn pop_and_push_move_one_pid() {
        let prefix = Prefix::new(Kind::Call, 9, &pids(&[10, 20, 30]), 3).unwrap();
        let mut frame = prefix.as_bytes()[LEN_PREFIX..].to_vec();
        frame.extend_from_slice(b"abc");
        let (h, payload) = HeaderRef::parse(&frame).unwrap();
        assert_eq!(payload, b"abc");

        let (first, down) = Prefix::pop(&h, payload.len()).unwrap();
        assert_eq!(first, Pid::from_raw(10));
        let (h2, _) = HeaderRef::parse(&down.as_bytes()[LEN_PREFIX..]).unwrap();
        assert_eq!(h2.pids().collect::<Vec<_>>(), pids(&[20, 30]));
        assert_eq!((h2.kind, h2.id), (Kind::Call, 9));
        let len = u32::from_le_bytes(down.as_bytes()[..4].try_into().unwrap()) as usize;
        assert_eq!(len, down.as_bytes().len() - LEN_PREFIX + 3);

        let up = Prefix::push(&h2, Pid::from_raw(7), 3).unwrap();
        let (h3, _) = HeaderRef::parse(&up.as_bytes()[LEN_PREFIX..]).unwrap();
        assert_eq!(h3.pids().collect::<Vec<_>>(), pids(&[7, 20, 30]));
    }

    #[test]
    fn pop_of_the_empty_path_is_an_error() {
        let prefix = Prefix::new(Kind::Call, 1, &[], 0).unwrap();
        let (h, _) = HeaderRef::parse(&prefix.as_bytes()[LEN_PREFIX..]).unwrap();
        assert!(Prefix::pop(&h, 0).is_err());
    }

    #[test]
    fn push_past_the_longest_path_is_an_error() {
        let long = vec![Pid::from_raw(i32::MIN); MAX_PATH];
        let prefix = Prefix::new(Kind::Reply, u64::MAX, &long, 0).unwrap();
        assert_eq!(prefix.as_bytes().len(), MAX_PREFIX);
        let (h, _) = HeaderRef::parse(&prefix.as_bytes()[LEN_PREFIX..]).unwrap();
        assert!(matches!(
            Prefix::push(&h, Pid::from_raw(1), 0),
            Err(Error::PathTooLong { .. })
        ));
    }

    #[test]
    fn malformed_headers_are_errors() {
        assert!(HeaderRef::parse(&[]).is_err());
        assert_eq!(HeaderRef::parse(&[99, 0, 0]), Err(Error::UnknownKind(99)));
        assert!(HeaderRef::parse(&[1, 0x80]).is_err());
        assert!(HeaderRef::parse(&[1, 0, 2, 4]).is_err());
        // A path length over the maximum.
        assert!(matches!(
            HeaderRef::parse(&[1, 0, 0x81, 0x02]),
            Err(Error::PathTooLong { .. })
        ));
        // An id of eleven varint bytes.
        let mut long_id = vec![1u8];
        long_id.extend([0xff; 10]);
        long_id.push(0);
        assert!(HeaderRef::parse(&long_id).is_err());
    }
}
