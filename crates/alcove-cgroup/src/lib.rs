//! cgroup v1 and v2 helpers that act through an alcove process tree.
//!
//! A [`Cgroups`] holds a [`Drv`](alcove_client::Drv) and a fork path: the
//! process at that path (the port, `&[]`, usually started as root with
//! `sudo -n`) does every `mkdir`, `open`, `write` and `rmdir`, with its own
//! privileges and in its own mount namespace, so the client needs none.
//! This is the Rust form of the seed's `alcove_cgroup`, with cgroup v2
//! added:
//!
//! - **Detection** reads the mount table of that process through the
//!   `Drv` ([`Cgroups::new`]): v1 hierarchies, the v2 unified one wherever
//!   it is mounted, or both (a hybrid). [`Cgroups::with_hierarchies`] takes
//!   an explicit list instead.
//! - **Limits in the user's terms** ([`Limit`]): a memory limit, a CPU or
//!   memory-node set, a process limit, written to the file each version
//!   has (`memory.limit_in_bytes` or `memory.max`, ...). On v2 the
//!   controller is enabled in the parents' `cgroup.subtree_control` first;
//!   on v1 a `cpuset` group gets its parent's CPUs and memory nodes so that
//!   processes can join it. A program written with [`Cgroups::set_limit`]
//!   and [`Cgroups::add`] runs unchanged on both.
//! - **Raw access** to any file of a group: [`Cgroups::set`] and
//!   [`Cgroups::get`], with the seed's keys.
//! - **Names are checked** ([`check_group`], [`check_key`]): nothing can
//!   lead out of the cgroup tree.
//! - **Errors** ([`Error`]) name the step, the file, the value and the
//!   errno; removing a group that still holds processes is
//!   [`Error::Busy`], never a silent move.
//!
//! # The seed's nsex, cgroup v1
//!
//! The seed's "Creating a Container Using Linux Namespaces", with the v1
//! keys it uses. (`no_run`: it needs root, a v1 `cpuset` and `memory`
//! hierarchy and a static busybox in `/bin`.)
//!
//! ```no_run
//! use alcove_cgroup::Cgroups;
//! use alcove_client::{Drv, Options, Pid};
//!
//! fn start() -> Result<(Drv, Cgroups), Box<dyn std::error::Error>> {
//!     let drv = Drv::start(Options::default().exec("sudo -n"))?;
//!     let cg = Cgroups::new(&drv, &[])?;
//!     // Create a new cgroup for our processes
//!     cg.create("alcove")?;
//!     // Any process in this cgroup will only be able to run on CPU 0
//!     cg.set("cpuset", "alcove", "cpuset.cpus", "0")?;
//!     cg.set("cpuset", "alcove", "cpuset.mems", "0")?;
//!     // Total memory
//!     cg.set("memory", "alcove", "memory.limit_in_bytes", "16m")?;
//!     // Total memory, including swap. Allowed to fail: some systems have
//!     // no swap accounting. (After the memory limit: v1 refuses a
//!     // memory-and-swap limit below the memory limit.)
//!     let _ = cg.set("memory", "alcove", "memory.memsw.limit_in_bytes", "16m");
//!     Ok((drv, cg))
//! }
//!
//! fn sandbox(drv: &Drv, cg: &Cgroups) -> Result<Pid, Box<dyn std::error::Error>> {
//!     let flags = drv.define(
//!         &[],
//!         &["CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWNS", "CLONE_NEWPID", "CLONE_NEWUTS"],
//!     )?;
//!     let child = drv.clone(&[], flags)?;
//!     // setlimits(): the seed writes the child's PID to `tasks`, in every
//!     // hierarchy where the group exists
//!     cg.add("alcove", child)?;
//!     drv.chroot(&[child], "/bin")?;
//!     drv.chdir(&[child], "/")?;
//!     drv.setgid(&[child], 0xf000_1234)?;
//!     drv.setuid(&[child], 0xf000_1234)?;
//!     drv.execvp(&[child], "/busybox", &["/busybox", "sh"])?;
//!     Ok(child)
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (drv, cg) = start()?;
//! let child = sandbox(&drv, &cg)?;
//! println!("the sandbox {child} runs in {:?}", cg.procs("alcove")?);
//! # Ok(()) }
//! ```
//!
//! # The same on cgroup v2 (or either)
//!
//! With [`Limit`], the same program runs on a v2 host (`memory.max`,
//! `cpuset.cpus`, `cgroup.procs`, the controllers enabled in the root's
//! `cgroup.subtree_control`), on a v1 host and on a hybrid one. (`no_run`:
//! it needs root and a static busybox in `/bin`.)
//!
//! ```no_run
//! use alcove_cgroup::{Cgroups, Limit};
//! use alcove_client::{Drv, Options};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let drv = Drv::start(Options::default().exec("sudo -n"))?;
//! let cg = Cgroups::new(&drv, &[])?;
//! cg.create("alcove")?;
//! cg.set_limit("alcove", Limit::Cpus("0".into()))?;
//! cg.set_limit("alcove", Limit::Mems("0".into()))?;
//! cg.set_limit("alcove", Limit::Memory(Some(16 << 20)))?;
//! cg.set_limit("alcove", Limit::Pids(Some(64)))?;
//! // v2 counts swap on its own: none for the sandbox (allowed to fail
//! // where there is no swap accounting, or on v1).
//! let _ = cg.set("memory", "alcove", "memory.swap.max", "0");
//!
//! let flags = drv.define(
//!     &[],
//!     &["CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWNS", "CLONE_NEWPID", "CLONE_NEWUTS"],
//! )?;
//! let child = drv.clone(&[], flags)?;
//! cg.add("alcove", child)?;
//! drv.chroot(&[child], "/bin")?;
//! drv.chdir(&[child], "/")?;
//! drv.setgid(&[child], 0xf000_1234)?;
//! drv.setuid(&[child], 0xf000_1234)?;
//! drv.execvp(&[child], "/busybox", &["/busybox", "sh"])?;
//!
//! // Later, once the sandbox has exited: an empty group can go.
//! cg.destroy("alcove")?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod cgroups;
mod error;
mod limit;
mod mountinfo;
mod name;

pub use cgroups::Cgroups;
pub use error::{Error, Result};
pub use limit::{Limit, PROCS};
pub use mountinfo::{Hierarchy, Version, parse_mountinfo, parse_mounts};
pub use name::{check_group, check_key};
