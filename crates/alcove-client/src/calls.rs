//! The calls of the seed's "Event Loop" section, and its constants.

use alcove_proto::{ByteBuf, Call, Path, Pid, PrctlArg, Reply, Rlimit, SigHandler, Table};

use crate::drv::{Drv, bytes, ok_reply, unexpected};
use crate::error::{Error, Result};

impl Drv {
    /// `chdir(2)` in the process at `path`.
    pub fn chdir(&self, path: &[Pid], dir: impl AsRef<[u8]>) -> Result<()> {
        self.unit("chdir", path, Call::Chdir { path: bytes(dir) })
    }

    /// `chmod(2)`.
    pub fn chmod(&self, path: &[Pid], file: impl AsRef<[u8]>, mode: u32) -> Result<()> {
        self.unit(
            "chmod",
            path,
            Call::Chmod {
                path: bytes(file),
                mode,
            },
        )
    }

    /// `chown(2)`. `u32::MAX` leaves the owner or the group unchanged.
    pub fn chown(&self, path: &[Pid], file: impl AsRef<[u8]>, uid: u32, gid: u32) -> Result<()> {
        self.unit(
            "chown",
            path,
            Call::Chown {
                path: bytes(file),
                uid,
                gid,
            },
        )
    }

    /// `chroot(2)`. Follow with `chdir(path, "/")`.
    pub fn chroot(&self, path: &[Pid], dir: impl AsRef<[u8]>) -> Result<()> {
        self.unit("chroot", path, Call::Chroot { path: bytes(dir) })
    }

    /// `clearenv(3)`.
    pub fn clearenv(&self, path: &[Pid]) -> Result<()> {
        self.unit("clearenv", path, Call::Clearenv)
    }

    /// `close(2)` of a descriptor opened with [`open`](Self::open). The
    /// loop's own descriptors are refused.
    pub fn close(&self, path: &[Pid], fd: i32) -> Result<()> {
        self.unit("close", path, Call::Close { fd })
    }

    /// `environ(7)`: every variable as `NAME=value`.
    pub fn environ(&self, path: &[Pid]) -> Result<Vec<Vec<u8>>> {
        self.list("environ", path, Call::Environ)
    }

    /// `getcwd(3)`.
    pub fn getcwd(&self, path: &[Pid]) -> Result<Vec<u8>> {
        self.bytes("getcwd", path, Call::Getcwd)
    }

    /// `getenv(3)`: `None` when unset.
    pub fn getenv(&self, path: &[Pid], name: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        match self.request("getenv", path, &Call::Getenv { name: bytes(name) })? {
            Reply::MaybeBytes(v) => Ok(v.map(ByteBuf::into_vec)),
            other => Err(unexpected("getenv", path, &other)),
        }
    }

    /// `getgid(2)`.
    pub fn getgid(&self, path: &[Pid]) -> Result<u32> {
        self.int("getgid", path, Call::Getgid).map(|n| n as u32)
    }

    /// `gethostname(2)`.
    pub fn gethostname(&self, path: &[Pid]) -> Result<Vec<u8>> {
        self.bytes("gethostname", path, Call::Gethostname)
    }

    /// `getrlimit(2)` of an `RLIMIT_*` resource ([`rlimit_define`](Self::rlimit_define)).
    /// `None` in the result is `RLIM_INFINITY`.
    pub fn getrlimit(&self, path: &[Pid], resource: i32) -> Result<Rlimit> {
        match self.request("getrlimit", path, &Call::Getrlimit { resource })? {
            Reply::Rlimit(r) => Ok(r),
            other => Err(unexpected("getrlimit", path, &other)),
        }
    }

    /// `getuid(2)`.
    pub fn getuid(&self, path: &[Pid]) -> Result<u32> {
        self.int("getuid", path, Call::Getuid).map(|n| n as u32)
    }

    /// `mkdir(2)`.
    pub fn mkdir(&self, path: &[Pid], dir: impl AsRef<[u8]>, mode: u32) -> Result<()> {
        self.unit(
            "mkdir",
            path,
            Call::Mkdir {
                path: bytes(dir),
                mode,
            },
        )
    }

    /// `mount(2)`, Linux style. Empty `source`, `fstype` or `data` are NULL.
    pub fn mount(
        &self,
        path: &[Pid],
        source: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
        fstype: impl AsRef<[u8]>,
        flags: u64,
        data: impl AsRef<[u8]>,
    ) -> Result<()> {
        let call = Call::Mount {
            source: bytes(source),
            target: bytes(target),
            fstype: bytes(fstype),
            flags,
            data: bytes(data),
        };
        self.unit("mount", path, call)
    }

