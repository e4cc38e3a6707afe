//! Limits in the user's terms, and the file and text each becomes in a v1
//! or a v2 hierarchy.

use crate::error::{Error, Result};
use crate::mountinfo::Version;

/// The file a process is written to, to move it into a group: the whole
/// process (every thread), in both versions. (v1 also has `tasks`, which
/// moves a single thread: the seed writes there; it works through
/// [`Cgroups::set`](crate::Cgroups::set).)
pub const PROCS: &str = "cgroup.procs";

/// A limit on a group, the same intent in v1 and v2: [`Limit::file`] and
/// [`Limit::value`] say where and how each version takes it.
///
/// | limit | controller | v1 file | v2 file |
/// |---|---|---|---|
/// | `Memory(Some(n))` | `memory` | `memory.limit_in_bytes` = `n` | `memory.max` = `n` |
/// | `Memory(None)` | `memory` | `memory.limit_in_bytes` = `-1` | `memory.max` = `max` |
/// | `Cpus(s)` | `cpuset` | `cpuset.cpus` = `s` | `cpuset.cpus` = `s` |
/// | `Mems(s)` | `cpuset` | `cpuset.mems` = `s` | `cpuset.mems` = `s` |
/// | `Pids(Some(n))` | `pids` | `pids.max` = `n` | `pids.max` = `n` |
/// | `Pids(None)` | `pids` | `pids.max` = `max` | `pids.max` = `max` |
///
/// The memory limit does not count swap in either version (v1
/// `memory.memsw.limit_in_bytes` counts memory and swap together, v2
/// `memory.swap.max` swap alone: set them with
/// [`Cgroups::set`](crate::Cgroups::set) if you need them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// The most memory the group's processes may use, in bytes; `None`:
    /// no limit. Past it, the kernel reclaims, then its OOM killer kills a
    /// process of the group.
    Memory(Option<u64>),
    /// The CPUs the group's processes may run on, in the kernel's list
    /// format: `"0"`, `"0-3,6"`.
    Cpus(String),
    /// The memory nodes the group's processes may allocate from, in the
    /// same format: `"0"`.
    Mems(String),
    /// The most processes (and threads) the group may hold; `None`: no
    /// limit. A `fork` past it fails with `EAGAIN`.
    Pids(Option<u64>),
}

impl Limit {
    /// The controller that enforces it.
    pub fn controller(&self) -> &'static str {
        match self {
            Limit::Memory(_) => "memory",
            Limit::Cpus(_) | Limit::Mems(_) => "cpuset",
            Limit::Pids(_) => "pids",
        }
    }

    /// The file that holds it in a group of a hierarchy of this version.
    ///
    /// ```
    /// use alcove_cgroup::{Limit, Version};
    /// assert_eq!(Limit::Memory(None).file(Version::V1), "memory.limit_in_bytes");
    /// assert_eq!(Limit::Memory(None).file(Version::V2), "memory.max");
    /// ```
    pub fn file(&self, version: Version) -> &'static str {
        match (self, version) {
            (Limit::Memory(_), Version::V1) => "memory.limit_in_bytes",
            (Limit::Memory(_), Version::V2) => "memory.max",
            (Limit::Cpus(_), _) => "cpuset.cpus",
            (Limit::Mems(_), _) => "cpuset.mems",
            (Limit::Pids(_), _) => "pids.max",
        }
    }

    /// The text written to [`file`](Self::file).
    ///
    /// ```
    /// use alcove_cgroup::{Limit, Version};
    /// assert_eq!(Limit::Memory(Some(16 << 20)).value(Version::V2), "16777216");
    /// assert_eq!(Limit::Memory(None).value(Version::V1), "-1");
    /// assert_eq!(Limit::Memory(None).value(Version::V2), "max");
    /// ```
    pub fn value(&self, version: Version) -> String {
        match (self, version) {
            (Limit::Memory(None), Version::V1) => "-1".to_owned(),
            (Limit::Memory(None) | Limit::Pids(None), _) => "max".to_owned(),
            (Limit::Memory(Some(n)) | Limit::Pids(Some(n)), _) => n.to_string(),
            (Limit::Cpus(s) | Limit::Mems(s), _) => s.clone(),
        }
    }

    /// The limit a seed-style key and value stand for, whichever version
    /// the key comes from: `("memory.limit_in_bytes", "16m")` and
    /// `("memory.max", "16M")` are both `Memory(Some(16 MiB))`. This is how
    /// a program written with the seed's v1 keys runs on v2 too.
    ///
    /// Sizes take the kernel's suffixes (`k`, `m`, `g`, `t`, `p`, `e`, in
    /// either case, powers of 1024); `-1` and `max` are no limit.
    ///
    /// ```
    /// use alcove_cgroup::{Limit, Version};
    /// let l = Limit::from_key("memory.limit_in_bytes", "16m")?;
    /// assert_eq!(l, Limit::Memory(Some(16 << 20)));
    /// assert_eq!((l.file(Version::V2), l.value(Version::V2).as_str()), ("memory.max", "16777216"));
    /// # Ok::<(), alcove_cgroup::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Value`] for a key that is no limit (`tasks` and
    /// `cgroup.procs` are [`Cgroups::add`](crate::Cgroups::add)), or a
    /// value that does not parse.
    pub fn from_key(key: &str, value: &str) -> Result<Limit> {
        let bad = |reason: String| Error::Value {
            key: key.to_owned(),
            value: value.to_owned(),
            reason,
        };
        let v = value.trim();
        match key {
            "memory.limit_in_bytes" | "memory.max" => parse_size(v).map(Limit::Memory).map_err(bad),
            "pids.max" => match v {
                "max" => Ok(Limit::Pids(None)),
                n => n
                    .parse()
                    .map(|n| Limit::Pids(Some(n)))
                    .map_err(|e| bad(format!("not a number of processes: {e}"))),
            },
            "cpuset.cpus" => Ok(Limit::Cpus(v.to_owned())),
            "cpuset.mems" => Ok(Limit::Mems(v.to_owned())),
            "tasks" | PROCS => Err(bad(
                "it moves a process, it is not a limit: use Cgroups::add".to_owned(),
            )),
            _ => Err(bad(
                "not a known limit (memory.limit_in_bytes, memory.max, cpuset.cpus, \
                 cpuset.mems, pids.max): use Cgroups::set"
                    .to_owned(),
            )),
        }
    }
}

