//! The alcove event loop, and the `alcove` binary that runs it.
//!
//! # The loop's contract
//!
//! - **Single-threaded, always.** A loop process never starts a thread and
//!   depends on nothing that does, because it forks: a child is created by
//!   `fork(2)` or `clone(2)` of the loop itself and runs the same loop with
//!   a fresh poller, an empty child table and a depth one greater.
//! - **One epoll set, registered once.** Every descriptor is registered when
//!   it is created and removed when it is closed; a turn of the loop costs
//!   what its ready events cost, whatever the number of children (alcove
//!   1.0.1 rebuilt a `poll` set over every child on every turn).
//! - **Edge-triggered, drained.** Each ready descriptor is read until
//!   `EAGAIN`, or until flow control says stop, in which case its readiness
//!   is remembered and it is read again when the flow resumes. Spurious
//!   wake-ups are harmless: a read that finds nothing returns `EAGAIN`.
//! - **Bounded queues.** Output to the reader is queued only up to a high
//!   water mark, past which children are not read; an exec'd child's
//!   stdout and stderr are relayed only as far as the client's credit goes;
//!   stdin for an exec'd child is acknowledged so that the client never has
//!   more than a window of it in flight. Within the credit, a per-child
//!   budget (alcove's flow control, `setcpid`) pauses or meters a program's
//!   output.
//! - **Its parent's death reaches it.** Each loop process asks for
//!   [`PARENT_GONE`] when its parent dies (`PR_SET_PDEATHSIG`), trapped
//!   without `SA_RESTART`: a served call blocked in the kernel (a read of
//!   an empty FIFO) fails with `EINTR`, and the process sees its input end
//!   and shuts down instead of outliving its tree.
//! - **A stream it cannot cut is the end.** A length prefix above
//!   `MAX_FRAME`, or the end of input inside a frame, is a protocol error:
//!   the process says so and shuts down (status 2) without acting on
//!   anything from that point; its tree follows as at the end of input. A
//!   bad frame with a sound length is refused alone, and the stream goes on.
//! - **No allocation per relayed message.** A frame moving one hop has its
//!   header rewritten in a buffer on the stack and goes out with its
//!   payload in one `writev`; buffers are reused.
//! - **No copy of a program's output.** What an exec'd program writes goes
//!   from its pipe into its parent's stdout by `splice(2)`, after a header
//!   of its exact length (`FIONREAD`), when the parent's pipe has room; a
//!   pipe the other end keeps full is grown once, to 1 MiB.
//! - **Signals through a self-pipe.** The handler sets a flag and writes a
//!   byte; `SIGCHLD` is coalesced, so children are reaped with `WNOHANG`
//!   until none is left.
//! - **Ordered exits.** A child's exit is reported only after everything it
//!   wrote to stdout and stderr before exiting has been relayed.
//! - **In-band exec detection.** A child about to exec writes a marker
//!   frame on its stdout; its close-on-exec control pipe then closes (the
//!   exec succeeded) or carries `F` (it failed). Frames for a child whose
//!   exec is pending are held until it resolves.
//! - **Relays do not preempt.** The port switches the tree to
//!   `SCHED_BATCH` (when it was started under the default policy): a loop
//!   process woken by a write does not preempt the writer, which is about
//!   to wait anyway, and a frame crosses a hop with one context switch, not
//!   two. An exec'd program gets `SCHED_OTHER` back.
//! - **No orphans.** When its stdin closes, a loop process signals its
//!   exec'd children (`signaloneof`, `SIGTERM` by default) and exits; its
//!   loop children see their stdin close and do the same.
//!
//! # Steady-state system calls
//!
//! Once it serves, a loop process makes only the system calls below
//! ([`STEADY_STATE_SYSCALLS`], with their numbers from
//! [`steady_state_syscall_numbers`]), besides what each served call is
//! itself (`getcwd` for `Getcwd`, `open` for `Open`, ...). The list was
//! taken with `strace -f` of a child driven through getpid, file, fork,
//! exec, stdin, stdout and exit traffic, and the seccomp test
//! (`tests/tests/seccomp.rs`) holds a child to it. It covers the child side
//! of a fork up to its first turn and an exec up to `execve`, because a
//! seccomp filter is inherited by both. Names are those of x86_64; where
//! aarch64 has no such call, the bullet names its replacement.
//!
//! - `read`: frames from the parent (stdin), a child's stdout, stderr and
//!   control pipe, the signal self-pipe drained to `EAGAIN`; the `Read`
//!   call; output relayed by copy.
//! - `write`: the signal handler's byte on the self-pipe, stdin for an
//!   exec'd child, the header of a spliced frame; the `Write` call.
//! - `writev`: every frame out, header and payload in one call, to the
//!   parent and to loop children.
//! - `splice`: a program's output moved into our stdout, from 32 KiB.
//! - `ioctl`: `FIONREAD` on a program's stdout and stderr (the exact length
//!   of a frame's header) and on our stdout (the room it has).
//! - `fcntl`: `F_GETPIPE_SZ` and `F_SETPIPE_SZ` (pipe room and growth),
//!   `F_GETFL` and `F_SETFL` (blocking stdio for a program), `F_GETFD` (the
//!   standard library checks a descriptor it closes, in debug builds).
//! - `close`: the pipes of a child that is gone, a new child's ends; the
//!   `Close` call.
//! - `pipe2`: stdin, stdout, stderr and control pipes of each new child,
//!   and a child's own signal self-pipe.
//! - `epoll_wait` (`epoll_pwait` on aarch64): each turn of the loop.
//! - `epoll_ctl`: registering a new child's pipes, removing closed ones.
//! - `epoll_create1`: the fresh poller of a new loop child.
//! - `rt_sigreturn`: the return from the signal handler (`SIGCHLD`,
//!   trapped signals).
//! - `wait4`: reaping children with `WNOHANG` until none is left.
//! - `kill`: `signaloneof` to exec'd children at exit; the `Kill` call.
//! - `clone`: `fork(3)` of a loop child.
//! - `set_robust_list`: what `fork(3)` does in the new child.
//! - `getpid`: the new child learns its pid; the `Getpid` call.
//! - `close_range`: the new child closes its parent's descriptors and
//!   marks the rest close-on-exec.
//! - `dup2` (`dup3` on aarch64): the new child's pipes onto 0, 1 and 2.
//! - `rt_sigaction`: `SIGPIPE` back to its default before an exec.
//! - `rt_sigprocmask`: the signal mask emptied before an exec.
//! - `sched_setscheduler`: `SCHED_OTHER` back before an exec, under
//!   `SCHED_BATCH`.
//! - `setpgid`: an exec'd program leads its own process group.
//! - `execve`: the `Execve` and `Execvp` calls (`execvp(3)` tries each
//!   directory of `PATH`).
//! - `exit_group`: the `Exit` call, exit at end of stdin, a failed exec.
//! - `mmap`: the allocator, for a buffer of 128 KiB or more (the relay's
//!   256 KiB chunk, a growing output queue).
//! - `munmap`: the allocator, freeing such a buffer.
//! - `mremap`: the allocator, growing such a buffer.
//! - `brk`: the allocator, growing or trimming its heap (not seen in the
//!   trace, where the heap inherited from the parent was large enough, but
//!   any allocation may need it).
//! - `ppoll`: only on the way out: after a protocol error from the
//!   parent (an oversize length, a stream ending inside a frame), waiting
//!   up to a second for room to say so; at shutdown, waiting on the signal
//!   self-pipe for PID-namespace inits to end (see `waitid`).
//! - `waitid`: at shutdown, whether a PID-namespace init that handles
//!   `signaloneof` has ended, without reaping it, during the grace of up to
//!   2 s it gets before our exit sends it SIGKILL (its parent-death
//!   signal).
//! - `prctl`: `PR_SET_PDEATHSIG` before an exec, so that the program gets
//!   `signaloneof` (SIGKILL for the init of a PID namespace) even if this
//!   process is killed before it can send it; and [`PARENT_GONE`] for the
//!   loop process itself, set again after `Setuid` and `Setgid` (a change
//!   of credentials clears it) and after an exec that failed.
//! - `getppid`: before an exec, whether our parent is still there (the
//!   death signal is only sent for a parent that dies after it is set).
#![deny(unsafe_code)]

pub mod options;
pub mod outq;
pub mod route;

#[allow(unsafe_code, reason = "fork and clone of the single-threaded loop")]
mod event_loop;
#[allow(
    unsafe_code,
    reason = "environment changes and prctl in the single-threaded loop"
)]
mod serve;
mod syscalls;

pub use event_loop::{Config, Loop, PARENT_GONE, nofile};
pub use options::Options;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub use syscalls::{STEADY_STATE_SYSCALLS, steady_state_syscall, steady_state_syscall_numbers};

/// The version of this crate, reported by the `version` call.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
