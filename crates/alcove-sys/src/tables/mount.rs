//! Mount flags and `umount2` flags, in one table: `MS_RDONLY` = 1, ...,
//! `MNT_FORCE` = 1, ...
//!
//! The values are the same on every Linux architecture. Since the two kinds
//! share small numbers, reading a number back gives the `MS_` name
//! (`MS_RDONLY` for 1, not `MNT_FORCE`). The lower-case aliases are
//! alcove's portable names (`rdonly` is `MS_RDONLY` here and `MNT_RDONLY`
//! on the BSDs); `force`, `detach`, `expire` and `nofollow` name the
//! `umount2` flags. `MS_RMT_MASK` is left out: the `libc` crate does not
//! define it for Linux.

crate::table! {
    /// Mount flags, from `<sys/mount.h>`: the flags of `mount` and of
    /// `umount2`.
    ///
    /// # References
    /// - [`mount(2)`](https://man7.org/linux/man-pages/man2/mount.2.html)
    /// - [`umount2(2)`](https://man7.org/linux/man-pages/man2/umount2.2.html)
    pub static MOUNT = "mount flag" {
        MS_RDONLY = 0x0000_0001,
        MS_NOSUID = 0x0000_0002,
        MS_NODEV = 0x0000_0004,
        MS_NOEXEC = 0x0000_0008,
        MS_SYNCHRONOUS = 0x0000_0010,
        MS_REMOUNT = 0x0000_0020,
        MS_MANDLOCK = 0x0000_0040,
        MS_DIRSYNC = 0x0000_0080,
        MS_NOSYMFOLLOW = 0x0000_0100,
        MS_NOATIME = 0x0000_0400,
        MS_NODIRATIME = 0x0000_0800,
        MS_BIND = 0x0000_1000,
        MS_MOVE = 0x0000_2000,
        MS_REC = 0x0000_4000,
        MS_SILENT = 0x0000_8000,
        MS_POSIXACL = 0x0001_0000,
        MS_UNBINDABLE = 0x0002_0000,
        MS_PRIVATE = 0x0004_0000,
        MS_SLAVE = 0x0008_0000,
        MS_SHARED = 0x0010_0000,
        MS_RELATIME = 0x0020_0000,
        MS_KERNMOUNT = 0x0040_0000,
        MS_I_VERSION = 0x0080_0000,
        MS_STRICTATIME = 0x0100_0000,
        MS_LAZYTIME = 0x0200_0000,
        MS_ACTIVE = 0x4000_0000,
        MS_NOUSER = 0x8000_0000,
        MS_MGC_VAL = 0xc0ed_0000,
        MS_MGC_MSK = 0xffff_0000,
        MNT_FORCE = 0x1,
        MNT_DETACH = 0x2,
        MNT_EXPIRE = 0x4,
        UMOUNT_NOFOLLOW = 0x8,
    }
    aliases {
        rdonly = MS_RDONLY,
        nosuid = MS_NOSUID,
        nodev = MS_NODEV,
        noexec = MS_NOEXEC,
        synchronous = MS_SYNCHRONOUS,
        remount = MS_REMOUNT,
        mandlock = MS_MANDLOCK,
        dirsync = MS_DIRSYNC,
        noatime = MS_NOATIME,
        nodiratime = MS_NODIRATIME,
        bind = MS_BIND,
        move = MS_MOVE,
        rec = MS_REC,
        silent = MS_SILENT,
        private = MS_PRIVATE,
        slave = MS_SLAVE,
        shared = MS_SHARED,
        unbindable = MS_UNBINDABLE,
        relatime = MS_RELATIME,
        strictatime = MS_STRICTATIME,
        lazytime = MS_LAZYTIME,
        force = MNT_FORCE,
        detach = MNT_DETACH,
        expire = MNT_EXPIRE,
        nofollow = UMOUNT_NOFOLLOW,
    }
}

#[cfg(test)]
mod tests {
    use super::MOUNT;

    #[test]
    #[allow(
        clippy::unnecessary_cast,
        reason = "the libc crate's MS_ constants are c_ulong, u32 on 32-bit targets"
    )]
    fn aliases_and_names_in_any_case() {
        assert_eq!(MOUNT.value("rdonly"), Some(libc::MS_RDONLY as u64));
        assert_eq!(MOUNT.value("RDONLY"), Some(libc::MS_RDONLY as u64));
        assert_eq!(MOUNT.value("ms_rdonly"), Some(libc::MS_RDONLY as u64));
        assert_eq!(MOUNT.value("move"), Some(libc::MS_MOVE as u64));
        assert_eq!(MOUNT.value("detach"), Some(libc::MNT_DETACH as u64));
        assert_eq!(MOUNT.value("nofollow"), Some(libc::UMOUNT_NOFOLLOW as u64));
        assert_eq!(MOUNT.name(1), Some("MS_RDONLY"), "MS_ names come first");
        assert_eq!(
            MOUNT.flags(&["bind", "rec", "MS_RDONLY"]),
            Ok((libc::MS_BIND | libc::MS_REC | libc::MS_RDONLY) as u64)
        );
    }
}
