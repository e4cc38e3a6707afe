//! Namespaces and the host name: setns, unshare, gethostname, sethostname.

use rustix::fs::{Mode, OFlags};

use crate::Errno;
use crate::fs::cpath;

/// `setns(2)` into the namespace of a file such as `/proc/<pid>/ns/net`.
/// `nstype` is the `CLONE_NEW*` type the file must be, or 0 for any.
///
/// # References
/// - [`setns(2)`](https://man7.org/linux/man-pages/man2/setns.2.html)
pub fn setns(path: &[u8], nstype: i32) -> Result<(), Errno> {
    let fd = rustix::fs::open(
        cpath(path)?.as_c_str(),
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let allowed = rustix::thread::ThreadNameSpaceType::from_bits_retain(nstype as u32);
    Ok(rustix::thread::move_into_thread_name_spaces(
        std::os::fd::AsFd::as_fd(&fd),
        allowed,
    )?)
}

/// `unshare(2)`.
///
/// # Safety
/// The process must have one thread: unsharing the file table, the
/// filesystem attributes or namespaces of one thread of many breaks the
/// assumptions of the others.
///
/// # References
/// - [`unshare(2)`](https://man7.org/linux/man-pages/man2/unshare.2.html)
pub unsafe fn unshare(flags: u64) -> Result<(), Errno> {
    let flags = u32::try_from(flags).map_err(|_| Errno::EINVAL)?;
    let flags = rustix::thread::UnshareFlags::from_bits_retain(flags);
    // SAFETY: the caller guarantees a single thread.
    Ok(unsafe { rustix::thread::unshare_unsafe(flags) }?)
}

/// `gethostname(2)`: the host name of this UTS namespace.
///
/// # References
/// - [`gethostname(2)`](https://man7.org/linux/man-pages/man2/gethostname.2.html)
pub fn gethostname() -> Result<Vec<u8>, Errno> {
    Ok(rustix::system::uname().nodename().to_bytes().to_vec())
}

/// `sethostname(2)`.
///
/// # References
/// - [`sethostname(2)`](https://man7.org/linux/man-pages/man2/sethostname.2.html)
pub fn sethostname(name: &[u8]) -> Result<(), Errno> {
    Ok(rustix::system::sethostname(name)?)
}
