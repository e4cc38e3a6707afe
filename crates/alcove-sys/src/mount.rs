//! Mounts: mount, umount.

use std::ffi::CString;

use crate::Errno;
use crate::fs::cpath;

fn nullable(s: &[u8]) -> Result<Option<CString>, Errno> {
    if s.is_empty() {
        Ok(None)
    } else {
        cpath(s).map(Some)
    }
}

/// `mount(2)`. An empty `source`, `fstype` or `data` is passed as NULL,
/// which rustix's wrapper cannot do, hence `libc`.
///
/// # References
/// - [`mount(2)`](https://man7.org/linux/man-pages/man2/mount.2.html)
pub fn mount(
    source: &[u8],
    target: &[u8],
    fstype: &[u8],
    flags: u64,
    data: &[u8],
) -> Result<(), Errno> {
    let source = nullable(source)?;
    let target = cpath(target)?;
    let fstype = nullable(fstype)?;
    let data = nullable(data)?;
    let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    let flags = libc::c_ulong::try_from(flags).map_err(|_| Errno::EINVAL)?;
    // SAFETY: every pointer is NULL or a NUL-terminated string alive
    // across the call.
    let r = unsafe {
        libc::mount(
            ptr(&source),
            target.as_ptr(),
            ptr(&fstype),
            flags,
            ptr(&data).cast(),
        )
    };
    if r == -1 { Err(Errno::last()) } else { Ok(()) }
}

/// `umount(2)`.
///
/// # References
/// - [`umount(2)`](https://man7.org/linux/man-pages/man2/umount.2.html)
pub fn umount(target: &[u8]) -> Result<(), Errno> {
    Ok(rustix::mount::unmount(
        cpath(target)?.as_c_str(),
        rustix::mount::UnmountFlags::empty(),
    )?)
}
