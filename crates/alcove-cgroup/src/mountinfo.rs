//! Finding the cgroup hierarchies in a mount table: pure parsing of
//! `/proc/self/mountinfo` and `/proc/mounts`.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// The version of a cgroup hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// cgroup v1: one hierarchy per controller (or set of controllers),
    /// filesystem type `cgroup`.
    V1,
    /// cgroup v2: the single unified hierarchy, filesystem type `cgroup2`.
    V2,
}

/// A mounted cgroup hierarchy.
///
/// Groups are directories under [`mount`](Self::mount); a group name is
/// relative to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Hierarchy {
    /// A v1 hierarchy and the controllers bound to it.
    V1 {
        /// Where it is mounted (`/sys/fs/cgroup/memory`).
        mount: PathBuf,
        /// Its controllers (`["cpu", "cpuacct"]`); empty for a named
        /// hierarchy without controllers.
        controllers: Vec<String>,
        /// The `name=` of a named hierarchy (`systemd`).
        name: Option<String>,
    },
    /// The v2 unified hierarchy. Its controllers are those listed in
    /// `cgroup.controllers` at its root: in a hybrid setup, those not bound
    /// to a v1 hierarchy.
    V2 {
        /// Where it is mounted (`/sys/fs/cgroup`, or
        /// `/sys/fs/cgroup/unified` in a hybrid setup, or anywhere).
        mount: PathBuf,
    },
}

impl Hierarchy {
    /// Where it is mounted.
    pub fn mount(&self) -> &Path {
        match self {
            Hierarchy::V1 { mount, .. } | Hierarchy::V2 { mount } => mount,
        }
    }

    /// Its version.
    pub fn version(&self) -> Version {
        match self {
            Hierarchy::V1 { .. } => Version::V1,
            Hierarchy::V2 { .. } => Version::V2,
        }
    }

    /// Whether this v1 hierarchy has `controller`, or is the named
    /// hierarchy `controller` (`name=systemd`). Always false for v2, whose
    /// controllers are in a file.
    pub fn is_v1_of(&self, controller: &str) -> bool {
        match self {
            Hierarchy::V1 {
                controllers, name, ..
            } => {
                controllers.iter().any(|c| c == controller)
                    || name
                        .as_deref()
                        .is_some_and(|n| controller.strip_prefix("name=") == Some(n))
            }
            Hierarchy::V2 { .. } => false,
        }
    }
}

/// Mount options of a v1 cgroup mount that are not controllers.
const NOT_CONTROLLERS: &[&str] = &[
    "rw",
    "ro",
    "nosuid",
    "nodev",
    "noexec",
    "sync",
    "async",
    "dirsync",
    "mand",
    "nomand",
    "atime",
    "noatime",
    "diratime",
    "nodiratime",
    "relatime",
    "norelatime",
    "strictatime",
    "lazytime",
    "silent",
    "xattr",
    "noprefix",
    "clone_children",
    "cpuset_v2_mode",
    "favordynmods",
    "nofavordynmods",
    "all",
    "none",
];

/// Splits the options of a v1 mount into its controllers and its name.
fn v1_options(options: &str) -> (Vec<String>, Option<String>) {
    let mut controllers = Vec::new();
    let mut name = None;
    for opt in options.split(',') {
        if let Some(n) = opt.strip_prefix("name=") {
            name = Some(n.to_owned());
        } else if !opt.is_empty() && !opt.contains('=') && !NOT_CONTROLLERS.contains(&opt) {
            controllers.push(opt.to_owned());
        }
    }
    controllers.sort();
    controllers.dedup();
    (controllers, name)
}

/// Decodes the octal escapes the kernel writes in mount tables (`\040`
/// for a space, `\011` tab, `\012` newline, `\134` backslash).
pub(crate) fn unescape(field: &str) -> PathBuf {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = b[i + 1..i + 4]
                .iter()
                .fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
            if let Ok(v) = u8::try_from(v) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    PathBuf::from(OsString::from_vec(out))
}

fn hierarchy(fstype: &str, mount: &str, options: &str) -> Option<Hierarchy> {
    match fstype {
        "cgroup" => {
            let (controllers, name) = v1_options(options);
            Some(Hierarchy::V1 {
                mount: unescape(mount),
                controllers,
                name,
            })
        }
        "cgroup2" => Some(Hierarchy::V2 {
            mount: unescape(mount),
        }),
        _ => None,
    }
}

