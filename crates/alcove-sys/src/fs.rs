//! Files and directories: chdir, chmod, chown, chroot, getcwd, mkdir,
//! rmdir, open, close, read, write, readdir.
//!
//! Paths are bytes, not necessarily UTF-8. A path with a NUL byte inside
//! is `EINVAL`; an empty one is `ENOENT`, as the kernel says for `""`.

use std::ffi::CString;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};

use rustix::fs::{Mode, OFlags};

use crate::Errno;

/// The C string of a path: `EINVAL` if it holds a NUL.
pub fn cpath(path: &[u8]) -> Result<CString, Errno> {
    CString::new(path).map_err(|_| Errno::EINVAL)
}

/// `chdir(2)`.
///
/// # References
/// - [`chdir(2)`](https://man7.org/linux/man-pages/man2/chdir.2.html)
pub fn chdir(path: &[u8]) -> Result<(), Errno> {
    Ok(rustix::process::chdir(cpath(path)?.as_c_str())?)
}

/// `chmod(2)`.
///
/// # References
/// - [`chmod(2)`](https://man7.org/linux/man-pages/man2/chmod.2.html)
pub fn chmod(path: &[u8], mode: u32) -> Result<(), Errno> {
    Ok(rustix::fs::chmod(
        cpath(path)?.as_c_str(),
        Mode::from_raw_mode(mode),
    )?)
}

/// `chown(2)`. `u32::MAX` (`-1` in C) leaves the owner or group as it is.
///
/// # References
/// - [`chown(2)`](https://man7.org/linux/man-pages/man2/chown.2.html)
pub fn chown(path: &[u8], uid: u32, gid: u32) -> Result<(), Errno> {
    let uid = (uid != u32::MAX).then(|| rustix::process::Uid::from_raw(uid));
    let gid = (gid != u32::MAX).then(|| rustix::process::Gid::from_raw(gid));
    Ok(rustix::fs::chown(cpath(path)?.as_c_str(), uid, gid)?)
}

/// `chroot(2)`. Does not change the working directory: follow with
/// `chdir("/")`.
///
/// # References
/// - [`chroot(2)`](https://man7.org/linux/man-pages/man2/chroot.2.html)
pub fn chroot(path: &[u8]) -> Result<(), Errno> {
    Ok(rustix::process::chroot(cpath(path)?.as_c_str())?)
}

/// `getcwd(3)`.
///
/// A working directory outside the root (after a `chroot` without a
/// `chdir`, or one that another namespace's mount hides) is `ENOENT`, as
/// glibc's `getcwd(3)` says: the system call alone answers a relative
/// `(unreachable)/...`, which a caller would take for a path.
///
/// # References
/// - [`getcwd(3)`](https://man7.org/linux/man-pages/man3/getcwd.3.html)
pub fn getcwd() -> Result<Vec<u8>, Errno> {
    let cwd = rustix::process::getcwd(Vec::new())?.into_bytes();
    if cwd.first() != Some(&b'/') {
        return Err(Errno::ENOENT);
    }
    Ok(cwd)
}

/// `mkdir(2)`.
///
/// # References
/// - [`mkdir(2)`](https://man7.org/linux/man-pages/man2/mkdir.2.html)
pub fn mkdir(path: &[u8], mode: u32) -> Result<(), Errno> {
    Ok(rustix::fs::mkdir(
        cpath(path)?.as_c_str(),
        Mode::from_raw_mode(mode),
    )?)
}

/// `rmdir(2)`.
///
/// # References
/// - [`rmdir(2)`](https://man7.org/linux/man-pages/man2/rmdir.2.html)
pub fn rmdir(path: &[u8]) -> Result<(), Errno> {
    Ok(rustix::fs::rmdir(cpath(path)?.as_c_str())?)
}

