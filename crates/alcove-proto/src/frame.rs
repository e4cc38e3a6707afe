//! Writing frames, and reassembling them from a byte stream.

use serde::{Serialize, de::DeserializeOwned};

use crate::{Error, HeaderRef, Kind, LEN_PREFIX, MAX_FRAME, MAX_PAYLOAD, Pid, Prefix};

/// Appends a frame with a raw payload to `out`.
pub fn encode_frame(
    out: &mut Vec<u8>,
    kind: Kind,
    id: u64,
    path: &[Pid],
    payload: &[u8],
) -> Result<(), Error> {
    if payload.len() > MAX_PAYLOAD {
        return Err(Error::TooLarge {
            what: format!("{kind:?} payload"),
            len: payload.len() as u64,
            max: MAX_PAYLOAD as u64,
        });
    }
    let prefix = Prefix::new(kind, id, path, payload.len())?;
    out.reserve(prefix.as_bytes().len() + payload.len());
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

/// Appends a frame whose payload is the postcard encoding of `msg`.
///
/// On error `out` is left as it was.
pub fn encode_message<T: Serialize>(
    out: &mut Vec<u8>,
    kind: Kind,
    id: u64,
    path: &[Pid],
    msg: &T,
) -> Result<(), Error> {
    let start = out.len();
    let prefix = Prefix::new(kind, id, path, 0)?;
    out.extend_from_slice(prefix.as_bytes());
    let payload_start = out.len();
    if let Err(e) = postcard::serialize_with_flavor(msg, VecRef(out)) {
        out.truncate(start);
        return Err(Error::Payload {
            what: short_type_name::<T>(),
            reason: e.to_string(),
        });
    }
    let payload_len = out.len() - payload_start;
    if payload_len > MAX_PAYLOAD || out.len() - start - LEN_PREFIX > MAX_FRAME {
        out.truncate(start);
        return Err(Error::TooLarge {
            what: short_type_name::<T>(),
            len: payload_len as u64,
            max: MAX_PAYLOAD as u64,
        });
    }
    let body = (out.len() - start - LEN_PREFIX) as u32;
    out[start..start + LEN_PREFIX].copy_from_slice(&body.to_le_bytes());
    Ok(())
}

/// A postcard flavor that appends to a borrowed vector, so that a failed
/// encoding can be rolled back.
struct VecRef<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for VecRef<'_> {
    type Output = ();

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Decodes a postcard payload; bytes after the message are an error.
pub(crate) fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Error> {
    let err = |reason: String| Error::Payload {
        what: short_type_name::<T>(),
        reason,
    };
    match postcard::take_from_bytes(payload) {
        Ok((msg, [])) => Ok(msg),
        Ok((_, rest)) => Err(err(format!("{} bytes after the message", rest.len()))),
        Err(e) => Err(err(e.to_string())),
    }
}

/// The type's name without module paths: `Result<Reply, CallError>`.
fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(word.rsplit("::").next().unwrap_or(word));
        word.clear();
    };
    for c in full.chars() {
        if matches!(c, '<' | '>' | ',' | ' ' | '(' | ')' | '[' | ']' | ';' | '&') {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// One frame, borrowed from the [`Reassembler`] that cut it out.
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    /// Its header.
    pub header: HeaderRef<'a>,
    /// The bytes after the header.
    pub payload: &'a [u8],
}

impl FrameRef<'_> {
    /// Decodes the payload as a postcard message.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        decode(self.payload)
    }
}

/// Cuts a byte stream into frames. Takes partial reads.
///
/// Bytes go in with [`feed`](Self::feed), or straight from a read into
/// [`spare`](Self::spare) followed by [`commit`](Self::commit); whole frames
/// come out of [`next_frame`](Self::next_frame), borrowed from the internal
/// buffer, which is reused and grows only to the largest frame seen.
///
/// The buffer grows with the bytes that actually arrive, never with what a
/// length prefix announces: a prefix claiming [`MAX_FRAME`] followed by a
/// few bytes costs a few kilobytes, not 16 MiB. Its
/// [`capacity`](Self::capacity) stays within twice the bytes buffered at
/// any time plus a fixed slack (and the `min` a caller of `spare` asks for).
///
/// A frame that is too large or malformed comes out as an `Err` and is
/// skipped; the frames after it are still cut correctly. An oversize frame
/// is discarded as its bytes arrive, without buffering it.
#[derive(Debug)]
pub struct Reassembler {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes of an oversize frame still to be discarded.
    skip: usize,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new()
    }
}

