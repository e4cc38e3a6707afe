//! The system calls a loop process makes while it serves: the list the
//! crate docs explain ("Steady-state system calls"), for a seccomp
//! allowlist.

/// One declarative list: each entry is the syscall's name, its `libc`
/// constant and a `#[cfg]` when it exists on one architecture only.
macro_rules! steady_state {
    ($( $(#[$cfg:meta])* $name:ident = $sys:ident, )*) => {
        /// The system calls a loop process makes once it serves, by their
        /// kernel names on this architecture (x86_64 or aarch64): what a
        /// seccomp allowlist must let through, besides what the served calls
        /// themselves need, for the process to keep serving, fork loop
        /// children and exec programs. The crate docs say why each is there.
        pub const STEADY_STATE_SYSCALLS: &[&str] = &[$( $(#[$cfg])* stringify!($name), )*];

        /// The number of a syscall of [`STEADY_STATE_SYSCALLS`] on this
        /// architecture (its `libc::SYS_*`), `None` for any other name.
        pub fn steady_state_syscall(name: &str) -> Option<libc::c_long> {
            match name {
                $( $(#[$cfg])* stringify!($name) => Some(libc::$sys), )*
                _ => None,
            }
        }

        #[cfg(test)]
        const CONSTANT_NAMES: &[(&str, &str)] =
            &[$( $(#[$cfg])* (stringify!($name), stringify!($sys)), )*];
    };
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
steady_state! {
    read = SYS_read,
    write = SYS_write,
    writev = SYS_writev,
    splice = SYS_splice,
    ioctl = SYS_ioctl,
    fcntl = SYS_fcntl,
    close = SYS_close,
    pipe2 = SYS_pipe2,
    #[cfg(target_arch = "x86_64")]
    epoll_wait = SYS_epoll_wait,
    #[cfg(target_arch = "aarch64")]
    epoll_pwait = SYS_epoll_pwait,
    epoll_ctl = SYS_epoll_ctl,
    epoll_create1 = SYS_epoll_create1,
    rt_sigreturn = SYS_rt_sigreturn,
    wait4 = SYS_wait4,
    kill = SYS_kill,
    clone = SYS_clone,
    set_robust_list = SYS_set_robust_list,
    getpid = SYS_getpid,
    close_range = SYS_close_range,
    #[cfg(target_arch = "x86_64")]
    dup2 = SYS_dup2,
    #[cfg(target_arch = "aarch64")]
    dup3 = SYS_dup3,
    rt_sigaction = SYS_rt_sigaction,
    rt_sigprocmask = SYS_rt_sigprocmask,
    sched_setscheduler = SYS_sched_setscheduler,
    setpgid = SYS_setpgid,
    execve = SYS_execve,
    exit_group = SYS_exit_group,
    mmap = SYS_mmap,
    munmap = SYS_munmap,
    mremap = SYS_mremap,
    brk = SYS_brk,
    ppoll = SYS_ppoll,
    waitid = SYS_waitid,
    prctl = SYS_prctl,
    getppid = SYS_getppid,
}

/// The numbers of [`STEADY_STATE_SYSCALLS`] on this architecture, in the
/// same order.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub fn steady_state_syscall_numbers() -> Vec<libc::c_long> {
    STEADY_STATE_SYSCALLS
        .iter()
        .map(|n| steady_state_syscall(n).expect("every name of the list has a number"))
        .collect()
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::*;

    #[test]
    fn each_name_is_its_constant() {
        for (name, sys) in CONSTANT_NAMES {
            assert_eq!(format!("SYS_{name}"), *sys);
        }
        assert_eq!(CONSTANT_NAMES.len(), STEADY_STATE_SYSCALLS.len());
    }

    #[test]
    fn numbers_are_distinct_and_looked_up() {
        let mut nrs = steady_state_syscall_numbers();
        assert_eq!(steady_state_syscall("read"), Some(libc::SYS_read));
        assert_eq!(steady_state_syscall("open"), None);
        nrs.sort_unstable();
        nrs.dedup();
        assert_eq!(nrs.len(), STEADY_STATE_SYSCALLS.len());
    }

    /// The backticked names that open the bullets of the crate docs'
    /// "Steady-state system calls" section, as they are on this
    /// architecture: a bullet `` `epoll_wait` (`epoll_pwait` on aarch64) ``
    /// names the second on aarch64.
    fn documented() -> Vec<String> {
        let lib = include_str!("lib.rs");
        let section = lib
            .split("//! # Steady-state system calls")
            .nth(1)
            .expect("the section in lib.rs");
        let section = section.split("\n//! #").next().unwrap_or(section);
        let mut names = Vec::new();
        for line in section.lines() {
            let Some(item) = line.strip_prefix("//! - `") else {
                continue;
            };
            let (first, rest) = item.split_once('`').expect("a closing backtick");
            let on_aarch64 = rest
                .strip_prefix(" (`")
                .and_then(|r| r.split_once("` on aarch64)"))
                .map(|(n, _)| n);
            let name = match on_aarch64 {
                Some(other) if cfg!(target_arch = "aarch64") => other,
                _ => first,
            };
            names.push(name.to_owned());
        }
        names
    }

    #[test]
    fn the_crate_docs_list_exactly_the_const() {
        let doc = documented();
        let list: Vec<String> = STEADY_STATE_SYSCALLS
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(doc, list, "lib.rs's list and STEADY_STATE_SYSCALLS differ");
    }
}
