//! Typed payloads. Each is postcard-encoded after the header.
//!
//! Every enum here is append-only: a variant's position is its wire number.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Pid};

/// Bytes that need not be UTF-8: paths, names, buffers, argv.
///
/// Encoded as postcard bytes (a varint length and the raw bytes), which is
/// the same on the wire as a `Vec<u8>` but decodes in one copy.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteBuf(pub Vec<u8>);

impl ByteBuf {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, owned.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for ByteBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{:?}", String::from_utf8_lossy(&self.0))
    }
}

impl AsRef<[u8]> for ByteBuf {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for ByteBuf {
    fn from(b: &[u8]) -> Self {
        Self(b.to_vec())
    }
}

impl From<Vec<u8>> for ByteBuf {
    fn from(b: Vec<u8>) -> Self {
        Self(b)
    }
}

impl From<&str> for ByteBuf {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl Serialize for ByteBuf {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<ByteBuf, A::Error> {
                let mut v = Vec::with_capacity(a.size_hint().unwrap_or(0).min(4096));
                while let Some(b) = a.next_element()? {
                    v.push(b);
                }
                Ok(ByteBuf(v))
            }
        }
        d.deserialize_byte_buf(Visitor)
    }
}

/// A call for one process of the tree, named after the syscall or
/// library function it performs there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Call {
    /// `fork(2)`: a new process running the loop. Replies [`Reply::Pid`].
    Fork,
    /// `clone(2)` with namespace flags (`CLONE_NEW*`). Replies
    /// [`Reply::Pid`], the child's PID in the caller's namespace.
    Clone {
        /// The `CLONE_*` flags.
        flags: u64,
    },
    /// `getpid(2)`. Replies [`Reply::Pid`].
    Getpid,
    /// `execve(2)`. Replies [`Reply::Ok`] once the image is replaced.
    Execve {
        /// Program to run.
        path: ByteBuf,
        /// Its argv, `argv[0]` included.
        argv: Vec<ByteBuf>,
        /// Its environment, as `NAME=value`.
        env: Vec<ByteBuf>,
    },
    /// `execvp(3)`: like [`Call::Execve`], searching `PATH` and keeping the
    /// environment.
    Execvp {
        /// Program to run, searched in `PATH` when it has no slash.
        file: ByteBuf,
        /// Its argv, `argv[0]` included.
        argv: Vec<ByteBuf>,
    },
    /// `exit(3)`: the process replies [`Reply::Ok`], then exits.
    Exit {
        /// Exit status.
        status: i32,
    },
    /// `kill(2)`.
    Kill {
        /// Target, as for `kill(2)`: negative for a process group.
        pid: i32,
        /// Signal number.
        signal: i32,
    },
    /// Reads an option of the loop. Replies [`Reply::Int`].
    Getopt {
        /// The option.
        opt: Opt,
    },
    /// Sets an option of the loop. Replies [`Reply::Ok`].
    Setopt {
        /// The option.
        opt: Opt,
        /// Its new value.
        value: i64,
    },
    /// The PIDs of this process's children. Replies [`Reply::Pids`].
    Pid,
    /// The alcove version. Replies [`Reply::Bytes`].
    Version,
    /// Closes the stdin of a child of this process (the seed's "eof").
    Eof {
        /// The child.
        pid: Pid,
    },
    /// `chdir(2)`.
    Chdir {
        /// The directory.
        path: ByteBuf,
    },
    /// `chmod(2)`.
    Chmod {
        /// The file.
        path: ByteBuf,
        /// The mode bits.
        mode: u32,
    },
    /// `chown(2)`.
    Chown {
        /// The file.
        path: ByteBuf,
        /// New owner.
        uid: u32,
        /// New group.
        gid: u32,
    },
    /// `chroot(2)`.
    Chroot {
        /// The new root.
        path: ByteBuf,
    },
    /// `clearenv(3)`.
    Clearenv,
    /// `close(2)` of a descriptor opened with [`Call::Open`] (or inherited);
    /// the loop's own descriptors are refused.
    Close {
        /// The descriptor.
        fd: i32,
    },
    /// `environ(7)`: the environment. Replies [`Reply::List`] of `NAME=value`.
    Environ,
    /// `getcwd(3)`. Replies [`Reply::Bytes`].
    Getcwd,
    /// `getenv(3)`. Replies [`Reply::MaybeBytes`].
    Getenv {
        /// The variable.
        name: ByteBuf,
    },
    /// `getgid(2)`. Replies [`Reply::Int`].
    Getgid,
    /// `gethostname(2)`. Replies [`Reply::Bytes`].
    Gethostname,
    /// `getrlimit(2)`. Replies [`Reply::Rlimit`].
    Getrlimit {
        /// The `RLIMIT_*` resource.
        resource: i32,
    },
    /// `getuid(2)`. Replies [`Reply::Int`].
    Getuid,
    /// `mkdir(2)`.
    Mkdir {
        /// The directory.
        path: ByteBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// `mount(2)`. Empty `source`, `fstype` or `data` are passed as NULL.
    Mount {
        /// What to mount.
        source: ByteBuf,
        /// Where.
        target: ByteBuf,
        /// Filesystem type.
        fstype: ByteBuf,
        /// `MS_*` flags.
        flags: u64,
        /// Filesystem options.
        data: ByteBuf,
    },
    /// `open(2)`. Replies [`Reply::Int`], the descriptor.
    Open {
        /// The file.
        path: ByteBuf,
        /// `O_*` flags.
        flags: i32,
        /// Mode for a created file.
        mode: u32,
    },
    /// `prctl(2)`. Replies [`Reply::Prctl`].
    Prctl {
        /// The `PR_*` option.
        option: i32,
        /// `arg2` to `arg5`; missing ones are 0.
        args: Vec<PrctlArg>,
    },
    /// `read(2)`. Replies [`Reply::Bytes`].
    Read {
        /// The descriptor.
        fd: i32,
        /// At most this many bytes.
        count: u64,
    },
    /// `readdir(3)` of a whole directory, `.` and `..` included. Replies
    /// [`Reply::List`].
    Readdir {
        /// The directory.
        path: ByteBuf,
    },
    /// `rmdir(2)`.
    Rmdir {
        /// The directory.
        path: ByteBuf,
    },
    /// `setenv(3)`.
    Setenv {
        /// The variable.
        name: ByteBuf,
        /// Its value.
        value: ByteBuf,
        /// Replace an existing value.
        overwrite: bool,
    },
    /// `setgid(2)`.
    Setgid {
        /// The group.
        gid: u32,
    },
    /// `sethostname(2)`.
    Sethostname {
        /// The name.
        name: ByteBuf,
    },
    /// `setns(2)` into the namespace of a `/proc/<pid>/ns/<ns>` file.
    Setns {
        /// The namespace file.
        path: ByteBuf,
        /// `CLONE_NEW*` type it must be, or 0 for any.
        nstype: i32,
    },
    /// `setrlimit(2)`.
    Setrlimit {
        /// The `RLIMIT_*` resource.
        resource: i32,
        /// The new limit.
        limit: Rlimit,
    },
    /// `setuid(2)`.
    Setuid {
        /// The user.
        uid: u32,
    },
    /// `sigaction(2)`: what the process does with a signal. Replies
    /// [`Reply::Handler`], the previous disposition. `SIGCHLD` is governed
    /// by the `sigchld` option instead.
    Sigaction {
        /// The signal.
        signum: i32,
        /// The new disposition, or `None` to only ask.
        handler: Option<SigHandler>,
    },
    /// `umount(2)`.
    Umount {
        /// The mount point.
        path: ByteBuf,
    },
    /// `unsetenv(3)`.
    Unsetenv {
        /// The variable.
        name: ByteBuf,
    },
    /// `unshare(2)` with `CLONE_NEW*` flags.
    Unshare {
        /// The flags.
        flags: u64,
    },
    /// `write(2)`. Replies [`Reply::Int`], the bytes written.
    Write {
        /// The descriptor.
        fd: i32,
        /// The bytes.
        data: ByteBuf,
    },
    /// The value of a constant in one of this process's tables. Replies
    /// [`Reply::Int`].
    Constant {
        /// The table.
        table: Table,
        /// The name, in any case (`CLONE_NEWNS`, `clone_newns`).
        name: String,
    },
    /// The name of a constant's value (first in table order). Replies
    /// [`Reply::Bytes`].
    ConstantName {
        /// The table.
        table: Table,
        /// The value.
        value: u64,
    },
    /// Constant names ORed together, each looked up in the clone, file,
    /// mount, prctl, rlimit and signal tables in turn. Replies
    /// [`Reply::Int`].
    Define {
        /// The names.
        names: Vec<String>,
    },
    /// `setgroups(2)`: the supplementary groups (empty: none). A sandbox
    /// drops them before `setgid` and `setuid`.
    Setgroups {
        /// The groups.
        gids: Vec<u32>,
    },
    /// Sets a property of the caller's child `pid` (alcove's `setcpid`).
    /// Replies [`Reply::Ok`]; `BadArg` when `pid` is not a child.
    Setcpid {
        /// The child.
        pid: Pid,
        /// The property.
        opt: Cpid,
        /// Its new value (see [`Cpid`]).
        value: i64,
    },
    /// Reads a property of the caller's child `pid` (alcove's `getcpid`).
    /// Replies [`Reply::Int`].
    Getcpid {
        /// The child.
        pid: Pid,
        /// The property.
        opt: Cpid,
    },
}

