//! `prctl(2)`, with integer or memory arguments: enough to read a name,
//! set `no_new_privs`, or install a seccomp BPF filter.

use crate::Errno;

/// Bytes added after every buffer handed to the kernel, so that an option
/// that writes more than the caller gave room for writes into padding.
pub const PAD: usize = 4096;

/// An argument (`arg2` to `arg5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// An integer, passed as is.
    Int(u64),
    /// A pointer to a copy of these bytes (NULL when empty).
    Buf(Vec<u8>),
    /// A pointer to a struct laid out from these fields, in order.
    Struct(Vec<Field>),
}

/// A field of an [`Arg::Struct`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// Bytes inline.
    Bytes(Vec<u8>),
    /// A pointer-sized slot pointing to a copy of these bytes (NULL when
    /// empty).
    Ptr(Vec<u8>),
}

/// A buffer the kernel may read and write, padded.
struct Mem(Vec<u8>);

impl Mem {
    fn new(bytes: &[u8]) -> Self {
        let mut v = Vec::with_capacity(bytes.len() + PAD);
        v.extend_from_slice(bytes);
        v.resize(bytes.len() + PAD, 0);
        Self(v)
    }

    fn ptr(&mut self) -> usize {
        self.0.as_mut_ptr() as usize
    }
}

/// What one argument became: its word, and the memory behind it.
struct Lowered {
    word: libc::c_ulong,
    main: Option<Mem>,
    /// The buffers of a struct's pointer fields.
    fields: Vec<Option<Mem>>,
}

fn lower(arg: &Arg) -> Lowered {
    match arg {
        Arg::Int(v) => Lowered {
            word: *v as libc::c_ulong,
            main: None,
            fields: Vec::new(),
        },
        Arg::Buf(b) if b.is_empty() => Lowered {
            word: 0,
            main: None,
            fields: Vec::new(),
        },
        Arg::Buf(b) => {
            let mut m = Mem::new(b);
            Lowered {
                word: m.ptr() as libc::c_ulong,
                main: Some(m),
                fields: Vec::new(),
            }
        }
        Arg::Struct(fields) => {
            let mut layout = Vec::new();
            let mut bufs = Vec::new();
            for f in fields {
                match f {
                    Field::Bytes(b) => {
                        layout.extend_from_slice(b);
                        bufs.push(None);
                    }
                    Field::Ptr(b) if b.is_empty() => {
                        layout.extend_from_slice(&0usize.to_ne_bytes());
                        bufs.push(None);
                    }
                    Field::Ptr(b) => {
                        let mut m = Mem::new(b);
                        layout.extend_from_slice(&m.ptr().to_ne_bytes());
                        bufs.push(Some(m));
                    }
                }
            }
            let mut m = Mem::new(&layout);
            Lowered {
                word: m.ptr() as libc::c_ulong,
                main: Some(m),
                fields: bufs,
            }
        }
    }
}

/// Reads back what the kernel left in an argument's memory.
fn raise(arg: &mut Arg, low: &Lowered) {
    match arg {
        Arg::Int(_) => {}
        Arg::Buf(b) => {
            if let Some(m) = &low.main {
                let n = b.len();
                b.copy_from_slice(&m.0[..n]);
            }
        }
        Arg::Struct(fields) => {
            let Some(m) = &low.main else { return };
            let mut off = 0;
            for (f, buf) in fields.iter_mut().zip(&low.fields) {
                match f {
                    Field::Bytes(b) => {
                        let n = b.len();
                        b.copy_from_slice(&m.0[off..off + n]);
                        off += n;
                    }
                    Field::Ptr(b) => {
                        if let Some(buf) = buf {
                            let n = b.len();
                            b.copy_from_slice(&buf.0[..n]);
                        }
                        off += std::mem::size_of::<usize>();
                    }
                }
            }
        }
    }
}

/// `prctl(option, arg2, arg3, arg4, arg5)`. Memory arguments are copied to
/// padded buffers, passed by pointer, and read back into `args` after the
/// call. Returns what the call returned.
///
/// # Safety
/// Some options act on the caller's memory through integer arguments
/// (`PR_SET_MM` sets the addresses of the heap and stack) or write through
/// pointers more than the buffer given (beyond [`PAD`] bytes of slack):
/// the caller must know what the option does with its arguments.
///
/// # References
/// - [`prctl(2)`](https://man7.org/linux/man-pages/man2/prctl.2.html)
pub unsafe fn prctl(option: i32, args: &mut [Arg; 4]) -> Result<i64, Errno> {
    let mut low: Vec<Lowered> = args.iter().map(lower).collect();
    // Pointers are taken again after the vector stopped moving.
    for (l, a) in low.iter_mut().zip(args.iter()) {
        if let (Some(m), Arg::Buf(_) | Arg::Struct(_)) = (&mut l.main, a) {
            l.word = m.ptr() as libc::c_ulong;
        }
    }
    // SAFETY: integer arguments are the caller's responsibility; pointer
    // arguments point into live, padded buffers.
    let r = unsafe { libc::prctl(option, low[0].word, low[1].word, low[2].word, low[3].word) };
    if r == -1 {
        return Err(Errno::last());
    }
    for (a, l) in args.iter_mut().zip(&low) {
        raise(a, l);
    }
    Ok(r.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_name_back_through_a_buffer() {
        let mut args = [Arg::Buf(vec![0; 16]), Arg::Int(0), Arg::Int(0), Arg::Int(0)];
        // SAFETY: PR_GET_NAME writes at most 16 bytes into arg2.
        let r = unsafe { prctl(libc::PR_GET_NAME, &mut args) }.unwrap();
        assert_eq!(r, 0);
        let Arg::Buf(name) = &args[0] else { panic!() };
        let comm = std::fs::read("/proc/thread-self/comm").unwrap();
        let comm = comm.strip_suffix(b"\n").unwrap();
        assert_eq!(&name[..comm.len()], comm);
    }

    #[test]
    fn errors_are_errnos() {
        let mut args = [Arg::Int(0), Arg::Int(0), Arg::Int(0), Arg::Int(0)];
        // SAFETY: an unknown option touches nothing.
        assert_eq!(unsafe { prctl(-1, &mut args) }, Err(Errno::EINVAL));
    }
}
