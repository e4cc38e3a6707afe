use std::path::PathBuf;
use std::time::Duration;

use alcove_proto::{Event, Path, Pid};
use alcove_sys::Errno;

/// What went wrong with a call, always with the call's name and the fork
/// path of the process it went to.
///
/// `Display` reads like `fork [1234]: EAGAIN: Resource temporarily
/// unavailable`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The system call failed.
    #[error("{call} {path}: {errno}")]
    Errno {
        /// The call.
        call: &'static str,
        /// The process it went to.
        path: Path,
        /// The error number.
        errno: Errno,
    },
    /// A pid on the path is not a child of the process before it (or is
    /// zero or negative).
    #[error("{call} {path}: no such process: {pid} is not a child of {parent}")]
    BadPid {
        /// The call.
        call: &'static str,
        /// The whole path of the call.
        path: Path,
        /// The pid that could not be routed.
        pid: Pid,
        /// The path of the process that has no such child.
        parent: Path,
    },
    /// The process, or one on the way to it, has exec'd: it runs a program
    /// now, not the loop, and takes only stdin.
    #[error("{call} {path}: the process at {execd} has exec'd: it takes only stdin now")]
    Execd {
        /// The call.
        call: &'static str,
        /// The whole path of the call.
        path: Path,
        /// The path of the exec'd process.
        execd: Path,
    },
    /// A stdio call to a process that still runs the loop.
    #[error("{call} {path}: the process has not exec'd: it has no program stdio")]
    NotExecd {
        /// The call.
        call: &'static str,
        /// The process.
        path: Path,
    },
    /// No reply within the timeout. A late reply is dropped.
    #[error("{call} {path}: no reply within {timeout:?}")]
    Timeout {
        /// The call.
        call: &'static str,
        /// The process it went to.
        path: Path,
        /// The timeout.
        timeout: Duration,
    },
    /// The process (or one on the way to it) ended before it answered.
    #[error(
        "{call} {path}: the process at {exited} {} before answering",
        how_it_ended(event)
    )]
    Exited {
        /// The call.
        call: &'static str,
        /// The whole path of the call.
        path: Path,
        /// The process that ended.
        exited: Path,
        /// How it ended.
        event: Event,
    },
    /// An argument was refused.
    #[error("{call} {path}: bad argument: {reason}")]
    BadArg {
        /// The call.
        call: &'static str,
        /// The process it went to.
        path: Path,
        /// Which argument and why.
        reason: String,
    },
    /// The call or its reply does not fit in a frame.
    #[error("{call} {path}: {reason}")]
    TooLarge {
        /// The call.
        call: &'static str,
        /// The process it went to.
        path: Path,
        /// What was too large.
        reason: String,
    },
    /// The stream asked for is closed and everything in it was read.
    #[error("{call} {path}: closed")]
    Closed {
        /// The call (`stdin`, `stdout`, `stderr`).
        call: &'static str,
        /// The process.
        path: Path,
    },
    /// [`Drv::stdin`](crate::Drv::stdin) stopped part way: the first
    /// `sent` of `len` bytes were handed to the tree for the program, in
    /// order (all but the last window of them are in its pipe), and none of
    /// the rest.
    #[error("stdin {path}: {sent} of {len} bytes sent, the rest not: {reason}")]
    Stdin {
        /// The exec'd program.
        path: Path,
        /// Bytes sent.
        sent: usize,
        /// Bytes asked to send.
        len: usize,
        /// Why it stopped: the program does not read (the window stayed
        /// full for the whole timeout), its stdin closed, or the port went.
        reason: String,
    },
    /// The port is gone (exited, or its pipes closed).
    #[error("{call} {path}: the alcove port is gone: {reason}")]
    PortGone {
        /// The call.
        call: &'static str,
        /// The process it went to.
        path: Path,
        /// What is known of why.
        reason: String,
    },
    /// The port answered something this client does not understand.
    #[error("{call} {path}: protocol error: {reason}")]
    Protocol {
        /// The call.
        call: &'static str,
        /// The process it went to.
        path: Path,
        /// What was wrong.
        reason: String,
    },
    /// The port could not be started.
    #[error("starting the alcove port {progname:?}: {reason}")]
    Start {
        /// The command that was run.
        progname: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A constant name that no table knows.
    #[error(transparent)]
    UnknownName(#[from] alcove_sys::table::UnknownName),
}

impl Error {
    /// The errno, for an [`Error::Errno`].
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Errno { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a process ended, for people: `exited with status 3`, `was killed
/// by SIGKILL`.
fn how_it_ended(event: &Event) -> String {
    match *event {
        Event::ExitStatus { status } => format!("exited with status {status}"),
        Event::TermSig { signum } => match alcove_sys::tables::signal_name(signum) {
            Some(name) => format!("was killed by {name}"),
            None => format!("was killed by signal {signum}"),
        },
        Event::Signal { signum } => format!("ended (signal {signum})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_process_is_named_with_how_it_ended() {
        let exited = |event| Error::Exited {
            call: "getpid",
            path: Path::from(vec![
                Pid::from_raw(10),
                Pid::from_raw(11),
                Pid::from_raw(12),
            ]),
            exited: Path::from(vec![Pid::from_raw(10), Pid::from_raw(11)]),
            event,
        };
        assert_eq!(
            exited(Event::TermSig { signum: 9 }).to_string(),
            "getpid [10, 11, 12]: the process at [10, 11] was killed by SIGKILL before answering"
        );
        assert_eq!(
            exited(Event::ExitStatus { status: 3 }).to_string(),
            "getpid [10, 11, 12]: the process at [10, 11] exited with status 3 before answering"
        );
        assert!(
            exited(Event::TermSig { signum: 77 })
                .to_string()
                .contains("was killed by signal 77")
        );
    }
}
