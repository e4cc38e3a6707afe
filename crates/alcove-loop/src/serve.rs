//! Calls that need nothing of the loop's state: each is a syscall (or a
//! few) in this process. The loop keeps the calls that touch its own
//! descriptors, signals or children.

use alcove_proto::{ByteBuf, Call, CallError, Field, Pid, PrctlArg, Reply, Rlimit, Table};
use alcove_sys::{Errno, cred, env, fs, mount, ns, rlimit, tables};

fn errno(e: Errno) -> CallError {
    CallError::Errno(e.raw())
}

fn ok(r: Result<(), Errno>) -> Result<Reply, CallError> {
    r.map(|()| Reply::Ok).map_err(errno)
}

fn table(t: Table) -> &'static alcove_sys::table::Table {
    match t {
        Table::Clone => &tables::CLONE,
        Table::File => &tables::FILE,
        Table::Mount => &tables::MOUNT,
        Table::Prctl => &tables::PRCTL,
        Table::Rlimit => &tables::RLIMIT,
        Table::Signal => &tables::SIGNAL,
        Table::Errno => &tables::ERRNO,
    }
}

/// `mode` when it holds only permission, setuid, setgid and sticky bits:
/// the kernel would silently drop any other, and answer `Ok` for a mode it
/// did not set.
fn mode(mode: u32) -> Result<u32, CallError> {
    if mode & !0o7777 != 0 {
        return Err(CallError::BadArg(format!(
            "mode {mode:#o} has bits outside 0o7777 (permissions, setuid, setgid, sticky)"
        )));
    }
    Ok(mode)
}

/// Performs `call` in this process.
/// The arguments of an `Execve` or `Execvp`, checked before the loop
/// commits to the exec: a NUL byte in the path, the file, an argument or an
/// environment entry, an empty argv (Linux would make up an empty
/// `argv[0]`), an environment entry with no `NAME=`. The message says which.
pub fn check_exec(call: &Call) -> Result<(), CallError> {
    let (what, file, argv, env) = match call {
        Call::Execve { path, argv, env } => ("path", path, argv, env.as_slice()),
        Call::Execvp { file, argv } => ("file", file, argv, &[][..]),
        _ => return Ok(()),
    };
    let bad = |why: String| Err(CallError::BadArg(why));
    // An empty path is the kernel's to refuse (ENOENT).
    if file.as_slice().contains(&0) {
        return bad(format!("the {what} holds a NUL byte"));
    }
    if argv.is_empty() {
        return bad("argv is empty: it needs at least argv[0]".into());
    }
    if let Some(i) = argv.iter().position(|a| a.as_slice().contains(&0)) {
        return bad(format!("argv[{i}] holds a NUL byte"));
    }
    for (i, e) in env.iter().map(ByteBuf::as_slice).enumerate() {
        if e.contains(&0) {
            return bad(format!("env[{i}] holds a NUL byte"));
        }
        if e.iter().position(|&b| b == b'=').is_none_or(|at| at == 0) {
            return bad(format!("env[{i}] is not NAME=value"));
        }
    }
    Ok(())
}

