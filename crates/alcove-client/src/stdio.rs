//! Standard I/O of exec'd programs, and events.

use std::time::Duration;

use alcove_proto::{Event, Kind, Path, Pid, Prefix, encode_message};

use crate::drv::{Drv, deadline_of};
use crate::error::{Error, Result};
use crate::shared::Waited;
use crate::state::{Inbox, Message, State, Taken, take_credit};

/// Largest stdin chunk in one frame: a quarter of the window, so that a
/// client never waits for an acknowledgement that the window rules out.
const STDIN_CHUNK: usize = alcove_proto::STDIN_WINDOW as usize / 4;

impl Drv {
    /// Sends `data` to the stdin of the exec'd program at `path`. Blocks
    /// while more than a window of earlier stdin is not yet in its pipe
    /// (up to the call timeout); fails once its stdin is closed. When it
    /// stops after part of `data` went out (a program that does not read,
    /// or exits), the error is [`Error::Stdin`] with the count sent.
    ///
    /// As with any pipe, a program that writes back what it reads (`cat`)
    /// stops reading once its own output is not read: send large inputs
    /// from one thread and read the output from another.
    pub fn stdin(&self, path: &[Pid], data: &[u8]) -> Result<()> {
        let p = Path::from(path);
        if p.is_empty() {
            return Err(Error::NotExecd {
                call: "stdin",
                path: p,
            });
        }
        let shared = self.shared();
        let deadline = deadline_of(self.timeout);
        let mut sent = 0;
        for chunk in data.chunks(STDIN_CHUNK) {
            let room = |st: &mut State| {
                let b = st.user_inbox(&p);
                if !b.execd {
                    return Some(Err(Error::NotExecd {
                        call: "stdin",
                        path: p.clone(),
                    }));
                }
                if b.stdin_closed {
                    return Some(Err(Error::Closed {
                        call: "stdin",
                        path: p.clone(),
                    }));
                }
                let window = u64::from(alcove_proto::STDIN_WINDOW);
                (b.stdin_inflight + chunk.len() as u64 <= window).then(|| {
                    b.stdin_inflight += chunk.len() as u64;
                    Ok(())
                })
            };
            let room = self.waited("stdin", &p, shared.wait_for(deadline, room));
            if let Err(e) = room.and_then(|r| r) {
                // Nothing sent: the plain error; part sent: how much.
                return Err(if sent == 0 {
                    e
                } else {
                    Error::Stdin {
                        reason: stdin_stop(&e),
                        path: p,
                        sent,
                        len: data.len(),
                    }
                });
            }
            // The chunk goes out as it is, after a header: no copy.
            let prefix =
                Prefix::new(Kind::Stdin, 0, &p, chunk.len()).map_err(|e| Error::TooLarge {
                    call: "stdin",
                    path: p.clone(),
                    reason: e.to_string(),
                })?;
            self.send_parts("stdin", &p, &[prefix.as_bytes(), chunk])?;
            sent += chunk.len();
        }
        Ok(())
    }

    /// What the exec'd program at `path` wrote to stdout: all that has
    /// arrived, waiting up to `timeout` for the first bytes. `None` when
    /// nothing came in time; [`Error::Closed`] once its stdout is closed and
    /// everything was read.
    pub fn stdout(&self, path: &[Pid], timeout: Duration) -> Result<Option<Vec<u8>>> {
        self.output(path, timeout, true)
    }

    /// Like [`stdout`](Self::stdout), for stderr (of any process: a loop
    /// process writes its debug output there).
    pub fn stderr(&self, path: &[Pid], timeout: Duration) -> Result<Option<Vec<u8>>> {
        self.output(path, timeout, false)
    }

