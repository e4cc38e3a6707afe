//! [`Cgroups`]: the hierarchies as one process of the tree sees them, and
//! every operation on groups, performed by that process through the `Drv`.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use alcove_client::{Drv, Errno};
use alcove_proto::Pid;

use crate::error::{Error, Result};
use crate::limit::{Limit, PROCS};
use crate::mountinfo::{Hierarchy, Version, parse_mountinfo, parse_mounts};
use crate::name::{check_controller, check_group, check_key, parent, prefixes};

/// Bytes asked for by each `read` of a file.
const READ_CHUNK: u64 = 64 << 10;
/// Where a process lists its mounts; `/proc/mounts` when it is missing.
const MOUNTINFO: &str = "/proc/self/mountinfo";
const MOUNTS: &str = "/proc/mounts";
/// The v2 files that list the controllers a group has, and those it
/// passes on to its children.
const CONTROLLERS: &str = "cgroup.controllers";
const SUBTREE_CONTROL: &str = "cgroup.subtree_control";

/// `open(2)` flags, as the process at the path knows them.
#[derive(Debug, Clone, Copy)]
struct Flags {
    read: i32,
    write: i32,
}

/// The cgroup hierarchies as the process at a fork path sees them, and the
/// operations on their groups, all performed by that process: it does the
/// `mkdir`, `open`, `write` and `rmdir`, with its privileges and in its
/// mount namespace, so the client itself needs no privilege.
///
/// A group is named by its path relative to a hierarchy's mount point
/// (`alcove`, `alcove/sandbox1`), as in the seed (not relative to the cgroup
/// the process is in), checked by [`check_group`]: nothing can lead out of
/// the tree. Keys are file names in the group, checked by
/// [`check_key`].
///
/// Operations come in three kinds:
///
/// - on every hierarchy, as the seed's `alcove_cgroup` does: [`create`],
///   [`destroy`], [`add`], [`remove`], [`procs`];
/// - on the hierarchy that has a controller: [`set_limit`], [`set`],
///   [`get`], [`enable`] (on v2 they enable the controller in the parents'
///   `cgroup.subtree_control` first);
/// - on one given hierarchy, for full control: the `*_in` methods.
///
/// PIDs are those of the pid namespace of the process at the path (for a
/// `Cgroups` of the port, `&[]`, what [`Drv::fork`] returns).
///
/// [`create`]: Self::create
/// [`destroy`]: Self::destroy
/// [`add`]: Self::add
/// [`remove`]: Self::remove
/// [`procs`]: Self::procs
/// [`set_limit`]: Self::set_limit
/// [`set`]: Self::set
/// [`get`]: Self::get
/// [`enable`]: Self::enable
#[derive(Debug, Clone)]
pub struct Cgroups {
    drv: Drv,
    path: Vec<Pid>,
    hierarchies: Vec<Hierarchy>,
    flags: OnceLock<Flags>,
}

fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

/// `dir/group`, or `dir` itself for the root (`""`).
fn join(dir: &Path, group: &str) -> PathBuf {
    if group.is_empty() {
        dir.to_path_buf()
    } else {
        dir.join(group)
    }
}

impl Cgroups {
    /// The hierarchies mounted in the mount namespace of the process at
    /// `path`, found by reading its `/proc/self/mountinfo` (or, where there
    /// is none, `/proc/mounts`) through `drv`: v1 hierarchies (filesystem
    /// type `cgroup`), the v2 one (`cgroup2`, wherever it is mounted), or
    /// both (hybrid). The table is read once: make a new `Cgroups` after
    /// the mounts change.
    ///
    /// # Errors
    /// The table cannot be read ([`Error::Open`], [`Error::Read`], ...) or
    /// parsed ([`Error::Parse`]).
    pub fn new(drv: &Drv, path: &[Pid]) -> Result<Cgroups> {
        let mut cg = Cgroups::with_hierarchies(drv, path, Vec::new());
        cg.hierarchies = cg.detect()?;
        Ok(cg)
    }

