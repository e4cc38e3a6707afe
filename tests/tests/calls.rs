//! Every call of the seed's "Event Loop" section, end to end: the real
//! `alcove` binary driven through `Drv`, checked against the real kernel,
//! and from outside the tree wherever that is possible (`/proc`, the
//! filesystem as the test process sees it), so that a call that answered
//! `Ok` without doing its work fails the test.
//!
//! Tests that need root start with `require_root`, which prints `SKIP`.
//! Whatever a test makes (temporary directories named `alcove-test-*`,
//! mounts, a changed host name) is undone by a guard when it is dropped,
//! also when the test fails; namespaces die with the processes, and the
//! processes with the `Drv`.

use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, Instant};

use alcove_client::{Drv, Errno, Error, Event, Opt, Options, Pid, PrctlArg, Rlimit, SigHandler};
use alcove_tests::bpf::sock_fprog;
use alcove_tests::{
    HostnameGuard, TempDir, drv, fds_of, host_name, in_sigmask, mounts_of, ns_of, os_path,
    proc_status, require_root, start,
};

// The numbers are the same on x86_64 and aarch64 (asm-generic); written
// here rather than looked up, so that the tables are checked, not trusted.
const SIGUSR1: i32 = 10;
const SIGUSR2: i32 = 12;
const SIGCHLD: i32 = 17;
const SIGKILL: i32 = 9;
const O_RDONLY: i32 = 0;
const O_WRONLY: i32 = 0o1;
const O_RDWR: i32 = 0o2;
const O_CREAT: i32 = 0o100;
const O_EXCL: i32 = 0o200;
const CLONE_NEWNS: u64 = 0x0002_0000;
const CLONE_NEWUTS: u64 = 0x0400_0000;
const CLONE_NEWPID: u64 = 0x2000_0000;
const CLONE_NEWNET: u64 = 0x4000_0000;
const MS_RDONLY: u64 = 1;
const MS_REC: u64 = 0x4000;
const MS_PRIVATE: u64 = 1 << 18;
const MS_SHARED: u64 = 1 << 20;
const RLIMIT_FSIZE: i32 = 1;
const RLIMIT_CORE: i32 = 4;
const RLIMIT_NOFILE: i32 = 7;
const PR_SET_NAME: i32 = 15;
const PR_GET_NAME: i32 = 16;
const PR_SET_SECCOMP: i32 = 22;
const PR_SET_NO_NEW_PRIVS: i32 = 38;
const SECCOMP_MODE_FILTER: u64 = 2;

/// The next event of `path`, within 30 s.
fn next_event(drv: &Drv, path: &[Pid]) -> Event {
    drv.event(path, Duration::from_secs(30))
        .expect("event")
        .expect("an event within 30 s")
}

/// Sorted, for comparing directory listings and environments.
fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

/// `.`, `..` and these names, sorted: what readdir of a directory holding
/// exactly these entries returns.
fn listing(names: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [b".".as_slice(), b".."]
        .iter()
        .map(|n| n.to_vec())
        .collect();
    v.extend(names.iter().map(|n| n.to_vec()));
    sorted(v)
}

/// The directory as the test process sees it, sorted, without `.`/`..`.
fn names_in(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let names = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_vec())
        .collect();
    sorted(names)
}

fn assert_bad_arg(err: &Error, contains: &str) {
    match err {
        Error::BadArg { reason, .. } => {
            assert!(reason.contains(contains), "{reason:?} lacks {contains:?}")
        }
        other => panic!("expected BadArg, got {other:?}"),
    }
}

/// Unmounts `target` from the test's mount namespace when dropped, if it
/// is mounted there: a mount meant for a child's private namespace that
/// leaked out (propagation not made private) does not outlive the test.
struct MountGuard(Vec<u8>);

impl Drop for MountGuard {
    fn drop(&mut self) {
        while mounts_of("self").iter().any(|(m, ..)| *m == self.0) {
            if let Err(e) = rustix::mount::unmount(
                os_path(&self.0).as_path(),
                rustix::mount::UnmountFlags::DETACH,
            ) {
                eprintln!("unmounting {}: {e}", os_path(&self.0).display());
                break;
            }
        }
    }
}

// ---- filesystem ---------------------------------------------------------------

#[test]
fn chroot_changes_the_root_of_a_child_only() {
    if !require_root("chroot_changes_the_root_of_a_child_only") {
        return;
    }
    let tmp = TempDir::new("chroot");
    std::fs::write(tmp.path().join("a-file"), b"x").unwrap();
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let sibling = drv.fork(&[]).unwrap();

    drv.chroot(&[c], tmp.bytes()).unwrap();
    // The working directory is now outside the root: getcwd(3) says
    // ENOENT (the bare system call would answer "(unreachable)/...").
    let err = drv.getcwd(&[c]).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
    // The root is the temporary directory: its entries are those of "/".
    assert_eq!(
        sorted(drv.readdir(&[c], "/").unwrap()),
        listing(&[b"a-file", b"sub"])
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{c}/root")).unwrap(),
        tmp.path()
    );
    drv.chdir(&[c], "/").unwrap();
    assert_eq!(drv.getcwd(&[c]).unwrap(), b"/");
    drv.chdir(&[c], "/sub").unwrap();
    assert_eq!(drv.getcwd(&[c]).unwrap(), b"/sub");
    // No way back out by name.
    drv.chdir(&[c], "/..").unwrap();
    assert_eq!(drv.getcwd(&[c]).unwrap(), b"/");
    assert_eq!(
        sorted(drv.readdir(&[c], "..").unwrap()),
        listing(&[b"a-file", b"sub"])
    );

    // The port and a sibling keep the real root.
    for path in [&[][..], &[sibling]] {
        let root = sorted(drv.readdir(path, "/").unwrap());
        assert!(root.contains(&b"proc".to_vec()), "{path:?}: {root:?}");
        assert_eq!(
            std::fs::read_link(format!("/proc/{}/root", drv.getpid(path).unwrap())).unwrap(),
            std::path::Path::new("/")
        );
    }
    let err = drv.chroot(&[c], "/no/such/dir").unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
}

