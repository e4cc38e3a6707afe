//! The constant tables, one module per kind.
//!
//! Each table holds this platform's values. A constant whose value is the
//! same on every Linux architecture is written once; one whose value
//! varies is written for x86_64 and aarch64 (one entry per architecture
//! where those two disagree) and is absent elsewhere, until someone adds
//! and checks the values of another architecture. A test compares every
//! entry with the `libc` crate's constant of the same name.

mod clone;
mod errno;
mod file;
mod mount;
mod prctl;
mod rlimit;
mod signal;

pub use clone::CLONE;
pub use errno::ERRNO;
pub use file::FILE;
pub use mount::MOUNT;
pub use prctl::PRCTL;
pub use rlimit::RLIMIT;
pub use signal::SIGNAL;

use crate::table::{Table, UnknownName};

/// Every table, for tests and for tools that list them.
pub static ALL: &[&Table] = &[&CLONE, &FILE, &MOUNT, &PRCTL, &RLIMIT, &SIGNAL, &ERRNO];

/// The tables [`define`] searches, in the order it searches them.
static DEFINE_ORDER: [&Table; 6] = [&CLONE, &FILE, &MOUNT, &PRCTL, &RLIMIT, &SIGNAL];

/// The value of a list of constant names, ORed together: alcove's
/// `define`. Each name is looked up, whatever its case, in the clone, open,
/// mount, prctl, resource and signal tables in turn; the first table that
/// has it gives its value. An empty list is 0.
///
/// Unlike alcove, which XORs the values (so a name given twice cancels
/// itself out), the values are ORed: `["CLONE_NEWNS", "CLONE_NEWNS"]` is
/// `CLONE_NEWNS`.
///
/// # Errors
///
/// [`UnknownName`] (of a `"constant"`) for the first name that is in none
/// of the tables.
///
/// # Examples
///
/// ```
/// use alcove_sys::tables::define;
///
/// assert_eq!(define(&["CLONE_NEWNS", "clone_newpid"]), Ok(0x2002_0000));
/// assert_eq!(define::<&str>(&[]), Ok(0));
/// assert!(define(&["no_such_flag"]).is_err());
/// ```
pub fn define<S: AsRef<str>>(names: &[S]) -> Result<u64, UnknownName> {
    names.iter().try_fold(0, |acc, name| {
        let name = name.as_ref();
        DEFINE_ORDER
            .iter()
            .find_map(|table| table.value(name))
            .map(|value| acc | value)
            .ok_or_else(|| UnknownName {
                what: "constant",
                name: name.to_owned(),
            })
    })
}

/// The name of a signal number (`SIGTERM` for 15): the first name in
/// [`SIGNAL`] with that number, so 6 is `SIGABRT` and 29 is `SIGIO`.
/// `None` for a number with no name (0, real-time signals, negative
/// numbers).
pub fn signal_name(signum: i32) -> Option<&'static str> {
    SIGNAL.name(u64::try_from(signum).ok()?)
}

