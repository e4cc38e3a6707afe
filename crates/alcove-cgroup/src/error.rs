use std::path::PathBuf;

use alcove_client::{Errno, Pid};

/// What went wrong, one variant per step, each with what it acted on.
///
/// The steps that go through the [`Drv`](alcove_client::Drv) carry its
/// error as `source`, which names the call, the fork path of the process
/// that made it and the errno: `Display` reads like `writing "16777216" to
/// /sys/fs/cgroup/memory/alcove/memory.limit_in_bytes: write [1234]:
/// EINVAL: Invalid argument`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A group name, key or controller that would leave the cgroup tree or
    /// is not a name at all.
    #[error("bad cgroup {what} {name:?}: {reason}")]
    Name {
        /// `group`, `key` or `controller`.
        what: &'static str,
        /// The name given.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A value that does not stand for a limit.
    #[error("bad value {value:?} for {key}: {reason}")]
    Value {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// Looking up the `open(2)` flags in the process.
    #[error("looking up the open flags: {source}")]
    Flags {
        /// The call's error.
        source: Box<alcove_client::Error>,
    },
    /// `open(2)` of a file failed.
    #[error("opening {}: {source}", .file.display())]
    Open {
        /// The file.
        file: PathBuf,
        /// The call's error.
        source: Box<alcove_client::Error>,
    },
    /// `read(2)` of a file failed.
    #[error("reading {}: {source}", .file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The call's error.
        source: Box<alcove_client::Error>,
    },
    /// `write(2)` to a file failed: the kernel refused the value.
    #[error("writing {value:?} to {}: {source}", .file.display())]
    Write {
        /// The file.
        file: PathBuf,
        /// What was written.
        value: String,
        /// The call's error.
        source: Box<alcove_client::Error>,
    },
    /// `write(2)` took only part of the value.
    #[error("writing {value:?} to {}: only {written} of its bytes were written", .file.display())]
    ShortWrite {
        /// The file.
        file: PathBuf,
        /// What was written.
        value: String,
        /// How many bytes were.
        written: usize,
    },
    /// `close(2)` of a file failed.
    #[error("closing {}: {source}", .file.display())]
    Close {
        /// The file.
        file: PathBuf,
        /// The call's error.
        source: Box<alcove_client::Error>,
    },
    /// Listing a directory failed.
    #[error("listing {}: {source}", .dir.display())]
    Readdir {
        /// The directory.
        dir: PathBuf,
        /// The call's error.
        source: Box<alcove_client::Error>,
    },
    /// `mkdir(2)` of a group failed.
    #[error("creating the group {}: {source}", .dir.display())]
    Mkdir {
        /// The group's directory.
        dir: PathBuf,
        /// The call's error.
        source: Box<alcove_client::Error>,
    },
    /// `rmdir(2)` of a group failed, for another reason than
    /// [`Busy`](Self::Busy).
    #[error("removing the group {}: {source}", .dir.display())]
    Rmdir {
        /// The group's directory.
        dir: PathBuf,
        /// The call's error.
        source: Box<alcove_client::Error>,
    },
    /// `rmdir(2)` of a group failed with `EBUSY`: it still holds processes
    /// or child groups. Nothing is moved out for you: move the processes
    /// with [`Cgroups::remove`](crate::Cgroups::remove) or let them exit,
    /// and destroy the child groups first.
    #[error(
        "removing the group {}: it is busy: it still holds {}; nothing was moved: \
         move them out or let them exit first: {source}",
        .dir.display(),
        holds(.procs)
    )]
    Busy {
        /// The group's directory.
        dir: PathBuf,
        /// The processes in it when the removal failed (as far as they
        /// could be read).
        procs: Vec<Pid>,
        /// The call's error (`EBUSY`).
        source: Box<alcove_client::Error>,
    },
    /// A file the crate reads did not have the expected shape.
    #[error("parsing {}: {reason}", .file.display())]
    Parse {
        /// The file.
        file: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// No hierarchy has the controller.
    #[error("no cgroup hierarchy has the {controller} controller (hierarchies: {})", list(.hierarchies))]
    NoController {
        /// The controller.
        controller: String,
        /// The mount points of the hierarchies there are.
        hierarchies: Vec<PathBuf>,
    },
    /// No hierarchy is mounted (or given): there is nowhere to create a
    /// group.
    #[error("no cgroup hierarchy is mounted, as the process at {path} sees its mounts")]
    NoHierarchy {
        /// The process the operations go through.
        path: alcove_proto::Path,
    },
    /// The group does not exist in any hierarchy.
    #[error("the group {group:?} exists in no hierarchy (hierarchies: {})", list(.hierarchies))]
    NoGroup {
        /// The group.
        group: String,
        /// The mount points of the hierarchies there are.
        hierarchies: Vec<PathBuf>,
    },
}

fn holds(procs: &[Pid]) -> String {
    if procs.is_empty() {
        return "child groups (or processes that could not be listed)".to_owned();
    }
    let v: Vec<String> = procs.iter().map(|p| p.to_string()).collect();
    format!("the processes {} (or child groups)", v.join(", "))
}

fn list(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "none".to_owned();
    }
    let v: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    v.join(", ")
}

impl Error {
    /// The errno of the call that failed, if a call failed with one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Flags { source }
            | Error::Open { source, .. }
            | Error::Read { source, .. }
            | Error::Write { source, .. }
            | Error::Close { source, .. }
            | Error::Readdir { source, .. }
            | Error::Mkdir { source, .. }
            | Error::Rmdir { source, .. }
            | Error::Busy { source, .. } => source.errno(),
            _ => None,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