#[test]
fn open_write_read_close_and_readdir_in_a_child() {
    let tmp = TempDir::new("files");
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let plain = tmp.join(b"plain");
    let odd: &[u8] = b"\xff\xfe";

    let fd = drv
        .open(&[c], &plain, O_CREAT | O_EXCL | O_RDWR, 0o640)
        .unwrap();
    assert!(
        fds_of(c.as_raw()).contains(&fd),
        "fd {fd} open in the child"
    );
    assert_eq!(drv.write(&[c], fd, b"hello world").unwrap(), 11);
    drv.close(&[c], fd).unwrap();
    assert!(!fds_of(c.as_raw()).contains(&fd), "fd {fd} closed");
    // The file, as the test process sees it.
    assert_eq!(std::fs::read(os_path(&plain)).unwrap(), b"hello world");
    let mode = std::fs::metadata(os_path(&plain)).unwrap().mode();
    assert_eq!(mode & 0o7777, 0o640 & !umask_of(c), "mode {mode:o}");
    let err = drv.open(&[c], &plain, O_CREAT | O_EXCL | O_RDWR, 0o640);
    assert_eq!(err.unwrap_err().errno(), Some(Errno::EEXIST));

    let fd = drv.open(&[c], &plain, O_RDONLY, 0).unwrap();
    assert_eq!(drv.read(&[c], fd, 5).unwrap(), b"hello");
    assert_eq!(drv.read(&[c], fd, 100).unwrap(), b" world");
    assert_eq!(drv.read(&[c], fd, 100).unwrap(), b"", "end of file");
    let err = drv.write(&[c], fd, b"x").unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EBADF), "read-only: {err}");
    drv.close(&[c], fd).unwrap();
    for err in [
        drv.read(&[c], fd, 10).unwrap_err(),
        drv.write(&[c], fd, b"x").map(drop).unwrap_err(),
        drv.close(&[c], fd).unwrap_err(),
        drv.close(&[c], -1).unwrap_err(),
    ] {
        assert_eq!(err.errno(), Some(Errno::EBADF), "{err}");
    }

    // A name that is not UTF-8, written and listed.
    let fd = drv
        .open(&[c], tmp.join(odd), O_CREAT | O_WRONLY, 0o600)
        .unwrap();
    assert_eq!(drv.write(&[c], fd, b"\x00\xff bytes").unwrap(), 8);
    drv.close(&[c], fd).unwrap();
    assert_eq!(
        std::fs::read(os_path(&tmp.join(odd))).unwrap(),
        b"\x00\xff bytes"
    );
    let listed = sorted(drv.readdir(&[c], tmp.bytes()).unwrap());
    assert_eq!(listed, listing(&[b"plain", odd]));
    let mut seen = names_in(tmp.path());
    seen.extend([b".".to_vec(), b"..".to_vec()]);
    assert_eq!(listed, sorted(seen));
    let err = drv.readdir(&[c], tmp.join(b"missing")).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
    let err = drv.open(&[c], b"bad\0path", O_RDONLY, 0).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
}

/// The umask of a process, from `/proc/<pid>/status`.
fn umask_of(pid: Pid) -> u32 {
    let v = proc_status(pid.as_raw(), "Umask").expect("Umask in /proc/<pid>/status");
    u32::from_str_radix(&v, 8).unwrap()
}

#[test]
fn the_loops_own_descriptors_are_refused() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let k = drv.fork(&[c]).unwrap();
    // Once both answer, their descriptors are settled.
    assert_eq!(drv.getpid(&[c, k]).unwrap(), k);
    // Every descriptor of a loop process is its own, except stderr (the
    // client's to keep or close) and those inherited from the client,
    // which the test process has too.
    // (Pipes and files name what they are; every epoll or eventfd reads
    // the same, so those are never taken for inherited.)
    let inherited = |fd: i32| {
        let link =
            |pid: &dyn std::fmt::Display| std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok();
        let mine = link(&"self");
        mine.as_ref()
            .is_some_and(|l| !l.to_string_lossy().starts_with("anon_inode:"))
            && mine == link(&c)
    };
    let own: Vec<i32> = fds_of(c.as_raw())
        .into_iter()
        .filter(|&fd| fd != 2 && !inherited(fd))
        .collect();
    // stdin, stdout, the poller, the signal pipe, the control pipe and k's
    // four pipes.
    assert!(own.len() >= 9, "{own:?}");
    for fd in own {
        let err = drv.close(&[c], fd).unwrap_err();
        assert_bad_arg(&err, &format!("descriptor {fd} is the loop's own"));
        assert!(
            err.to_string().starts_with(&format!("close [{c}]")),
            "{err}"
        );
        let err = drv.write(&[c], fd, b"x").unwrap_err();
        assert_bad_arg(&err, &format!("descriptor {fd}"));
        let err = drv.read(&[c], fd, 1).unwrap_err();
        assert_bad_arg(&err, &format!("descriptor {fd}"));
    }
    for fd in [0, 1] {
        let err = drv.close(&[], fd).unwrap_err();
        assert_bad_arg(&err, &format!("descriptor {fd} is the loop's own"));
    }
    // Nothing was closed: both still answer, and the grandchild too.
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
    assert_eq!(drv.getpid(&[c, k]).unwrap(), k);
    assert_eq!(drv.getpid(&[]).unwrap().as_raw() as u32, drv.port_pid());
}