    /// These hierarchies, instead of those mounted: for a hierarchy the
    /// mount table does not show, or a test against plain directories.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let drv = alcove_client::Drv::start(Default::default())?;
    /// use alcove_cgroup::{Cgroups, Hierarchy};
    /// let cg = Cgroups::with_hierarchies(&drv, &[], vec![Hierarchy::V2 {
    ///     mount: "/mnt/cg2".into(),
    /// }]);
    /// assert!(cg.v2().is_some());
    /// # Ok(()) }
    /// ```
    pub fn with_hierarchies(drv: &Drv, path: &[Pid], hierarchies: Vec<Hierarchy>) -> Cgroups {
        Cgroups {
            // `Drv::clone` is clone(2): this is `Clone::clone`.
            drv: Clone::clone(drv),
            path: path.to_vec(),
            hierarchies,
            flags: OnceLock::new(),
        }
    }

    fn detect(&self) -> Result<Vec<Hierarchy>> {
        let parse = |file: &str, parsed: std::result::Result<Vec<Hierarchy>, String>| {
            parsed.map_err(|reason| Error::Parse {
                file: file.into(),
                reason,
            })
        };
        match self.read_file(Path::new(MOUNTINFO)) {
            Ok(text) => parse(MOUNTINFO, parse_mountinfo(&text)),
            Err(e) if e.errno() == Some(Errno::ENOENT) => {
                let text = self.read_file(Path::new(MOUNTS))?;
                parse(MOUNTS, parse_mounts(&text))
            }
            Err(e) => Err(e),
        }
    }

    /// The driver the operations go through.
    pub fn drv(&self) -> &Drv {
        &self.drv
    }

    /// The fork path of the process that performs them.
    pub fn path(&self) -> &[Pid] {
        &self.path
    }

    /// The hierarchies, in mount order.
    pub fn hierarchies(&self) -> &[Hierarchy] {
        &self.hierarchies
    }

    /// The v2 hierarchy, if one is mounted.
    pub fn v2(&self) -> Option<&Hierarchy> {
        self.hierarchies.iter().find(|h| h.version() == Version::V2)
    }

    fn mounts(&self) -> Vec<PathBuf> {
        self.hierarchies
            .iter()
            .map(|h| h.mount().to_path_buf())
            .collect()
    }

    /// The controllers of a v2 hierarchy: its root's `cgroup.controllers`.
    /// Empty for a v1 hierarchy.
    ///
    /// # Errors
    /// The file cannot be read.
    pub fn v2_controllers(&self, h: &Hierarchy) -> Result<Vec<String>> {
        match h {
            Hierarchy::V1 { .. } => Ok(Vec::new()),
            Hierarchy::V2 { mount } => Ok(self
                .read_file(&mount.join(CONTROLLERS))?
                .split_whitespace()
                .map(str::to_owned)
                .collect()),
        }
    }

    /// Every controller there is, with its hierarchy; a v1 named
    /// hierarchy is listed as `name=<name>`.
    ///
    /// # Errors
    /// The controllers of the v2 hierarchy cannot be read.
    pub fn controllers(&self) -> Result<Vec<(String, &Hierarchy)>> {
        let mut out = Vec::new();
        for h in &self.hierarchies {
            match h {
                Hierarchy::V1 {
                    controllers, name, ..
                } => {
                    out.extend(controllers.iter().map(|c| (c.clone(), h)));
                    out.extend(name.iter().map(|n| (format!("name={n}"), h)));
                }
                Hierarchy::V2 { .. } => {
                    out.extend(self.v2_controllers(h)?.into_iter().map(|c| (c, h)));
                }
            }
        }
        Ok(out)
    }

    /// The hierarchy that has `controller` (`memory`, `name=systemd`): a v1
    /// hierarchy it is bound to, else the v2 hierarchy if its
    /// `cgroup.controllers` lists it.
    ///
    /// # Errors
    /// [`Error::NoController`] when none has it.
    pub fn hierarchy(&self, controller: &str) -> Result<&Hierarchy> {
        check_controller(controller)?;
        if let Some(h) = self.hierarchies.iter().find(|h| h.is_v1_of(controller)) {
            return Ok(h);
        }
        for h in &self.hierarchies {
            if h.version() == Version::V2 && self.v2_controllers(h)?.iter().any(|c| c == controller)
            {
                return Ok(h);
            }
        }
        Err(Error::NoController {
            controller: controller.to_owned(),
            hierarchies: self.mounts(),
        })
    }

