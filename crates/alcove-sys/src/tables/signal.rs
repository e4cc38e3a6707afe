//! Signal numbers: `SIGHUP` = 1, ..., `SIGSYS` = 31.
//!
//! The order is alcove's and it matters: a number reads back as the first
//! name with that number, so 6 is `SIGABRT` (not `SIGIOT`) and 29 is `SIGIO`
//! (not `SIGPOLL`). Signals 1 to 15 other than `SIGBUS`, `SIGUSR1` and
//! `SIGUSR2` have the same number on every Linux architecture; the rest are
//! numbered differently on mips, sparc and alpha, so they are written for
//! x86_64 and aarch64. `SIGLOST` is left out: Linux has no such signal and
//! the `libc` crate does not define it.

crate::table! {
    /// Signals, from `<signal.h>`.
    ///
    /// # References
    /// - [`signal(7)`](https://man7.org/linux/man-pages/man7/signal.7.html)
    pub static SIGNAL = "signal" {
        SIGHUP = 1,
        SIGINT = 2,
        SIGQUIT = 3,
        SIGILL = 4,
        SIGTRAP = 5,
        SIGABRT = 6,
        SIGIOT = 6,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGBUS = 7,
        SIGFPE = 8,
        SIGKILL = 9,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGUSR1 = 10,
        SIGSEGV = 11,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGUSR2 = 12,
        SIGPIPE = 13,
        SIGALRM = 14,
        SIGTERM = 15,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGSTKFLT = 16,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGCHLD = 17,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGCONT = 18,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGSTOP = 19,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGTSTP = 20,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGTTIN = 21,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGTTOU = 22,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGURG = 23,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGXCPU = 24,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGXFSZ = 25,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGVTALRM = 26,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGPROF = 27,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGWINCH = 28,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGIO = 29,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGPOLL = 29,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGPWR = 30,
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        SIGSYS = 31,
    }
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::SIGNAL;

    #[test]
    fn first_name_wins_and_any_case_matches() {
        assert_eq!(SIGNAL.name(6), Some("SIGABRT"));
        assert_eq!(SIGNAL.name(29), Some("SIGIO"));
        assert_eq!(SIGNAL.name(9), Some("SIGKILL"));
        assert_eq!(SIGNAL.name(0), None);
        assert_eq!(SIGNAL.name(32), None);
        assert_eq!(SIGNAL.value("SIGTERM"), Some(libc::SIGTERM as u64));
        assert_eq!(SIGNAL.value("sigterm"), Some(15));
        assert_eq!(SIGNAL.value("sigiot"), Some(6));
        assert_eq!(SIGNAL.value("sigpoll"), Some(29));
        assert_eq!(SIGNAL.value("SIGLOST"), None);
    }

    /// Every standard signal, 1 to 31, has a name.
    #[test]
    fn every_standard_signal_is_named() {
        for n in 1..32 {
            assert!(SIGNAL.name(n).is_some(), "signal {n}");
        }
    }

    /// The names agree with the C library's own, asked at run time rather
    /// than through the `libc` crate's constants: glibc's `sigabbrev_np`
    /// (2.32 and later) names a signal without its `SIG` prefix.
    #[cfg(target_env = "gnu")]
    #[allow(unsafe_code, reason = "calls glibc's sigabbrev_np")]
    mod glibc {
        use std::ffi::{CStr, c_char, c_int};

        use super::SIGNAL;

        unsafe extern "C" {
            fn sigabbrev_np(sig: c_int) -> *const c_char;
        }

        /// glibc's name for a signal, with the `SIG` prefix.
        fn abbrev(sig: u64) -> Option<String> {
            let sig = c_int::try_from(sig).ok()?;
            // SAFETY: sigabbrev_np takes any int; it returns null for a
            // number it does not know, else a pointer to a static
            // NUL-terminated string.
            let p = unsafe { sigabbrev_np(sig) };
            if p.is_null() {
                return None;
            }
            // SAFETY: non-null, so a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(p) };
            Some(format!("SIG{}", name.to_str().ok()?))
        }

        /// Where glibc's choice of first name differs from alcove's
        /// (`number`, alcove's, glibc's).
        const ORDER_DIFFERS: &[(u64, &str, &str)] = &[(29, "SIGIO", "SIGPOLL")];

        #[test]
        fn primary_names_match_sigabbrev_np() {
            for c in SIGNAL.entries() {
                let primary = SIGNAL.name(c.value).unwrap();
                if primary != c.name {
                    continue;
                }
                let glibc = abbrev(c.value)
                    .unwrap_or_else(|| panic!("glibc has no name for {} = {}", c.name, c.value));
                if glibc != primary {
                    assert!(
                        ORDER_DIFFERS.contains(&(c.value, primary, glibc.as_str())),
                        "signal {}: table says {primary}, glibc says {glibc}",
                        c.value
                    );
                    assert_eq!(SIGNAL.value(&glibc), Some(c.value), "{glibc} is an alias");
                }
            }
        }
    }
}