#[test]
fn chmod_mkdir_and_rmdir_from_a_child() {
    let tmp = TempDir::new("chmod");
    let file = tmp.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    for mode in [0o604, 0o2711, 0o000] {
        drv.chmod(&[c], tmp.join(b"f"), mode).unwrap();
        let got = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(got & 0o7777, mode, "mode {got:o}");
    }
    let err = drv.chmod(&[c], tmp.join(b"nope"), 0o600).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");

    let dir = tmp.join(b"d");
    drv.mkdir(&[c], &dir, 0o750).unwrap();
    let meta = std::fs::metadata(os_path(&dir)).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.mode() & 0o777, 0o750 & !umask_of(c));
    let err = drv.mkdir(&[c], &dir, 0o750).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EEXIST), "{err}");
    std::fs::write(os_path(&dir).join("inside"), b"").unwrap();
    let err = drv.rmdir(&[c], &dir).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOTEMPTY), "{err}");
    std::fs::remove_file(os_path(&dir).join("inside")).unwrap();
    drv.rmdir(&[c], &dir).unwrap();
    assert!(!os_path(&dir).exists());
    let err = drv.rmdir(&[c], &dir).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
}

#[test]
fn chown_changes_owner_and_group_and_minus_one_keeps_them() {
    if !require_root("chown_changes_owner_and_group_and_minus_one_keeps_them") {
        return;
    }
    let tmp = TempDir::new("chown");
    let file = tmp.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let owner = |f: &std::path::Path| {
        let m = std::fs::metadata(f).unwrap();
        (m.uid(), m.gid())
    };
    drv.chown(&[c], tmp.join(b"f"), 12345, 23456).unwrap();
    assert_eq!(owner(&file), (12345, 23456));
    drv.chown(&[c], tmp.join(b"f"), u32::MAX, 777).unwrap();
    assert_eq!(owner(&file), (12345, 777));
    drv.chown(&[c], tmp.join(b"f"), 4242, u32::MAX).unwrap();
    assert_eq!(owner(&file), (4242, 777));
    let err = drv.chown(&[c], tmp.join(b"nope"), 1, 1).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
}

#[test]
fn paths_and_names_are_bytes() {
    let tmp = TempDir::new("bytes");
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let name: &[u8] = b"dir-\xff\xfe\x01";
    let dir = tmp.join(name);
    drv.mkdir(&[c], &dir, 0o700).unwrap();
    assert!(std::fs::metadata(os_path(&dir)).unwrap().is_dir());
    assert_eq!(names_in(tmp.path()), vec![name.to_vec()]);
    assert_eq!(
        sorted(drv.readdir(&[c], tmp.bytes()).unwrap()),
        listing(&[name])
    );
    drv.chdir(&[c], &dir).unwrap();
    assert_eq!(drv.getcwd(&[c]).unwrap(), dir);
    drv.chdir(&[c], "/").unwrap();
    drv.rmdir(&[c], &dir).unwrap();
    assert_eq!(names_in(tmp.path()), Vec::<Vec<u8>>::new());
    // A NUL cannot be in a C path: refused, not cut short.
    let mut nul = tmp.join(b"x");
    nul.extend_from_slice(b"\0y");
    let err = drv.mkdir(&[c], &nul, 0o700).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
    assert_eq!(names_in(tmp.path()), Vec::<Vec<u8>>::new());
}

// ---- mounts and namespaces -----------------------------------------------------

#[test]
fn a_tmpfs_mounted_in_a_new_mount_namespace_is_seen_there_only() {
    if !require_root("a_tmpfs_mounted_in_a_new_mount_namespace_is_seen_there_only") {
        return;
    }
    let tmp = TempDir::new("mount");
    let target = tmp.join(b"mnt");
    std::fs::create_dir(os_path(&target)).unwrap();
    let _unmount = MountGuard(target.clone());
    let drv = drv();
    let c = drv.clone(&[], CLONE_NEWNS).unwrap();
    let cpid = c.as_raw();
    assert_ne!(ns_of(cpid, "mnt"), ns_of("self", "mnt"));

    let root_tags = || {
        let mounts = mounts_of(cpid);
        let (_, _, tags) = mounts.iter().rfind(|(m, ..)| m == b"/").expect("a / mount");
        tags.clone()
    };
    // Shared first (within c's namespace: a private / becomes a new peer
    // group there only; a / shared with the host stays as it is), so that
    // making it private is seen whatever the host's propagation is.
    drv.mount(&[c], "none", "/", "", MS_REC | MS_SHARED, "")
        .unwrap();
    assert!(root_tags().contains("shared:"), "{}", root_tags());
    drv.mount(&[c], "none", "/", "", MS_REC | MS_PRIVATE, "")
        .unwrap();
    assert!(
        !root_tags().contains("shared:"),
        "/ is still shared: {}",
        root_tags()
    );

    drv.mount(&[c], "tmpfs", &target, "tmpfs", 0, "size=1m,mode=0700")
        .unwrap();
    let mounted = |pid: &dyn std::fmt::Display| {
        mounts_of(pid)
            .into_iter()
            .any(|(m, fstype, _)| m == target && fstype == "tmpfs")
    };
    assert!(mounted(&cpid), "the child's mountinfo has it");
    assert!(!mounted(&"self"), "the test's mountinfo does not");

    let file = {
        let mut f = target.clone();
        f.extend_from_slice(b"/inside");
        f
    };
    let fd = drv.open(&[c], &file, O_CREAT | O_WRONLY, 0o600).unwrap();
    assert_eq!(drv.write(&[c], fd, b"on tmpfs").unwrap(), 8);
    drv.close(&[c], fd).unwrap();
    assert_eq!(
        sorted(drv.readdir(&[c], &target).unwrap()),
        listing(&[b"inside"])
    );
    // Neither the test nor the port (in the first namespace) sees it.
    assert_eq!(names_in(&os_path(&target)), Vec::<Vec<u8>>::new());
    assert_eq!(sorted(drv.readdir(&[], &target).unwrap()), listing(&[]));

    // A read-only remount, with a flag from the table's portable names.
    let rdonly = drv.mount_define(&[c], "rdonly").unwrap();
    let remount = 0x20; // MS_REMOUNT
    drv.mount(&[c], "", &target, "", remount | rdonly, "")
        .unwrap();
    let err = drv.mkdir(&[c], [&target[..], b"/d"].concat(), 0o700);
    assert_eq!(err.unwrap_err().errno(), Some(erofs()));
    let err = drv.open(&[c], &file, O_WRONLY, 0).unwrap_err();
    assert_eq!(err.errno(), Some(erofs()), "{err}");
    assert_eq!(drv.mount_define(&[c], "MS_REMOUNT").unwrap(), remount);

    drv.umount(&[c], &target).unwrap();
    assert!(!mounted(&cpid), "unmounted");
    assert_eq!(sorted(drv.readdir(&[c], &target).unwrap()), listing(&[]));
    let err = drv.umount(&[c], &target).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "not a mount point: {err}");
}

