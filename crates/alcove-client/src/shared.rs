//! The port's stdout, read by the threads that wait.
//!
//! There is no reader thread. A thread that waits for something (its
//! reply, a program's output, an event, room in a stdin window) reads the
//! port's stdout itself when no other thread is reading it, files every
//! frame it cut where it belongs, and hands the reading over again. The
//! common case, one thread making a call, costs what a pipe round trip
//! costs: the caller writes, then reads its own reply.

use std::io::Read;
use std::process::{Child, ChildStdout};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use alcove_proto::{Greeting, Kind, Notice, Path, Reassembler};

use crate::state::{Message, State, dispatch, inbox, push};

/// How a wait ended.
#[derive(Debug)]
pub(crate) enum Waited<T> {
    /// Found.
    Done(T),
    /// The deadline passed first.
    TimedOut,
    /// The port is gone, for this reason.
    Gone(String),
}

/// The port's stdout, and the process to wait for when it closes.
#[derive(Debug)]
struct Reader {
    stdout: Option<ChildStdout>,
    rx: Reassembler,
    child: Option<Child>,
}

/// What every handle on one port shares.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    cond: Condvar,
    reader: Mutex<Reader>,
}

impl Shared {
    pub(crate) fn new(stdout: ChildStdout, rx: Reassembler, child: Child) -> Self {
        Self {
            state: Mutex::new(State::default()),
            cond: Condvar::new(),
            reader: Mutex::new(Reader {
                stdout: Some(stdout),
                rx,
                child: Some(child),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the threads that wait for a change.
    pub(crate) fn notify(&self, st: &State) {
        if st.waiters > 0 {
            self.cond.notify_all();
        }
    }

    /// Waits until `check` finds what it looks for in the state, the
    /// deadline passes or the port is gone.
    ///
    /// While waiting, the thread reads the port's stdout itself when no
    /// other thread does, and keeps that role until its own wait is over:
    /// what it reads for others wakes them, and they only check.
    pub(crate) fn wait_for<T>(
        &self,
        deadline: Option<Instant>,
        mut check: impl FnMut(&mut State) -> Option<T>,
    ) -> Waited<T> {
        let mut st = self.lock();
        let mut reader = false;
        let mut read_once = false;
        let waited = loop {
            if let Some(t) = check(&mut st) {
                break Waited::Done(t);
            }
            if let Some(reason) = &st.gone {
                break Waited::Gone(reason.clone());
            }
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            // Even a wait of zero looks once at what the port has sent.
            if (reader || !st.reading) && !(expired && read_once) {
                st.reading = true;
                reader = true;
                drop(st);
                self.read_once(deadline);
                read_once = true;
                st = self.lock();
                // What was read may be what others wait for.
                self.notify(&st);
                continue;
            }
            if expired {
                break Waited::TimedOut;
            }
            st.waiters += 1;
            st = match deadline {
                None => self.cond.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    self.cond
                        .wait_timeout(st, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
            st.waiters -= 1;
        };
        if reader {
            // Another waiter takes the reading over.
            st.reading = false;
            self.notify(&st);
        }
        waited
    }

    /// One read of the port's stdout (after waiting for it to be readable
    /// until `deadline`, if there is one), and every whole frame filed.
    fn read_once(&self, deadline: Option<Instant>) {
        let mut r = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let Reader { stdout, rx, child } = &mut *r;
        let Some(out) = stdout.as_mut() else {
            return;
        };
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            match alcove_sys::fd::wait_readable(&*out, Some(left)) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) if e == alcove_sys::Errno::EINTR => return,
                Err(e) => return self.closed(stdout, child, format!("polling the port: {e}")),
            }
        }
        match out.read(rx.spare(64 << 10)) {
            Ok(0) => self.closed(stdout, child, "the port closed its stdout".into()),
            Ok(n) => {
                rx.commit(n);
                let mut st = self.lock();
                while let Some(frame) = rx.next_frame() {
                    match frame {
                        Ok(f) => dispatch(&mut st, f),
                        Err(e) => {
                            let m = Message::Notice(Notice::BadFrame(e));
                            push(inbox(&mut st, &Path::root()), m);
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => self.closed(stdout, child, format!("reading from the port: {e}")),
        }
    }

    /// The port's stdout closed: waits for the port and says why it went.
    fn closed(&self, stdout: &mut Option<ChildStdout>, child: &mut Option<Child>, reason: String) {
        *stdout = None;
        let reason = match child.take().map(|mut c| c.wait()) {
            Some(Ok(s)) => format!("{reason}; it exited: {s}"),
            Some(Err(e)) => format!("{reason}; waiting for it: {e}"),
            None => reason,
        };
        let mut st = self.lock();
        st.gone = Some(reason);
        self.notify(&st);
    }

    /// Reads the port's stdout to its end, and waits for the port: what a
    /// dropped driver does once it closed the port's stdin. A port still
    /// there after `limit` is sent SIGKILL, and waited for as long again.
    /// Returns whether the port is gone.
    pub(crate) fn drain(&self, limit: Duration) -> bool {
        let mut deadline = Instant::now() + limit;
        let mut killed = false;
        loop {
            if self.lock().gone.is_some() {
                return true;
            }
            if Instant::now() >= deadline {
                if killed {
                    return false;
                }
                killed = true;
                deadline = Instant::now() + limit;
                let mut r = self.reader.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(child) = r.child.as_mut() {
                    // Not ours to kill (sudo's, say): then we give up.
                    let _ = child.kill();
                }
            }
            self.read_once(Some(deadline));
        }
    }
}

/// Reads up to the port's greeting, the first frame it sends.
pub(crate) fn read_greeting(
    stdout: &mut ChildStdout,
    rx: &mut Reassembler,
) -> std::result::Result<Greeting, String> {
    loop {
        if let Some(frame) = rx.next_frame() {
            let frame = frame.map_err(|e| format!("bad first frame: {e}"))?;
            if frame.header.kind != Kind::Greeting {
                return Err(format!(
                    "expected a greeting, got a {:?} frame",
                    frame.header.kind
                ));
            }
            return frame
                .decode::<Greeting>()
                .map_err(|e| format!("bad greeting: {e}"));
        }
        match stdout.read(rx.spare(4096)) {
            Ok(0) => return Err("the port exited before greeting".into()),
            Ok(n) => rx.commit(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the greeting: {e}")),
        }
    }
}
