//! What the client knows: calls waiting for their reply, and an inbox per
//! process of what it sent unasked. Filled by whichever thread reads the
//! port's stdout.

use std::collections::{HashMap, VecDeque};

use alcove_proto::{CallError, Event, Kind, Notice, Path, Reply};

/// Output consumed before more credit is granted to the process.
pub(crate) const CREDIT_BATCH: u64 = alcove_proto::INITIAL_OUTPUT_CREDIT as u64 / 2;

/// Something a process of the tree sent without being asked, in the order
/// it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Bytes from an exec'd program's stdout.
    Stdout(Vec<u8>),
    /// Bytes from a process's stderr.
    Stderr(Vec<u8>),
    /// An event: a trapped signal, an exit status, a termination signal.
    Event(Event),
    /// A control notice (exec'd, stdin closed, ...).
    Notice(Notice),
}

/// The answer to one call, filled in by the thread that reads it.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A reply, and the path it came from.
    Reply(Path, std::result::Result<Reply, CallError>),
    /// The process at this path does not exist.
    BadPid(Path),
    /// The process at this path ended.
    Exited(Path, Event),
}

#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) path: Path,
    pub(crate) answer: Option<Answer>,
}

/// What the client knows of one process, and what it sent.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    pub(crate) items: VecDeque<Message>,
    pub(crate) execd: bool,
    pub(crate) stdin_inflight: u64,
    pub(crate) stdin_closed: bool,
    pub(crate) stdout_closed: bool,
    pub(crate) stderr_closed: bool,
    /// Output consumed since credit was last granted.
    pub(crate) consumed: u64,
    /// The process ended: once everything here is read, the inbox goes.
    pub(crate) ended: bool,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) pending: HashMap<u64, Pending>,
    pub(crate) inboxes: HashMap<Path, Inbox>,
    /// Processes that ended and whose inbox was read to the end and let go,
    /// newest last; at most [`MAX_ENDED`].
    pub(crate) ended: VecDeque<Path>,
    /// What a caller sees of one of them: closed streams.
    pub(crate) tombstone: Inbox,
    pub(crate) gone: Option<String>,
    /// A thread is reading the port's stdout.
    pub(crate) reading: bool,
    /// Threads waiting on the condition variable.
    pub(crate) waiters: usize,
    /// Replies no call waited for (see `Drv::unmatched`).
    pub(crate) unmatched: u64,
}

/// How many ended processes the client remembers after their inbox was
/// read to the end: enough for a stdio call made late to get `Closed`, not
/// so many that a long-lived supervisor grows without bound.
const MAX_ENDED: usize = 4096;

impl State {
    /// The inbox of `path` as a caller sees it: a process that ended and
    /// was let go has closed streams.
    pub(crate) fn user_inbox(&mut self, path: &Path) -> &mut Inbox {
        if !self.inboxes.contains_key(path) && self.ended.contains(path) {
            self.tombstone = Inbox {
                execd: true,
                stdin_closed: true,
                stdout_closed: true,
                stderr_closed: true,
                ended: true,
                ..Inbox::default()
            };
            return &mut self.tombstone;
        }
        inbox(self, path)
    }

    /// Lets an inbox read to the end go.
    pub(crate) fn let_go(&mut self, path: &Path) {
        if self.inboxes.remove(path).is_none() {
            return;
        }
        if self.ended.len() == MAX_ENDED {
            self.ended.pop_front();
        }
        self.ended.push_back(path.clone());
    }

    /// A new process has this path: forget any old one that had it.
    pub(crate) fn born(&mut self, path: &Path) {
        if !self.ended.is_empty() {
            self.ended.retain(|p| p != path);
        }
        if self
            .inboxes
            .get(path)
            .is_some_and(|b| b.ended && b.items.is_empty())
        {
            self.inboxes.remove(path);
        }
    }
}

/// What a search of an inbox found.
pub(crate) enum Taken<T> {
    /// Nothing yet.
    Nothing,
    /// The stream asked for is closed and drained.
    Closed,
    /// An item, and how many bytes of output taking it consumed.
    Item(usize, T),
}