    /// Whether `group` exists in `h`.
    ///
    /// # Errors
    /// A bad name, or the directory cannot be listed for another reason
    /// than not being there.
    pub fn exists_in(&self, h: &Hierarchy, group: &str) -> Result<bool> {
        check_group(group)?;
        let dir = h.mount().join(group);
        match self.drv.readdir(&self.path, bytes(&dir)) {
            Ok(_) => Ok(true),
            Err(e) if matches!(e.errno(), Some(Errno::ENOENT | Errno::ENOTDIR)) => Ok(false),
            Err(source) => Err(Error::Readdir {
                dir,
                source: source.into(),
            }),
        }
    }

    /// The hierarchies where `group` exists.
    fn holding(&self, group: &str) -> Result<Vec<&Hierarchy>> {
        let mut out = Vec::new();
        for h in &self.hierarchies {
            if self.exists_in(h, group)? {
                out.push(h);
            }
        }
        if out.is_empty() {
            return Err(Error::NoGroup {
                group: group.to_owned(),
                hierarchies: self.mounts(),
            });
        }
        Ok(out)
    }

    // ---- groups ---------------------------------------------------------------------

    /// Creates `group` (and its parents, `a` then `a/b` for `a/b`) in every
    /// hierarchy, as the seed's `alcove_cgroup:create` does. Groups that
    /// exist already are fine. See [`create_in`](Self::create_in).
    ///
    /// # Errors
    /// A bad name, no hierarchy at all ([`Error::NoHierarchy`]), or the first
    /// step that fails.
    pub fn create(&self, group: &str) -> Result<()> {
        check_group(group)?;
        if self.hierarchies.is_empty() {
            return Err(Error::NoHierarchy {
                path: self.path[..].into(),
            });
        }
        for h in &self.hierarchies {
            self.create_in(h, group)?;
        }
        Ok(())
    }

    /// Creates `group` and its parents in `h` (`mkdir` mode 0755), those
    /// that exist being fine. In a v1 `cpuset` hierarchy, a new group gets
    /// the `cpuset.cpus` and `cpuset.mems` of its parent, without which no
    /// process could join it; set them afterwards to narrow them.
    ///
    /// # Errors
    /// A bad name, or the first step that fails ([`Error::Mkdir`], ...).
    pub fn create_in(&self, h: &Hierarchy, group: &str) -> Result<()> {
        check_group(group)?;
        for g in prefixes(group) {
            let dir = h.mount().join(g);
            match self.drv.mkdir(&self.path, bytes(&dir), 0o755) {
                Ok(()) => {}
                Err(e) if e.errno() == Some(Errno::EEXIST) => {}
                Err(source) => {
                    return Err(Error::Mkdir {
                        dir,
                        source: source.into(),
                    });
                }
            }
        }
        if h.is_v1_of("cpuset") {
            self.fill_cpuset(h, group)?;
        }
        Ok(())
    }