#[test]
fn sethostname_in_a_new_uts_namespace_leaves_the_ports_alone() {
    if !require_root("sethostname_in_a_new_uts_namespace_leaves_the_ports_alone") {
        return;
    }
    let _restore = HostnameGuard(host_name());
    let drv = drv();
    let host = drv.gethostname(&[]).unwrap();
    assert_eq!(host, host_name());
    let c = drv.clone(&[], CLONE_NEWUTS).unwrap();
    assert_eq!(drv.gethostname(&[c]).unwrap(), host, "a copy at first");
    let name = b"alcove-test-uts".to_vec();
    assert_ne!(host, name);
    drv.sethostname(&[c], &name).unwrap();
    assert_eq!(drv.gethostname(&[c]).unwrap(), name);
    // A child of c shares its namespace.
    let k = drv.fork(&[c]).unwrap();
    assert_eq!(drv.gethostname(&[c, k]).unwrap(), name);
    assert_eq!(drv.gethostname(&[]).unwrap(), host);
    assert_eq!(host_name(), host);
    assert_ne!(ns_of(c, "uts"), ns_of("self", "uts"));
}

#[test]
fn setns_moves_a_child_into_anothers_network_namespace() {
    if !require_root("setns_moves_a_child_into_anothers_network_namespace") {
        return;
    }
    let drv = drv();
    let a = drv.clone(&[], CLONE_NEWNET).unwrap();
    let b = drv.fork(&[]).unwrap();
    assert_ne!(ns_of(a, "net"), ns_of("self", "net"));
    assert_eq!(ns_of(b, "net"), ns_of("self", "net"));
    let file = format!("/proc/{a}/ns/net");
    // The type is checked: a net namespace is not a UTS one.
    let err = drv.setns(&[b], &file, CLONE_NEWUTS as i32).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
    assert_eq!(ns_of(b, "net"), ns_of("self", "net"));

    drv.setns(&[b], &file, CLONE_NEWNET as i32).unwrap();
    assert_eq!(ns_of(b, "net"), ns_of(a, "net"));
    assert_ne!(ns_of(b, "net"), ns_of("self", "net"));
    assert_eq!(ns_of(drv.port_pid(), "net"), ns_of("self", "net"));
    // 0: any type.
    drv.setns(&[b], "/proc/self/ns/net", 0).unwrap();
    let err = drv.setns(&[b], "/proc/no/ns/net", 0).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::ENOENT), "{err}");
}

#[test]
fn unshare_gives_a_child_its_own_network_namespace() {
    if !require_root("unshare_gives_a_child_its_own_network_namespace") {
        return;
    }
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    assert_eq!(ns_of(c, "net"), ns_of("self", "net"));
    let flags = drv.define(&[c], &["CLONE_NEWNET"]).unwrap();
    drv.unshare(&[c], flags).unwrap();
    assert_ne!(ns_of(c, "net"), ns_of("self", "net"));
    assert_eq!(ns_of(drv.port_pid(), "net"), ns_of("self", "net"));
    // Its children are forked into it.
    let k = drv.fork(&[c]).unwrap();
    assert_eq!(ns_of(k, "net"), ns_of(c, "net"));
    let err = drv.unshare(&[c], 1 << 40).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
}

// ---- credentials and limits ------------------------------------------------------

#[test]
fn setuid_and_setgid_to_a_high_id_cannot_regain_root() {
    if !require_root("setuid_and_setgid_to_a_high_id_cannot_regain_root") {
        return;
    }
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let id = 0xf000_0000 + (std::process::id() & 0xffff);
    assert_eq!(drv.getuid(&[c]).unwrap(), 0);
    drv.setgid(&[c], id).unwrap();
    drv.setuid(&[c], id).unwrap();
    assert_eq!(drv.getuid(&[c]).unwrap(), id);
    assert_eq!(drv.getgid(&[c]).unwrap(), id);
    // Real, effective, saved and filesystem ids, as the kernel has them.
    let all = format!("{id}\t{id}\t{id}\t{id}");
    assert_eq!(proc_status(c.as_raw(), "Uid").unwrap(), all);
    assert_eq!(proc_status(c.as_raw(), "Gid").unwrap(), all);

    let err = drv.setuid(&[c], 0).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EPERM), "{err}");
    assert_eq!(
        err.to_string(),
        format!("setuid [{c}]: EPERM: Operation not permitted")
    );
    let err = drv.setgid(&[c], 0).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EPERM), "{err}");
    assert_eq!(drv.getuid(&[c]).unwrap(), id);
    assert_eq!(drv.getgid(&[c]).unwrap(), id);
    // The port is still root; the child still answers and forks.
    assert_eq!(drv.getuid(&[]).unwrap(), 0);
    let k = drv.fork(&[c]).unwrap();
    assert_eq!(drv.getuid(&[c, k]).unwrap(), id);
}