/// `open(2)` with the caller's `O_*` flags, as given (no `O_CLOEXEC` is
/// added: a descriptor opened on purpose may be meant for an exec'd
/// program). Returns the descriptor number, which the caller now owns.
///
/// # References
/// - [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html)
pub fn open(path: &[u8], flags: i32, mode: u32) -> Result<RawFd, Errno> {
    let fd = rustix::fs::open(
        cpath(path)?.as_c_str(),
        OFlags::from_bits_retain(flags as u32),
        Mode::from_raw_mode(mode),
    )?;
    Ok(std::os::fd::IntoRawFd::into_raw_fd(fd))
}

/// `close(2)`.
///
/// # Safety
/// `fd` must not be owned by anything that will use or close it later
/// (an `OwnedFd`, a `File`, ...).
///
/// # References
/// - [`close(2)`](https://man7.org/linux/man-pages/man2/close.2.html)
pub unsafe fn close(fd: RawFd) -> Result<(), Errno> {
    if fd < 0 || !crate::raw::is_open(fd) {
        return Err(Errno::EBADF);
    }
    // SAFETY: the caller gives up every other claim on `fd`, open as
    // just checked.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    Ok(())
}

/// `read(2)` of at most `count` bytes. A signal that interrupts it (one
/// trapped without `SA_RESTART`) makes it fail with `EINTR`, as the kernel
/// does: it is not tried again.
///
/// # References
/// - [`read(2)`](https://man7.org/linux/man-pages/man2/read.2.html)
pub fn read(fd: BorrowedFd<'_>, count: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; count];
    let n = rustix::io::read(fd, &mut buf[..])?;
    buf.truncate(n);
    Ok(buf)
}

/// `write(2)`; returns the bytes written. Interrupted by a signal, it fails
/// with `EINTR`, as `read` does.
///
/// # References
/// - [`write(2)`](https://man7.org/linux/man-pages/man2/write.2.html)
pub fn write(fd: BorrowedFd<'_>, data: &[u8]) -> Result<usize, Errno> {
    Ok(rustix::io::write(fd, data)?)
}

/// Every entry of a directory, `.` and `..` included, in the order the
/// filesystem gives them.
///
/// # References
/// - [`readdir(3)`](https://man7.org/linux/man-pages/man3/readdir.3.html)
pub fn readdir(path: &[u8]) -> Result<Vec<Vec<u8>>, Errno> {
    let dir = rustix::fs::open(
        cpath(path)?.as_c_str(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut names = Vec::new();
    let mut dir = rustix::fs::Dir::read_from(&dir)?;
    while let Some(entry) = dir.read() {
        names.push(entry?.file_name().to_bytes().to_vec());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_through_a_temporary_directory() {
        let dir = std::env::temp_dir().join(format!("alcove-test-sys-fs-{}", std::process::id()));
        let d = dir.as_os_str().as_encoded_bytes();
        mkdir(d, 0o700).unwrap();
        let file = dir.join("f\u{e9}");
        let f = file.as_os_str().as_encoded_bytes();
        let fd = open(f, libc::O_CREAT | libc::O_RDWR, 0o600).unwrap();
        // SAFETY: just opened; closed below.
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        assert_eq!(write(b, b"abc").unwrap(), 3);
        rustix::fs::seek(b, rustix::fs::SeekFrom::Start(0)).unwrap();
        assert_eq!(read(b, 10).unwrap(), b"abc");
        // SAFETY: nothing else owns it.
        unsafe { close(fd) }.unwrap();
        // SAFETY: as above; a second close is refused, not performed.
        assert_eq!(unsafe { close(fd) }, Err(Errno::EBADF));
        let mut names = readdir(d).unwrap();
        names.sort();
        assert_eq!(
            names,
            vec![b".".to_vec(), b"..".to_vec(), "f\u{e9}".as_bytes().to_vec()]
        );
        chmod(f, 0o644).unwrap();
        assert_eq!(rmdir(d), Err(Errno::ENOTEMPTY));
        std::fs::remove_file(&file).unwrap();
        rmdir(d).unwrap();
        assert_eq!(mkdir(b"a\0b", 0o700), Err(Errno::EINVAL));
        assert_eq!(readdir(b""), Err(Errno::ENOENT));
    }
}