impl Call {
    /// Whether a postcard-encoded `Call` is an exec (`execve`, `execvp`),
    /// looking only at its first byte: the parent of the target uses this
    /// to hold later frames for the child until the exec resolves.
    pub fn is_exec_payload(payload: &[u8]) -> bool {
        // Variants 3 and 4; a one-byte varint, as both are below 128.
        matches!(payload.first(), Some(3 | 4))
    }

    /// The call's name, as used in error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Fork => "fork",
            Call::Clone { .. } => "clone",
            Call::Getpid => "getpid",
            Call::Execve { .. } => "execve",
            Call::Execvp { .. } => "execvp",
            Call::Exit { .. } => "exit",
            Call::Kill { .. } => "kill",
            Call::Getopt { .. } => "getopt",
            Call::Setopt { .. } => "setopt",
            Call::Pid => "pid",
            Call::Version => "version",
            Call::Eof { .. } => "eof",
            Call::Chdir { .. } => "chdir",
            Call::Chmod { .. } => "chmod",
            Call::Chown { .. } => "chown",
            Call::Chroot { .. } => "chroot",
            Call::Clearenv => "clearenv",
            Call::Close { .. } => "close",
            Call::Environ => "environ",
            Call::Getcwd => "getcwd",
            Call::Getenv { .. } => "getenv",
            Call::Getgid => "getgid",
            Call::Gethostname => "gethostname",
            Call::Getrlimit { .. } => "getrlimit",
            Call::Getuid => "getuid",
            Call::Mkdir { .. } => "mkdir",
            Call::Mount { .. } => "mount",
            Call::Open { .. } => "open",
            Call::Prctl { .. } => "prctl",
            Call::Read { .. } => "read",
            Call::Readdir { .. } => "readdir",
            Call::Rmdir { .. } => "rmdir",
            Call::Setenv { .. } => "setenv",
            Call::Setgid { .. } => "setgid",
            Call::Sethostname { .. } => "sethostname",
            Call::Setns { .. } => "setns",
            Call::Setrlimit { .. } => "setrlimit",
            Call::Setuid { .. } => "setuid",
            Call::Sigaction { .. } => "sigaction",
            Call::Umount { .. } => "umount",
            Call::Unsetenv { .. } => "unsetenv",
            Call::Unshare { .. } => "unshare",
            Call::Write { .. } => "write",
            Call::Constant { .. } => "constant",
            Call::ConstantName { .. } => "constant_name",
            Call::Define { .. } => "define",
            Call::Setgroups { .. } => "setgroups",
            Call::Setcpid { .. } => "setcpid",
            Call::Getcpid { .. } => "getcpid",
        }
    }
}

