//! The environment: getenv, setenv, unsetenv, clearenv, environ.
//!
//! Names and values are bytes. Changing the environment is only sound
//! while no other thread reads it, hence the `unsafe fn`s.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::Errno;

fn check_name(name: &[u8]) -> Result<&OsStr, Errno> {
    if name.is_empty() || name.contains(&b'=') || name.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(OsStr::from_bytes(name))
}

/// `getenv(3)`: the value, or `None` when unset.
///
/// # References
/// - [`getenv(3)`](https://man7.org/linux/man-pages/man3/getenv.3.html)
pub fn getenv(name: &[u8]) -> Option<Vec<u8>> {
    let name = check_name(name).ok()?;
    std::env::var_os(name).map(|v| v.as_bytes().to_vec())
}

/// `setenv(3)`. A name that is empty or holds `=` (or a NUL anywhere) is
/// `EINVAL`, as in C.
///
/// # Safety
/// No other thread may read or write the environment meanwhile.
///
/// # References
/// - [`setenv(3)`](https://man7.org/linux/man-pages/man3/setenv.3.html)
pub unsafe fn setenv(name: &[u8], value: &[u8], overwrite: bool) -> Result<(), Errno> {
    let key = check_name(name)?;
    if value.contains(&0) {
        return Err(Errno::EINVAL);
    }
    if overwrite || std::env::var_os(key).is_none() {
        // SAFETY: the caller guarantees no concurrent access.
        unsafe { std::env::set_var(key, OsStr::from_bytes(value)) };
    }
    Ok(())
}

/// `unsetenv(3)`.
///
/// # Safety
/// As for [`setenv`].
///
/// # References
/// - [`unsetenv(3)`](https://man7.org/linux/man-pages/man3/unsetenv.3.html)
pub unsafe fn unsetenv(name: &[u8]) -> Result<(), Errno> {
    let key = check_name(name)?;
    // SAFETY: the caller guarantees no concurrent access.
    unsafe { std::env::remove_var(key) };
    Ok(())
}

/// `clearenv(3)`: removes every variable.
///
/// # Safety
/// As for [`setenv`].
///
/// # References
/// - [`clearenv(3)`](https://man7.org/linux/man-pages/man3/clearenv.3.html)
pub unsafe fn clearenv() -> Result<(), Errno> {
    // SAFETY: the caller guarantees no concurrent access.
    if unsafe { libc::clearenv() } != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// `environ(7)`: every variable, as `NAME=value`.
pub fn environ() -> Vec<Vec<u8>> {
    std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect()
}
