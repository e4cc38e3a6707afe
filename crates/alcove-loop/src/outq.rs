//! A byte queue in front of a non-blocking descriptor.

use std::io::IoSlice;
use std::os::fd::AsFd;
use std::time::Instant;

use alcove_sys::Errno;

/// Bytes waiting to be written to one descriptor.
///
/// [`send`](Self::send) writes straight through with `writev` while the
/// queue is empty, and keeps only what the descriptor did not take; the
/// buffer is reused, so a steady stream allocates nothing.
#[derive(Debug, Default)]
pub struct OutQueue {
    buf: Vec<u8>,
    head: usize,
}

impl OutQueue {
    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes `parts` in order after what is already queued; what the
    /// descriptor does not take now is queued.
    pub fn send(&mut self, fd: impl AsFd, parts: &[&[u8]]) -> Result<(), Errno> {
        let mut written = 0;
        if self.is_empty() {
            // Up to four parts go out in one writev; the rest is queued.
            let slices: [IoSlice<'_>; 4] =
                std::array::from_fn(|i| IoSlice::new(parts.get(i).copied().unwrap_or(&[])));
            let n = parts.len().min(4);
            match rustix::io::writev(&fd, &slices[..n]) {
                Ok(w) => written = w,
                Err(rustix::io::Errno::AGAIN) => {}
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        for part in parts {
            let skip = written.min(part.len());
            written -= skip;
            self.buf.extend_from_slice(&part[skip..]);
        }
        Ok(())
    }

    /// Writes what is queued until the descriptor would block. Returns
    /// whether the queue is now empty.
    pub fn flush(&mut self, fd: impl AsFd) -> Result<bool, Errno> {
        while !self.is_empty() {
            match rustix::io::write(&fd, &self.buf[self.head..]) {
                Ok(n) => self.head += n,
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if self.is_empty() {
            self.buf.clear();
            self.head = 0;
        } else if self.head > 1 << 20 && self.head * 2 > self.buf.len() {
            self.buf.drain(..self.head);
            self.head = 0;
        }
        Ok(self.is_empty())
    }

    /// Writes everything queued, waiting for the descriptor if it is
    /// non-blocking and full.
    pub fn flush_all(&mut self, fd: impl AsFd) -> Result<(), Errno> {
        self.flush_until(fd, None).map(drop)
    }

    /// Like [`flush_all`](Self::flush_all), waiting no later than
    /// `deadline`. Returns whether everything was written.
    pub fn flush_until(&mut self, fd: impl AsFd, deadline: Option<Instant>) -> Result<bool, Errno> {
        while !self.flush(&fd)? {
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(false),
                },
            };
            match alcove_sys::fd::wait_writable(&fd, left) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Drops everything queued.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_through_then_queues_what_a_full_pipe_refuses() {
        let (r, w) = alcove_sys::fd::pipe().unwrap();
        alcove_sys::fd::set_nonblocking(&w, true).unwrap();
        alcove_sys::fd::set_nonblocking(&r, true).unwrap();
        let mut q = OutQueue::default();
        q.send(&w, &[b"ab", b"cd"]).unwrap();
        assert!(q.is_empty());
        let big = vec![7u8; 1 << 20];
        q.send(&w, &[b"hdr", &big]).unwrap();
        assert!(!q.is_empty(), "a 1 MiB write cannot fit a pipe");
        let mut got = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match rustix::io::read(&r, &mut buf[..]) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(rustix::io::Errno::AGAIN) => {
                    if q.flush(&w).unwrap() && got.len() == 4 + 3 + big.len() {
                        break;
                    }
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&got[..7], b"abcdhdr");
        assert!(got[7..].iter().all(|&b| b == 7));
    }
}
