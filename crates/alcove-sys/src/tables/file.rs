//! Open flags: `O_RDONLY` = 0, `O_CREAT` = 0o100, ...
//!
//! Most of these differ between Linux architectures (the generic octal
//! values of `<asm-generic/fcntl.h>` hold on x86_64 and aarch64 but not on
//! mips, sparc, powerpc or alpha), so each is written for x86_64 and
//! aarch64, with one entry per architecture where those two disagree
//! (`O_DIRECT`, `O_DIRECTORY`, `O_NOFOLLOW`, `O_TMPFILE`). On other
//! architectures those entries are absent until someone adds theirs.
//! The C libraries disagree on two: glibc's `O_ACCMODE` is 3 and its
//! `O_LARGEFILE` is 0 on 64-bit targets (it is implied there), while musl
//! counts `O_PATH` in `O_ACCMODE` and passes the kernel's `O_LARGEFILE`.
//!
//! `O_ACCMODE` is first, so the number 3 reads back as `O_ACCMODE`, not
//! `O_RDWR | O_WRONLY`; reading open flags back by number is rarely
//! useful anyway, as they are not all single bits.

crate::table! {
    /// Open flags, from `<fcntl.h>`: the flags of `open`.
    ///
    /// # References
    /// - [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html)
    pub static FILE = "open flag" {
        #[cfg(target_env = "gnu")]
        O_ACCMODE = 0o3,
        #[cfg(target_env = "musl")]
        O_ACCMODE = 0o1000_0003,
        O_RDONLY = 0o0,
        O_WRONLY = 0o1,
        O_RDWR = 0o2,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_CREAT = 0o100,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_EXCL = 0o200,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_NOCTTY = 0o400,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_TRUNC = 0o1000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_APPEND = 0o2000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_NONBLOCK = 0o4000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_DSYNC = 0o1_0000,
        #[cfg(target_arch = "x86_64")]
        O_DIRECT = 0o4_0000,
        #[cfg(target_arch = "aarch64")]
        O_DIRECT = 0o20_0000,
        #[cfg(all(target_env = "gnu", any(target_arch = "x86_64", target_arch = "aarch64")))]
        O_LARGEFILE = 0,
        #[cfg(all(target_env = "musl", target_arch = "x86_64"))]
        O_LARGEFILE = 0o10_0000,
        #[cfg(all(target_env = "musl", target_arch = "aarch64"))]
        O_LARGEFILE = 0o40_0000,
        #[cfg(target_arch = "x86_64")]
        O_DIRECTORY = 0o20_0000,
        #[cfg(target_arch = "aarch64")]
        O_DIRECTORY = 0o4_0000,
        #[cfg(target_arch = "x86_64")]
        O_NOFOLLOW = 0o40_0000,
        #[cfg(target_arch = "aarch64")]
        O_NOFOLLOW = 0o10_0000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_NOATIME = 0o100_0000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_CLOEXEC = 0o200_0000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_SYNC = 0o401_0000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_PATH = 0o1000_0000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_NDELAY = 0o4000,
        #[cfg(target_arch = "x86_64")]
        O_TMPFILE = 0o2020_0000,
        #[cfg(target_arch = "aarch64")]
        O_TMPFILE = 0o2004_0000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_ASYNC = 0o2_0000,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        O_RSYNC = 0o401_0000,
    }
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::FILE;

    #[test]
    fn names_match_in_any_case() {
        assert_eq!(FILE.value("O_RDONLY"), Some(0));
        assert_eq!(FILE.value("o_creat"), Some(libc::O_CREAT as u64));
        assert_eq!(FILE.value("O_Directory"), Some(libc::O_DIRECTORY as u64));
        assert_eq!(
            FILE.name(libc::O_ACCMODE as u64),
            Some("O_ACCMODE"),
            "first entry wins"
        );
        assert_eq!(FILE.name(libc::O_CLOEXEC as u64), Some("O_CLOEXEC"));
    }

    /// `O_SYNC` and `O_TMPFILE` include another flag, as in C.
    #[test]
    fn compound_flags_include_their_parts() {
        let v = |n| FILE.value(n).unwrap();
        assert_eq!(v("O_SYNC") & v("O_DSYNC"), v("O_DSYNC"));
        assert_eq!(v("O_TMPFILE") & v("O_DIRECTORY"), v("O_DIRECTORY"));
        assert_eq!(v("O_NDELAY"), v("O_NONBLOCK"));
        assert_eq!(
            FILE.flags(&["O_WRONLY", "O_CREAT", "O_TRUNC", "O_CLOEXEC"]),
            Ok((libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC) as u64)
        );
    }
}