    /// `open(2)`: returns the descriptor, in the process at `path`.
    pub fn open(&self, path: &[Pid], file: impl AsRef<[u8]>, flags: i32, mode: u32) -> Result<i32> {
        self.int(
            "open",
            path,
            Call::Open {
                path: bytes(file),
                flags,
                mode,
            },
        )
        .map(|n| n as i32)
    }

    /// `prctl(2)` with up to four arguments after the option (integers,
    /// buffers or structs, see [`PrctlArg`]). Returns what prctl returned
    /// and the arguments as the kernel left them.
    ///
    /// This is how a seccomp filter is set: `PR_SET_NO_NEW_PRIVS`, then
    /// `PR_SET_SECCOMP` with `SECCOMP_MODE_FILTER` and a `struct sock_fprog`
    /// as `PrctlArg::Struct(vec![Field::Bytes(len + padding), Field::Ptr(filter)])`.
    pub fn prctl(
        &self,
        path: &[Pid],
        option: i32,
        args: &[PrctlArg],
    ) -> Result<(i64, Vec<PrctlArg>)> {
        let call = Call::Prctl {
            option,
            args: args.to_vec(),
        };
        match self.request("prctl", path, &call)? {
            Reply::Prctl { ret, args } => Ok((ret, args)),
            other => Err(unexpected("prctl", path, &other)),
        }
    }

    /// `read(2)` of at most `count` bytes.
    pub fn read(&self, path: &[Pid], fd: i32, count: u64) -> Result<Vec<u8>> {
        self.bytes("read", path, Call::Read { fd, count })
    }

    /// Every entry of a directory, `.` and `..` included.
    pub fn readdir(&self, path: &[Pid], dir: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        self.list("readdir", path, Call::Readdir { path: bytes(dir) })
    }

    /// `rmdir(2)`.
    pub fn rmdir(&self, path: &[Pid], dir: impl AsRef<[u8]>) -> Result<()> {
        self.unit("rmdir", path, Call::Rmdir { path: bytes(dir) })
    }

    /// `setenv(3)`.
    pub fn setenv(
        &self,
        path: &[Pid],
        name: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        overwrite: bool,
    ) -> Result<()> {
        let call = Call::Setenv {
            name: bytes(name),
            value: bytes(value),
            overwrite,
        };
        self.unit("setenv", path, call)
    }

    /// `setgid(2)`.
    pub fn setgid(&self, path: &[Pid], gid: u32) -> Result<()> {
        self.unit("setgid", path, Call::Setgid { gid })
    }

    /// `setgroups(2)`: the supplementary groups; `&[]` drops them all, as a
    /// sandbox should before `setgid` and `setuid`.
    pub fn setgroups(&self, path: &[Pid], gids: &[u32]) -> Result<()> {
        self.unit(
            "setgroups",
            path,
            Call::Setgroups {
                gids: gids.to_vec(),
            },
        )
    }

    /// `sethostname(2)`: useful in a new UTS namespace.
    pub fn sethostname(&self, path: &[Pid], name: impl AsRef<[u8]>) -> Result<()> {
        self.unit("sethostname", path, Call::Sethostname { name: bytes(name) })
    }

    /// `setns(2)` into the namespace of `/proc/<pid>/ns/<ns>`; `nstype` is
    /// the `CLONE_NEW*` type it must be, or 0 for any.
    pub fn setns(&self, path: &[Pid], file: impl AsRef<[u8]>, nstype: i32) -> Result<()> {
        self.unit(
            "setns",
            path,
            Call::Setns {
                path: bytes(file),
                nstype,
            },
        )
    }

    /// `setrlimit(2)`. `None` is `RLIM_INFINITY`.
    pub fn setrlimit(&self, path: &[Pid], resource: i32, limit: Rlimit) -> Result<()> {
        self.unit("setrlimit", path, Call::Setrlimit { resource, limit })
    }

    /// `setuid(2)`.
    pub fn setuid(&self, path: &[Pid], uid: u32) -> Result<()> {
        self.unit("setuid", path, Call::Setuid { uid })
    }

    /// `sigaction(2)`: `Dfl`, `Ign` or `Trap` (a trapped signal arrives as
    /// [`Event::Signal`](crate::Event::Signal) from `path`). Returns the previous disposition.
    /// `SIGCHLD` is governed by the `sigchld` option instead.
    pub fn sigaction(&self, path: &[Pid], signum: i32, handler: SigHandler) -> Result<SigHandler> {
        let call = Call::Sigaction {
            signum,
            handler: Some(handler),
        };
        match self.request("sigaction", path, &call)? {
            Reply::Handler(h) => Ok(h),
            other => Err(unexpected("sigaction", path, &other)),
        }
    }

    /// `umount(2)`.
    pub fn umount(&self, path: &[Pid], target: impl AsRef<[u8]>) -> Result<()> {
        self.unit(
            "umount",
            path,
            Call::Umount {
                path: bytes(target),
            },
        )
    }