/// The cgroup hierarchies of a `/proc/<pid>/mountinfo`, in mount order.
/// A hierarchy mounted more than once (same device) is listed once, at its
/// first mount point.
///
/// A line is `id parent major:minor root mount-point options
/// [optional fields...] - fstype source super-options`; see
/// [`proc_pid_mountinfo(5)`](https://man7.org/linux/man-pages/man5/proc_pid_mountinfo.5.html).
///
/// # Errors
/// A line that does not have this shape: the reason names its number.
pub fn parse_mountinfo(text: &str) -> Result<Vec<Hierarchy>, String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        let fields: Vec<&str> = line.split(' ').collect();
        let sep = fields
            .iter()
            .position(|f| *f == "-")
            .ok_or_else(|| bad("no `-` separator"))?;
        if sep < 6 || fields.len() < sep + 4 {
            return Err(bad("too few fields"));
        }
        let (dev, mount) = (fields[2], fields[4]);
        let (fstype, superopts) = (fields[sep + 1], fields[sep + 3]);
        if let Some(h) = hierarchy(fstype, mount, superopts) {
            if seen.contains(&dev) {
                continue;
            }
            seen.push(dev);
            out.push(h);
        }
    }
    Ok(out)
}

/// The cgroup hierarchies of a `/proc/mounts` (`source mount-point fstype
/// options dump pass`), in mount order. A hierarchy mounted more than once
/// (same type and controllers) is listed once, at its first mount point.
///
/// # Errors
/// A line with fewer than four fields: the reason names its number.
pub fn parse_mounts(text: &str) -> Result<Vec<Hierarchy>, String> {
    let mut out: Vec<Hierarchy> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() < 4 {
            return Err(format!("line {}: too few fields: {line:?}", n + 1));
        }
        if let Some(h) = hierarchy(fields[2], fields[1], fields[3]) {
            let same = |o: &Hierarchy| match (o, &h) {
                (Hierarchy::V2 { .. }, Hierarchy::V2 { .. }) => true,
                (
                    Hierarchy::V1 {
                        controllers: c1,
                        name: n1,
                        ..
                    },
                    Hierarchy::V1 {
                        controllers: c2,
                        name: n2,
                        ..
                    },
                ) => c1 == c2 && n1 == n2,
                _ => false,
            };
            if !out.iter().any(same) {
                out.push(h);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(mount: &str, controllers: &[&str], name: Option<&str>) -> Hierarchy {
        Hierarchy::V1 {
            mount: mount.into(),
            controllers: controllers.iter().map(|s| s.to_string()).collect(),
            name: name.map(str::to_owned),
        }
    }

    fn v2(mount: &str) -> Hierarchy {
        Hierarchy::V2 {
            mount: mount.into(),
        }
    }

    /// CentOS 7: v1 only, with joined cpu,cpuacct and net_cls,net_prio.
    const V1_ONLY: &str = "\
18 41 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw
24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:7 - tmpfs tmpfs ro,mode=755
25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
27 24 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpuacct,cpu
28 24 0:24 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory
29 24 0:25 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpuset
30 24 0:26 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,net_prio,net_cls
31 24 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,pids
41 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/centos-root rw,attr2,inode64,noquota
";

    /// Fedora / Debian 12: v2 only, at /sys/fs/cgroup.
    const V2_ONLY: &str = "\
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
26 23 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
27 23 0:24 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:5 - pstore pstore rw
";

    /// Ubuntu 20.04: hybrid, v2 (no controllers) at /sys/fs/cgroup/unified.
    const HYBRID: &str = "\
24 29 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
33 24 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
34 33 0:28 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
35 33 0:29 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
38 33 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
39 33 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
40 33 0:34 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
41 33 0:35 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,cpuset,clone_children
";

    #[test]
    fn v1_only_lists_each_hierarchy_and_its_controllers() {
        let h = parse_mountinfo(V1_ONLY).unwrap();
        assert_eq!(
            h,
            [
                v1("/sys/fs/cgroup/systemd", &[], Some("systemd")),
                v1("/sys/fs/cgroup/cpu,cpuacct", &["cpu", "cpuacct"], None),
                v1("/sys/fs/cgroup/memory", &["memory"], None),
                v1("/sys/fs/cgroup/cpuset", &["cpuset"], None),
                v1(
                    "/sys/fs/cgroup/net_cls,net_prio",
                    &["net_cls", "net_prio"],
                    None
                ),
                v1("/sys/fs/cgroup/pids", &["pids"], None),
            ]
        );
        assert!(h[0].is_v1_of("name=systemd"));
        assert!(!h[0].is_v1_of("systemd"));
        assert!(h[1].is_v1_of("cpuacct"));
        assert!(!h[1].is_v1_of("memory"));
    }

    #[test]
    fn v2_only_is_one_hierarchy() {
        let h = parse_mountinfo(V2_ONLY).unwrap();
        assert_eq!(h, [v2("/sys/fs/cgroup")]);
        assert_eq!(h[0].version(), Version::V2);
        assert!(!h[0].is_v1_of("memory"));
    }

    #[test]
    fn hybrid_has_both() {
        let h = parse_mountinfo(HYBRID).unwrap();
        assert_eq!(h.len(), 6);
        assert_eq!(h[0], v2("/sys/fs/cgroup/unified"));
        assert_eq!(h[5], v1("/sys/fs/cgroup/cpuset", &["cpuset"], None));
        assert_eq!(h.iter().filter(|h| h.version() == Version::V1).count(), 5);
    }

    #[test]
    fn this_kind_of_machine_hybrid_without_systemd() {
        // The CI machine: plain v1 mounts and an empty v2 one.
        let text = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
        assert_eq!(
            parse_mountinfo(text).unwrap(),
            [
                v1("/sys/fs/cgroup/cpu", &["cpu"], None),
                v1("/sys/fs/cgroup/memory", &["memory"], None),
                v1("/sys/fs/cgroup/systemd", &[], Some("systemd")),
                v2("/sys/fs/cgroup/unified"),
            ]
        );
    }

    #[test]
    fn v2_elsewhere_and_mounted_twice() {
        // Mounted at /mnt/cg2, then bind-mounted again: listed once.
        let text = "\
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
90 22 0:23 / /mnt/cg2 rw,relatime shared:40 - cgroup2 none rw
91 22 0:23 / /srv/cg2\\040again rw,relatime shared:40 - cgroup2 none rw
";
        assert_eq!(parse_mountinfo(text).unwrap(), [v2("/mnt/cg2")]);
    }

    #[test]
    fn optional_fields_may_be_absent_or_many() {
        let text = "\
90 22 0:23 / /mnt/a rw - cgroup2 none rw
91 22 0:24 / /mnt/b rw shared:4 master:2 propagate_from:1 unbindable - cgroup cgroup rw,pids
";
        assert_eq!(
            parse_mountinfo(text).unwrap(),
            [v2("/mnt/a"), v1("/mnt/b", &["pids"], None)]
        );
    }

    #[test]
    fn escaped_spaces_and_backslashes_are_decoded() {
        let text = "\
90 22 0:40 / /mnt/my\\040cgroups/mem\\040ory rw,relatime - cgroup cgroup rw,memory
91 22 0:41 / /mnt/tab\\011back\\134slash rw,relatime - cgroup2 cgroup2 rw
";
        assert_eq!(
            parse_mountinfo(text).unwrap(),
            [
                v1("/mnt/my cgroups/mem ory", &["memory"], None),
                v2("/mnt/tab\tback\\slash"),
            ]
        );
        // Not an escape: left as it is.
        assert_eq!(unescape("a\\09b\\"), PathBuf::from("a\\09b\\"));
    }

    #[test]
    fn options_that_are_not_controllers_are_dropped() {
        let (c, n) = v1_options(
            "rw,nosuid,xattr,noprefix,clone_children,cpuset_v2_mode,release_agent=/x,cpuset,name=foo",
        );
        assert_eq!(c, ["cpuset"]);
        assert_eq!(n.as_deref(), Some("foo"));
    }

    #[test]
    fn malformed_lines_are_errors_with_their_number() {
        let e = parse_mountinfo("22 1 259:2 / / rw shared:1 - ext4 /dev/sda1 rw\nnonsense\n")
            .unwrap_err();
        assert!(e.starts_with("line 2: no `-` separator"), "{e}");
        let e = parse_mountinfo("1 2 - cgroup2 x rw\n").unwrap_err();
        assert!(e.contains("too few fields"), "{e}");
    }

    #[test]
    fn proc_mounts_works_too() {
        let text = "\
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0
cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0
cgroup /mnt/again cgroup rw,relatime,cpu,cpuacct 0 0
none /mnt/cg\\0402 cgroup2 rw,relatime 0 0
";
        assert_eq!(
            parse_mounts(text).unwrap(),
            [
                v2("/sys/fs/cgroup/unified"),
                v1("/sys/fs/cgroup/systemd", &[], Some("systemd")),
                v1("/sys/fs/cgroup/cpu,cpuacct", &["cpu", "cpuacct"], None),
            ]
        );
        assert!(parse_mounts("a b\n").is_err());
    }
}