/// Options of the loop, per process and inherited by children at fork.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Opt {
    /// Size of the child table given to children forked from now on.
    Maxchild,
    /// Longest fork path: a process at this depth may not fork.
    Maxforkdepth,
    /// Report a child's exit status as [`Event::ExitStatus`] (0 or 1).
    ExitStatus,
    /// Report a child's exit as [`Event::Signal`] `SIGCHLD` (0 or 1).
    Sigchld,
    /// Report a child killed by a signal as [`Event::TermSig`] (0 or 1).
    Termsig,
    /// Debug output on stderr (0 = off).
    Verbose,
    /// Number of children this process may have. Read-only.
    Childlimit,
    /// Signal sent to exec'd children when this process shuts down
    /// (0 = none). Default `SIGTERM`.
    Signaloneof,
    /// Output budget given to children forked from now on, once they exec
    /// (see [`Cpid::Flowcontrol`]): -1 (the default) unlimited, 0 paused,
    /// N > 0 that many more bytes.
    Flowcontrol,
}

impl Opt {
    /// Every option.
    pub const ALL: [Opt; 9] = [
        Opt::Maxchild,
        Opt::Maxforkdepth,
        Opt::ExitStatus,
        Opt::Sigchld,
        Opt::Termsig,
        Opt::Verbose,
        Opt::Childlimit,
        Opt::Signaloneof,
        Opt::Flowcontrol,
    ];