    /// `unsetenv(3)`.
    pub fn unsetenv(&self, path: &[Pid], name: impl AsRef<[u8]>) -> Result<()> {
        self.unit("unsetenv", path, Call::Unsetenv { name: bytes(name) })
    }

    /// `unshare(2)` with `CLONE_NEW*` flags.
    pub fn unshare(&self, path: &[Pid], flags: u64) -> Result<()> {
        self.unit("unshare", path, Call::Unshare { flags })
    }

    /// `write(2)`: returns the bytes written.
    pub fn write(&self, path: &[Pid], fd: i32, buf: impl AsRef<[u8]>) -> Result<usize> {
        self.int(
            "write",
            path,
            Call::Write {
                fd,
                data: bytes(buf),
            },
        )
        .map(|n| n as usize)
    }

    // ---- constants, as the process at `path` knows them -----------------------------

    /// Flag names ORed together (`["CLONE_NEWNS", "clone_newpid"]`), each
    /// looked up in the clone, file, mount, prctl, rlimit and signal tables
    /// in turn. An unknown name is an error that names it.
    pub fn define<S: AsRef<str>>(&self, path: &[Pid], names: &[S]) -> Result<u64> {
        let names = names.iter().map(|n| n.as_ref().to_owned()).collect();
        self.int("define", path, Call::Define { names })
            .map(|n| n as u64)
    }

    fn constant(&self, call: &'static str, path: &[Pid], table: Table, name: &str) -> Result<u64> {
        let c = Call::Constant {
            table,
            name: name.to_owned(),
        };
        self.int(call, path, c).map(|n| n as u64)
    }

    /// A `CLONE_*` flag.
    pub fn clone_define(&self, path: &[Pid], name: &str) -> Result<u64> {
        self.constant("clone_define", path, Table::Clone, name)
    }

    /// An `O_*` flag of `open(2)`.
    pub fn file_define(&self, path: &[Pid], name: &str) -> Result<i32> {
        self.constant("file_define", path, Table::File, name)
            .map(|n| n as i32)
    }

    /// A mount flag: `MS_RDONLY`, or the seed's portable `rdonly`,
    /// `nosuid`, `noexec`, `noatime`, ...
    pub fn mount_define(&self, path: &[Pid], name: &str) -> Result<u64> {
        self.constant("mount_define", path, Table::Mount, name)
    }

    /// A `PR_*` option or `SECCOMP_*` value.
    pub fn prctl_define(&self, path: &[Pid], name: &str) -> Result<u64> {
        self.constant("prctl_define", path, Table::Prctl, name)
    }

    /// An `RLIMIT_*` resource.
    pub fn rlimit_define(&self, path: &[Pid], name: &str) -> Result<i32> {
        self.constant("rlimit_define", path, Table::Rlimit, name)
            .map(|n| n as i32)
    }

    /// A signal number.
    pub fn signal_define(&self, path: &[Pid], name: &str) -> Result<i32> {
        self.constant("signal_define", path, Table::Signal, name)
            .map(|n| n as i32)
    }

    /// A signal's name (`17` is `SIGCHLD`).
    pub fn signal_constant(&self, path: &[Pid], signum: i32) -> Result<String> {
        // Sign-extended, -1 would be asked for as 2^64 - 1, and refused
        // under that name.
        let Ok(value) = u64::try_from(signum) else {
            return Err(Error::BadArg {
                call: "signal_constant",
                path: Path::from(path),
                reason: format!("no signal has the value {signum}"),
            });
        };
        let call = Call::ConstantName {
            table: Table::Signal,
            value,
        };
        self.bytes("signal_constant", path, call)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn unit(&self, name: &'static str, path: &[Pid], call: Call) -> Result<()> {
        ok_reply(name, path, self.request(name, path, &call)?)
    }

    fn int(&self, name: &'static str, path: &[Pid], call: Call) -> Result<i64> {
        match self.request(name, path, &call)? {
            Reply::Int(n) => Ok(n),
            other => Err(unexpected(name, path, &other)),
        }
    }

    fn bytes(&self, name: &'static str, path: &[Pid], call: Call) -> Result<Vec<u8>> {
        match self.request(name, path, &call)? {
            Reply::Bytes(b) => Ok(b.into_vec()),
            other => Err(unexpected(name, path, &other)),
        }
    }

    fn list(&self, name: &'static str, path: &[Pid], call: Call) -> Result<Vec<Vec<u8>>> {
        match self.request(name, path, &call)? {
            Reply::List(l) => Ok(l.into_iter().map(ByteBuf::into_vec).collect()),
            other => Err(unexpected(name, path, &other)),
        }
    }
}
