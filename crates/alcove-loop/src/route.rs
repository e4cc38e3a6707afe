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

/// Routing walked down a whole tree, for arbitrary trees and paths: a call
/// is always answered, by the process it names or by a refusal, and never
/// dropped.
#[cfg(test)]
mod walk {
    use std::collections::BTreeMap;

    use alcove_proto::MAX_PATH;
    use proptest::collection::{btree_map, vec};
    use proptest::prelude::*;
    use proptest::sample::Index;

    use super::*;
    use crate::options::{DEFAULT_MAXFORKDEPTH, MAX_MAXFORKDEPTH};

    /// A loop process, as far as routing sees it: its children.
    #[derive(Debug, Clone, Default)]
    struct Node {
        /// Pid, state, and (for `Control`) its own children.
        children: BTreeMap<i32, (ChildState, Node)>,
    }

    /// A loop process with no children (a child whose exec failed).
    static NO_CHILDREN: Node = Node {
        children: BTreeMap::new(),
    };

    /// How a frame sent down a tree ended.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Answer {
        /// The process at the end of the path executed the call.
        Executed,
        /// Refused as `BadPid`, by the parent of the pid at this depth.
        BadPid(usize),
        /// Refused as `Execd`: the pid at this depth has exec'd.
        Execd(usize),
        /// Stdin or credit taken by the exec'd child's parent.
        Delivered,
        /// Stdin or credit for a loop process: `NotExecd`.
        NotExecd,
    }

    fn state() -> impl Strategy<Value = ChildState> {
        prop_oneof![
            4 => Just(ChildState::Control),
            1 => Just(ChildState::ExecPending),
            1 => Just(ChildState::Execd),
            1 => Just(ChildState::Gone),
        ]
    }

    /// Trees up to four levels deep, pids positive as the kernel's are;
    /// only loop processes (`Control`) have children of their own.
    fn tree() -> impl Strategy<Value = Node> {
        let leaf = Just(Node::default());
        leaf.prop_recursive(4, 64, 5, |inner| {
            btree_map(1..60i32, (state(), inner), 0..5).prop_map(|children| Node {
                children: children
                    .into_iter()
                    .map(|(pid, (st, node))| {
                        let node = if st == ChildState::Control {
                            node
                        } else {
                            Node::default()
                        };
                        (pid, (st, node))
                    })
                    .collect(),
            })
        })
    }

    /// One step of a path: a child of the process reached so far (when
    /// `real` and it has one), or any pid: unknown, zero, negative.
    fn step() -> impl Strategy<Value = (bool, Index, i32)> {
        let raw = prop_oneof![
            2 => -3..70i32,
            1 => Just(0),
            1 => any::<i32>(),
        ];
        (prop::bool::weighted(0.8), any::<Index>(), raw)
    }

    /// Path lengths: short, past the deepest fork depth, up to `MAX_PATH`.
    fn steps() -> impl Strategy<Value = Vec<(bool, Index, i32)>> {
        let deep = DEFAULT_MAXFORKDEPTH as usize;
        prop_oneof![
            6 => vec(step(), 0..6),
            1 => vec(step(), deep..deep + 3),
            1 => vec(step(), MAX_PATH - 2..=MAX_PATH),
        ]
    }

    /// The path the steps spell in `tree`.
    fn path_in(tree: &Node, steps: &[(bool, Index, i32)]) -> Vec<Pid> {
        let mut node = Some(tree);
        let mut path = Vec::new();
        for (real, at, raw) in steps {
            let pid = match node {
                Some(n) if *real && !n.children.is_empty() => {
                    *n.children.keys().nth(at.index(n.children.len())).unwrap()
                }
                _ => *raw,
            };
            node = node
                .and_then(|n| n.children.get(&pid))
                .map(|(_, child)| child);
            path.push(Pid::from_raw(pid));
        }
        path
    }

    /// Sends a frame down `tree` the way the loop processes do, each one
    /// deciding with [`route`] alone; a held frame is routed again once the
    /// exec resolves, as having succeeded if `exec_ok`, as having failed
    /// otherwise.
    fn walk(tree: &Node, kind: Kind, path: &[Pid], exec_ok: bool) -> Answer {
        let mut node = tree;
        let mut depth = 0;
        loop {
            let rest = &path[depth..];
            let first = rest.first().copied();
            let child = first.and_then(|p| node.children.get(&p.as_raw()));
            let mut state = child.map(|(st, _)| *st);
            let mut decision = route(kind, rest.len(), first, state);
            if let Route::Hold(pid) = decision {
                assert_eq!(Some(pid), first);
                assert_eq!(state, Some(ChildState::ExecPending));
                state = Some(if exec_ok {
                    ChildState::Execd
                } else {
                    ChildState::Control
                });
                decision = route(kind, rest.len(), first, state);
                assert!(
                    !matches!(decision, Route::Hold(_)),
                    "held again once the exec resolved"
                );
            }
            // Every decision but `Local` names the next pid of the path.
            if let Route::Forward(p) | Route::Stdin(p) | Route::Credit(p) | Route::Refuse(p, _) =
                decision
            {
                assert_eq!(Some(p), first, "{decision:?} for {rest:?}");
            }
            match decision {
                Route::Local if kind == Kind::Call => return Answer::Executed,
                Route::Local => return Answer::NotExecd,
                Route::Forward(_) => {
                    assert_eq!(state, Some(ChildState::Control));
                    // A failed exec leaves a loop process with no children.
                    node = match child {
                        Some((ChildState::Control, n)) => n,
                        _ => &NO_CHILDREN,
                    };
                    depth += 1;
                }
                Route::Hold(_) => unreachable!("resolved above"),
                Route::Stdin(_) | Route::Credit(_) => {
                    assert_ne!(kind, Kind::Call, "a call taken as stdin or credit");
                    assert_eq!((state, rest.len()), (Some(ChildState::Execd), 1));
                    return Answer::Delivered;
                }
                Route::Refuse(p, Refusal::BadPid) => {
                    assert!(
                        p.as_raw() <= 0
                            || matches!(state, None | Some(ChildState::Gone))
                            || (kind != Kind::Call && state == Some(ChildState::Execd)),
                        "{p} refused in state {state:?}"
                    );
                    return Answer::BadPid(depth);
                }
                Route::Refuse(_, Refusal::Execd) => {
                    assert_eq!(kind, Kind::Call);
                    assert_eq!(state, Some(ChildState::Execd));
                    return Answer::Execd(depth);
                }
            }
        }
    }

    /// What the tree should answer to a call at `path`, from the tree alone.
    fn expected(tree: &Node, path: &[Pid], exec_ok: bool) -> Answer {
        let mut node = tree;
        for (depth, pid) in path.iter().enumerate() {
            match node.children.get(&pid.as_raw()) {
                None | Some((ChildState::Gone, _)) => return Answer::BadPid(depth),
                Some((ChildState::Execd, _)) => return Answer::Execd(depth),
                Some((ChildState::ExecPending, _)) if exec_ok => return Answer::Execd(depth),
                Some((ChildState::ExecPending, _)) => {
                    // A loop process again, with no children yet.
                    return if depth + 1 == path.len() {
                        Answer::Executed
                    } else {
                        Answer::BadPid(depth + 1)
                    };
                }
                Some((ChildState::Control, n)) => node = n,
            }
        }
        Answer::Executed
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2000,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// A call always ends in an answer: executed at the end of its
        /// path, or refused (`BadPid`, `Execd`) at the first pid that
        /// cannot take it; the answer is the one the tree dictates.
        #[test]
        fn every_call_is_answered(tree in tree(), steps in steps(), exec_ok: bool) {
            let path = path_in(&tree, &steps);
            let answer = walk(&tree, Kind::Call, &path, exec_ok);
            prop_assert_eq!(answer, expected(&tree, &path, exec_ok));
            if let Answer::BadPid(depth) | Answer::Execd(depth) = answer {
                prop_assert!(depth < path.len());
            }
            // A pid that is not positive never names a child.
            if let Some(bad) = path.iter().position(|p| p.as_raw() <= 0) {
                prop_assert!(
                    matches!(answer, Answer::BadPid(d) | Answer::Execd(d) if d <= bad),
                    "{:?} past the pid at {}", answer, bad
                );
            }
        }

        /// Stdin and credit are delivered to an exec'd child, or refused
        /// with a notice; they are never executed as calls.
        #[test]
        fn stdin_and_credit_are_delivered_or_refused(
            tree in tree(),
            steps in steps(),
            credit: bool,
            exec_ok: bool,
        ) {
            let kind = if credit { Kind::Credit } else { Kind::Stdin };
            let path = path_in(&tree, &steps);
            let answer = walk(&tree, kind, &path, exec_ok);
            prop_assert!(
                !matches!(answer, Answer::Executed | Answer::Execd(_)),
                "{:?}", answer
            );
        }

        /// Forking is refused at or past the depth limit and the child
        /// limit, allowed below both.
        #[test]
        fn forks_stop_at_the_limits(
            depth in 0..MAX_MAXFORKDEPTH + 3,
            max in 0..=MAX_MAXFORKDEPTH,
            live in 0..300usize,
            limit in 0..300u32,
        ) {
            let ok = depth < max && live < limit as usize;
            prop_assert_eq!(check_fork(depth, max, live, limit).is_ok(), ok);
        }
    }
}