#[test]
fn rlimit_nofile_makes_open_fail_with_emfile() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    // Once c answers, it has set its loop up: its descriptors are settled.
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
    let fds = fds_of(c.as_raw());
    // Descriptor numbers must stay below the limit: room for three more
    // above the loop's highest, and whatever holes there are below it.
    let limit = *fds.last().unwrap() as u64 + 1 + 3;
    let room = limit as usize - fds.len();
    let lim = Rlimit {
        cur: Some(limit),
        max: Some(limit),
    };
    drv.setrlimit(&[c], RLIMIT_NOFILE, lim).unwrap();
    assert_eq!(drv.getrlimit(&[c], RLIMIT_NOFILE).unwrap(), lim);
    let limits = std::fs::read_to_string(format!("/proc/{c}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        [
            "Max",
            "open",
            "files",
            &limit.to_string(),
            &limit.to_string(),
            "files"
        ]
    );

    let mut opened = Vec::new();
    let err = loop {
        match drv.open(&[c], "/dev/null", O_RDONLY, 0) {
            Ok(fd) => opened.push(fd),
            Err(e) => break e,
        }
        assert!(opened.len() <= room, "{opened:?} with a limit of {limit}");
    };
    assert_eq!(err.errno(), Some(Errno::EMFILE), "{err}");
    assert_eq!(opened.len(), room, "{opened:?} with a limit of {limit}");
    assert!(opened.iter().all(|&fd| (fd as u64) < limit), "{opened:?}");
    // The loop still works at its limit, and a closed slot is reusable.
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
    drv.close(&[c], opened[0]).unwrap();
    assert_eq!(drv.open(&[c], "/dev/null", O_RDONLY, 0).unwrap(), opened[0]);
    for fd in opened {
        drv.close(&[c], fd).unwrap();
    }
    // The port's limit is untouched.
    assert_ne!(drv.getrlimit(&[], RLIMIT_NOFILE).unwrap(), lim);
    // A finite value equal to RLIM_INFINITY is refused: infinity is None.
    let err = drv
        .setrlimit(
            &[c],
            RLIMIT_NOFILE,
            Rlimit {
                cur: Some(u64::MAX),
                max: Some(u64::MAX),
            },
        )
        .unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
    let err = drv.getrlimit(&[c], 9999).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
}

#[test]
fn rlimit_infinity_round_trips_as_none() {
    // Raising a hard limit to infinity needs root unless it already is.
    let core = rustix::process::getrlimit(rustix::process::Resource::Core);
    if core.maximum.is_some() && !require_root("rlimit_infinity_round_trips_as_none") {
        return;
    }
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let inherited = drv.getrlimit(&[c], RLIMIT_CORE).unwrap();
    assert_eq!(
        inherited,
        Rlimit {
            cur: core.current,
            max: core.maximum
        }
    );
    let limits_line = |what: &str| {
        let limits = std::fs::read_to_string(format!("/proc/{c}/limits")).unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with(what))
            .unwrap()
            .to_owned();
        line.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    for (cur, max) in [(None, None), (Some(4096), None), (Some(0), Some(8192))] {
        let lim = Rlimit { cur, max };
        drv.setrlimit(&[c], RLIMIT_CORE, lim).unwrap();
        assert_eq!(drv.getrlimit(&[c], RLIMIT_CORE).unwrap(), lim);
        let show = |v: Option<u64>| v.map_or("unlimited".to_owned(), |n| n.to_string());
        assert_eq!(
            limits_line("Max core file size")[4..6],
            [show(cur), show(max)]
        );
    }
    // FSIZE: infinite from the start here, and given back as None.
    let fsize = rustix::process::getrlimit(rustix::process::Resource::Fsize);
    if fsize.maximum.is_none() {
        assert_eq!(drv.getrlimit(&[c], RLIMIT_FSIZE).unwrap().max, None);
    }
}

// ---- prctl and seccomp -------------------------------------------------------------

/// `getcwd`, the syscall the filter denies.
#[cfg(target_arch = "x86_64")]
const NR_GETCWD: u32 = 79;
#[cfg(target_arch = "aarch64")]
const NR_GETCWD: u32 = 17;
/// A seccomp filter that fails `nr` with `EPERM` and allows everything
/// else (on any other architecture, everything).
fn deny_one(nr: u32) -> Vec<u8> {
    use alcove_tests::bpf::{AUDIT_ARCH, JEQ_K, LD_W_ABS, RET_ALLOW, RET_ERRNO, RET_K, bpf};
    const EPERM: u32 = 1;
    // struct seccomp_data: int nr; __u32 arch; ...
    [
        bpf(LD_W_ABS, 0, 0, 4),
        bpf(JEQ_K, 0, 3, AUDIT_ARCH),
        bpf(LD_W_ABS, 0, 0, 0),
        bpf(JEQ_K, 0, 1, nr),
        bpf(RET_K, 0, 0, RET_ERRNO | EPERM),
        bpf(RET_K, 0, 0, RET_ALLOW),
    ]
    .concat()
}

#[test]
fn a_seccomp_filter_denies_one_syscall_in_one_child() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let sibling = drv.fork(&[]).unwrap();
    let (ret, _) = drv
        .prctl(&[c], PR_SET_NO_NEW_PRIVS, &[PrctlArg::Int(1)])
        .unwrap();
    assert_eq!(ret, 0);
    assert_eq!(proc_status(c.as_raw(), "NoNewPrivs").as_deref(), Some("1"));
    let (ret, _) = drv
        .prctl(
            &[c],
            PR_SET_SECCOMP,
            &[
                PrctlArg::Int(SECCOMP_MODE_FILTER),
                sock_fprog(deny_one(NR_GETCWD)),
            ],
        )
        .unwrap();
    assert_eq!(ret, 0);
    assert_eq!(proc_status(c.as_raw(), "Seccomp").as_deref(), Some("2"));

    let err = drv.getcwd(&[c]).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EPERM), "{err}");
    assert_eq!(
        err.to_string(),
        format!("getcwd [{c}]: EPERM: Operation not permitted")
    );
    // Everything else still works in c: the loop, its replies, forks.
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
    drv.chdir(&[c], "/").unwrap();
    let k = drv.fork(&[c]).unwrap();
    // A child inherits the filter.
    let err = drv.getcwd(&[c, k]).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EPERM), "{err}");
    assert_eq!(drv.getpid(&[c, k]).unwrap(), k);
    // The sibling and the port are untouched.
    assert!(!drv.getcwd(&[sibling]).unwrap().is_empty());
    assert!(!drv.getcwd(&[]).unwrap().is_empty());
    assert_eq!(
        proc_status(sibling.as_raw(), "Seccomp").as_deref(),
        Some("0")
    );
    // A broken filter is refused by the kernel, and c is unharmed.
    let err = drv
        .prctl(
            &[c],
            PR_SET_SECCOMP,
            &[
                PrctlArg::Int(SECCOMP_MODE_FILTER),
                sock_fprog(vec![0xff; 8]),
            ],
        )
        .unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
}