    /// Removes `group` from every hierarchy where it exists. Only the group
    /// itself: its parents stay. A group that is not there is fine.
    ///
    /// Nothing is moved for you: a group that still holds processes or
    /// child groups is not removed, and the error is [`Error::Busy`], with
    /// the processes it holds. The other hierarchies are still tried; the
    /// first error is returned.
    ///
    /// # Errors
    /// A bad name, [`Error::Busy`], or another failing step.
    pub fn destroy(&self, group: &str) -> Result<()> {
        check_group(group)?;
        let mut first = None;
        for h in &self.hierarchies {
            if let Err(e) = self.destroy_in(h, group) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Removes `group` from `h` (`rmdir`); not being there is fine.
    ///
    /// # Errors
    /// A bad name, [`Error::Busy`] when it holds processes or child groups,
    /// [`Error::Rmdir`] otherwise.
    pub fn destroy_in(&self, h: &Hierarchy, group: &str) -> Result<()> {
        check_group(group)?;
        let dir = h.mount().join(group);
        match self.drv.rmdir(&self.path, bytes(&dir)) {
            Ok(()) => Ok(()),
            Err(e) if e.errno() == Some(Errno::ENOENT) => Ok(()),
            Err(source) if source.errno() == Some(Errno::EBUSY) => Err(Error::Busy {
                procs: self.procs_in(h, group).unwrap_or_default(),
                dir,
                source: source.into(),
            }),
            Err(source) => Err(Error::Rmdir {
                dir,
                source: source.into(),
            }),
        }
    }

    // ---- processes ------------------------------------------------------------------

    /// Moves process `pid` into `group`, in every hierarchy where the group
    /// exists (the seed writes the child's PID to `tasks` this way). See
    /// [`add_in`](Self::add_in).
    ///
    /// # Errors
    /// A bad name, [`Error::NoGroup`] when the group exists nowhere, or the
    /// first step that fails (a `pid` that does not exist: [`Error::Write`]
    /// with `ESRCH`).
    pub fn add(&self, group: &str, pid: Pid) -> Result<()> {
        check_group(group)?;
        for h in self.holding(group)? {
            self.add_in(h, group, pid)?;
        }
        Ok(())
    }

    /// Moves process `pid` (all its threads) into `group` of `h`, by
    /// writing it to the group's `cgroup.procs`. In a v1 `cpuset`
    /// hierarchy, an empty `cpuset.cpus` or `cpuset.mems` of the group (or
    /// of a parent) is first copied from its parent, so that the move can
    /// succeed.
    ///
    /// # Errors
    /// A bad name, or the first step that fails.
    pub fn add_in(&self, h: &Hierarchy, group: &str, pid: Pid) -> Result<()> {
        check_group(group)?;
        if h.is_v1_of("cpuset") {
            self.fill_cpuset(h, group)?;
        }
        self.write_file(&h.mount().join(group).join(PROCS), &pid.to_string())
    }

    /// Moves process `pid` out of `group`, to the root group of every
    /// hierarchy where `group` exists, so that the group can be destroyed.
    ///
    /// # Errors
    /// A bad name, [`Error::NoGroup`], or the first step that fails.
    pub fn remove(&self, group: &str, pid: Pid) -> Result<()> {
        check_group(group)?;
        for h in self.holding(group)? {
            self.write_file(&h.mount().join(PROCS), &pid.to_string())?;
        }
        Ok(())
    }

    /// The processes in `group`, in every hierarchy where it exists,
    /// sorted, each once.
    ///
    /// # Errors
    /// A bad name, [`Error::NoGroup`], or the first step that fails.
    pub fn procs(&self, group: &str) -> Result<Vec<Pid>> {
        check_group(group)?;
        let mut out = Vec::new();
        for h in self.holding(group)? {
            out.extend(self.procs_in(h, group)?);
        }
        out.sort_by_key(|p| p.as_raw());
        out.dedup();
        Ok(out)
    }

    /// The processes in `group` of `h`: its `cgroup.procs`.
    ///
    /// # Errors
    /// A bad name, the file cannot be read, or holds something else than
    /// PIDs ([`Error::Parse`]).
    pub fn procs_in(&self, h: &Hierarchy, group: &str) -> Result<Vec<Pid>> {
        check_group(group)?;
        let file = h.mount().join(group).join(PROCS);
        let text = self.read_file(&file)?;
        parse_pids(&text).map_err(|reason| Error::Parse { file, reason })
    }

    // ---- values ---------------------------------------------------------------------

    /// Sets a limit on `group`, in the hierarchy of its controller, through
    /// the file of that hierarchy's version (see [`Limit`]). On v2, the
    /// controller is enabled in the parents first ([`enable`](Self::enable));
    /// on v1 `cpuset`, empty CPU and memory-node sets of the group and its
    /// parents are first filled from their parents, as [`add_in`](Self::add_in)
    /// does.
    ///
    /// # Errors
    /// A bad name, [`Error::NoController`], or the first step that fails
    /// (a value the kernel refuses: [`Error::Write`] with `EINVAL`).
    pub fn set_limit(&self, group: &str, limit: Limit) -> Result<()> {
        check_group(group)?;
        let h = self.hierarchy(limit.controller())?;
        let v = h.version();
        if v == Version::V2 {
            self.enable_in(h, group, limit.controller())?;
        }
        if h.is_v1_of("cpuset") {
            // A CPU set must lie within the parent's: an empty parent
            // (made by hand, not by `create`) would refuse any.
            self.fill_cpuset(h, group)?;
        }
        self.write_file(&h.mount().join(group).join(limit.file(v)), &limit.value(v))
    }

    /// Writes `value` to the file `key` of `group`, in the hierarchy of
    /// `controller`: the seed's `alcove_cgroup:set`
    /// (`set("memory", "alcove", "memory.limit_in_bytes", "16m")`). On v2,
    /// a key of the controller (`memory.*` for `memory`) has the controller
    /// enabled in the parents first.
    ///
    /// # Errors
    /// A bad name, [`Error::NoController`], or the first step that fails.
    pub fn set(&self, controller: &str, group: &str, key: &str, value: &str) -> Result<()> {
        check_group(group)?;
        check_key(key)?;
        let h = self.hierarchy(controller)?;
        if h.version() == Version::V2
            && key
                .strip_prefix(controller)
                .is_some_and(|rest| rest.starts_with('.'))
        {
            self.enable_in(h, group, controller)?;
        }
        self.set_in(h, group, key, value)
    }

    /// The content of the file `key` of `group`, in the hierarchy of
    /// `controller`, without its final newline: the seed's
    /// `alcove_cgroup:get`. Nothing is enabled on the way.
    ///
    /// # Errors
    /// A bad name, [`Error::NoController`], or the first step that fails.
    pub fn get(&self, controller: &str, group: &str, key: &str) -> Result<String> {
        check_group(group)?;
        check_key(key)?;
        let h = self.hierarchy(controller)?;
        self.get_in(h, group, key)
    }

    /// Writes `value` to the file `key` of `group` in `h`, and nothing
    /// else. An empty value is written as `"\n"`: a write of nothing would
    /// not reach the kernel's handler (`cpuset.cpus` would stay as it is).
    ///
    /// # Errors
    /// A bad name, or the first step that fails.
    pub fn set_in(&self, h: &Hierarchy, group: &str, key: &str, value: &str) -> Result<()> {
        check_group(group)?;
        check_key(key)?;
        self.write_file(&h.mount().join(group).join(key), value)
    }

    /// The content of the file `key` of `group` in `h`, without its final
    /// newline.
    ///
    /// # Errors
    /// A bad name, or the first step that fails.
    pub fn get_in(&self, h: &Hierarchy, group: &str, key: &str) -> Result<String> {
        check_group(group)?;
        check_key(key)?;
        let mut text = self.read_file(&h.mount().join(group).join(key))?;
        if text.ends_with('\n') {
            text.pop();
        }
        Ok(text)
    }

    /// Makes the files of `controller` appear in `group`: on v2, enables it
    /// in the `cgroup.subtree_control` of the root and of every parent of
    /// `group`, top down, where it is not enabled yet. On v1 there is
    /// nothing to do.
    ///
    /// v2's rule that a group with processes cannot pass controllers on
    /// applies (except at the root): a parent that holds processes makes
    /// this fail with `EBUSY`.
    ///
    /// # Errors
    /// A bad name, [`Error::NoController`], or the first step that fails.
    pub fn enable(&self, group: &str, controller: &str) -> Result<()> {
        check_group(group)?;
        let h = self.hierarchy(controller)?;
        self.enable_in(h, group, controller)
    }

    fn enable_in(&self, h: &Hierarchy, group: &str, controller: &str) -> Result<()> {
        if h.version() == Version::V1 {
            return Ok(());
        }
        for dir in subtree_controls(group) {
            let file = join(h.mount(), dir).join(SUBTREE_CONTROL);
            let enabled = self.read_file(&file)?;
            if !lists(&enabled, controller) {
                self.write_file(&file, &format!("+{controller}"))?;
            }
        }
        Ok(())
    }

    /// Copies an empty `cpuset.cpus` or `cpuset.mems` from the parent, top
    /// down to `group`.
    fn fill_cpuset(&self, h: &Hierarchy, group: &str) -> Result<()> {
        for g in prefixes(group) {
            for key in ["cpuset.cpus", "cpuset.mems"] {
                let file = h.mount().join(g).join(key);
                if self.read_file(&file)?.trim().is_empty() {
                    let from = join(h.mount(), parent(g)).join(key);
                    let value = self.read_file(&from)?;
                    self.write_file(&file, value.trim())?;
                }
            }
        }
        Ok(())
    }

    // ---- files, through the process at the path ------------------------------------

    fn flags(&self) -> Result<Flags> {
        if let Some(f) = self.flags.get() {
            return Ok(*f);
        }
        let define = |names: &[&str]| {
            self.drv
                .define(&self.path, names)
                .map(|n| n as i32)
                .map_err(|source| Error::Flags {
                    source: source.into(),
                })
        };
        let f = Flags {
            read: define(&["O_RDONLY", "O_CLOEXEC"])?,
            write: define(&["O_WRONLY", "O_TRUNC", "O_CLOEXEC"])?,
        };
        Ok(*self.flags.get_or_init(|| f))
    }

    fn read_file(&self, file: &Path) -> Result<String> {
        let (drv, path) = (&self.drv, &self.path[..]);
        let fd = drv
            .open(path, bytes(file), self.flags()?.read, 0)
            .map_err(|source| Error::Open {
                file: file.into(),
                source: source.into(),
            })?;
        let mut buf = Vec::new();
        loop {
            match drv.read(path, fd, READ_CHUNK) {
                Ok(b) if b.is_empty() => break,
                Ok(b) => buf.extend_from_slice(&b),
                Err(source) => {
                    let _ = drv.close(path, fd);
                    return Err(Error::Read {
                        file: file.into(),
                        source: source.into(),
                    });
                }
            }
        }
        drv.close(path, fd).map_err(|source| Error::Close {
            file: file.into(),
            source: source.into(),
        })?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    fn write_file(&self, file: &Path, value: &str) -> Result<()> {
        let (drv, path) = (&self.drv, &self.path[..]);
        let fd = drv
            .open(path, bytes(file), self.flags()?.write, 0)
            .map_err(|source| Error::Open {
                file: file.into(),
                source: source.into(),
            })?;
        // A write of nothing reaches no cgroup handler: an empty value
        // (clearing a CPU set) is written as a newline, which the kernel
        // reads as empty.
        let data = if value.is_empty() { "\n" } else { value };
        let written = match drv.write(path, fd, data) {
            Ok(n) => n,
            Err(source) => {
                let _ = drv.close(path, fd);
                return Err(Error::Write {
                    file: file.into(),
                    value: value.to_owned(),
                    source: source.into(),
                });
            }
        };
        drv.close(path, fd).map_err(|source| Error::Close {
            file: file.into(),
            source: source.into(),
        })?;
        if written != data.len() {
            return Err(Error::ShortWrite {
                file: file.into(),
                value: value.to_owned(),
                written,
            });
        }
        Ok(())
    }
}

/// The groups whose `cgroup.subtree_control` must list a controller for
/// its files to appear in `group`: the root (`""`) and every parent, top
/// down.
fn subtree_controls(group: &str) -> impl Iterator<Item = &str> {
    std::iter::once("").chain(prefixes(group).take_while(move |g| *g != group))
}

/// Whether a controller list (`cgroup.controllers`,
/// `cgroup.subtree_control`) names `controller`. A `+` before a name is
/// read as the name, so that the text written to a plain file (a fake
/// hierarchy) reads back as enabled.
fn lists(text: &str, controller: &str) -> bool {
    text.split_whitespace()
        .any(|w| w.strip_prefix('+').unwrap_or(w) == controller)
}

/// The PIDs of a `cgroup.procs`, one a line.
fn parse_pids(text: &str) -> std::result::Result<Vec<Pid>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.trim()
                .parse::<i32>()
                .map(Pid::from_raw)
                .map_err(|e| format!("{l:?} is not a PID: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controllers_are_enabled_from_the_root_down_to_the_parent() {
        assert_eq!(subtree_controls("a").collect::<Vec<_>>(), [""]);
        assert_eq!(
            subtree_controls("a/b/c").collect::<Vec<_>>(),
            ["", "a", "a/b"]
        );
    }

    #[test]
    fn controller_lists_are_words() {
        assert!(lists("cpuset cpu io memory pids\n", "memory"));
        assert!(!lists("cpuset cpu io memory pids\n", "mem"));
        assert!(lists("+memory", "memory"));
        assert!(!lists("", "memory"));
    }

    #[test]
    fn pids_are_one_a_line() {
        assert_eq!(
            parse_pids("12\n345\n").unwrap(),
            [Pid::from_raw(12), Pid::from_raw(345)]
        );
        assert_eq!(parse_pids("").unwrap(), []);
        assert!(parse_pids("12\nx\n").unwrap_err().contains("\"x\""));
    }

    #[test]
    fn the_root_is_the_mount_itself() {
        assert_eq!(join(Path::new("/m"), ""), Path::new("/m"));
        assert_eq!(join(Path::new("/m"), "a/b"), Path::new("/m/a/b"));
    }
}
