//! File descriptors: pipes, flags, and what an exec'd program inherits.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use rustix::io::{FdFlags, fcntl_getfd, fcntl_setfd};

use crate::Errno;

/// `pipe2(fds, O_CLOEXEC)`: a pipe, both ends close-on-exec.
/// Returns `(read end, write end)`.
///
/// # References
/// - [`pipe(2)`](https://man7.org/linux/man-pages/man2/pipe.2.html)
pub fn pipe() -> Result<(OwnedFd, OwnedFd), Errno> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// `pipe2(fds, O_CLOEXEC | O_NONBLOCK)`: a pipe, both ends close-on-exec
/// and non-blocking. Returns `(read end, write end)`.
pub fn pipe_nonblocking() -> Result<(OwnedFd, OwnedFd), Errno> {
    use rustix::pipe::PipeFlags;
    Ok(rustix::pipe::pipe_with(
        PipeFlags::CLOEXEC | PipeFlags::NONBLOCK,
    )?)
}

/// `fcntl(fd, F_SETPIPE_SZ, size)`: grows (or shrinks) a pipe's buffer;
/// returns the size the kernel chose.
///
/// # References
/// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
pub fn set_pipe_size(fd: impl AsFd, size: usize) -> Result<usize, Errno> {
    Ok(rustix::pipe::fcntl_setpipe_size(fd, size)?)
}

/// `ioctl(fd, FIONREAD)`: bytes waiting to be read in a pipe or socket.
pub fn readable_bytes(fd: impl AsFd) -> Result<usize, Errno> {
    Ok(rustix::io::ioctl_fionread(fd)? as usize)
}

/// `fcntl(fd, F_GETPIPE_SZ)`: the capacity of a pipe.
pub fn pipe_size(fd: impl AsFd) -> Result<usize, Errno> {
    Ok(rustix::pipe::fcntl_getpipe_size(fd)?)
}

/// `splice(from, NULL, to, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK)`:
/// moves up to `len` bytes from one pipe to another (or between a pipe and
/// a socket) without copying them through this process. Returns how many
/// moved.
///
/// # References
/// - [`splice(2)`](https://man7.org/linux/man-pages/man2/splice.2.html)
pub fn splice(from: impl AsFd, to: impl AsFd, len: usize) -> Result<usize, Errno> {
    use rustix::pipe::SpliceFlags;
    Ok(rustix::pipe::splice(
        from,
        None,
        to,
        None,
        len,
        SpliceFlags::MOVE | SpliceFlags::NONBLOCK,
    )?)
}

/// Sets or clears `O_NONBLOCK` on the open file description.
pub fn set_nonblocking(fd: impl AsFd, on: bool) -> Result<(), Errno> {
    let flags = fcntl_getfl(&fd)?;
    let new = if on {
        flags | OFlags::NONBLOCK
    } else {
        flags - OFlags::NONBLOCK
    };
    if new != flags {
        fcntl_setfl(&fd, new)?;
    }
    Ok(())
}

/// Sets or clears `FD_CLOEXEC` on the descriptor.
pub fn set_cloexec(fd: impl AsFd, on: bool) -> Result<(), Errno> {
    let flags = fcntl_getfd(&fd)?;
    let new = if on {
        flags | FdFlags::CLOEXEC
    } else {
        flags - FdFlags::CLOEXEC
    };
    if new != flags {
        fcntl_setfd(&fd, new)?;
    }
    Ok(())
}

/// Whether `FD_CLOEXEC` is set.
pub fn is_cloexec(fd: impl AsFd) -> Result<bool, Errno> {
    Ok(fcntl_getfd(&fd)?.contains(FdFlags::CLOEXEC))
}

/// `poll(2)` for one descriptor: waits until it is readable (or at end of
/// file, or in error), at most `timeout` (`None`: no limit). Returns
/// whether it is.
pub fn wait_readable(fd: impl AsFd, timeout: Option<std::time::Duration>) -> Result<bool, Errno> {
    wait_until(fd.as_fd(), rustix::event::PollFlags::IN, timeout)
}

/// Waits until `fd` can be written without blocking (or its reader is
/// gone), at most `timeout` (`None`: no limit). Returns whether it can.
pub fn wait_writable(fd: impl AsFd, timeout: Option<std::time::Duration>) -> Result<bool, Errno> {
    wait_until(fd.as_fd(), rustix::event::PollFlags::OUT, timeout)
}

fn wait_until(
    fd: BorrowedFd<'_>,
    flags: rustix::event::PollFlags,
    timeout: Option<std::time::Duration>,
) -> Result<bool, Errno> {
    let timeout = timeout.map(|t| rustix::event::Timespec {
        tv_sec: t.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: i64::from(t.subsec_nanos()),
    });
    let mut pfd = [rustix::event::PollFd::new(&fd, flags)];
    Ok(rustix::event::poll(&mut pfd, timeout.as_ref())? > 0)
}

