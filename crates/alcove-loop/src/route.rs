//! Routing and limits: the loop's decisions, as pure functions that unit
//! tests drive without forking.

use alcove_proto::{Kind, Pid};
use alcove_sys::Errno;

/// Where a child stands, as its parent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildState {
    /// Running the loop: frames for it and below it go down its stdin.
    Control,
    /// An exec call went down to it and has not been answered: frames for
    /// it wait until the exec succeeds or fails.
    ExecPending,
    /// It exec'd: its stdin and stdout are the program's.
    Execd,
    /// It exited, or is exiting: nothing more reaches it.
    Gone,
}

/// Why a frame is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such child (or a pid that is not positive).
    BadPid,
    /// A call to or through a process that has exec'd.
    Execd,
}

/// What to do with a frame that came down the stdin of a loop process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The frame is for this process.
    Local,
    /// Write it, one pid shorter, to the child's stdin.
    Forward(Pid),
    /// Keep it until the child's exec resolves, then route it again.
    Hold(Pid),
    /// Write the payload, raw, to the exec'd child's stdin.
    Stdin(Pid),
    /// Let the exec'd child's stdout and stderr flow by the payload's bytes.
    Credit(Pid),
    /// Refuse it.
    Refuse(Pid, Refusal),
}

/// Decides where a frame goes. `first` is the first pid of its path (if
/// the path is not empty) and `state` that child's state, if it is a child.
pub fn route(kind: Kind, path_len: usize, first: Option<Pid>, state: Option<ChildState>) -> Route {
    let Some(pid) = first.filter(|_| path_len > 0) else {
        return Route::Local;
    };
    let last_hop = path_len == 1;
    match state {
        None | Some(ChildState::Gone) => Route::Refuse(pid, Refusal::BadPid),
        Some(ChildState::Control) => Route::Forward(pid),
        Some(ChildState::ExecPending) => Route::Hold(pid),
        Some(ChildState::Execd) => match (kind, last_hop) {
            (Kind::Stdin, true) => Route::Stdin(pid),
            (Kind::Credit, true) => Route::Credit(pid),
            (Kind::Call, _) => Route::Refuse(pid, Refusal::Execd),
            // Stdin or credit for a process below an exec'd one: there is
            // no such process as far as the tree can tell.
            _ => Route::Refuse(pid, Refusal::BadPid),
        },
    }
}

/// Whether a process at `depth` with `live` children may fork another.
pub fn check_fork(
    depth: u32,
    maxforkdepth: u32,
    live: usize,
    childlimit: u32,
) -> Result<(), Errno> {
    if depth >= maxforkdepth || live >= childlimit as usize {
        Err(Errno::EAGAIN)
    } else {
        Ok(())
    }
}

/// Descriptors a loop process needs for itself: 0, 1, 2, the poller, the
/// two ends of the signal pipe, its control pipe, and four for a child
/// being created.
pub const RESERVED_FDS: u64 = 16;

/// Descriptors the parent holds per child: stdin, stdout, stderr, control.
pub const FDS_PER_CHILD: u64 = 4;

/// How many children fit in `nofile` descriptors.
pub fn childlimit_for(nofile: u64) -> u32 {
    (nofile.saturating_sub(RESERVED_FDS) / FDS_PER_CHILD)
        .min(u64::from(crate::options::MAX_MAXCHILD)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Pid = Pid::from_raw(42);

    #[test]
    fn empty_path_is_local() {
        assert_eq!(route(Kind::Call, 0, None, None), Route::Local);
        assert_eq!(route(Kind::Stdin, 0, None, None), Route::Local);
    }

    #[test]
    fn unknown_or_gone_children_are_bad_pids() {
        for kind in [Kind::Call, Kind::Stdin, Kind::Credit] {
            assert_eq!(
                route(kind, 1, Some(P), None),
                Route::Refuse(P, Refusal::BadPid)
            );
            assert_eq!(
                route(kind, 3, Some(P), Some(ChildState::Gone)),
                Route::Refuse(P, Refusal::BadPid)
            );
        }
    }

    #[test]
    fn control_children_get_everything_forwarded() {
        for (kind, len) in [
            (Kind::Call, 1),
            (Kind::Call, 4),
            (Kind::Stdin, 2),
            (Kind::Credit, 2),
        ] {
            assert_eq!(
                route(kind, len, Some(P), Some(ChildState::Control)),
                Route::Forward(P)
            );
        }
    }

    #[test]
    fn exec_pending_holds_and_execd_refuses_calls() {
        assert_eq!(
            route(Kind::Call, 1, Some(P), Some(ChildState::ExecPending)),
            Route::Hold(P)
        );
        assert_eq!(
            route(Kind::Stdin, 1, Some(P), Some(ChildState::ExecPending)),
            Route::Hold(P)
        );
        let execd = Some(ChildState::Execd);
        assert_eq!(
            route(Kind::Call, 1, Some(P), execd),
            Route::Refuse(P, Refusal::Execd)
        );
        assert_eq!(
            route(Kind::Call, 2, Some(P), execd),
            Route::Refuse(P, Refusal::Execd)
        );
        assert_eq!(route(Kind::Stdin, 1, Some(P), execd), Route::Stdin(P));
        assert_eq!(route(Kind::Credit, 1, Some(P), execd), Route::Credit(P));
        assert_eq!(
            route(Kind::Stdin, 2, Some(P), execd),
            Route::Refuse(P, Refusal::BadPid)
        );
    }

    #[test]
    fn fork_limits() {
        assert_eq!(check_fork(0, 16, 0, 10), Ok(()));
        assert_eq!(check_fork(16, 16, 0, 10), Err(Errno::EAGAIN));
        assert_eq!(check_fork(15, 16, 0, 10), Ok(()));
        assert_eq!(check_fork(0, 16, 10, 10), Err(Errno::EAGAIN));
        assert_eq!(check_fork(0, 0, 0, 10), Err(Errno::EAGAIN));
        assert_eq!(childlimit_for(1024), 252);
        assert_eq!(childlimit_for(10), 0);
        assert_eq!(childlimit_for(u64::MAX), crate::options::MAX_MAXCHILD);
    }
}
