//! The driver: the port process, and the requests that go to it.

use std::io::{Read, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alcove_proto::{
    ByteBuf, Call, CallError, Cpid, Greeting, Kind, Opt, PROTOCOL_VERSION, Path, Pid, Reassembler,
    Reply, encode_message,
};
use alcove_sys::Errno;

use crate::error::{Error, Result};
use crate::options::{Options, Stderr};
use crate::shared::{Shared, Waited, read_greeting};
use crate::state::{Answer, Message, Pending, inbox, push};

/// Most calls waiting for their reply at once, over all threads of one
/// [`Drv`] (see [`Drv::submit`]).
pub const MAX_IN_FLIGHT: usize = 4096;

/// A call sent with [`Drv::submit`] whose reply is not collected yet.
/// Dropping it abandons the call.
#[derive(Debug)]
#[must_use = "a ticket dropped without Drv::wait abandons its call"]
pub struct Ticket {
    id: u64,
    call: &'static str,
    path: Path,
    shared: Arc<Shared>,
}

impl Ticket {
    /// The fork path the call went to.
    pub fn path(&self) -> &[Pid] {
        &self.path
    }

    /// The call's name.
    pub fn call(&self) -> &'static str {
        self.call
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.shared.lock().pending.remove(&self.id);
    }
}