    /// The name the seed gives the option.
    pub fn name(self) -> &'static str {
        match self {
            Opt::Maxchild => "maxchild",
            Opt::Maxforkdepth => "maxforkdepth",
            Opt::ExitStatus => "exit_status",
            Opt::Sigchld => "sigchld",
            Opt::Termsig => "termsig",
            Opt::Verbose => "verbose",
            Opt::Childlimit => "childlimit",
            Opt::Signaloneof => "signaloneof",
            Opt::Flowcontrol => "flowcontrol",
        }
    }

    /// The option with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// Properties of one child, set by its parent ([`Call::Setcpid`],
/// [`Call::Getcpid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cpid {
    /// Flow control of an exec'd child's stdout and stderr: how many more
    /// bytes of its output its parent relays before it stops reading the
    /// program's pipes (the program then blocks on write). -1: unlimited
    /// (the default); 0: paused; N > 0: N more bytes, then paused. Setting
    /// it again resumes. Only the program's output counts (never replies);
    /// it works within the output credit (`INITIAL_OUTPUT_CREDIT`), which
    /// bounds what the client holds unread whatever the budget. A child
    /// that exited is drained whatever its budget. Reads back as what is
    /// left of the budget.
    Flowcontrol,
}

impl Cpid {
    /// Every property.
    pub const ALL: [Cpid; 1] = [Cpid::Flowcontrol];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Cpid::Flowcontrol => "flowcontrol",
        }
    }
}

/// A resource limit. `None` is `RLIM_INFINITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    /// Soft limit.
    pub cur: Option<u64>,
    /// Hard limit.
    pub max: Option<u64>,
}

/// What a call returns on success. Which variant depends on the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// Done; nothing to return.
    Ok,
    /// A process ID.
    Pid(Pid),
    /// An integer.
    Int(i64),
    /// A list of process IDs.
    Pids(Vec<Pid>),
    /// Bytes.
    Bytes(ByteBuf),
    /// A list of byte strings.
    List(Vec<ByteBuf>),
    /// A resource limit.
    Rlimit(Rlimit),
    /// Bytes, or nothing (`getenv` of an unset variable).
    MaybeBytes(Option<ByteBuf>),
    /// What `prctl(2)` returned, and its arguments as the kernel left them.
    Prctl {
        /// The return value.
        ret: i64,
        /// `arg2` to `arg5`, buffers re-read after the call.
        args: Vec<PrctlArg>,
    },
    /// A signal disposition.
    Handler(SigHandler),
}

/// An argument of `prctl(2)`: an integer, or memory the kernel reads or
/// writes through a pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrctlArg {
    /// Passed as is.
    Int(u64),
    /// A pointer to a copy of these bytes (NULL when empty); replied with
    /// what the kernel left there.
    Buf(ByteBuf),
    /// A pointer to a C struct laid out from these fields in order (the
    /// caller pads and aligns): bytes inline, or pointers to buffers of
    /// their own. This is how a seccomp `struct sock_fprog` (a length and
    /// a pointer to the filter) is passed.
    Struct(Vec<Field>),
}