#[test]
fn prctl_sets_and_reads_back_the_process_name() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let comm = |pid: Pid| {
        let s = std::fs::read(format!("/proc/{pid}/comm")).unwrap();
        s.strip_suffix(b"\n").unwrap().to_vec()
    };
    let get_name = |path: &[Pid]| {
        let (ret, args) = drv
            .prctl(path, PR_GET_NAME, &[PrctlArg::Buf(vec![0u8; 16].into())])
            .unwrap();
        assert_eq!(ret, 0);
        match &args[0] {
            PrctlArg::Buf(b) => {
                let b = b.as_slice();
                assert_eq!(b.len(), 16);
                b[..b.iter().position(|&x| x == 0).unwrap()].to_vec()
            }
            other => panic!("{other:?}"),
        }
    };
    let before = comm(c);
    assert!(!before.is_empty());
    assert_eq!(get_name(&[c]), before);
    drv.prctl(
        &[c],
        PR_SET_NAME,
        &[PrctlArg::Buf(b"alcove-test-nm\0".to_vec().into())],
    )
    .unwrap();
    assert_eq!(comm(c), b"alcove-test-nm");
    assert_eq!(get_name(&[c]), b"alcove-test-nm");
    assert_eq!(get_name(&[]), comm(Pid::from_raw(drv.port_pid() as i32)));
    assert_ne!(get_name(&[]), b"alcove-test-nm");
    let err = drv.prctl(&[c], -1, &[]).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
}

// ---- signals ---------------------------------------------------------------------

#[test]
fn sigaction_traps_ignores_and_restores_the_default() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let pid = c.as_raw();

    // trap: the signal becomes an event of c.
    assert_eq!(
        drv.sigaction(&[c], SIGUSR1, SigHandler::Trap).unwrap(),
        SigHandler::Dfl
    );
    assert!(in_sigmask(pid, "SigCgt", SIGUSR1));
    drv.kill(&[], pid, SIGUSR1).unwrap();
    assert_eq!(next_event(&drv, &[c]), Event::Signal { signum: SIGUSR1 });
    assert_eq!(drv.getpid(&[c]).unwrap(), c);

    // ignore: nothing comes. SIGUSR2, trapped and sent after it, is the
    // first event (a SIGUSR1 that got through would come first: sent
    // first, and the lower number when both are pending).
    assert_eq!(
        drv.sigaction(&[c], SIGUSR1, SigHandler::Ign).unwrap(),
        SigHandler::Trap
    );
    assert!(in_sigmask(pid, "SigIgn", SIGUSR1));
    assert!(!in_sigmask(pid, "SigCgt", SIGUSR1));
    assert_eq!(
        drv.sigaction(&[c], SIGUSR2, SigHandler::Trap).unwrap(),
        SigHandler::Dfl
    );
    drv.kill(&[], pid, SIGUSR1).unwrap();
    drv.kill(&[], pid, SIGUSR2).unwrap();
    assert_eq!(next_event(&drv, &[c]), Event::Signal { signum: SIGUSR2 });
    assert_eq!(drv.getpid(&[c]).unwrap(), c, "still answers");

    // default: SIGUSR1 kills c; its parent reports how.
    assert_eq!(
        drv.sigaction(&[c], SIGUSR1, SigHandler::Dfl).unwrap(),
        SigHandler::Ign
    );
    assert!(!in_sigmask(pid, "SigIgn", SIGUSR1));
    assert!(!in_sigmask(pid, "SigCgt", SIGUSR1));
    drv.kill(&[], pid, SIGUSR1).unwrap();
    assert_eq!(next_event(&drv, &[c]), Event::TermSig { signum: SIGUSR1 });
    assert_eq!(next_event(&drv, &[]), Event::Signal { signum: SIGCHLD });
    assert!(drv.getpid(&[c]).is_err());

    // The port's own dispositions were never touched.
    let port = drv.port_pid() as i32;
    assert!(!in_sigmask(port, "SigCgt", SIGUSR1) && !in_sigmask(port, "SigIgn", SIGUSR1));
    let err = drv.sigaction(&[], SIGKILL, SigHandler::Trap).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EINVAL), "{err}");
}

#[test]
fn sigchld_is_refused_by_sigaction_and_governed_by_the_option() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    for h in [SigHandler::Dfl, SigHandler::Ign, SigHandler::Trap] {
        let err = drv.sigaction(&[c], SIGCHLD, h).unwrap_err();
        assert_bad_arg(&err, "sigchld option");
        assert!(
            err.to_string()
                .starts_with(&format!("sigaction [{c}]: bad argument")),
            "{err}"
        );
    }
    // Still caught by the loop, which still reaps and reports.
    assert!(in_sigmask(c.as_raw(), "SigCgt", SIGCHLD));

    drv.setopt(&[c], Opt::Sigchld, 0).unwrap();
    let k = drv.fork(&[c]).unwrap();
    drv.exit(&[c, k], 0).unwrap();
    assert_eq!(next_event(&drv, &[c, k]), Event::ExitStatus { status: 0 });
    // A SIGCHLD event would have been sent with the exit, before this
    // reply.
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
    assert_eq!(drv.event(&[c], Duration::ZERO).unwrap(), None);

    drv.setopt(&[c], Opt::Sigchld, 1).unwrap();
    let k = drv.fork(&[c]).unwrap();
    drv.exit(&[c, k], 3).unwrap();
    assert_eq!(next_event(&drv, &[c, k]), Event::ExitStatus { status: 3 });
    assert_eq!(next_event(&drv, &[c]), Event::Signal { signum: SIGCHLD });
}