/// The buffer's first size: small, as every loop process has one per
/// child and a new child touches it first thing; it grows with the frames.
const INITIAL: usize = 4 * 1024;

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            end: 0,
            skip: 0,
        }
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The bytes received and not yet cut into frames (what follows the
    /// last whole frame).
    pub fn unparsed(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Forgets everything buffered.
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.skip = 0;
    }

    /// Appends bytes.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let spare = self.spare(data.len().min(INITIAL));
            let n = spare.len().min(data.len());
            spare[..n].copy_from_slice(&data[..n]);
            self.commit(n);
            data = &data[n..];
        }
    }

    /// Bytes allocated for the buffer: what it may hold before it grows.
    /// For tests of its bounds (see the type's documentation).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Free space at the end of the buffer, at least `min` bytes (or more
    /// when the frame being assembled still needs more: as much as it needs,
    /// but no more than is buffered already, so that the buffer at most
    /// doubles per call and a length prefix alone cannot make it grow), for
    /// a read to fill. Follow with [`commit`](Self::commit).
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        let grow = self.needed().min(self.buffered().max(INITIAL));
        let want = min.max(grow).max(1);
        if self.buf.len() - self.end < want {
            // Move the partial frame to the front, then grow if needed.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < want {
                let len = (self.end + want).max(INITIAL);
                // Exact: the doubling is decided above, not left to `Vec`.
                self.buf.reserve_exact(len - self.buf.len());
                self.buf.resize(len, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Records that `n` bytes were written into [`spare`](Self::spare).
    pub fn commit(&mut self, n: usize) {
        assert!(
            self.end + n <= self.buf.len(),
            "commit past the spare space"
        );
        self.end += n;
        // Discard what belongs to an oversize frame.
        let drop = self.skip.min(self.end - self.start);
        self.skip -= drop;
        self.start += drop;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Bytes still missing for the frame at the front, or 0.
    fn needed(&self) -> usize {
        let have = self.end - self.start;
        if have < LEN_PREFIX {
            return LEN_PREFIX - have;
        }
        let len = self.announced();
        if len > MAX_FRAME {
            return 0;
        }
        (LEN_PREFIX + len).saturating_sub(have)
    }

    fn announced(&self) -> usize {
        let b = &self.buf[self.start..self.start + LEN_PREFIX];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
    }

    /// The next whole frame, an error for a frame that was skipped, or
    /// `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<FrameRef<'_>, Error>> {
        if self.skip > 0 || self.end - self.start < LEN_PREFIX {
            return None;
        }
        let len = self.announced();
        if len > MAX_FRAME {
            self.start += LEN_PREFIX;
            let drop = len.min(self.end - self.start);
            self.start += drop;
            self.skip = len - drop;
            return Some(Err(Error::Oversize {
                len: len as u64,
                max: MAX_FRAME as u64,
            }));
        }
        if len == 0 {
            self.start += LEN_PREFIX;
            return Some(Err(Error::Empty));
        }
        if self.end - self.start < LEN_PREFIX + len {
            return None;
        }
        let body_start = self.start + LEN_PREFIX;
        self.start = body_start + len;
        let body = &self.buf[body_start..body_start + len];
        Some(HeaderRef::parse(body).map(|(header, payload)| FrameRef { header, payload }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Call;

    fn frame(id: u64) -> Vec<u8> {
        let mut v = Vec::new();
        encode_message(&mut v, Kind::Call, id, &[Pid::from_raw(5)], &Call::Getpid).unwrap();
        v
    }

    #[test]
    fn frames_split_at_every_byte_come_out_whole() {
        let mut wire = frame(1);
        wire.extend(frame(2));
        for cut in 0..wire.len() {
            let mut rx = Reassembler::new();
            let mut ids = Vec::new();
            for part in [&wire[..cut], &wire[cut..]] {
                rx.feed(part);
                while let Some(f) = rx.next_frame() {
                    ids.push(f.unwrap().header.id);
                }
            }
            assert_eq!(ids, [1, 2], "cut at {cut}");
            assert_eq!(rx.buffered(), 0);
        }
    }

    #[test]
    fn an_oversize_frame_is_skipped_without_buffering_it() {
        let mut rx = Reassembler::new();
        let len = (MAX_FRAME + 10) as u32;
        rx.feed(&len.to_le_bytes());
        rx.feed(&[0; 1000]);
        assert!(matches!(rx.next_frame(), Some(Err(Error::Oversize { .. }))));
        let mut rest = MAX_FRAME + 10 - 1000;
        while rest > 0 {
            let spare = rx.spare(1);
            let n = spare.len().min(rest).min(1 << 20);
            spare[..n].fill(0xaa);
            rx.commit(n);
            rest -= n;
            assert!(rx.next_frame().is_none());
        }
        assert!(rx.buf.len() <= 2 << 20, "buffer grew to {}", rx.buf.len());
        rx.feed(&frame(3));
        assert_eq!(rx.next_frame().unwrap().unwrap().header.id, 3);
    }

    /// A length prefix announcing `MAX_FRAME` with a few bytes behind it
    /// used to make `spare` grow the buffer to the announced 16 MiB at once.
    #[test]
    fn a_length_prefix_alone_does_not_grow_the_buffer() {
        let mut rx = Reassembler::new();
        rx.feed(&(MAX_FRAME as u32).to_le_bytes());
        rx.feed(&[1, 0, 0]);
        assert!(rx.next_frame().is_none());
        let spare = rx.spare(16 << 10).len();
        assert!(spare >= 16 << 10);
        assert!(rx.capacity() <= 32 << 10, "capacity {}", rx.capacity());

        // A whole frame of that size still comes out, the buffer doubling
        // on the way, read by read.
        let mut wire = Vec::new();
        encode_frame(&mut wire, Kind::Stdout, 0, &[], &vec![7; MAX_PAYLOAD]).unwrap();
        let mut rx = Reassembler::new();
        let mut fed = 0;
        let mut reads = 0;
        while fed < wire.len() {
            let spare = rx.spare(16 << 10);
            let n = spare.len().min(wire.len() - fed);
            spare[..n].copy_from_slice(&wire[fed..fed + n]);
            rx.commit(n);
            fed += n;
            reads += 1;
            assert!(rx.capacity() <= 2 * fed + 2 * INITIAL + (16 << 10));
        }
        assert!(reads < 40, "{reads} reads for one large frame");
        let frame = rx.next_frame().unwrap().unwrap();
        assert_eq!(frame.payload.len(), MAX_PAYLOAD);
    }

    #[test]
    fn empty_and_malformed_frames_are_errors_then_the_stream_goes_on() {
        let mut rx = Reassembler::new();
        rx.feed(&0u32.to_le_bytes());
        rx.feed(&2u32.to_le_bytes());
        rx.feed(&[42, 0]);
        rx.feed(&frame(4));
        assert_eq!(rx.next_frame().unwrap().unwrap_err(), Error::Empty);
        assert_eq!(
            rx.next_frame().unwrap().unwrap_err(),
            Error::UnknownKind(42)
        );
        assert_eq!(rx.next_frame().unwrap().unwrap().header.id, 4);
        assert!(rx.next_frame().is_none());
    }

    #[test]
    fn type_names_are_short_and_trailing_bytes_are_refused() {
        assert_eq!(
            short_type_name::<Result<crate::Reply, crate::CallError>>(),
            "Result<Reply, CallError>"
        );
        let err = decode::<Call>(&[2, 0xff]).unwrap_err();
        assert!(err.to_string().contains("1 bytes after"), "{err}");
        let mut out = Vec::new();
        let big = vec![0; MAX_PAYLOAD + 1];
        assert!(matches!(
            encode_frame(&mut out, Kind::Stdout, 0, &[], &big),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn a_message_too_large_is_refused_and_leaves_out_untouched() {
        let mut out = b"keep".to_vec();
        let big = crate::Reply::Bytes(crate::ByteBuf(vec![0; MAX_PAYLOAD + 1]));
        let err = encode_message(&mut out, Kind::Reply, 1, &[], &big).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err}");
        assert_eq!(out, b"keep");
    }
}