/// `dup2(fd, target)` for one of the standard descriptors 0, 1, 2. The new
/// descriptor is not close-on-exec.
pub fn dup_to_stdio(fd: impl AsFd, target: RawFd) -> Result<(), Errno> {
    let fd = fd.as_fd();
    let r = match target {
        0 => rustix::stdio::dup2_stdin(fd),
        1 => rustix::stdio::dup2_stdout(fd),
        2 => rustix::stdio::dup2_stderr(fd),
        _ => return Err(Errno::EBADF),
    };
    r?;
    if fd.as_raw_fd() == target {
        // dup2 onto itself leaves the flags alone.
        set_cloexec(stdio(target), false)?;
    }
    Ok(())
}

/// Marks every descriptor from `first` up close-on-exec, so that an exec'd
/// program inherits none of them.
///
/// Uses `close_range(first, ~0, CLOSE_RANGE_CLOEXEC)` and, on kernels
/// older than 5.11, walks `/proc/self/fd`.
pub fn cloexec_from(first: RawFd) -> Result<(), Errno> {
    match crate::raw::close_range_cloexec(first) {
        Ok(()) => return Ok(()),
        Err(e) if e == Errno::ENOSYS || e == Errno::EINVAL => {}
        Err(e) => return Err(e),
    }
    let dir = std::fs::read_dir("/proc/self/fd")?;
    let fds: Vec<RawFd> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd >= first)
        .collect();
    for fd in fds {
        // SAFETY: the descriptor was listed as open; a descriptor closed
        // since (the directory's own) makes fcntl fail with EBADF, ignored.
        let _ = set_cloexec(unsafe { BorrowedFd::borrow_raw(fd) }, true);
    }
    Ok(())
}

/// `close(2)` of a descriptor by number.
///
/// # Safety
/// Nothing may use or close `fd` afterwards: any `OwnedFd` that owns it
/// must never be dropped or used (the loop uses this in a new child, for
/// descriptors owned by its parent's state, which the child never touches).
pub unsafe fn close_raw(fd: RawFd) {
    // SAFETY: the caller gives up every other claim on `fd`.
    drop(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
}

/// Closes every descriptor from `first` up: `close_range(first, ~0, 0)`,
/// or, on kernels older than 5.9, each one listed in `/proc/self/fd`.
///
/// # Safety
/// Nothing in the process may own (and later use or close) a descriptor
/// from `first` up: call it first thing in `main`.
pub unsafe fn close_from(first: RawFd) -> Result<(), Errno> {
    // SAFETY: the caller guarantees nothing owns these descriptors.
    match unsafe { crate::raw::close_range(first) } {
        Ok(()) => return Ok(()),
        Err(e) if e == Errno::ENOSYS || e == Errno::EINVAL => {}
        Err(e) => return Err(e),
    }
    for fd in open_fds()?.into_iter().filter(|&fd| fd >= first) {
        // SAFETY: as above.
        unsafe { close_raw(fd) };
    }
    Ok(())
}

/// Closes the descriptors in `fds` (any order), with one `close_range`
/// per run of consecutive numbers.
///
/// # Safety
/// Nothing may own (and later use or close) any of them.
pub unsafe fn close_all(fds: &mut [RawFd]) {
    fds.sort_unstable();
    let mut i = 0;
    while i < fds.len() {
        let mut j = i;
        while j + 1 < fds.len() && fds[j + 1] <= fds[j] + 1 {
            j += 1;
        }
        // SAFETY: the caller gives up every claim on these descriptors.
        if unsafe { crate::raw::close_span(fds[i], fds[j]) }.is_err() {
            for &fd in &fds[i..=j] {
                // SAFETY: as above.
                unsafe { close_raw(fd) };
            }
        }
        i = j + 1;
    }
}

/// The descriptors open in this process, ascending.
pub fn open_fds() -> Result<Vec<RawFd>, Errno> {
    let mut fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    // The directory handle itself was one of them; drop those now closed.
    fds.retain(|&fd| crate::raw::is_open(fd));
    Ok(fds)
}

/// The standard descriptor `fd` (0, 1 or 2).
///
/// # Panics
/// If `fd` is not 0, 1 or 2.
pub fn stdio(fd: RawFd) -> BorrowedFd<'static> {
    assert!(
        (0..=2).contains(&fd),
        "stdio({fd}): not a standard descriptor"
    );
    // SAFETY: 0, 1 and 2 stay open for the life of the process (a loop
    // process replaces them with dup2, never closes them).
    unsafe { BorrowedFd::borrow_raw(fd) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_are_born_cloexec_and_flags_toggle() {
        let (r, w) = pipe().unwrap();
        assert!(is_cloexec(&r).unwrap());
        assert!(is_cloexec(&w).unwrap());
        set_cloexec(&r, false).unwrap();
        assert!(!is_cloexec(&r).unwrap());
        set_nonblocking(&r, true).unwrap();
        let mut buf = [0u8; 1];
        let e = rustix::io::read(&r, &mut buf).unwrap_err();
        assert_eq!(Errno::from(e), Errno::EAGAIN);
    }
}
