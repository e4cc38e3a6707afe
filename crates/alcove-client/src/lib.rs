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
#![forbid(unsafe_code)]

mod calls;
mod drv;
mod error;
mod locate;
mod options;
mod shared;
mod state;
mod stdio;

pub use alcove_proto::{Event, Field, Notice, Opt, Path, Pid, PrctlArg, Rlimit, SigHandler};
pub use alcove_sys::Errno;
pub use drv::Drv;
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