/// A field of a [`PrctlArg::Struct`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    /// Bytes laid out inline.
    Bytes(ByteBuf),
    /// A pointer-sized slot pointing to a copy of these bytes (NULL when
    /// empty).
    Ptr(ByteBuf),
}

/// What a process does with a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigHandler {
    /// `SIG_DFL`: the default action.
    Dfl,
    /// `SIG_IGN`: nothing.
    Ign,
    /// Caught, and reported as [`Event::Signal`] from the process's path.
    Trap,
}

/// A table of constants a process can look names up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Table {
    /// `CLONE_*` flags (clone, unshare, setns).
    Clone,
    /// `O_*` flags of open.
    File,
    /// `MS_*` and `MNT_*` flags of mount and umount, with portable aliases.
    Mount,
    /// `PR_*` options and `SECCOMP_*` values of prctl.
    Prctl,
    /// `RLIMIT_*` resources.
    Rlimit,
    /// Signals.
    Signal,
    /// `errno` values.
    Errno,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum CallError {
    /// The system call failed with this errno.
    #[error("errno {0}")]
    Errno(i32),
    /// An argument is not acceptable; the text says which and why.
    #[error("bad argument: {0}")]
    BadArg(String),
    /// The target process, or one on the way to it, has exec'd: it no
    /// longer runs the loop, and its stdin belongs to the program.
    #[error("process has exec'd")]
    Execd,
    /// The call is not supported on this platform.
    #[error("unsupported on this platform")]
    Unsupported,
    /// The reply would not fit in a frame.
    #[error("reply of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Size of the reply, or a lower bound of it.
        len: u64,
        /// The largest payload.
        max: u64,
    },
    /// The call did not decode.
    #[error("malformed call: {0}")]
    Malformed(String),
}

/// Something that happened to a process, reported without being asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The process caught a signal it traps (and `SIGCHLD` when a child
    /// exited, with the `sigchld` option).
    Signal {
        /// Signal number.
        signum: i32,
    },
    /// The process exited with this status (`exit_status` option).
    ExitStatus {
        /// Exit status.
        status: i32,
    },
    /// The process was killed by this signal (`termsig` option).
    TermSig {
        /// Signal number.
        signum: i32,
    },
}

/// Control notices. Most concern the plumbing between a parent and the child
/// at the path; [`Notice::BadFrame`] and [`Notice::NotExecd`] carry the path
/// of the process that rejected a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notice {
    /// No child of the sender has the last pid of the path. The header's id
    /// is that of the call that could not be routed, or zero.
    BadPid,
    /// The child exec'd: its stdio now belongs to the program.
    Execd,
    /// The child's stdin is closed.
    StdinClosed,
    /// The child's stdout reached end of file.
    StdoutClosed,
    /// The child's stderr reached end of file.
    StderrClosed,
    /// This many bytes sent to the child's stdin were written into its pipe.
    StdinAck(u32),
    /// The sender rejected a frame; it was dropped.
    BadFrame(Error),
    /// Stdin or credit for a process that runs the loop: only an exec'd
    /// program has a stdin of its own. The frame was dropped.
    NotExecd,
}

/// The first frame the port sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Greeting {
    /// Version of the alcove binary.
    pub version: String,
    /// [`crate::PROTOCOL_VERSION`] of the binary.
    pub protocol: u32,
    /// PID of the port, in its own namespace.
    pub pid: Pid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_calls_are_recognised_by_their_first_byte() {
        let exec = [
            Call::Execve {
                path: "/bin/true".into(),
                argv: vec![],
                env: vec![],
            },
            Call::Execvp {
                file: "true".into(),
                argv: vec![],
            },
        ];
        for call in exec {
            assert!(Call::is_exec_payload(
                &postcard::to_allocvec(&call).unwrap()
            ));
        }
        for call in [
            Call::Fork,
            Call::Getpid,
            Call::Exit { status: 0 },
            Call::Pid,
        ] {
            assert!(!Call::is_exec_payload(
                &postcard::to_allocvec(&call).unwrap()
            ));
        }
        assert!(!Call::is_exec_payload(&[]));
    }
}
