//! Processes: fork, clone, exec, kill, wait.

use std::ffi::CString;

use rustix::process::{WaitOptions, WaitStatus};

use crate::Errno;

/// Which side of a [`fork`] this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// The parent, with the child's PID.
    Parent(i32),
    /// The child.
    Child,
}

/// `fork(2)`, through the C library's wrapper (so its atfork handlers run).
///
/// # Safety
/// The calling process must have one thread: the child of a
/// multi-threaded process may only call async-signal-safe functions until
/// it execs, and this crate's users go on to run arbitrary code in it.
///
/// # References
/// - [`fork(2)`](https://man7.org/linux/man-pages/man2/fork.2.html)
pub unsafe fn fork() -> Result<Forked, Errno> {
    // SAFETY: the caller guarantees a single-threaded process.
    match unsafe { libc::fork() } {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// `clone(2)` through the C library's wrapper, for namespace flags
/// (`CLONE_NEWNS`, `CLONE_NEWPID`, ...): the child runs `child` on a fresh
/// stack of `stack_size` bytes and exits with what it returns. The exit
/// signal is `SIGCHLD`, so the parent waits for it like for a forked child.
///
/// Unlike `fork`, the child does not return from this function; unlike the
/// raw syscall, this keeps glibc's view of the process consistent.
///
/// # Safety
/// As for [`fork`]: the calling process must have one thread. `flags` must
/// not ask for shared memory, files or signal handlers (`CLONE_VM`,
/// `CLONE_FILES`, `CLONE_SIGHAND`, `CLONE_THREAD`, ...), which would make
/// the child share the caller's address space under Rust's feet.
///
/// # References
/// - [`clone(2)`](https://man7.org/linux/man-pages/man2/clone.2.html)
pub unsafe fn clone(
    flags: u64,
    stack_size: usize,
    child: &mut dyn FnMut() -> i32,
) -> Result<i32, Errno> {
    const SHARING: u64 = (libc::CLONE_VM
        | libc::CLONE_FILES
        | libc::CLONE_FS
        | libc::CLONE_SIGHAND
        | libc::CLONE_THREAD
        | libc::CLONE_VFORK
        | libc::CLONE_SETTLS
        | libc::CLONE_PARENT_SETTID
        | libc::CLONE_CHILD_SETTID
        | libc::CLONE_CHILD_CLEARTID) as u64;
    if flags & SHARING != 0 || flags & 0xff != 0 {
        return Err(Errno::EINVAL);
    }
    // clone(2) takes the flags as an int: bit 31 (`CLONE_IO`) is its sign.
    let flags = u32::try_from(flags).map_err(|_| Errno::EINVAL)? as libc::c_int;

    extern "C" fn trampoline(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the `&mut &mut dyn FnMut` passed below, alive in
        // the child's copy of the parent's stack frame.
        let child = unsafe { &mut *arg.cast::<&mut dyn FnMut() -> i32>() };
        child()
    }

    let stack_size = stack_size.max(64 * 1024);
    // Zeroed allocation of this size is a fresh anonymous mapping: no page
    // is touched in the parent, and the child's copy is private to it.
    let mut stack = vec![0u8; stack_size];
    // SAFETY: one past the end of the allocation, rounded down to the
    // 16-byte alignment the ABI wants for a stack top.
    let top = unsafe { stack.as_mut_ptr().add(stack_size) };
    let top = (top as usize & !15) as *mut libc::c_void;
    let mut child: &mut dyn FnMut() -> i32 = child;
    let arg = (&mut child as *mut &mut dyn FnMut() -> i32).cast::<libc::c_void>();
    // SAFETY: the stack is valid for the child (a copy-on-write copy of
    // this allocation, as no CLONE_VM is set) and the callback outlives the
    // call in both processes; the caller guarantees a single thread.
    let pid = unsafe { libc::clone(trampoline, top, flags | libc::SIGCHLD, arg) };
    drop(stack);
    if pid == -1 {
        Err(Errno::last())
    } else {
        Ok(pid)
    }
}

fn cstrings(v: &[impl AsRef<[u8]>]) -> Result<Vec<CString>, Errno> {
    v.iter()
        .map(|s| CString::new(s.as_ref()).map_err(|_| Errno::EINVAL))
        .collect()
}

/// `argv` as C strings: at least one (`argv[0]`, which Linux would
/// otherwise make up), none with a NUL byte; `EINVAL` otherwise.
fn argv_of(argv: &[impl AsRef<[u8]>]) -> Result<Vec<CString>, Errno> {
    if argv.is_empty() {
        return Err(Errno::EINVAL);
    }
    cstrings(argv)
}

/// `env` as C strings, each `NAME=value` with a name that is not empty and
/// no NUL byte; `EINVAL` otherwise (a program could not read an entry
/// without `=` by name).
fn env_of(env: &[impl AsRef<[u8]>]) -> Result<Vec<CString>, Errno> {
    if env.iter().any(|e| {
        e.as_ref()
            .iter()
            .position(|&b| b == b'=')
            .is_none_or(|i| i == 0)
    }) {
        return Err(Errno::EINVAL);
    }
    cstrings(env)
}

fn pointers(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// `execve(2)`. Returns only on failure. An argument with a NUL byte
/// inside, an empty `argv` and an `env` entry that is not `NAME=value` are
/// `EINVAL`, before any exec.
///
/// # References
/// - [`execve(2)`](https://man7.org/linux/man-pages/man2/execve.2.html)
pub fn execve(path: &[u8], argv: &[impl AsRef<[u8]>], env: &[impl AsRef<[u8]>]) -> Errno {
    let run = || -> Result<std::convert::Infallible, Errno> {
        let path = CString::new(path).map_err(|_| Errno::EINVAL)?;
        let argv = argv_of(argv)?;
        let env = env_of(env)?;
        let (argv_p, env_p) = (pointers(&argv), pointers(&env));
        // SAFETY: NUL-terminated strings in NULL-terminated arrays, alive
        // across the call.
        unsafe { libc::execve(path.as_ptr(), argv_p.as_ptr(), env_p.as_ptr()) };
        Err(Errno::last())
    };
    match run() {
        Err(e) => e,
    }
}

/// `execvp(3)`: like [`execve`] with the current environment, searching
/// `PATH` for a `file` without a slash. An empty `argv` is `EINVAL`.
///
/// # References
/// - [`execvp(3)`](https://man7.org/linux/man-pages/man3/execvp.3.html)
pub fn execvp(file: &[u8], argv: &[impl AsRef<[u8]>]) -> Errno {
    let run = || -> Result<std::convert::Infallible, Errno> {
        let file = CString::new(file).map_err(|_| Errno::EINVAL)?;
        let argv = argv_of(argv)?;
        let argv_p = pointers(&argv);
        // SAFETY: NUL-terminated strings in a NULL-terminated array.
        unsafe { libc::execvp(file.as_ptr(), argv_p.as_ptr()) };
        Err(Errno::last())
    };
    match run() {
        Err(e) => e,
    }
}

/// `kill(2)`: sends `signal` to `pid` (a process group when negative).
pub fn kill(pid: i32, signal: i32) -> Result<(), Errno> {
    crate::raw::kill(pid, signal)
}

/// `prctl(PR_SET_PDEATHSIG)`: `signal` (0: none) is sent to this process
/// when its parent ends, however it ends. Kept across `execve`, except of
/// a set-user-ID, set-group-ID or file-capability program; not inherited by
/// children.
///
/// # References
/// - [`PR_SET_PDEATHSIG`](https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html)
pub fn set_parent_death_signal(signal: i32) -> Result<(), Errno> {
    crate::raw::set_parent_death_signal(signal)
}

/// `getppid(2)`.
pub fn getppid() -> i32 {
    rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get())
}

/// `setpgid(0, 0)`: makes this process the leader of a process group of
/// its own, so that it and the children it will have can be signalled
/// together.
///
/// # References
/// - [`setpgid(2)`](https://man7.org/linux/man-pages/man2/setpgid.2.html)
pub fn setpgid_self() -> Result<(), Errno> {
    Ok(rustix::process::setpgid(None, None)?)
}

/// `getpid(2)`.
pub fn getpid() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

/// How a child ended, as `waitpid(2)` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Status(i32),
    /// A signal killed it.
    Signal(i32),
}

/// `waitpid(-1, &status, WNOHANG)`: one child that has ended, if any.
/// `ECHILD` (no children at all) is `Ok(None)`.
pub fn reap_any() -> Result<Option<(i32, Exit)>, Errno> {
    // rustix's `waitpid(None, ..)` is `waitpid(0, ..)`: only children in
    // our process group. `wait` is the -1 of C: any child.
    match rustix::process::wait(WaitOptions::NOHANG) {
        Ok(Some((pid, status))) => Ok(Some((pid.as_raw_nonzero().get(), exit_of(status)))),
        Ok(None) => Ok(None),
        Err(rustix::io::Errno::CHILD) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether the child `pid` has ended, without reaping it
/// (`waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT)`): its status stays
/// for whoever reaps it. A process that is not our child counts as ended.
pub fn has_ended(pid: i32) -> bool {
    let Some(p) = rustix::process::Pid::from_raw(pid) else {
        return true;
    };
    let options = rustix::process::WaitIdOptions::EXITED
        | rustix::process::WaitIdOptions::NOHANG
        | rustix::process::WaitIdOptions::NOWAIT;
    // NOHANG and nothing ended: Ok(None), or Some with no pid, by kernel.
    match rustix::process::waitid(rustix::process::WaitId::Pid(p), options) {
        Ok(Some(status)) => status.exited() || status.killed() || status.dumped(),
        Ok(None) => false,
        Err(_) => true,
    }
}

fn exit_of(status: WaitStatus) -> Exit {
    match (status.exit_status(), status.terminating_signal()) {
        (Some(code), _) => Exit::Status(code),
        (None, Some(sig)) => Exit::Signal(sig),
        // Stopped or continued: not asked for (no WUNTRACED/WCONTINUED).
        _ => Exit::Status(status.as_raw()),
    }
}

/// Whether this program was started in secure-execution mode: setuid,
/// setgid, or with file capabilities (`AT_SECURE` in the auxiliary
/// vector). Such a program must not trust its caller's environment.
///
/// # References
/// - [`getauxval(3)`](https://man7.org/linux/man-pages/man3/getauxval.3.html)
pub fn is_secure_exec() -> bool {
    // SAFETY: getauxval reads the auxiliary vector; AT_SECURE is a valid key.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// A scheduling policy of the normal (not real-time) class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `SCHED_OTHER`: the default.
    Other,
    /// `SCHED_BATCH`: the same share of the CPU, but a process that is
    /// woken up does not preempt the one running.
    Batch,
    /// Any other policy (`SCHED_IDLE`, `SCHED_FIFO`, `SCHED_RR`, ...), by
    /// number: one this module reads but does not set.
    Another(i32),
}

/// `sched_getscheduler(0)`. rustix has no wrapper.
///
/// # References
/// - [`sched_getscheduler(2)`](https://man7.org/linux/man-pages/man2/sched_getscheduler.2.html)
pub fn policy() -> Result<Policy, Errno> {
    // SAFETY: takes a plain integer.
    match unsafe { libc::sched_getscheduler(0) } {
        -1 => Err(Errno::last()),
        libc::SCHED_OTHER => Ok(Policy::Other),
        libc::SCHED_BATCH => Ok(Policy::Batch),
        n => Ok(Policy::Another(n)),
    }
}

/// `sched_setscheduler(0, policy, {0})` for `SCHED_OTHER` or
/// `SCHED_BATCH` (`EINVAL` for anything else). rustix has no wrapper.
///
/// # References
/// - [`sched_setscheduler(2)`](https://man7.org/linux/man-pages/man2/sched_setscheduler.2.html)
pub fn set_policy(policy: Policy) -> Result<(), Errno> {
    let policy = match policy {
        Policy::Other => libc::SCHED_OTHER,
        Policy::Batch => libc::SCHED_BATCH,
        Policy::Another(_) => return Err(Errno::EINVAL),
    };
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: a pointer to a live sched_param.
    if unsafe { libc::sched_setscheduler(0, policy, &param) } == -1 {
        return Err(Errno::last());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_argv_and_env_are_refused_before_any_exec() {
        let none: &[&str] = &[];
        // Each returns (the exec was not tried: the test process lives on).
        assert_eq!(execve(b"/bin/true", none, none), Errno::EINVAL);
        assert_eq!(execvp(b"true", none), Errno::EINVAL);
        assert_eq!(execve(b"/bin/true", &["tr\0ue"], none), Errno::EINVAL);
        for env in ["NOEQUALS", "=value", "A=\0"] {
            assert_eq!(
                execve(b"/bin/true", &["true"], &[env]),
                Errno::EINVAL,
                "{env:?}"
            );
        }
        assert!(argv_of(&["true"]).is_ok());
        assert!(env_of(&["A=", "B=c=d"]).is_ok());
    }
}