/// A size as the kernel's `memparse` reads it; `None` for no limit.
fn parse_size(v: &str) -> std::result::Result<Option<u64>, String> {
    if v == "-1" || v == "max" {
        return Ok(None);
    }
    let (digits, shift) = match v.as_bytes().last().map(u8::to_ascii_lowercase) {
        Some(b'k') => (&v[..v.len() - 1], 10),
        Some(b'm') => (&v[..v.len() - 1], 20),
        Some(b'g') => (&v[..v.len() - 1], 30),
        Some(b't') => (&v[..v.len() - 1], 40),
        Some(b'p') => (&v[..v.len() - 1], 50),
        Some(b'e') => (&v[..v.len() - 1], 60),
        _ => (v, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|e| format!("not a size (bytes, 16m, 1G, -1 or max): {e}"))?;
    n.checked_mul(1 << shift)
        .map(Some)
        .ok_or_else(|| "too large".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_intent_has_its_v1_and_v2_file_and_text() {
        use Version::{V1, V2};
        let cases = [
            (
                Limit::Memory(Some(16 << 20)),
                "memory",
                [
                    ("memory.limit_in_bytes", "16777216"),
                    ("memory.max", "16777216"),
                ],
            ),
            (
                Limit::Memory(None),
                "memory",
                [("memory.limit_in_bytes", "-1"), ("memory.max", "max")],
            ),
            (
                Limit::Cpus("0-1".into()),
                "cpuset",
                [("cpuset.cpus", "0-1"), ("cpuset.cpus", "0-1")],
            ),
            (
                Limit::Mems("0".into()),
                "cpuset",
                [("cpuset.mems", "0"), ("cpuset.mems", "0")],
            ),
            (
                Limit::Pids(Some(2)),
                "pids",
                [("pids.max", "2"), ("pids.max", "2")],
            ),
            (
                Limit::Pids(None),
                "pids",
                [("pids.max", "max"), ("pids.max", "max")],
            ),
        ];
        for (limit, controller, [one, two]) in cases {
            assert_eq!(limit.controller(), controller, "{limit:?}");
            assert_eq!((limit.file(V1), limit.value(V1).as_str()), one, "{limit:?}");
            assert_eq!((limit.file(V2), limit.value(V2).as_str()), two, "{limit:?}");
        }
    }

    #[test]
    fn the_seeds_v1_keys_map_to_intents() {
        let cases = [
            (
                ("memory.limit_in_bytes", "16m"),
                Limit::Memory(Some(16 << 20)),
            ),
            (
                ("memory.limit_in_bytes", "16777216\n"),
                Limit::Memory(Some(16 << 20)),
            ),
            (("memory.limit_in_bytes", "-1"), Limit::Memory(None)),
            (("memory.max", "1G"), Limit::Memory(Some(1 << 30))),
            (("memory.max", "max"), Limit::Memory(None)),
            (("memory.max", "4k"), Limit::Memory(Some(4096))),
            (("cpuset.cpus", "0"), Limit::Cpus("0".into())),
            (("cpuset.mems", "0"), Limit::Mems("0".into())),
            (("pids.max", "2"), Limit::Pids(Some(2))),
            (("pids.max", "max"), Limit::Pids(None)),
        ];
        for ((k, v), want) in cases {
            assert_eq!(Limit::from_key(k, v).unwrap(), want, "{k} = {v}");
        }
    }

    #[test]
    fn keys_that_are_no_limit_and_bad_values_are_refused() {
        for (k, v, why) in [
            ("tasks", "1", "Cgroups::add"),
            ("cgroup.procs", "1", "Cgroups::add"),
            ("cpu.shares", "512", "Cgroups::set"),
            ("memory.max", "lots", "not a size"),
            ("memory.max", "99999999999e", "too large"),
            ("pids.max", "-1", "not a number"),
        ] {
            let e = Limit::from_key(k, v).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(k), "{k} = {v}: {e}");
        }
    }
}