pub fn serve(call: Call) -> Result<Reply, CallError> {
    match call {
        Call::Getpid => Ok(Reply::Pid(Pid::from_raw(alcove_sys::process::getpid()))),
        Call::Kill { pid, signal } => ok(alcove_sys::process::kill(pid, signal)),
        Call::Version => Ok(Reply::Bytes(ByteBuf::from(crate::VERSION))),
        Call::Chdir { path } => ok(fs::chdir(path.as_slice())),
        Call::Chmod { path, mode: m } => ok(fs::chmod(path.as_slice(), mode(m)?)),
        Call::Chown { path, uid, gid } => ok(fs::chown(path.as_slice(), uid, gid)),
        Call::Chroot { path } => ok(fs::chroot(path.as_slice())),
        // SAFETY: the loop is single-threaded.
        Call::Clearenv => ok(unsafe { env::clearenv() }),
        Call::Environ => Ok(Reply::List(
            env::environ().into_iter().map(ByteBuf).collect(),
        )),
        Call::Getcwd => fs::getcwd()
            .map(|p| Reply::Bytes(ByteBuf(p)))
            .map_err(errno),
        Call::Getenv { name } => Ok(Reply::MaybeBytes(env::getenv(name.as_slice()).map(ByteBuf))),
        Call::Getgid => Ok(Reply::Int(cred::getgid().into())),
        Call::Gethostname => ns::gethostname()
            .map(|h| Reply::Bytes(ByteBuf(h)))
            .map_err(errno),
        Call::Getrlimit { resource } => rlimit::getrlimit(resource)
            .map(|l| {
                Reply::Rlimit(Rlimit {
                    cur: l.cur,
                    max: l.max,
                })
            })
            .map_err(errno),
        Call::Getuid => Ok(Reply::Int(cred::getuid().into())),
        Call::Mkdir { path, mode: m } => ok(fs::mkdir(path.as_slice(), mode(m)?)),
        Call::Mount {
            source,
            target,
            fstype,
            flags,
            data,
        } => ok(mount::mount(
            source.as_slice(),
            target.as_slice(),
            fstype.as_slice(),
            flags,
            data.as_slice(),
        )),
        Call::Open {
            path,
            flags,
            mode: m,
        } => fs::open(path.as_slice(), flags, mode(m)?)
            .map(|fd| Reply::Int(fd.into()))
            .map_err(errno),
        Call::Prctl { option, args } => prctl(option, args),
        Call::Readdir { path } => fs::readdir(path.as_slice())
            .map(|names| Reply::List(names.into_iter().map(ByteBuf).collect()))
            .map_err(errno),
        Call::Rmdir { path } => ok(fs::rmdir(path.as_slice())),
        Call::Setenv {
            name,
            value,
            overwrite,
        } => {
            // SAFETY: the loop is single-threaded.
            ok(unsafe { env::setenv(name.as_slice(), value.as_slice(), overwrite) })
        }
        Call::Setgid { gid } => ok(cred::setgid(gid)),
        Call::Setgroups { gids } => ok(cred::setgroups(&gids)),
        Call::Sethostname { name } => ok(ns::sethostname(name.as_slice())),
        Call::Setns { path, nstype } => ok(ns::setns(path.as_slice(), nstype)),
        Call::Setrlimit { resource, limit } => ok(rlimit::setrlimit(
            resource,
            rlimit::Rlimit {
                cur: limit.cur,
                max: limit.max,
            },
        )),
        Call::Setuid { uid } => ok(cred::setuid(uid)),
        Call::Umount { path } => ok(mount::umount(path.as_slice())),
        // SAFETY: the loop is single-threaded.
        Call::Unsetenv { name } => ok(unsafe { env::unsetenv(name.as_slice()) }),
        // SAFETY: the loop is single-threaded.
        Call::Unshare { flags } => ok(unsafe { ns::unshare(flags) }),
        Call::Constant { table: t, name } => table(t)
            .lookup(&name)
            .map(|v| Reply::Int(v as i64))
            .map_err(|e| CallError::BadArg(e.to_string())),
        Call::ConstantName { table: t, value } => table(t)
            .name(value)
            .map(|n| Reply::Bytes(ByteBuf::from(n)))
            .ok_or_else(|| {
                CallError::BadArg(format!("no {} has the value {value}", table(t).what()))
            }),
        Call::Define { names } => tables::define(&names)
            .map(|v| Reply::Int(v as i64))
            .map_err(|e| CallError::BadArg(e.to_string())),
        other => Err(CallError::BadArg(format!(
            "{} is not served here: it needs the loop's state",
            other.name()
        ))),
    }
}

