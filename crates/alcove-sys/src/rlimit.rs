//! Resource limits: getrlimit, setrlimit, by raw `RLIMIT_*` number (rustix
//! only takes its own enum, so through `libc`).

use crate::Errno;

/// A limit: `None` is `RLIM_INFINITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    /// The soft limit.
    pub cur: Option<u64>,
    /// The hard limit.
    pub max: Option<u64>,
}

fn from_raw(v: libc::rlim_t) -> Option<u64> {
    (v != libc::RLIM_INFINITY).then_some(v)
}

fn to_raw(v: Option<u64>) -> libc::rlim_t {
    v.unwrap_or(libc::RLIM_INFINITY)
}

/// `getrlimit(2)`.
///
/// # References
/// - [`getrlimit(2)`](https://man7.org/linux/man-pages/man2/getrlimit.2.html)
pub fn getrlimit(resource: i32) -> Result<Rlimit, Errno> {
    let resource = u32::try_from(resource).map_err(|_| Errno::EINVAL)?;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a live rlimit the kernel fills.
    if unsafe { libc::getrlimit(resource as _, &mut lim) } == -1 {
        return Err(Errno::last());
    }
    Ok(Rlimit {
        cur: from_raw(lim.rlim_cur),
        max: from_raw(lim.rlim_max),
    })
}

/// `setrlimit(2)`. A finite value equal to `RLIM_INFINITY` is refused
/// (`EINVAL`): say infinity with `None`.
///
/// # References
/// - [`setrlimit(2)`](https://man7.org/linux/man-pages/man2/setrlimit.2.html)
pub fn setrlimit(resource: i32, limit: Rlimit) -> Result<(), Errno> {
    let resource = u32::try_from(resource).map_err(|_| Errno::EINVAL)?;
    if limit.cur == Some(libc::RLIM_INFINITY) || limit.max == Some(libc::RLIM_INFINITY) {
        return Err(Errno::EINVAL);
    }
    let lim = libc::rlimit {
        rlim_cur: to_raw(limit.cur),
        rlim_max: to_raw(limit.max),
    };
    // SAFETY: `lim` is a live rlimit the kernel reads.
    if unsafe { libc::setrlimit(resource as _, &lim) } == -1 {
        return Err(Errno::last());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nofile_round_trips_and_bad_resources_are_einval() {
        let lim = getrlimit(libc::RLIMIT_NOFILE as i32).unwrap();
        assert!(lim.cur.is_some());
        setrlimit(libc::RLIMIT_NOFILE as i32, lim).unwrap();
        assert_eq!(getrlimit(libc::RLIMIT_NOFILE as i32).unwrap(), lim);
        assert_eq!(getrlimit(9999), Err(Errno::EINVAL));
        assert_eq!(getrlimit(-1), Err(Errno::EINVAL));
    }
}