#[derive(Debug)]
struct Inner {
    writer: Mutex<Option<ChildStdin>>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    greeting: Greeting,
    port_pid: u32,
    threads: Mutex<Vec<JoinHandle<()>>>,
    shutdown_timeout: Duration,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the port's stdin ends the tree: every loop process sees
        // its stdin close, signals its exec'd children and exits. Reading
        // the port's stdout to its end waits for the port.
        drop(self.writer.lock().unwrap_or_else(|e| e.into_inner()).take());
        if !self.shared.drain(self.shutdown_timeout) {
            // A port that would not go: its threads (stderr) would wait
            // for it too. They are left to end with it.
            return;
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

/// A running alcove port, and the way to call into every process of its
/// tree.
///
/// `Drv` is `Send + Sync`: any number of threads may call through one at
/// once; each call carries its own id and waits for its own reply. Clones
/// share the port; when the last one is dropped, the port's stdin closes
/// and the whole tree goes away (exec'd programs get `SIGTERM`).
///
/// `drv.clone(path, flags)` is `clone(2)`; to copy the handle itself, write
/// `Clone::clone(&drv)`.
///
/// Every call takes the fork path of the process that performs it first:
/// `&[]` is the port, `&[p1]` its child `p1`, `&[p1, p2]` the child `p2` of
/// `p1`.
#[derive(Debug, Clone)]
pub struct Drv {
    inner: Arc<Inner>,
    pub(crate) timeout: Option<Duration>,
}

impl Drv {
    /// Starts the port with these options and waits for its greeting.
    pub fn start(opts: Options) -> Result<Drv> {
        let progname = match &opts.progname {
            Some(p) => p.clone(),
            None => crate::locate::find().map_err(|reason| Error::Start {
                progname: "alcove".into(),
                reason,
            })?,
        };
        let progname = std::fs::canonicalize(&progname).unwrap_or(progname);
        let mut cmd = match opts.exec.split_first() {
            None => Command::new(&progname),
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&progname);
                c
            }
        };
        cmd.args(opts.port_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(match opts.stderr {
                Stderr::Inherit => Stdio::inherit(),
                Stderr::Null => Stdio::null(),
                Stderr::Capture => Stdio::piped(),
            });
        if let Some(env) = &opts.env {
            cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
        }
        let start_err = |reason: String| Error::Start {
            progname: progname.clone(),
            reason,
        };
        let mut child = cmd
            .spawn()
            .map_err(|e| start_err(format!("{cmd:?}: {e}")))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take();

        let mut rx = Reassembler::new();
        let mut stderr = stderr;
        let greeting = match read_greeting(&mut stdout, &mut rx) {
            Ok(g) => g,
            Err(reason) => {
                drop(stdin);
                // What the port (or sudo, or ssh) said on its way out.
                let mut said = Vec::new();
                if let Some(e) = stderr.take() {
                    let _ = e.take(4096).read_to_end(&mut said);
                }
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                let said = String::from_utf8_lossy(&said);
                let said = said.trim();
                let said = if said.is_empty() {
                    String::new()
                } else {
                    format!(": {said}")
                };
                return Err(start_err(format!("{reason} ({status}){said}")));
            }
        };
        if greeting.protocol != PROTOCOL_VERSION {
            return Err(start_err(format!(
                "the port speaks protocol {}, this client {PROTOCOL_VERSION}",
                greeting.protocol
            )));
        }
        let port_pid = child.id();
        let shared = Arc::new(Shared::new(stdout, rx, child));
        let mut threads = Vec::new();
        if let Some(mut stderr) = stderr {
            let s = Arc::clone(&shared);
            threads.push(
                std::thread::Builder::new()
                    .name("alcove-stderr".into())
                    .spawn(move || {
                        let mut buf = vec![0u8; 16 << 10];
                        while let Ok(n @ 1..) = stderr.read(&mut buf) {
                            let mut st = s.lock();
                            push(
                                inbox(&mut st, &Path::root()),
                                Message::Stderr(buf[..n].to_vec()),
                            );
                            s.notify(&st);
                        }
                    })
                    .map_err(|e| start_err(format!("spawning the stderr thread: {e}")))?,
            );
        }
        Ok(Drv {
            inner: Arc::new(Inner {
                writer: Mutex::new(Some(stdin)),
                shared,
                next_id: AtomicU64::new(1),
                greeting,
                port_pid,
                threads: Mutex::new(threads),
                shutdown_timeout: opts.shutdown_timeout,
            }),
            timeout: opts.timeout,
        })
    }

    /// A handle on the same port whose calls time out after `timeout`.
    ///
    /// ```no_run
    /// # fn main() -> alcove_client::Result<()> {
    /// # let drv = alcove_client::Drv::start(Default::default())?;
    /// use std::time::Duration;
    /// let pid = drv.with_timeout(Duration::from_secs(1)).getpid(&[])?;
    /// # Ok(()) }
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> Drv {
        Drv {
            inner: Arc::clone(&self.inner),
            timeout: Some(timeout),
        }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The port's greeting: its version and protocol version.
    pub fn greeting(&self) -> &Greeting {
        &self.inner.greeting
    }

    /// How many processes the client keeps an inbox for: those alive, and
    /// those ended whose messages were not all read yet. (An inbox read to
    /// the end after its process ended is let go.)
    pub fn tracked(&self) -> usize {
        self.inner.shared.lock().inboxes.len()
    }

    /// Bytes of stdout and stderr of the process at `path` that arrived
    /// and were not read yet. At most the output credit of a process
    /// (`INITIAL_OUTPUT_CREDIT`, 1 MiB) plus what it wrote while its last
    /// credit was granted: a program that writes faster than it is read
    /// blocks instead of filling memory.
    pub fn unread(&self, path: &[Pid]) -> usize {
        let st = self.inner.shared.lock();
        st.inboxes.get(&Path::from(path)).map_or(0, |b| {
            b.items
                .iter()
                .map(|m| match m {
                    Message::Stdout(d) | Message::Stderr(d) => d.len(),
                    _ => 0,
                })
                .sum()
        })
    }

    /// How many replies came that no call was waiting for: late replies
    /// to calls that timed out or whose [`Ticket`] was dropped, or a reply
    /// that came twice. They are dropped, never matched to another call.
    pub fn unmatched(&self) -> u64 {
        self.inner.shared.lock().unmatched
    }

    /// The PID of the process the client started: the port, or the first
    /// program of the exec prefix (`sudo`).
    pub fn port_pid(&self) -> u32 {
        self.inner.port_pid
    }

    pub(crate) fn send_frame(&self, call: &'static str, path: &Path, frame: &[u8]) -> Result<()> {
        self.send_parts(call, path, &[frame])
    }

    /// Writes the parts of one frame to the port, whole, with as few
    /// `writev` calls as the pipe allows.
    pub(crate) fn send_parts(
        &self,
        call: &'static str,
        path: &Path,
        parts: &[&[u8]],
    ) -> Result<()> {
        let mut w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let gone = |reason: String| Error::PortGone {
            call,
            path: path.clone(),
            reason,
        };
        let w = w
            .as_mut()
            .ok_or_else(|| gone("the port's stdin is closed".into()))?;
        let mut bufs: Vec<std::io::IoSlice<'_>> =
            parts.iter().map(|p| std::io::IoSlice::new(p)).collect();
        let mut bufs = &mut bufs[..];
        while !bufs.is_empty() {
            match w.write_vectored(bufs) {
                Ok(0) => return Err(gone("writing to the port: wrote nothing".into())),
                Ok(n) => std::io::IoSlice::advance_slices(&mut bufs, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(gone(format!("writing to the port: {e}"))),
            }
        }
        Ok(())
    }

    /// Sends `call` to the process at `path` and waits for its reply.
    pub(crate) fn request(&self, name: &'static str, path: &[Pid], call: &Call) -> Result<Reply> {
        let ticket = self.send_call(name, path, call)?;
        self.wait_reply(ticket)
    }

    /// Sends `call` to the process at `path` without waiting for its reply:
    /// collect the reply with [`wait`](Self::wait). Calls sent this way are
    /// pipelined: the tree serves them while the client sends more.
    ///
    /// At most [`MAX_IN_FLIGHT`] calls wait for their reply at once; past
    /// that, `submit` first waits (up to the timeout) for replies to come
    /// in, so that a client that sends without reading cannot make the
    /// port queue replies without bound. A ticket dropped without `wait`
    /// abandons its call: the reply is dropped when it comes.
    ///
    /// ```no_run
    /// # fn main() -> alcove_client::Result<()> {
    /// use alcove_client::{Call, Drv, Options, Reply};
    /// let drv = Drv::start(Options::default())?;
    /// let tickets = (0..100)
    ///     .map(|_| drv.submit(&[], &Call::Getpid))
    ///     .collect::<alcove_client::Result<Vec<_>>>()?;
    /// for t in tickets {
    ///     assert!(matches!(drv.wait(t)?, Reply::Pid(_)));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn submit(&self, path: &[Pid], call: &Call) -> Result<Ticket> {
        self.send_call(call.name(), path, call)
    }

    /// The reply to a call sent with [`submit`](Self::submit), as the
    /// typed methods see it: `Err` for an error reply, a process that does
    /// not exist or ended, a timeout (counted from this call) or a port
    /// that went away.
    pub fn wait(&self, ticket: Ticket) -> Result<Reply> {
        self.wait_reply(ticket)
    }

    fn send_call(&self, name: &'static str, path: &[Pid], call: &Call) -> Result<Ticket> {
        let path = Path::from(path);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut frame = Vec::new();
        encode_message(&mut frame, Kind::Call, id, &path, call).map_err(|e| Error::TooLarge {
            call: name,
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let shared = &self.inner.shared;
        let deadline = deadline_of(self.timeout);
        let room = shared.wait_for(deadline, |st| {
            (st.pending.len() < MAX_IN_FLIGHT).then(|| {
                st.pending.insert(
                    id,
                    Pending {
                        path: path.clone(),
                        answer: None,
                    },
                );
            })
        });
        self.waited(name, &path, room)?;
        let ticket = Ticket {
            id,
            call: name,
            path,
            shared: Arc::clone(shared),
        };
        self.send_frame(name, &ticket.path, &frame)?;
        Ok(ticket)
    }

    fn wait_reply(&self, ticket: Ticket) -> Result<Reply> {
        let shared = &self.inner.shared;
        let id = ticket.id;
        let deadline = deadline_of(self.timeout);
        let waited = shared.wait_for(deadline, |st| {
            st.pending.get_mut(&id).and_then(|p| p.answer.take())
        });
        let (name, path) = (ticket.call, ticket.path.clone());
        // Dropping the ticket forgets the call.
        drop(ticket);
        let answer = self.waited(name, &path, waited)?;
        answer_to_result(name, &path, answer)
    }

    /// What a wait of `call` for `path` found, or the error of a wait
    /// that timed out (after this handle's timeout) or found the port gone.
    pub(crate) fn waited<T>(&self, call: &'static str, path: &Path, w: Waited<T>) -> Result<T> {
        match w {
            Waited::Done(t) => Ok(t),
            Waited::Gone(reason) => Err(Error::PortGone {
                call,
                path: path.clone(),
                reason,
            }),
            Waited::TimedOut => Err(Error::Timeout {
                call,
                path: path.clone(),
                timeout: self.timeout.unwrap_or_default(),
            }),
        }
    }

    // ---- the calls --------------------------------------------------------------

    /// `fork(2)`: a new process running the loop, child of the one at
    /// `path`. Fails with `EAGAIN` past `maxforkdepth` or `maxchild`.
    pub fn fork(&self, path: &[Pid]) -> Result<Pid> {
        let pid = pid_reply("fork", path, self.request("fork", path, &Call::Fork)?)?;
        self.born(path, pid);
        Ok(pid)
    }

    fn born(&self, path: &[Pid], pid: Pid) {
        self.inner.shared.lock().born(&Path::from(path).child(pid));
    }

    /// `clone(2)` with `CLONE_NEW*` flags: like [`fork`](Self::fork), in
    /// new namespaces. Returns the child's PID in the caller's namespace.
    pub fn clone(&self, path: &[Pid], flags: u64) -> Result<Pid> {
        pid_reply(
            "clone",
            path,
            self.request("clone", path, &Call::Clone { flags })?,
        )
    }

    /// `getpid(2)` in the process at `path`.
    pub fn getpid(&self, path: &[Pid]) -> Result<Pid> {
        pid_reply("getpid", path, self.request("getpid", path, &Call::Getpid)?)
    }

    /// `execve(2)`: replaces the process at `path` with `filename`. Answers
    /// once the image is replaced, or with the errno of the failure.
    pub fn execve(
        &self,
        path: &[Pid],
        filename: impl AsRef<[u8]>,
        argv: &[impl AsRef<[u8]>],
        env: &[impl AsRef<[u8]>],
    ) -> Result<()> {
        let call = Call::Execve {
            path: ByteBuf::from(filename.as_ref()),
            argv: bytes_list(argv),
            env: bytes_list(env),
        };
        ok_reply("execve", path, self.request("execve", path, &call)?)
    }

    /// `execvp(3)`: like [`execve`](Self::execve), searching `PATH` and
    /// keeping the environment.
    pub fn execvp(
        &self,
        path: &[Pid],
        file: impl AsRef<[u8]>,
        argv: &[impl AsRef<[u8]>],
    ) -> Result<()> {
        let call = Call::Execvp {
            file: ByteBuf::from(file.as_ref()),
            argv: bytes_list(argv),
        };
        ok_reply("execvp", path, self.request("execvp", path, &call)?)
    }

    /// `exit(3)`: the process at `path` answers, then exits with `status`
    /// (its exec'd children get its `signaloneof` signal).
    pub fn exit(&self, path: &[Pid], status: i32) -> Result<()> {
        ok_reply(
            "exit",
            path,
            self.request("exit", path, &Call::Exit { status })?,
        )
    }

    /// `kill(2)` from the process at `path`.
    pub fn kill(&self, path: &[Pid], pid: i32, signal: i32) -> Result<()> {
        ok_reply(
            "kill",
            path,
            self.request("kill", path, &Call::Kill { pid, signal })?,
        )
    }

    /// An option of the loop at `path`.
    pub fn getopt(&self, path: &[Pid], opt: Opt) -> Result<i64> {
        match self.request("getopt", path, &Call::Getopt { opt })? {
            Reply::Int(n) => Ok(n),
            other => Err(unexpected("getopt", path, &other)),
        }
    }

    /// Sets an option of the loop at `path`.
    pub fn setopt(&self, path: &[Pid], opt: Opt, value: i64) -> Result<()> {
        ok_reply(
            "setopt",
            path,
            self.request("setopt", path, &Call::Setopt { opt, value })?,
        )
    }

    /// Sets a property of the child `pid` of the process at `path`
    /// (alcove's `setcpid`). With [`Cpid::Flowcontrol`] it is the child's
    /// output budget once it has exec'd: 0 pauses the relay of its stdout
    /// and stderr (the program blocks once its pipe is full), N lets N
    /// more bytes through, -1 removes the limit.
    ///
    /// ```no_run
    /// # fn main() -> alcove_client::Result<()> {
    /// use alcove_client::{Cpid, Drv, Options};
    /// let drv = Drv::start(Options::default())?;
    /// let c = drv.fork(&[])?;
    /// drv.setcpid(&[], c, Cpid::Flowcontrol, 0)?; // paused
    /// drv.execvp(&[c], "yes", &["yes"])?;
    /// drv.setcpid(&[], c, Cpid::Flowcontrol, 4096)?; // 4096 bytes more
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`Opt::Flowcontrol`] sets the budget children forked from then on
    /// start with.
    pub fn setcpid(&self, path: &[Pid], pid: Pid, opt: Cpid, value: i64) -> Result<()> {
        ok_reply(
            "setcpid",
            path,
            self.request("setcpid", path, &Call::Setcpid { pid, opt, value })?,
        )
    }

    /// A property of the child `pid` of the process at `path` (alcove's
    /// `getcpid`); for [`Cpid::Flowcontrol`], what is left of the budget
    /// (-1: unlimited).
    pub fn getcpid(&self, path: &[Pid], pid: Pid, opt: Cpid) -> Result<i64> {
        match self.request("getcpid", path, &Call::Getcpid { pid, opt })? {
            Reply::Int(n) => Ok(n),
            other => Err(unexpected("getcpid", path, &other)),
        }
    }

    /// The PIDs of the children of the process at `path`.
    pub fn pid(&self, path: &[Pid]) -> Result<Vec<Pid>> {
        match self.request("pid", path, &Call::Pid)? {
            Reply::Pids(p) => Ok(p),
            other => Err(unexpected("pid", path, &other)),
        }
    }

    /// The alcove version of the process at `path`.
    pub fn version(&self, path: &[Pid]) -> Result<String> {
        match self.request("version", path, &Call::Version)? {
            Reply::Bytes(b) => Ok(String::from_utf8_lossy(b.as_slice()).into_owned()),
            other => Err(unexpected("version", path, &other)),
        }
    }

    /// Closes the stdin of the process at `path` (the seed's "eof"): its
    /// parent closes the pipe once what was sent before is written.
    pub fn eof(&self, path: &[Pid]) -> Result<()> {
        let Some((&pid, parent)) = path.split_last() else {
            return Err(Error::BadArg {
                call: "eof",
                path: Path::root(),
                reason: "the port's stdin is the client's: drop the Drv instead".into(),
            });
        };
        match self.request("eof", parent, &Call::Eof { pid }) {
            Ok(reply) => ok_reply("eof", path, reply),
            Err(Error::Errno { errno, .. }) => Err(Error::Errno {
                call: "eof",
                path: Path::from(path),
                errno,
            }),
            Err(e) => Err(e),
        }
    }
}

pub(crate) fn deadline_of(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

pub(crate) fn bytes(b: impl AsRef<[u8]>) -> ByteBuf {
    ByteBuf::from(b.as_ref())
}

pub(crate) fn bytes_list(v: &[impl AsRef<[u8]>]) -> Vec<ByteBuf> {
    v.iter().map(|s| ByteBuf::from(s.as_ref())).collect()
}

pub(crate) fn unexpected(call: &'static str, path: &[Pid], reply: &Reply) -> Error {
    Error::Protocol {
        call,
        path: Path::from(path),
        reason: format!("unexpected reply {reply:?}"),
    }
}

pub(crate) fn pid_reply(call: &'static str, path: &[Pid], reply: Reply) -> Result<Pid> {
    match reply {
        Reply::Pid(p) => Ok(p),
        other => Err(unexpected(call, path, &other)),
    }
}

pub(crate) fn ok_reply(call: &'static str, path: &[Pid], reply: Reply) -> Result<()> {
    match reply {
        Reply::Ok => Ok(()),
        other => Err(unexpected(call, path, &other)),
    }
}

fn answer_to_result(call: &'static str, path: &Path, answer: Answer) -> Result<Reply> {
    let path = path.clone();
    match answer {
        Answer::Reply(_, Ok(reply)) => Ok(reply),
        Answer::Reply(from, Err(e)) => Err(match e {
            CallError::Errno(n) => Error::Errno {
                call,
                path,
                errno: Errno::from_raw(n),
            },
            CallError::BadArg(reason) => Error::BadArg { call, path, reason },
            CallError::Execd => Error::Execd {
                call,
                path,
                execd: from,
            },
            CallError::Unsupported => Error::Errno {
                call,
                path,
                errno: Errno::ENOTSUP,
            },
            CallError::TooLarge { len, max } => Error::TooLarge {
                call,
                path,
                reason: format!("reply of {len} bytes exceeds the maximum of {max} bytes"),
            },
            CallError::Malformed(reason) => Error::Protocol { call, path, reason },
        }),
        Answer::BadPid(at) => {
            let parent = at.parent().unwrap_or_default();
            let pid = at.last().copied().unwrap_or(Pid::from_raw(0));
            Err(Error::BadPid {
                call,
                path,
                pid,
                parent,
            })
        }
        Answer::Exited(exited, event) => Err(Error::Exited {
            call,
            path,
            exited,
            event,
        }),
    }
}