pub(crate) fn take_credit(b: &mut Inbox, n: usize) -> Option<u64> {
    b.consumed += n as u64;
    (b.consumed >= CREDIT_BATCH).then(|| std::mem::take(&mut b.consumed))
}

pub(crate) fn inbox<'a>(st: &'a mut State, path: &Path) -> &'a mut Inbox {
    if !st.inboxes.contains_key(path) {
        st.inboxes.insert(path.clone(), Inbox::default());
    }
    st.inboxes.get_mut(path).expect("just inserted")
}

pub(crate) fn push(b: &mut Inbox, m: Message) {
    // Consecutive output coalesces into one buffer.
    match (b.items.back_mut(), m) {
        (Some(Message::Stdout(acc)), Message::Stdout(d))
        | (Some(Message::Stderr(acc)), Message::Stderr(d)) => acc.extend_from_slice(&d),
        (_, m) => b.items.push_back(m),
    }
}

/// Appends output to the inbox, to the last item when it is output of the
/// same stream (one copy, from the frame to the inbox).
fn push_output(b: &mut Inbox, stdout: bool, data: &[u8]) {
    match (b.items.back_mut(), stdout) {
        (Some(Message::Stdout(acc)), true) | (Some(Message::Stderr(acc)), false) => {
            acc.extend_from_slice(data)
        }
        _ if stdout => b.items.push_back(Message::Stdout(data.to_vec())),
        _ => b.items.push_back(Message::Stderr(data.to_vec())),
    }
}

pub(crate) fn dispatch(st: &mut State, f: alcove_proto::FrameRef<'_>) {
    let h = f.header;
    let path = h.to_owned().path;
    match h.kind {
        Kind::Reply => {
            let result = f
                .decode::<std::result::Result<Reply, CallError>>()
                .unwrap_or_else(|e| Err(CallError::Malformed(e.to_string())));
            match st.pending.get_mut(&h.id) {
                Some(p) if p.answer.is_none() => p.answer = Some(Answer::Reply(path, result)),
                // No one waits for it (the call timed out or was
                // abandoned), or it came twice: dropped, and counted.
                _ => st.unmatched += 1,
            }
        }
        Kind::Event => match f.decode::<Event>() {
            Ok(event) => {
                if matches!(event, Event::ExitStatus { .. } | Event::TermSig { .. }) {
                    // Calls to this process, or through it, will never be
                    // answered.
                    for p in st.pending.values_mut() {
                        if p.answer.is_none() && p.path.starts_with(&path) {
                            p.answer = Some(Answer::Exited(path.clone(), event));
                        }
                    }
                    let b = inbox(st, &path);
                    b.stdin_closed = true;
                    b.ended = true;
                }
                push(inbox(st, &path), Message::Event(event));
            }
            Err(e) => push(inbox(st, &path), Message::Notice(Notice::BadFrame(e))),
        },
        Kind::Stdout => push_output(inbox(st, &path), true, f.payload),
        Kind::Stderr => push_output(inbox(st, &path), false, f.payload),
        Kind::Notice => {
            let notice = match f.decode::<Notice>() {
                Ok(n) => n,
                Err(e) => Notice::BadFrame(e),
            };
            match notice {
                Notice::BadPid if h.id != 0 => {
                    if let Some(p) = st.pending.get_mut(&h.id) {
                        p.answer = Some(Answer::BadPid(path));
                    }
                }
                Notice::StdinAck(n) => {
                    let b = inbox(st, &path);
                    b.stdin_inflight = b.stdin_inflight.saturating_sub(n.into());
                }
                other => {
                    let b = inbox(st, &path);
                    match other {
                        Notice::Execd => {
                            b.execd = true;
                            b.stdin_inflight = 0;
                        }
                        Notice::StdinClosed => b.stdin_closed = true,
                        Notice::StdoutClosed => b.stdout_closed = true,
                        Notice::StderrClosed => b.stderr_closed = true,
                        _ => {}
                    }
                    push(b, Message::Notice(other));
                }
            }
        }
        // Greeting (only first) and the client-to-port kinds: ignored.
        _ => {}
    }
}
