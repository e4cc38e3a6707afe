//! The blocking client of alcove-rs.
//!
//! [`Drv::start`] runs the `alcove` port; every method of [`Drv`] then
//! calls into one process of the tree the port grows, named by its fork
//! path: the PIDs from the port down to it, `&[]` being the port itself.
//!
//! This is the seed's Overview: fork, fork below it, exec `cat` at depth 2
//! and talk to it.
//!
//! ```no_run
//! use std::time::Duration;
//! use alcove_client::{Drv, Options};
//!
//! # fn main() -> alcove_client::Result<()> {
//! let drv = Drv::start(Options::default())?;
//! let child1 = drv.fork(&[])?;
//! let child2 = drv.fork(&[child1])?;
//! assert_eq!(drv.getpid(&[child1, child2])?, child2);
//!
//! drv.execvp(&[child1, child2], "/bin/cat", &["/bin/cat"])?;
//! drv.stdin(&[child1, child2], b"hello process\n")?;
//! let out = drv.stdout(&[child1, child2], Duration::from_secs(5))?;
//! assert_eq!(out.as_deref(), Some(&b"hello process\n"[..]));
//! # Ok(())
//! # }
//! ```
//!
//! (`no_run`: it starts a process tree, which doc tests should not.)
//!
//! # How it behaves
//!
//! - **Calls** carry an id; each waits for its own reply, up to the
//!   driver's timeout ([`Options::timeout`], or per call with
//!   [`Drv::with_timeout`]). A reply that comes after its call gave up is
//!   dropped (and counted: [`Drv::unmatched`]). Errors name the call,
//!   the path and the errno. A call to a process that ends before it
//!   answers, or to one below it, fails as soon as the end is reported
//!   ([`Error::Exited`]), not at its timeout.
//! - **Pipelining.** [`Drv::submit`] sends a call and returns a
//!   [`Ticket`]; [`Drv::wait`] collects its reply. The tree serves calls
//!   while more are sent; at most [`MAX_IN_FLIGHT`] wait at once.
//! - **Threads.** A `Drv` is `Send + Sync`. There is no background thread:
//!   a thread that waits (for a reply, output, an event, room to send
//!   stdin) reads the port's stdout itself when no other thread does, and
//!   files what it reads for the others.
//! - **Output** of a program is held in the client per process and read
//!   with [`Drv::stdout`], [`Drv::stderr`], [`Drv::event`] or, in the
//!   order it came, [`Drv::recv`]. It is flow-controlled: a program gets to
//!   write about 1 MiB ahead of what is read, then waits, so neither the
//!   tree nor the client fills up. [`Drv::setcpid`] with
//!   [`Cpid::Flowcontrol`] (alcove's flow control) pauses a program's
//!   output, lets a number of bytes through, or lifts the limit again. Once
//!   a process has ended and all it sent was read, the client forgets it.
//! - **Stdin** is sent in order; at most 1 MiB is in flight to a program
//!   before it is taken into its pipe. A program that does not read holds
//!   the sender back; at the timeout, or if the program exits, the error
//!   says how many bytes went out ([`Error::Stdin`]).
//! - **Bad input.** The port takes a stream it cannot cut into frames (an
//!   impossible length, an end inside a frame) as a protocol error: it acts
//!   on nothing more, says so, and exits with its tree.
//! - **The end.** Dropping the last `Drv` closes the port's stdin: every
//!   loop process exits and exec'd programs get `SIGTERM`; the drop returns
//!   once the port has exited. A port that does not exit (stopped, or stuck
//!   in a call that blocks in the kernel) is killed after
//!   [`Options::shutdown_timeout`]: the drop never hangs.
#![forbid(unsafe_code)]

mod calls;
mod drv;
mod error;
mod locate;
mod options;
mod shared;
mod state;
mod stdio;

pub use alcove_proto::{
    Call, Cpid, Event, Field, Notice, Opt, Path, Pid, PrctlArg, Reply, Rlimit, SigHandler,
};
pub use alcove_sys::Errno;
pub use drv::{Drv, MAX_IN_FLIGHT, Ticket};
pub use error::{Error, Result};
pub use options::{Options, Stderr};
pub use state::Message;

/// The `alcove` binary [`Drv::start`] runs when no
/// [`Options::progname`] is given; see there for where it looks.
pub fn find_port() -> Result<std::path::PathBuf> {
    locate::find().map_err(|reason| Error::Start {
        progname: "alcove".into(),
        reason,
    })
}
