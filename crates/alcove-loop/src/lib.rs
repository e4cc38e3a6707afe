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
//!   more than a window of it in flight.
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

pub use event_loop::{Config, Loop, nofile};
pub use options::Options;

/// The version of this crate, reported by the `version` call.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