fn prctl(option: i32, args: Vec<PrctlArg>) -> Result<Reply, CallError> {
    use alcove_sys::prctl::{Arg, Field as SysField};
    if args.len() > 4 {
        return Err(CallError::BadArg(format!(
            "prctl takes 4 arguments after the option, not {}",
            args.len()
        )));
    }
    let to_sys = |a: &PrctlArg| match a {
        PrctlArg::Int(v) => Arg::Int(*v),
        PrctlArg::Buf(b) => Arg::Buf(b.0.clone()),
        PrctlArg::Struct(fields) => Arg::Struct(
            fields
                .iter()
                .map(|f| match f {
                    Field::Bytes(b) => SysField::Bytes(b.0.clone()),
                    Field::Ptr(b) => SysField::Ptr(b.0.clone()),
                })
                .collect(),
        ),
    };
    let mut sys: [Arg; 4] = std::array::from_fn(|i| args.get(i).map_or(Arg::Int(0), to_sys));
    // SAFETY: the client drives this process entirely (it may exec any
    // program in it); prctl does what it is asked, with padded buffers.
    let ret = unsafe { alcove_sys::prctl::prctl(option, &mut sys) }.map_err(errno)?;
    let back = sys
        .into_iter()
        .map(|a| match a {
            Arg::Int(v) => PrctlArg::Int(v),
            Arg::Buf(b) => PrctlArg::Buf(ByteBuf(b)),
            Arg::Struct(fields) => PrctlArg::Struct(
                fields
                    .into_iter()
                    .map(|f| match f {
                        SysField::Bytes(b) => Field::Bytes(ByteBuf(b)),
                        SysField::Ptr(b) => Field::Ptr(ByteBuf(b)),
                    })
                    .collect(),
            ),
        })
        .collect();
    Ok(Reply::Prctl { ret, args: back })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_arguments_are_checked_and_named() {
        let b = |s: &str| ByteBuf::from(s.as_bytes().to_vec());
        let execve = |path: &str, argv: &[&str], env: &[&str]| Call::Execve {
            path: b(path),
            argv: argv.iter().map(|a| b(a)).collect(),
            env: env.iter().map(|e| b(e)).collect(),
        };
        let refused = |call: Call, want: &str| match check_exec(&call) {
            Err(CallError::BadArg(why)) => assert!(why.contains(want), "{why}"),
            other => panic!("{call:?}: {other:?}"),
        };
        assert_eq!(
            check_exec(&execve("/bin/true", &["true"], &["A=b"])),
            Ok(())
        );
        assert_eq!(check_exec(&execve("/bin/true", &["true"], &["A="])), Ok(()));
        assert_eq!(check_exec(&execve("", &["x"], &[])), Ok(()));
        refused(execve("/bin/t\0rue", &["x"], &[]), "path holds a NUL");
        refused(execve("/bin/true", &[], &[]), "argv is empty");
        refused(
            execve("/bin/true", &["a", "b\0"], &[]),
            "argv[1] holds a NUL",
        );
        refused(
            execve("/bin/true", &["a"], &["A=b", "C"]),
            "env[1] is not NAME=value",
        );
        refused(
            execve("/bin/true", &["a"], &["=b"]),
            "env[0] is not NAME=value",
        );
        refused(execve("/bin/true", &["a"], &["A=\0"]), "env[0] holds a NUL");
        let execvp = Call::Execvp {
            file: b("true"),
            argv: vec![],
        };
        refused(execvp, "argv is empty");
    }

    #[test]
    fn modes_past_0o7777_are_refused_before_any_syscall() {
        let missing = || ByteBuf::from("/nonexistent/alcove-test");
        for call in [
            Call::Chmod {
                path: missing(),
                mode: 0o17_7777,
            },
            Call::Mkdir {
                path: missing(),
                mode: 0o4_0755,
            },
            Call::Open {
                path: missing(),
                flags: 0o100,
                mode: 0o1_0644,
            },
        ] {
            match serve(call) {
                Err(CallError::BadArg(why)) => assert!(why.contains("0o7777"), "{why}"),
                other => panic!("{other:?}"),
            }
        }
        // In range, the syscall answers.
        let call = Call::Chmod {
            path: missing(),
            mode: 0o7777,
        };
        assert!(matches!(serve(call), Err(CallError::Errno(_))));
    }
}
