//! Resource limits: `RLIMIT_CPU` = 0, ..., `RLIMIT_NOFILE` = 7, ...
//!
//! `RLIMIT_RSS`, `RLIMIT_NPROC`, `RLIMIT_NOFILE`, `RLIMIT_MEMLOCK` and
//! `RLIMIT_AS` are numbered differently on mips and sparc, so they are
//! written for x86_64 and aarch64 (the generic numbering); the others are
//! the same everywhere. `RLIMIT_NLIMITS` is left out: it is a count that
//! grows between kernel releases, and the `libc` crate deprecates it.

crate::table! {
    /// Resources, from `<sys/resource.h>`: the first argument of
    /// `getrlimit` and `setrlimit`.
    ///
    /// # References
    /// - [`getrlimit(2)`](https://man7.org/linux/man-pages/man2/getrlimit.2.html)
    pub static RLIMIT = "resource" {
        RLIMIT_CPU = 0,
        RLIMIT_FSIZE = 1,
        RLIMIT_DATA = 2,
        RLIMIT_STACK = 3,
        RLIMIT_CORE = 4,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        RLIMIT_RSS = 5,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        RLIMIT_NPROC = 6,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        RLIMIT_NOFILE = 7,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        RLIMIT_MEMLOCK = 8,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        RLIMIT_AS = 9,
        RLIMIT_LOCKS = 10,
        RLIMIT_SIGPENDING = 11,
        RLIMIT_MSGQUEUE = 12,
        RLIMIT_NICE = 13,
        RLIMIT_RTPRIO = 14,
        RLIMIT_RTTIME = 15,
    }
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::RLIMIT;

    #[test]
    fn names_match_in_any_case() {
        assert_eq!(RLIMIT.value("RLIMIT_NOFILE"), Some(7));
        assert_eq!(
            RLIMIT.value("rlimit_nofile"),
            Some(libc::RLIMIT_NOFILE as u64)
        );
        assert_eq!(RLIMIT.name(7), Some("RLIMIT_NOFILE"));
        assert_eq!(RLIMIT.value("RLIMIT_NLIMITS"), None);
    }

    /// Resources are numbered 0, 1, 2, ... with no gap.
    #[test]
    fn numbers_are_dense() {
        for (i, c) in RLIMIT.entries().iter().enumerate() {
            assert_eq!(c.value, i as u64, "{}", c.name);
        }
    }
}