    fn output(&self, path: &[Pid], timeout: Duration, stdout: bool) -> Result<Option<Vec<u8>>> {
        let call = if stdout { "stdout" } else { "stderr" };
        self.take(call, path, timeout, |b| {
            let mut data: Option<Vec<u8>> = None;
            b.items.retain_mut(|m| match (m, stdout) {
                (Message::Stdout(d), true) | (Message::Stderr(d), false) => {
                    match &mut data {
                        None => data = Some(std::mem::take(d)),
                        Some(acc) => acc.extend_from_slice(d),
                    }
                    false
                }
                _ => true,
            });
            let closed = if stdout {
                b.stdout_closed
            } else {
                b.stderr_closed
            };
            match data {
                Some(d) => Taken::Item(d.len(), d),
                None if closed => Taken::Closed,
                None => Taken::Nothing,
            }
        })
    }

    /// The next event of the process at `path` (a trapped signal, or a
    /// child's exit status or termination signal, reported by its parent on
    /// the child's path), waiting up to `timeout`.
    pub fn event(&self, path: &[Pid], timeout: Duration) -> Result<Option<Event>> {
        self.take("event", path, timeout, |b| {
            let i = b.items.iter().position(|m| matches!(m, Message::Event(_)));
            match i.and_then(|i| b.items.remove(i)) {
                Some(Message::Event(e)) => Taken::Item(0, e),
                _ => Taken::Nothing,
            }
        })
    }

    /// The next message about the process at `path`, whatever its kind, in
    /// the order the tree sent them, waiting up to `timeout`.
    pub fn recv(&self, path: &[Pid], timeout: Duration) -> Result<Option<Message>> {
        self.take("recv", path, timeout, |b| match b.items.pop_front() {
            Some(Message::Stdout(d)) => Taken::Item(d.len(), Message::Stdout(d)),
            Some(Message::Stderr(d)) => Taken::Item(d.len(), Message::Stderr(d)),
            Some(m) => Taken::Item(0, m),
            None => Taken::Nothing,
        })
    }

    /// Waits, up to `timeout`, until `find` takes something from the inbox
    /// of `path`; grants credit for the output it consumed.
    fn take<T>(
        &self,
        call: &'static str,
        path: &[Pid],
        timeout: Duration,
        mut find: impl FnMut(&mut Inbox) -> Taken<T>,
    ) -> Result<Option<T>> {
        let p = Path::from(path);
        let deadline = deadline_of(Some(timeout));
        let found = self.shared().wait_for(deadline, |st| {
            let b = st.user_inbox(&p);
            match find(b) {
                Taken::Nothing => None,
                Taken::Closed => Some(Err(Error::Closed {
                    call,
                    path: p.clone(),
                })),
                Taken::Item(consumed, item) => {
                    let credit = if b.execd && consumed > 0 {
                        take_credit(b, consumed)
                    } else {
                        None
                    };
                    if b.ended && b.items.is_empty() {
                        st.let_go(&p);
                    }
                    Some(Ok((item, credit)))
                }
            }
        });
        match found {
            Waited::Done(Ok((item, credit))) => {
                if let Some(n) = credit {
                    self.grant(&p, n);
                }
                Ok(Some(item))
            }
            Waited::Done(Err(e)) => Err(e),
            Waited::TimedOut => Ok(None),
            Waited::Gone(reason) => Err(Error::PortGone {
                call,
                path: p,
                reason,
            }),
        }
    }

    /// Lets `n` more bytes of the program's output flow.
    fn grant(&self, path: &Path, n: u64) {
        let mut frame = Vec::new();
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if encode_message(&mut frame, Kind::Credit, 0, path, &n).is_ok() {
            // A port that is gone has no use for credit.
            let _ = self.send_frame("credit", path, &frame);
        }
    }
}

/// Why a [`Drv::stdin`] stopped part way, for [`Error::Stdin`].
fn stdin_stop(e: &Error) -> String {
    match e {
        Error::Timeout { timeout, .. } => format!(
            "the program did not read its stdin for {timeout:?} ({} bytes in flight, the window)",
            alcove_proto::STDIN_WINDOW
        ),
        Error::PortGone { reason, .. } => format!("the alcove port is gone: {reason}"),
        _ => "its stdin is closed".to_owned(),
    }
}
