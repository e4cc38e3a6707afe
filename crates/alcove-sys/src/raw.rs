//! The calls rustix has no wrapper for, straight through `libc`.
//!
//! This file, `process.rs` and `signal.rs` alone allow `unsafe`.

use std::os::fd::RawFd;

use crate::Errno;

fn check(r: libc::c_int) -> Result<libc::c_int, Errno> {
    if r == -1 { Err(Errno::last()) } else { Ok(r) }
}

/// `close_range(first, ~0U, 0)`.
///
/// # Safety
/// Nothing may own a descriptor from `first` up.
pub(crate) unsafe fn close_range(first: RawFd) -> Result<(), Errno> {
    let first = libc::c_uint::try_from(first).map_err(|_| Errno::EBADF)?;
    // SAFETY: the caller guarantees no descriptor in the range is owned.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, 0) };
    if r == -1 { Err(Errno::last()) } else { Ok(()) }
}

/// `close_range(first, last, 0)`.
///
/// # Safety
/// Nothing may own a descriptor from `first` to `last`.
pub(crate) unsafe fn close_span(first: RawFd, last: RawFd) -> Result<(), Errno> {
    let first = libc::c_uint::try_from(first).map_err(|_| Errno::EBADF)?;
    let last = libc::c_uint::try_from(last).map_err(|_| Errno::EBADF)?;
    // SAFETY: the caller guarantees no descriptor in the range is owned.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
    if r == -1 { Err(Errno::last()) } else { Ok(()) }
}

/// `close_range(first, ~0U, CLOSE_RANGE_CLOEXEC)`.
pub(crate) fn close_range_cloexec(first: RawFd) -> Result<(), Errno> {
    let first = libc::c_uint::try_from(first).map_err(|_| Errno::EBADF)?;
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets a flag on
    // descriptors; it touches no memory.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == -1 { Err(Errno::last()) } else { Ok(()) }
}

/// Whether `fd` is an open descriptor of this process.
pub(crate) fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD reads a flag of the descriptor table; no memory.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// `kill(2)` with raw numbers, so any signal (real-time ones included) and
/// any target (process groups, -1) can be named.
pub(crate) fn kill(pid: i32, signal: i32) -> Result<(), Errno> {
    // SAFETY: kill takes plain integers.
    check(unsafe { libc::kill(pid, signal) }).map(drop)
}

/// `prctl(PR_SET_PDEATHSIG, signal)`: by raw number, as real-time signals
/// are allowed too (rustix's `Signal` names only the classic ones).
pub(crate) fn set_parent_death_signal(signal: i32) -> Result<(), Errno> {
    let signal = libc::c_ulong::try_from(signal).map_err(|_| Errno::EINVAL)?;
    // SAFETY: PR_SET_PDEATHSIG takes a plain integer.
    check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, signal, 0, 0, 0) }).map(drop)
}

/// `_exit(2)`: ends the process at once, without running destructors,
/// atexit handlers or flushing stdio.
pub fn exit_now(status: i32) -> ! {
    // SAFETY: _exit is always safe to call; it does not return.
    unsafe { libc::_exit(status) }
}
