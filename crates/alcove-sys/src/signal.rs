//! Signals, delivered to an event loop through a self-pipe.
//!
//! The handler installed by [`sigaction`] with [`Disposition::Trap`] does two async-signal-safe things:
//! it marks the signal pending and writes one byte to the wake-up pipe set
//! with [`set_wake_fd`]. The loop polls the read end, drains it, and asks
//! [`take_pending`] which signals came. Signals of one number that arrive
//! before the loop looks are coalesced into one (as the kernel does for
//! standard signals anyway).

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use crate::Errno;

/// Signals are numbered from 1 to `NSIG - 1`.
pub const NSIG: usize = 65;

static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
static PENDING: [AtomicBool; NSIG] = [const { AtomicBool::new(false) }; NSIG];

extern "C" fn on_signal(signum: libc::c_int) {
    // SAFETY: __errno_location returns this thread's errno; saving and
    // restoring it keeps the interrupted code's errno intact.
    let errno = unsafe { *libc::__errno_location() };
    if let Some(flag) = usize::try_from(signum).ok().and_then(|i| PENDING.get(i)) {
        flag.store(true, Ordering::Relaxed);
    }
    let fd = WAKE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; a full pipe (EAGAIN) is
        // fine, as a wake-up is already pending then.
        unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Sets the descriptor the handler writes a byte to. It should be the
/// non-blocking write end of a pipe whose read end the loop polls; it must
/// stay open while signals are trapped.
pub fn set_wake_fd(fd: BorrowedFd<'_>) {
    WAKE_FD.store(fd.as_raw_fd(), Ordering::Relaxed);
}

/// Stops the handler from writing anywhere, and forgets pending signals:
/// what a new child does before it makes its own pipe.
pub fn clear_wake_fd() {
    WAKE_FD.store(-1, Ordering::Relaxed);
    take_pending().for_each(drop);
}

/// The signals that arrived since the last call, in ascending order.
pub fn take_pending() -> impl Iterator<Item = i32> {
    (1..NSIG).filter_map(|i| {
        PENDING[i]
            .swap(false, Ordering::Relaxed)
            .then_some(i as i32)
    })
}

/// What a signal does when it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// `SIG_DFL`: the default action.
    Default,
    /// `SIG_IGN`: nothing.
    Ignore,
    /// Caught by this module's handler and reported through
    /// [`take_pending`].
    Trap,
    /// Caught by some other handler.
    Other,
}

fn check(r: libc::c_int) -> Result<(), Errno> {
    if r == -1 { Err(Errno::last()) } else { Ok(()) }
}

fn valid(signum: i32) -> Result<libc::c_int, Errno> {
    if (1..NSIG as i32).contains(&signum) {
        Ok(signum)
    } else {
        Err(Errno::EINVAL)
    }
}

/// `sigaction(2)`: sets what `signum` does and returns what it did before.
/// `SIGKILL` and `SIGSTOP` cannot be changed (`EINVAL`).
///
/// The handler of [`Disposition::Trap`] restarts interrupted system calls
/// (`SA_RESTART`); for `SIGCHLD` it does not report stopped children
/// (`SA_NOCLDSTOP`). `Other` cannot be set (`EINVAL`).
///
/// # References
/// - [`sigaction(2)`](https://man7.org/linux/man-pages/man2/sigaction.2.html)
pub fn sigaction(signum: i32, disposition: Disposition) -> Result<Disposition, Errno> {
    let signum = valid(signum)?;
    let handler = match disposition {
        Disposition::Default => libc::SIG_DFL,
        Disposition::Ignore => libc::SIG_IGN,
        Disposition::Trap => on_signal as *const () as libc::sighandler_t,
        Disposition::Other => return Err(Errno::EINVAL),
    };
    let mut flags = libc::SA_RESTART;
    if signum == libc::SIGCHLD {
        flags |= libc::SA_NOCLDSTOP;
    }
    install(signum, handler, flags)
}

/// Traps `signum` like [`Disposition::Trap`], but without `SA_RESTART`:
/// a system call that blocks when it arrives fails with `EINTR` instead of
/// going on waiting. For a signal that must get a process out of whatever
/// it waits in (its parent's death, say).
pub fn interrupting(signum: i32) -> Result<(), Errno> {
    let signum = valid(signum)?;
    install(signum, on_signal as *const () as libc::sighandler_t, 0).map(drop)
}

/// `sigaction(2)` of `handler` with `flags` and an empty mask; returns
/// the disposition it replaced.
fn install(
    signum: libc::c_int,
    handler: libc::sighandler_t,
    flags: libc::c_int,
) -> Result<Disposition, Errno> {
    // SAFETY: sigaction structs are plain data; zeroed is a valid value
    // (empty mask, no flags).
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = handler;
    new.sa_flags = flags;
    // SAFETY: as above.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live sigaction structs; the handler
    // only does async-signal-safe work.
    check(unsafe { libc::sigaction(signum, &new, &mut old) })?;
    Ok(disposition_of(&old))
}

/// What `signum` does now.
pub fn disposition(signum: i32) -> Result<Disposition, Errno> {
    let signum = valid(signum)?;
    // SAFETY: as in `sigaction`.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a NULL new action only reads the current one.
    check(unsafe { libc::sigaction(signum, std::ptr::null(), &mut old) })?;
    Ok(disposition_of(&old))
}

fn disposition_of(act: &libc::sigaction) -> Disposition {
    match act.sa_sigaction {
        libc::SIG_DFL => Disposition::Default,
        libc::SIG_IGN => Disposition::Ignore,
        h if h == on_signal as *const () as libc::sighandler_t => Disposition::Trap,
        _ => Disposition::Other,
    }
}

/// Unblocks every signal: the signal mask survives exec.
pub fn unblock_all() {
    // SAFETY: an empty sigset_t is plain data filled by sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live sigset_t.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigkill_cannot_be_trapped_and_numbers_are_checked() {
        assert_eq!(
            sigaction(libc::SIGKILL, Disposition::Trap),
            Err(Errno::EINVAL)
        );
        assert_eq!(sigaction(0, Disposition::Default), Err(Errno::EINVAL));
        assert_eq!(
            sigaction(NSIG as i32, Disposition::Default),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn a_trapped_signal_wakes_the_pipe_and_is_pending() {
        let (r, w) = crate::fd::pipe().unwrap();
        crate::fd::set_nonblocking(&w, true).unwrap();
        set_wake_fd(std::os::fd::AsFd::as_fd(&w));
        let before = sigaction(libc::SIGUSR2, Disposition::Trap).unwrap();
        assert_eq!(disposition(libc::SIGUSR2).unwrap(), Disposition::Trap);
        // SAFETY: raise sends a signal to this thread; the handler is ours.
        unsafe { libc::raise(libc::SIGUSR2) };
        let mut byte = [0u8; 1];
        assert_eq!(rustix::io::read(&r, &mut byte).unwrap(), 1);
        assert!(take_pending().any(|s| s == libc::SIGUSR2));
        assert!(!take_pending().any(|s| s == libc::SIGUSR2), "taken once");
        sigaction(libc::SIGUSR2, before).unwrap();
        WAKE_FD.store(-1, Ordering::Relaxed);
    }
}
