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
//!   dropped. Errors name the call, the path and the errno.
//! - **Threads.** A `Drv` is `Send + Sync`. There is no background thread:
//!   a thread that waits (for a reply, output, an event, room to send
//!   stdin) reads the port's stdout itself when no other thread does, and
//!   files what it reads for the others.
//! - **Output** of a program is held in the client per process and read
//!   with [`Drv::stdout`], [`Drv::stderr`], [`Drv::event`] or, in the
//!   order it came, [`Drv::recv`]. It is flow-controlled: a program gets to
//!   write about 1 MiB ahead of what is read, then waits, so neither the
//!   tree nor the client fills up. Once a process has ended and all it
//!   sent was read, the client forgets it.
//! - **Stdin** is sent in order; at most 1 MiB is in flight to a program
//!   before it is taken into its pipe.
//! - **The end.** Dropping the last `Drv` closes the port's stdin: every
//!   loop process exits and exec'd programs get `SIGTERM`; the drop returns
//!   once the port has exited.
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
