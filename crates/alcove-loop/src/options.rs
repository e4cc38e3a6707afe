//! The options of a loop process (`getopt`/`setopt`).

use alcove_proto::{CallError, Opt};

/// Default for [`Options::maxforkdepth`].
pub const DEFAULT_MAXFORKDEPTH: u32 = 16;

/// Largest [`Options::maxforkdepth`]: a fork path never exceeds the
/// protocol's longest path.
pub const MAX_MAXFORKDEPTH: u32 = alcove_proto::MAX_PATH as u32 - 1;

/// Largest [`Options::maxchild`].
pub const MAX_MAXCHILD: u32 = 65535;

/// Options of one loop process. A child starts with a copy of its parent's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Number of children a child of this process may have.
    pub maxchild: u32,
    /// A process at this depth may not fork.
    pub maxforkdepth: u32,
    /// Report exit statuses of children.
    pub exit_status: bool,
    /// Report `SIGCHLD` when a child exits.
    pub sigchld: bool,
    /// Report the signal that killed a child.
    pub termsig: bool,
    /// Debug output on stderr.
    pub verbose: u32,
    /// Signal sent to exec'd children at shutdown (0: none).
    pub signaloneof: i32,
    /// Output budget of children forked from now on, in bytes, once they
    /// exec: `None` unlimited, `Some(0)` paused.
    pub flowcontrol: Option<u64>,
}

impl Options {
    /// The defaults, with `maxchild` as given.
    pub fn new(maxchild: u32) -> Self {
        Self {
            maxchild,
            maxforkdepth: DEFAULT_MAXFORKDEPTH,
            exit_status: true,
            sigchld: true,
            termsig: true,
            verbose: 0,
            signaloneof: libc_sigterm(),
            flowcontrol: None,
        }
    }

    /// The value of `opt`; `childlimit` is the caller's own limit.
    pub fn get(&self, opt: Opt, childlimit: u32) -> i64 {
        match opt {
            Opt::Maxchild => self.maxchild.into(),
            Opt::Maxforkdepth => self.maxforkdepth.into(),
            Opt::ExitStatus => self.exit_status.into(),
            Opt::Sigchld => self.sigchld.into(),
            Opt::Termsig => self.termsig.into(),
            Opt::Verbose => self.verbose.into(),
            Opt::Childlimit => childlimit.into(),
            Opt::Signaloneof => self.signaloneof.into(),
            Opt::Flowcontrol => budget_value(self.flowcontrol),
        }
    }

    /// Sets `opt` to `value`, or says why not.
    pub fn set(&mut self, opt: Opt, value: i64) -> Result<(), CallError> {
        let bad = |why: &str| CallError::BadArg(format!("setopt {}: {value} {why}", opt.name()));
        let flag = |v: i64| match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad("is not 0 or 1")),
        };
        match opt {
            Opt::Maxchild => match u32::try_from(value) {
                Ok(v) if v <= MAX_MAXCHILD => self.maxchild = v,
                _ => return Err(bad(&format!("is not in 0..={MAX_MAXCHILD}"))),
            },
            Opt::Maxforkdepth => match u32::try_from(value) {
                Ok(v) if v <= MAX_MAXFORKDEPTH => self.maxforkdepth = v,
                _ => return Err(bad(&format!("is not in 0..={MAX_MAXFORKDEPTH}"))),
            },
            Opt::ExitStatus => self.exit_status = flag(value)?,
            Opt::Sigchld => self.sigchld = flag(value)?,
            Opt::Termsig => self.termsig = flag(value)?,
            Opt::Verbose => match u32::try_from(value) {
                Ok(v) => self.verbose = v,
                Err(_) => return Err(bad("is negative")),
            },
            Opt::Childlimit => return Err(bad("cannot be set: childlimit is read-only")),
            Opt::Signaloneof => match i32::try_from(value) {
                Ok(v) if (0..alcove_sys::signal::NSIG as i32).contains(&v) => self.signaloneof = v,
                _ => return Err(bad("is not a signal number")),
            },
            Opt::Flowcontrol => self.flowcontrol = budget(value),
        }
        Ok(())
    }
}

/// A flow-control budget as set: negative is unlimited (alcove's -1).
pub fn budget(value: i64) -> Option<u64> {
    u64::try_from(value).ok()
}

/// A flow-control budget as read back: -1 for unlimited.
pub fn budget_value(budget: Option<u64>) -> i64 {
    budget.map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX))
}

fn libc_sigterm() -> i32 {
    rustix::process::Signal::TERM.as_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_round_trips() {
        let mut o = Options::new(10);
        assert_eq!(o.get(Opt::Maxforkdepth, 0), 16);
        assert_eq!(o.get(Opt::Childlimit, 7), 7);
        for opt in [Opt::ExitStatus, Opt::Sigchld, Opt::Termsig] {
            assert_eq!(o.get(opt, 0), 1);
            o.set(opt, 0).unwrap();
            assert_eq!(o.get(opt, 0), 0);
        }
        o.set(Opt::Maxchild, 3).unwrap();
        assert_eq!(o.get(Opt::Maxchild, 0), 3);
        assert_eq!(o.get(Opt::Flowcontrol, 0), -1);
        for (set, get) in [(0, 0), (4096, 4096), (-7, -1), (i64::MAX, i64::MAX)] {
            o.set(Opt::Flowcontrol, set).unwrap();
            assert_eq!(o.get(Opt::Flowcontrol, 0), get);
        }
    }

    #[test]
    fn bad_values_are_refused_and_named() {
        let mut o = Options::new(10);
        let before = o.clone();
        for (opt, v) in [
            (Opt::Childlimit, 1),
            (Opt::Maxforkdepth, 256),
            (Opt::Maxchild, -1),
            (Opt::Sigchld, 2),
            (Opt::Signaloneof, 65),
            (Opt::Verbose, -1),
        ] {
            let err = o.set(opt, v).unwrap_err();
            assert!(err.to_string().contains(opt.name()), "{err}");
        }
        assert_eq!(o, before);
    }
}
