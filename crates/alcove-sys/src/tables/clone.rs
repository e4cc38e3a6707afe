//! Clone flags: `CLONE_NEWNS` = 0x20000, ...
//!
//! The namespace flags come first, then the other flags `clone(2)` takes.
//! The values are the same on every Linux architecture. `CLONE_IO` is the
//! top bit of the 32-bit flags (0x8000_0000), not a negative number.
//! `CLONE_CLEAR_SIGHAND` and `CLONE_INTO_CGROUP` (`clone3(2)` only, above
//! 32 bits) are left out until the `libc` crate gives them a wide type.

crate::table! {
    /// Clone flags, from `<sched.h>`: the flags of `clone`, `unshare` and
    /// `setns`.
    ///
    /// # References
    /// - [`clone(2)`](https://man7.org/linux/man-pages/man2/clone.2.html)
    pub static CLONE = "clone flag" {
        CLONE_NEWNS = 0x0002_0000,
        CLONE_NEWCGROUP = 0x0200_0000,
        CLONE_NEWUTS = 0x0400_0000,
        CLONE_NEWIPC = 0x0800_0000,
        CLONE_NEWUSER = 0x1000_0000,
        CLONE_NEWPID = 0x2000_0000,
        CLONE_NEWNET = 0x4000_0000,
        #[cfg(any(target_env = "gnu", target_env = "musl"))]
        CLONE_NEWTIME = 0x0000_0080,
        CLONE_VM = 0x0000_0100,
        CLONE_FS = 0x0000_0200,
        CLONE_FILES = 0x0000_0400,
        CLONE_SIGHAND = 0x0000_0800,
        CLONE_PIDFD = 0x0000_1000,
        CLONE_PTRACE = 0x0000_2000,
        CLONE_VFORK = 0x0000_4000,
        CLONE_PARENT = 0x0000_8000,
        CLONE_THREAD = 0x0001_0000,
        CLONE_SYSVSEM = 0x0004_0000,
        CLONE_SETTLS = 0x0008_0000,
        CLONE_PARENT_SETTID = 0x0010_0000,
        CLONE_CHILD_CLEARTID = 0x0020_0000,
        CLONE_DETACHED = 0x0040_0000,
        CLONE_UNTRACED = 0x0080_0000,
        CLONE_CHILD_SETTID = 0x0100_0000,
        CLONE_IO = 0x8000_0000,
    }
}

#[cfg(test)]
mod tests {
    use super::CLONE;

    #[test]
    fn names_match_in_any_case() {
        assert_eq!(CLONE.value("CLONE_NEWNS"), Some(libc::CLONE_NEWNS as u64));
        assert_eq!(CLONE.value("clone_newns"), Some(libc::CLONE_NEWNS as u64));
        assert_eq!(CLONE.value("Clone_NewUts"), Some(0x0400_0000));
        assert_eq!(CLONE.name(0x0002_0000), Some("CLONE_NEWNS"));
        assert_eq!(CLONE.value("newns"), None, "no short aliases");
    }

    #[test]
    fn clone_io_is_the_top_bit_of_32() {
        assert_eq!(CLONE.value("CLONE_IO"), Some(1 << 31));
        assert_eq!(
            CLONE.value("CLONE_IO").map(|v| v as u32 as i32),
            Some(libc::CLONE_IO)
        );
    }

    /// The flags are distinct bits, so ORing a list of them loses nothing.
    #[test]
    fn every_flag_is_one_bit() {
        let mut seen = 0u64;
        for c in CLONE.entries() {
            assert_eq!(c.value.count_ones(), 1, "{}", c.name);
            assert_eq!(seen & c.value, 0, "{} repeats a bit", c.name);
            seen |= c.value;
        }
    }
}