// ---- the environment ---------------------------------------------------------------

#[test]
fn setenv_getenv_unsetenv_clearenv_and_environ() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let value: &[u8] = b"v\xff\xfe\x01 =x";
    let entry = [&b"ALCOVE_TEST_A="[..], value].concat();
    assert_eq!(drv.getenv(&[c], "ALCOVE_TEST_A").unwrap(), None);
    drv.setenv(&[c], "ALCOVE_TEST_A", value, true).unwrap();
    assert_eq!(
        drv.getenv(&[c], "ALCOVE_TEST_A").unwrap().as_deref(),
        Some(value)
    );
    assert!(drv.environ(&[c]).unwrap().contains(&entry));
    // overwrite false keeps the old value; true replaces it.
    drv.setenv(&[c], "ALCOVE_TEST_A", "other", false).unwrap();
    assert_eq!(
        drv.getenv(&[c], "ALCOVE_TEST_A").unwrap().as_deref(),
        Some(value)
    );
    drv.setenv(&[c], "ALCOVE_TEST_B", "new", false).unwrap();
    assert_eq!(
        drv.getenv(&[c], "ALCOVE_TEST_B").unwrap().as_deref(),
        Some(&b"new"[..])
    );
    drv.setenv(&[c], "ALCOVE_TEST_B", "", true).unwrap();
    assert_eq!(
        drv.getenv(&[c], "ALCOVE_TEST_B").unwrap().as_deref(),
        Some(&b""[..])
    );
    // Only c changed.
    assert_eq!(drv.getenv(&[], "ALCOVE_TEST_A").unwrap(), None);

    drv.unsetenv(&[c], "ALCOVE_TEST_A").unwrap();
    assert_eq!(drv.getenv(&[c], "ALCOVE_TEST_A").unwrap(), None);
    assert!(
        !drv.environ(&[c])
            .unwrap()
            .iter()
            .any(|e| e.starts_with(b"ALCOVE_TEST_A="))
    );
    drv.unsetenv(&[c], "ALCOVE_TEST_NEVER_SET").unwrap();
    for bad in [&b""[..], b"A=B", b"A\0B"] {
        let err = drv.setenv(&[c], bad, "x", true).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EINVAL), "{bad:?}: {err}");
    }

    assert!(!drv.environ(&[c]).unwrap().is_empty());
    drv.clearenv(&[c]).unwrap();
    assert_eq!(drv.environ(&[c]).unwrap(), Vec::<Vec<u8>>::new());
    assert_eq!(drv.getenv(&[c], "ALCOVE_TEST_B").unwrap(), None);
    assert!(
        !drv.environ(&[]).unwrap().is_empty(),
        "the port keeps its own"
    );
}

/// What setenv changed is the C environment a program exec'd there gets,
/// non-UTF-8 bytes included.
#[test]
fn setenv_reaches_an_execd_program() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    drv.clearenv(&[c]).unwrap();
    drv.setenv(&[c], "ALCOVE_TEST_X", b"a\xffb", true).unwrap();
    drv.execvp(&[c], "/usr/bin/env", &["env"]).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !out.ends_with(b"\n") {
        assert!(Instant::now() < deadline, "{out:?}");
        if let Some(d) = drv.stdout(&[c], Duration::from_secs(1)).unwrap() {
            out.extend(d);
        }
    }
    assert_eq!(out, b"ALCOVE_TEST_X=a\xffb\n");
    assert_eq!(next_event(&drv, &[c]), Event::ExitStatus { status: 0 });
}

#[test]
fn the_ports_environment_is_the_one_it_was_started_with() {
    let value = std::ffi::OsString::from_vec(b"\xff\xfe bytes".to_vec());
    let drv = start(
        Options::default().env([("ALCOVE_TEST_ONE", "1".into()), ("ALCOVE_TEST_TWO", value)]),
    );
    let want = vec![
        b"ALCOVE_TEST_ONE=1".to_vec(),
        b"ALCOVE_TEST_TWO=\xff\xfe bytes".to_vec(),
    ];
    assert_eq!(sorted(drv.environ(&[]).unwrap()), want);
    let c = drv.fork(&[]).unwrap();
    assert_eq!(sorted(drv.environ(&[c]).unwrap()), want);
}

// ---- constants ---------------------------------------------------------------------

#[test]
fn constants_are_looked_up_by_name() {
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    for path in [&[][..], &[c]] {
        assert_eq!(
            drv.define(path, &["CLONE_NEWNS", "clone_newpid"]).unwrap(),
            CLONE_NEWNS | CLONE_NEWPID
        );
        assert_eq!(drv.define(path, &["CLONE_NEWNET"]).unwrap(), CLONE_NEWNET);
        assert_eq!(
            drv.clone_define(path, "CLONE_NEWUTS").unwrap(),
            CLONE_NEWUTS
        );
        assert_eq!(drv.file_define(path, "O_RDONLY").unwrap(), O_RDONLY);
        assert_eq!(drv.file_define(path, "O_CREAT").unwrap(), O_CREAT);
        assert_eq!(drv.mount_define(path, "rdonly").unwrap(), MS_RDONLY);
        assert_eq!(drv.mount_define(path, "MS_REC").unwrap(), MS_REC);
        assert_eq!(drv.prctl_define(path, "PR_SET_NAME").unwrap(), 15);
        assert_eq!(
            drv.prctl_define(path, "SECCOMP_MODE_FILTER").unwrap(),
            SECCOMP_MODE_FILTER
        );
        assert_eq!(
            drv.rlimit_define(path, "RLIMIT_NOFILE").unwrap(),
            RLIMIT_NOFILE
        );
        assert_eq!(drv.signal_define(path, "SIGTERM").unwrap(), 15);
        assert_eq!(drv.signal_define(path, "sigusr1").unwrap(), SIGUSR1);
        assert_eq!(drv.signal_constant(path, 17).unwrap(), "SIGCHLD");
        assert_eq!(drv.signal_constant(path, SIGKILL).unwrap(), "SIGKILL");
    }
    let unknown = [
        drv.define(&[c], &["CLONE_NEWNS", "NOT_A_FLAG"]).map(drop),
        drv.clone_define(&[c], "CLONE_NOPE").map(drop),
        drv.file_define(&[c], "O_NOPE").map(drop),
        drv.mount_define(&[c], "nope_mnt").map(drop),
        drv.prctl_define(&[c], "PR_NOPE").map(drop),
        drv.rlimit_define(&[c], "RLIMIT_NOPE").map(drop),
        drv.signal_define(&[c], "SIGNOPE").map(drop),
    ];
    let names = [
        "NOT_A_FLAG",
        "CLONE_NOPE",
        "O_NOPE",
        "nope_mnt",
        "PR_NOPE",
        "RLIMIT_NOPE",
        "SIGNOPE",
    ];
    for (r, name) in unknown.into_iter().zip(names) {
        let err = r.unwrap_err();
        assert_bad_arg(&err, name);
        assert!(err.to_string().contains(name), "{err}");
    }
    let err = drv.signal_constant(&[c], 999).unwrap_err();
    assert_bad_arg(&err, "999");
    assert_eq!(drv.getpid(&[c]).unwrap(), c);
}

