//! Credentials: getuid, getgid, setuid, setgid.

use crate::Errno;

/// `getuid(2)`: the real user ID.
pub fn getuid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// `getgid(2)`: the real group ID.
pub fn getgid() -> u32 {
    rustix::process::getgid().as_raw()
}

/// `setuid(2)`, through the C library so that every thread of the process
/// changes (glibc broadcasts it); rustix only has the per-thread call.
///
/// # References
/// - [`setuid(2)`](https://man7.org/linux/man-pages/man2/setuid.2.html)
pub fn setuid(uid: u32) -> Result<(), Errno> {
    // SAFETY: setuid takes a plain integer.
    if unsafe { libc::setuid(uid) } == -1 {
        return Err(Errno::last());
    }
    Ok(())
}

/// `setgid(2)`, through the C library as [`setuid`].
///
/// # References
/// - [`setgid(2)`](https://man7.org/linux/man-pages/man2/setgid.2.html)
pub fn setgid(gid: u32) -> Result<(), Errno> {
    // SAFETY: setgid takes a plain integer.
    if unsafe { libc::setgid(gid) } == -1 {
        return Err(Errno::last());
    }
    Ok(())
}

/// `setgroups(2)`: sets the supplementary groups, through the C library as
/// [`setuid`].
///
/// # References
/// - [`setgroups(2)`](https://man7.org/linux/man-pages/man2/setgroups.2.html)
pub fn setgroups(gids: &[u32]) -> Result<(), Errno> {
    // SAFETY: a pointer to `gids.len()` gid_t values, alive across the call.
    if unsafe { libc::setgroups(gids.len(), gids.as_ptr()) } == -1 {
        return Err(Errno::last());
    }
    Ok(())
}
