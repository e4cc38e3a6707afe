use std::fmt;

use crate::tables::ERRNO;

/// An `errno` value: `Copy`, with its name (`EPERM`) and its description
/// (`Operation not permitted`).
///
/// `Display` writes both: `EPERM: Operation not permitted`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(i32);

macro_rules! errno_consts {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub const $name: Errno = Errno(libc::$name);
            )*
        }
    };
}

errno_consts!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    EFBIG,
    ENOSPC,
    EPIPE,
    ERANGE,
    ENAMETOOLONG,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    EOVERFLOW,
    ENOTSUP,
    EMSGSIZE,
    EROFS,
    EXDEV,
    ENODEV,
    ETXTBSY,
);

impl Errno {
    /// Wraps a raw `errno` value.
    pub const fn from_raw(raw: i32) -> Self {
        Self(raw)
    }

    /// The raw value.
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// The calling thread's `errno`.
    pub fn last() -> Self {
        Self(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    /// The C name (`EPERM`), if the number has one.
    pub fn name(self) -> Option<&'static str> {
        u64::try_from(self.0).ok().and_then(|v| ERRNO.name(v))
    }

    /// The number of a C name, whatever its case (`eperm`, `EPERM`).
    pub fn from_name(name: &str) -> Option<Self> {
        ERRNO.value(name).map(|v| Self(v as i32))
    }

    /// The C library's description (`Operation not permitted`).
    pub fn description(self) -> String {
        let text = std::io::Error::from_raw_os_error(self.0).to_string();
        match text.rfind(" (os error ") {
            Some(cut) => text[..cut].to_owned(),
            None => text,
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}: {}", self.description()),
            None => write!(f, "errno {}: {}", self.0, self.description()),
        }
    }
}

impl std::error::Error for Errno {}

impl From<rustix::io::Errno> for Errno {
    fn from(e: rustix::io::Errno) -> Self {
        Self(e.raw_os_error())
    }
}

impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> Self {
        std::io::Error::from_raw_os_error(e.0)
    }
}

impl From<std::io::Error> for Errno {
    /// The OS error of `e`, or `EIO` for an error that carries none.
    fn from(e: std::io::Error) -> Self {
        Self(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_name_and_description() {
        assert_eq!(Errno::EPERM.to_string(), "EPERM: Operation not permitted");
        assert_eq!(Errno::EAGAIN.name(), Some("EAGAIN"));
        assert_eq!(Errno::ENOTSUP.name(), Some("ENOTSUP"));
        assert_eq!(Errno::from_name("enoent"), Some(Errno::ENOENT));
        assert_eq!(Errno::from_raw(4000).name(), None);
        assert!(
            Errno::from_raw(4000)
                .to_string()
                .starts_with("errno 4000: ")
        );
        assert_eq!(format!("{:?}", Errno::EINVAL), "EINVAL");
    }
}