// ---- large values ------------------------------------------------------------------

const MANY: usize = 30_000;

#[test]
fn an_environ_of_30000_variables_comes_back_whole() {
    let vars: Vec<(String, String)> = (0..MANY)
        .map(|i| (format!("ALCOVE_TEST_{i:05}"), format!("value-{i}")))
        .collect();
    let drv = start(Options::default().env(vars.clone()));
    let c = drv.fork(&[]).unwrap();
    let want = sorted(
        vars.iter()
            .map(|(k, v)| format!("{k}={v}").into_bytes())
            .collect(),
    );
    let started = Instant::now();
    let got = drv.environ(&[c]).unwrap();
    assert_eq!(got.len(), MANY);
    assert!(sorted(got) == want, "the environment differs");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        drv.getenv(&[c], "ALCOVE_TEST_29999").unwrap().as_deref(),
        Some(&b"value-29999"[..])
    );
}

#[test]
fn a_readdir_of_30000_entries_comes_back_whole() {
    let tmp = TempDir::in_memory("readdir");
    let mut want: Vec<Vec<u8>> = (0..MANY)
        .map(|i| format!("entry-{i:05}").into_bytes())
        .collect();
    for name in &want {
        std::fs::File::create(os_path(&tmp.join(name))).unwrap();
    }
    want.extend([b".".to_vec(), b"..".to_vec()]);
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let got = drv.readdir(&[c], tmp.bytes()).unwrap();
    assert_eq!(got.len(), MANY + 2);
    assert!(sorted(got) == sorted(want), "the listing differs");
}

#[test]
fn a_read_of_1_mib_comes_back_whole_and_too_large_a_read_is_refused() {
    let tmp = TempDir::new("read");
    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(tmp.path().join("big"), &data).unwrap();
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    let fd = drv.open(&[c], tmp.join(b"big"), O_RDONLY, 0).unwrap();
    let got = drv.read(&[c], fd, 1 << 20).unwrap();
    assert_eq!(got.len(), 1 << 20);
    assert!(got == data, "the bytes differ");
    assert_eq!(drv.read(&[c], fd, 10).unwrap(), b"", "at the end");

    // A 1 MiB write, the other way.
    let fd2 = drv
        .open(&[c], tmp.join(b"copy"), O_CREAT | O_WRONLY, 0o600)
        .unwrap();
    assert_eq!(drv.write(&[c], fd2, &data).unwrap(), data.len());
    assert!(std::fs::read(tmp.path().join("copy")).unwrap() == data);

    // The largest read the loop takes fills a frame, and comes back whole
    // through two hops; past it, the read is refused before it is made.
    let k = drv.fork(&[c]).unwrap();
    let zero = drv.open(&[c, k], "/dev/zero", O_RDONLY, 0).unwrap();
    let largest = (alcove_proto::MAX_PAYLOAD - 64) as u64;
    let got = drv.read(&[c, k], zero, largest).unwrap();
    assert_eq!(got.len() as u64, largest);
    assert!(got.iter().all(|&b| b == 0));
    for count in [largest + 1, alcove_proto::MAX_FRAME as u64 + 1, u64::MAX] {
        let err = drv.read(&[c, k], zero, count).unwrap_err();
        assert_bad_arg(&err, &format!("read of {count} bytes"));
        let err = drv.read(&[c], fd, count).unwrap_err();
        assert_bad_arg(&err, &format!("read of {count} bytes"));
    }
    assert_eq!(drv.getpid(&[c]).unwrap(), c, "still answers");
    assert_eq!(drv.getpid(&[c, k]).unwrap(), k, "still answers");
    drv.close(&[c], fd).unwrap();
    drv.close(&[c], fd2).unwrap();
}

/// `EROFS`, which `Errno` has no constant for.
fn erofs() -> Errno {
    Errno::from_name("EROFS").expect("EROFS in the errno table")
}

/// The supplementary groups of a child, as `/proc/<pid>/status` lists them.
fn groups_of(pid: Pid) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn setgroups_sets_and_drops_the_supplementary_groups() {
    if !require_root("setgroups_sets_and_drops_the_supplementary_groups") {
        return;
    }
    let drv = drv();
    let c = drv.fork(&[]).unwrap();
    drv.setgroups(&[c], &[1000, 0xf000_0001]).unwrap();
    assert_eq!(groups_of(c), "1000 4026531841");
    drv.setgroups(&[c], &[]).unwrap();
    assert_eq!(groups_of(c), "");
    assert_ne!(groups_of(drv.getpid(&[]).unwrap()), "1000 4026531841");
    // Without privileges, no group can be taken back.
    drv.setuid(&[c], 0xf000_0001).unwrap();
    let err = drv.setgroups(&[c], &[0]).unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EPERM), "{err}");
    assert_eq!(groups_of(c), "");
}