/// The number of a signal name, whatever its case (`SIGTERM`, `sigterm`),
/// including the second names `SIGIOT` and `SIGPOLL`.
pub fn signal_number(name: &str) -> Option<i32> {
    i32::try_from(SIGNAL.value(name)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value written in a table is the one the `libc` crate has for
    /// that name on this target.
    ///
    /// The `libc` crate gives a few unsigned 32-bit C constants the type
    /// `c_int` (`CLONE_IO` = 0x8000_0000 is `i32::MIN` there), so its value
    /// reaches the test sign-extended to 64 bits; the table holds the bits
    /// the C code uses, and such a pair counts as equal.
    #[test]
    fn every_entry_matches_libc() {
        for table in ALL {
            assert_eq!(table.entries().len(), table.libc.len(), "{}", table.what());
            for (c, libc_value) in table.entries().iter().zip(table.libc) {
                let sign_extended = u32::try_from(c.value).map(|v| v as i32 as i64 as u64).ok();
                assert!(
                    c.value == *libc_value || sign_extended == Some(*libc_value),
                    "{} {}: table says {:#x}, libc says {:#x}",
                    table.what(),
                    c.name,
                    c.value,
                    libc_value
                );
            }
        }
    }

    /// No table has a name twice.
    #[test]
    fn names_are_unique_in_each_table() {
        for table in ALL {
            let entries = table.entries();
            for (i, c) in entries.iter().enumerate() {
                assert!(
                    !entries[..i]
                        .iter()
                        .any(|d| d.name.eq_ignore_ascii_case(c.name)),
                    "{}: {} twice",
                    table.what(),
                    c.name
                );
            }
        }
    }

    /// Every alias names an entry of its table.
    #[test]
    fn every_alias_resolves() {
        for table in ALL {
            for (alias, target) in table.aliases() {
                assert!(
                    table.value(target).is_some(),
                    "{}: {alias} -> {target}",
                    table.what()
                );
                assert_eq!(table.value(alias), table.value(target));
            }
        }
    }

    #[test]
    fn define_ors_names_from_every_table() {
        let newns = libc::CLONE_NEWNS as u64;
        let newpid = libc::CLONE_NEWPID as u64;
        assert_eq!(define(&["CLONE_NEWNS", "clone_newpid"]), Ok(newns | newpid));
        assert_eq!(
            define(&["CLONE_NEWNS", "CLONE_NEWNS"]),
            Ok(newns),
            "OR, not XOR"
        );
        assert_eq!(define::<String>(&[]), Ok(0));
        assert_eq!(define(&["rdonly", "MS_NOSUID"]), Ok(0x3));
        assert_eq!(define(&["o_cloexec"]), Ok(libc::O_CLOEXEC as u64));
        assert_eq!(define(&["pr_set_name"]), Ok(15));
        assert_eq!(define(&["seccomp_mode_filter"]), Ok(2));
        assert_eq!(define(&["rlimit_core"]), Ok(4));
        assert_eq!(define(&["SIGTERM"]), Ok(15));
        // The clone table is searched first, then the open table.
        assert_eq!(define(&["O_RDONLY"]), Ok(0));
        // Errno names are not constants `define` knows.
        assert!(define(&["EPERM"]).is_err());
    }

    #[test]
    fn define_names_an_unknown_name() {
        let err = define(&["CLONE_NEWNS", "clone_newfoo", "also_unknown"]).unwrap_err();
        assert_eq!(err.what, "constant");
        assert_eq!(err.name, "clone_newfoo");
        assert!(err.to_string().contains("clone_newfoo"), "{err}");
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn signal_names_and_numbers() {
        assert_eq!(signal_name(6), Some("SIGABRT"));
        assert_eq!(signal_name(29), Some("SIGIO"));
        assert_eq!(signal_name(libc::SIGCHLD), Some("SIGCHLD"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(-1), None);
        assert_eq!(signal_name(libc::SIGRTMIN()), None);
        assert_eq!(signal_number("SIGKILL"), Some(libc::SIGKILL));
        assert_eq!(signal_number("sigiot"), Some(6));
        assert_eq!(signal_number("KILL"), None);
    }

    /// Every errno number is one the C library can describe, asked at run
    /// time through `strerror_r` rather than through the `libc` crate's
    /// constants: glibc answers "Unknown error N" for a number it does not
    /// know. (musl describes only some of the numbers, and answers "No error
    /// information" for the others, so the check is glibc's.)
    #[cfg(target_env = "gnu")]
    #[test]
    fn every_errno_is_known_to_the_c_library() {
        for c in ERRNO.entries() {
            let code = i32::try_from(c.value).unwrap();
            let text = std::io::Error::from_raw_os_error(code).to_string();
            assert!(
                !text.starts_with("Unknown error"),
                "{} = {code}: {text}",
                c.name
            );
            assert!(
                !text.starts_with("No error information"),
                "{} = {code}: {text}",
                c.name
            );
        }
    }
}
