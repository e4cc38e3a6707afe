use std::fmt;

use serde::{Deserialize, Serialize};

/// A process ID, as its parent sees it.
///
/// A child cloned into a new PID namespace is PID 1 to itself, but its
/// parent (and the fork path) names it by the PID it has in the parent's
/// namespace. The value is kept as the kernel's `pid_t`; zero and negative
/// values can be written (a path naming them is answered with a
/// [`crate::Notice::BadPid`]), so that bad input is reported, not hidden.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pid(i32);

impl Pid {
    /// Wraps a raw `pid_t`.
    pub const fn from_raw(raw: i32) -> Self {
        Self(raw)
    }

    /// The raw `pid_t`.
    pub const fn as_raw(self) -> i32 {
        self.0
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<i32> for Pid {
    fn from(raw: i32) -> Self {
        Self(raw)
    }
}

impl From<Pid> for i32 {
    fn from(pid: Pid) -> Self {
        pid.0
    }
}

/// A fork path: the PIDs from the port down to a process. The empty path
/// is the port itself.
///
/// `Display` writes it as `[]`, `[1234]`, `[1234, 1240]`, the form used in
/// every error message.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Path(Vec<Pid>);

impl Path {
    /// The port: the empty path.
    pub const fn root() -> Self {
        Self(Vec::new())
    }

    /// The PIDs, from the port's child down.
    pub fn pids(&self) -> &[Pid] {
        &self.0
    }

    /// The path of a child of this process.
    pub fn child(&self, pid: Pid) -> Self {
        let mut pids = Vec::with_capacity(self.0.len() + 1);
        pids.extend_from_slice(&self.0);
        pids.push(pid);
        Self(pids)
    }

    /// The path of the parent, or `None` for the port.
    pub fn parent(&self) -> Option<Self> {
        let (_, rest) = self.0.split_last()?;
        Some(Self(rest.to_vec()))
    }

    /// Number of PIDs: the depth of the process it names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether this is the port.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Deref for Path {
    type Target = [Pid];
    fn deref(&self) -> &[Pid] {
        &self.0
    }
}

impl From<&[Pid]> for Path {
    fn from(pids: &[Pid]) -> Self {
        Self(pids.to_vec())
    }
}

impl<const N: usize> From<[Pid; N]> for Path {
    fn from(pids: [Pid; N]) -> Self {
        Self(pids.to_vec())
    }
}

impl<const N: usize> From<&[Pid; N]> for Path {
    fn from(pids: &[Pid; N]) -> Self {
        Self(pids.to_vec())
    }
}

impl From<Vec<Pid>> for Path {
    fn from(pids: Vec<Pid>) -> Self {
        Self(pids)
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, pid) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{pid}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_displays_as_a_list() {
        assert_eq!(Path::root().to_string(), "[]");
        let path = Path::from([Pid::from_raw(12), Pid::from_raw(-3)]);
        assert_eq!(path.to_string(), "[12, -3]");
        assert_eq!(path.parent().unwrap().to_string(), "[12]");
        assert_eq!(path.child(Pid::from_raw(9)).to_string(), "[12, -3, 9]");
        assert_eq!(Path::root().parent(), None);
    }
}
