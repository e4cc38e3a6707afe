//! The driver: the port process, a reader thread, and typed calls.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alcove_proto::{
    ByteBuf, Call, CallError, Event, Greeting, Kind, Notice, Opt, PROTOCOL_VERSION, Path, Pid,
    PrctlArg, Reassembler, Reply, Rlimit, SigHandler, Table, encode_frame, encode_message,
};
use alcove_sys::Errno;

use crate::error::{Error, Result};
use crate::options::{Options, Stderr};

/// Largest stdin chunk in one frame: a quarter of the window, so that a
/// client never waits for an acknowledgement that the window rules out.
const STDIN_CHUNK: usize = alcove_proto::STDIN_WINDOW as usize / 4;
/// Output consumed before more credit is granted to the process.
const CREDIT_BATCH: u64 = alcove_proto::INITIAL_OUTPUT_CREDIT as u64 / 2;

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

/// The answer to one call, filled in by the reader thread.
#[derive(Debug)]
enum Answer {
    /// A reply, and the path it came from.
    Reply(Path, std::result::Result<Reply, CallError>),
    /// The process at this path does not exist.
    BadPid(Path),
    /// The process at this path ended.
    Exited(Path, Event),
}

#[derive(Debug)]
struct Pending {
    path: Path,
    answer: Option<Answer>,
}

/// What the client knows of one process, and what it sent.
#[derive(Debug, Default)]
struct Inbox {
    items: VecDeque<Message>,
    execd: bool,
    stdin_inflight: u64,
    stdin_closed: bool,
    stdout_closed: bool,
    stderr_closed: bool,
    /// Output consumed since credit was last granted.
    consumed: u64,
    /// The process ended: once everything here is read, the inbox goes.
    ended: bool,
}

#[derive(Debug, Default)]
struct State {
    pending: HashMap<u64, Pending>,
    inboxes: HashMap<Path, Inbox>,
    /// Processes that ended and whose inbox was read to the end and let go,
    /// newest last; at most [`MAX_ENDED`].
    ended: VecDeque<Path>,
    /// What a caller sees of one of them: closed streams.
    tombstone: Inbox,
    gone: Option<String>,
}

/// How many ended processes the client remembers after their inbox was
/// read to the end: enough for a stdio call made late to get `Closed`, not
/// so many that a long-lived supervisor grows without bound.
const MAX_ENDED: usize = 4096;

impl State {
    /// The inbox of `path` as a caller sees it: a process that ended and
    /// was let go has closed streams.
    fn user_inbox(&mut self, path: &Path) -> &mut Inbox {
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
    fn let_go(&mut self, path: &Path) {
        if self.inboxes.remove(path).is_none() {
            return;
        }
        if self.ended.len() == MAX_ENDED {
            self.ended.pop_front();
        }
        self.ended.push_back(path.clone());
    }

    /// A new process has this path: forget any old one that had it.
    fn born(&mut self, path: &Path) {
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

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    cond: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a change, until `deadline`. Returns false when it passed.
    fn wait<'a>(
        &self,
        guard: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, State>, bool) {
        match deadline {
            None => (
                self.cond.wait(guard).unwrap_or_else(|e| e.into_inner()),
                true,
            ),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return (guard, false);
                }
                let (g, _) = self
                    .cond
                    .wait_timeout(guard, d - now)
                    .unwrap_or_else(|e| e.into_inner());
                (g, true)
            }
        }
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
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the port's stdin ends the tree: every loop process sees
        // its stdin close, signals its exec'd children and exits.
        drop(self.writer.lock().unwrap_or_else(|e| e.into_inner()).take());
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
    timeout: Option<Duration>,
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
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
        let shared = Arc::new(Shared::default());
        let port_pid = child.id();
        let mut threads = Vec::new();
        let s = Arc::clone(&shared);
        threads.push(
            std::thread::Builder::new()
                .name("alcove-reader".into())
                .spawn(move || read_loop(&s, stdout, rx, child))
                .map_err(|e| start_err(format!("spawning the reader thread: {e}")))?,
        );
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
                            s.cond.notify_all();
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

    /// The PID of the process the client started: the port, or the first
    /// program of the exec prefix (`sudo`).
    pub fn port_pid(&self) -> u32 {
        self.inner.port_pid
    }

    fn send_frame(&self, call: &'static str, path: &Path, frame: &[u8]) -> Result<()> {
        let mut w = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let gone = |reason: String| Error::PortGone {
            call,
            path: path.clone(),
            reason,
        };
        let w = w
            .as_mut()
            .ok_or_else(|| gone("the port's stdin is closed".into()))?;
        w.write_all(frame)
            .and_then(|()| w.flush())
            .map_err(|e| gone(format!("writing to the port: {e}")))
    }

    fn gone_reason(&self, st: &State) -> Option<String> {
        st.gone.clone()
    }

    /// Sends `call` to the process at `path` and waits for its reply.
    fn request(&self, name: &'static str, path: &[Pid], call: &Call) -> Result<Reply> {
        let path = Path::from(path);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut frame = Vec::new();
        encode_message(&mut frame, Kind::Call, id, &path, call).map_err(|e| Error::TooLarge {
            call: name,
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let shared = &self.inner.shared;
        {
            let mut st = shared.lock();
            if let Some(reason) = self.gone_reason(&st) {
                return Err(Error::PortGone {
                    call: name,
                    path,
                    reason,
                });
            }
            st.pending.insert(
                id,
                Pending {
                    path: path.clone(),
                    answer: None,
                },
            );
        }
        if let Err(e) = self.send_frame(name, &path, &frame) {
            shared.lock().pending.remove(&id);
            return Err(e);
        }
        let deadline = deadline(self.timeout);
        let mut st = shared.lock();
        loop {
            if let Some(p) = st.pending.get_mut(&id)
                && let Some(answer) = p.answer.take()
            {
                st.pending.remove(&id);
                return answer_to_result(name, &path, answer);
            }
            if let Some(reason) = self.gone_reason(&st) {
                st.pending.remove(&id);
                return Err(Error::PortGone {
                    call: name,
                    path,
                    reason,
                });
            }
            let (g, more) = shared.wait(st, deadline);
            st = g;
            if !more {
                // A reply may have come in the meantime: take it if so.
                if let Some(Pending {
                    answer: Some(answer),
                    ..
                }) = st.pending.remove(&id)
                {
                    return answer_to_result(name, &path, answer);
                }
                return Err(Error::Timeout {
                    call: name,
                    path,
                    timeout: self.timeout.unwrap_or_default(),
                });
            }
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

    // ---- the calls of the seed's "Event Loop" section ----------------------------

    /// `chdir(2)` in the process at `path`.
    pub fn chdir(&self, path: &[Pid], dir: impl AsRef<[u8]>) -> Result<()> {
        self.unit("chdir", path, Call::Chdir { path: bytes(dir) })
    }

    /// `chmod(2)`.
    pub fn chmod(&self, path: &[Pid], file: impl AsRef<[u8]>, mode: u32) -> Result<()> {
        self.unit(
            "chmod",
            path,
            Call::Chmod {
                path: bytes(file),
                mode,
            },
        )
    }

    /// `chown(2)`. `u32::MAX` leaves the owner or the group unchanged.
    pub fn chown(&self, path: &[Pid], file: impl AsRef<[u8]>, uid: u32, gid: u32) -> Result<()> {
        self.unit(
            "chown",
            path,
            Call::Chown {
                path: bytes(file),
                uid,
                gid,
            },
        )
    }

    /// `chroot(2)`. Follow with `chdir(path, "/")`.
    pub fn chroot(&self, path: &[Pid], dir: impl AsRef<[u8]>) -> Result<()> {
        self.unit("chroot", path, Call::Chroot { path: bytes(dir) })
    }

    /// `clearenv(3)`.
    pub fn clearenv(&self, path: &[Pid]) -> Result<()> {
        self.unit("clearenv", path, Call::Clearenv)
    }

    /// `close(2)` of a descriptor opened with [`open`](Self::open). The
    /// loop's own descriptors are refused.
    pub fn close(&self, path: &[Pid], fd: i32) -> Result<()> {
        self.unit("close", path, Call::Close { fd })
    }

    /// `environ(7)`: every variable as `NAME=value`.
    pub fn environ(&self, path: &[Pid]) -> Result<Vec<Vec<u8>>> {
        self.list("environ", path, Call::Environ)
    }

    /// `getcwd(3)`.
    pub fn getcwd(&self, path: &[Pid]) -> Result<Vec<u8>> {
        self.bytes("getcwd", path, Call::Getcwd)
    }

    /// `getenv(3)`: `None` when unset.
    pub fn getenv(&self, path: &[Pid], name: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        match self.request("getenv", path, &Call::Getenv { name: bytes(name) })? {
            Reply::MaybeBytes(v) => Ok(v.map(ByteBuf::into_vec)),
            other => Err(unexpected("getenv", path, &other)),
        }
    }

    /// `getgid(2)`.
    pub fn getgid(&self, path: &[Pid]) -> Result<u32> {
        self.int("getgid", path, Call::Getgid).map(|n| n as u32)
    }

    /// `gethostname(2)`.
    pub fn gethostname(&self, path: &[Pid]) -> Result<Vec<u8>> {
        self.bytes("gethostname", path, Call::Gethostname)
    }

    /// `getrlimit(2)` of an `RLIMIT_*` resource ([`rlimit_define`](Self::rlimit_define)).
    /// `None` in the result is `RLIM_INFINITY`.
    pub fn getrlimit(&self, path: &[Pid], resource: i32) -> Result<Rlimit> {
        match self.request("getrlimit", path, &Call::Getrlimit { resource })? {
            Reply::Rlimit(r) => Ok(r),
            other => Err(unexpected("getrlimit", path, &other)),
        }
    }

    /// `getuid(2)`.
    pub fn getuid(&self, path: &[Pid]) -> Result<u32> {
        self.int("getuid", path, Call::Getuid).map(|n| n as u32)
    }

    /// `mkdir(2)`.
    pub fn mkdir(&self, path: &[Pid], dir: impl AsRef<[u8]>, mode: u32) -> Result<()> {
        self.unit(
            "mkdir",
            path,
            Call::Mkdir {
                path: bytes(dir),
                mode,
            },
        )
    }

    /// `mount(2)`, Linux style. Empty `source`, `fstype` or `data` are NULL.
    pub fn mount(
        &self,
        path: &[Pid],
        source: impl AsRef<[u8]>,
        target: impl AsRef<[u8]>,
        fstype: impl AsRef<[u8]>,
        flags: u64,
        data: impl AsRef<[u8]>,
    ) -> Result<()> {
        let call = Call::Mount {
            source: bytes(source),
            target: bytes(target),
            fstype: bytes(fstype),
            flags,
            data: bytes(data),
        };
        self.unit("mount", path, call)
    }

    /// `open(2)`: returns the descriptor, in the process at `path`.
    pub fn open(&self, path: &[Pid], file: impl AsRef<[u8]>, flags: i32, mode: u32) -> Result<i32> {
        self.int(
            "open",
            path,
            Call::Open {
                path: bytes(file),
                flags,
                mode,
            },
        )
        .map(|n| n as i32)
    }

    /// `prctl(2)` with up to four arguments after the option (integers,
    /// buffers or structs, see [`PrctlArg`]). Returns what prctl returned
    /// and the arguments as the kernel left them.
    ///
    /// This is how a seccomp filter is set: `PR_SET_NO_NEW_PRIVS`, then
    /// `PR_SET_SECCOMP` with `SECCOMP_MODE_FILTER` and a `struct sock_fprog`
    /// as `PrctlArg::Struct(vec![Field::Bytes(len + padding), Field::Ptr(filter)])`.
    pub fn prctl(
        &self,
        path: &[Pid],
        option: i32,
        args: &[PrctlArg],
    ) -> Result<(i64, Vec<PrctlArg>)> {
        let call = Call::Prctl {
            option,
            args: args.to_vec(),
        };
        match self.request("prctl", path, &call)? {
            Reply::Prctl { ret, args } => Ok((ret, args)),
            other => Err(unexpected("prctl", path, &other)),
        }
    }

    /// `read(2)` of at most `count` bytes.
    pub fn read(&self, path: &[Pid], fd: i32, count: u64) -> Result<Vec<u8>> {
        self.bytes("read", path, Call::Read { fd, count })
    }

    /// Every entry of a directory, `.` and `..` included.
    pub fn readdir(&self, path: &[Pid], dir: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        self.list("readdir", path, Call::Readdir { path: bytes(dir) })
    }

    /// `rmdir(2)`.
    pub fn rmdir(&self, path: &[Pid], dir: impl AsRef<[u8]>) -> Result<()> {
        self.unit("rmdir", path, Call::Rmdir { path: bytes(dir) })
    }

    /// `setenv(3)`.
    pub fn setenv(
        &self,
        path: &[Pid],
        name: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        overwrite: bool,
    ) -> Result<()> {
        let call = Call::Setenv {
            name: bytes(name),
            value: bytes(value),
            overwrite,
        };
        self.unit("setenv", path, call)
    }

    /// `setgid(2)`.
    pub fn setgid(&self, path: &[Pid], gid: u32) -> Result<()> {
        self.unit("setgid", path, Call::Setgid { gid })
    }

    /// `setgroups(2)`: the supplementary groups; `&[]` drops them all, as a
    /// sandbox should before `setgid` and `setuid`.
    pub fn setgroups(&self, path: &[Pid], gids: &[u32]) -> Result<()> {
        self.unit(
            "setgroups",
            path,
            Call::Setgroups {
                gids: gids.to_vec(),
            },
        )
    }

    /// `sethostname(2)`: useful in a new UTS namespace.
    pub fn sethostname(&self, path: &[Pid], name: impl AsRef<[u8]>) -> Result<()> {
        self.unit("sethostname", path, Call::Sethostname { name: bytes(name) })
    }

    /// `setns(2)` into the namespace of `/proc/<pid>/ns/<ns>`; `nstype` is
    /// the `CLONE_NEW*` type it must be, or 0 for any.
    pub fn setns(&self, path: &[Pid], file: impl AsRef<[u8]>, nstype: i32) -> Result<()> {
        self.unit(
            "setns",
            path,
            Call::Setns {
                path: bytes(file),
                nstype,
            },
        )
    }

    /// `setrlimit(2)`. `None` is `RLIM_INFINITY`.
    pub fn setrlimit(&self, path: &[Pid], resource: i32, limit: Rlimit) -> Result<()> {
        self.unit("setrlimit", path, Call::Setrlimit { resource, limit })
    }

    /// `setuid(2)`.
    pub fn setuid(&self, path: &[Pid], uid: u32) -> Result<()> {
        self.unit("setuid", path, Call::Setuid { uid })
    }

    /// `sigaction(2)`: `Dfl`, `Ign` or `Trap` (a trapped signal arrives as
    /// [`Event::Signal`] from `path`). Returns the previous disposition.
    /// `SIGCHLD` is governed by the `sigchld` option instead.
    pub fn sigaction(&self, path: &[Pid], signum: i32, handler: SigHandler) -> Result<SigHandler> {
        let call = Call::Sigaction {
            signum,
            handler: Some(handler),
        };
        match self.request("sigaction", path, &call)? {
            Reply::Handler(h) => Ok(h),
            other => Err(unexpected("sigaction", path, &other)),
        }
    }

    /// `umount(2)`.
    pub fn umount(&self, path: &[Pid], target: impl AsRef<[u8]>) -> Result<()> {
        self.unit(
            "umount",
            path,
            Call::Umount {
                path: bytes(target),
            },
        )
    }

    /// `unsetenv(3)`.
    pub fn unsetenv(&self, path: &[Pid], name: impl AsRef<[u8]>) -> Result<()> {
        self.unit("unsetenv", path, Call::Unsetenv { name: bytes(name) })
    }

    /// `unshare(2)` with `CLONE_NEW*` flags.
    pub fn unshare(&self, path: &[Pid], flags: u64) -> Result<()> {
        self.unit("unshare", path, Call::Unshare { flags })
    }

    /// `write(2)`: returns the bytes written.
    pub fn write(&self, path: &[Pid], fd: i32, buf: impl AsRef<[u8]>) -> Result<usize> {
        self.int(
            "write",
            path,
            Call::Write {
                fd,
                data: bytes(buf),
            },
        )
        .map(|n| n as usize)
    }

    // ---- constants, as the process at `path` knows them -----------------------------

    /// Flag names ORed together (`["CLONE_NEWNS", "clone_newpid"]`), each
    /// looked up in the clone, file, mount, prctl, rlimit and signal tables
    /// in turn. An unknown name is an error that names it.
    pub fn define<S: AsRef<str>>(&self, path: &[Pid], names: &[S]) -> Result<u64> {
        let names = names.iter().map(|n| n.as_ref().to_owned()).collect();
        self.int("define", path, Call::Define { names })
            .map(|n| n as u64)
    }

    fn constant(&self, call: &'static str, path: &[Pid], table: Table, name: &str) -> Result<u64> {
        let c = Call::Constant {
            table,
            name: name.to_owned(),
        };
        self.int(call, path, c).map(|n| n as u64)
    }

    /// A `CLONE_*` flag.
    pub fn clone_define(&self, path: &[Pid], name: &str) -> Result<u64> {
        self.constant("clone_define", path, Table::Clone, name)
    }

    /// An `O_*` flag of `open(2)`.
    pub fn file_define(&self, path: &[Pid], name: &str) -> Result<i32> {
        self.constant("file_define", path, Table::File, name)
            .map(|n| n as i32)
    }

    /// A mount flag: `MS_RDONLY`, or the seed's portable `rdonly`,
    /// `nosuid`, `noexec`, `noatime`, ...
    pub fn mount_define(&self, path: &[Pid], name: &str) -> Result<u64> {
        self.constant("mount_define", path, Table::Mount, name)
    }

    /// A `PR_*` option or `SECCOMP_*` value.
    pub fn prctl_define(&self, path: &[Pid], name: &str) -> Result<u64> {
        self.constant("prctl_define", path, Table::Prctl, name)
    }

    /// An `RLIMIT_*` resource.
    pub fn rlimit_define(&self, path: &[Pid], name: &str) -> Result<i32> {
        self.constant("rlimit_define", path, Table::Rlimit, name)
            .map(|n| n as i32)
    }

    /// A signal number.
    pub fn signal_define(&self, path: &[Pid], name: &str) -> Result<i32> {
        self.constant("signal_define", path, Table::Signal, name)
            .map(|n| n as i32)
    }

    /// A signal's name (`17` is `SIGCHLD`).
    pub fn signal_constant(&self, path: &[Pid], signum: i32) -> Result<String> {
        let call = Call::ConstantName {
            table: Table::Signal,
            value: signum as u64,
        };
        self.bytes("signal_constant", path, call)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn unit(&self, name: &'static str, path: &[Pid], call: Call) -> Result<()> {
        ok_reply(name, path, self.request(name, path, &call)?)
    }

    fn int(&self, name: &'static str, path: &[Pid], call: Call) -> Result<i64> {
        match self.request(name, path, &call)? {
            Reply::Int(n) => Ok(n),
            other => Err(unexpected(name, path, &other)),
        }
    }

    fn bytes(&self, name: &'static str, path: &[Pid], call: Call) -> Result<Vec<u8>> {
        match self.request(name, path, &call)? {
            Reply::Bytes(b) => Ok(b.into_vec()),
            other => Err(unexpected(name, path, &other)),
        }
    }

    fn list(&self, name: &'static str, path: &[Pid], call: Call) -> Result<Vec<Vec<u8>>> {
        match self.request(name, path, &call)? {
            Reply::List(l) => Ok(l.into_iter().map(ByteBuf::into_vec).collect()),
            other => Err(unexpected(name, path, &other)),
        }
    }

    // ---- stdio and events ---------------------------------------------------------

    /// Sends `data` to the stdin of the exec'd program at `path`. Blocks
    /// while more than a window of earlier stdin is not yet in its pipe
    /// (up to the call timeout); fails once its stdin is closed.
    pub fn stdin(&self, path: &[Pid], data: &[u8]) -> Result<()> {
        let p = Path::from(path);
        if p.is_empty() {
            return Err(Error::NotExecd {
                call: "stdin",
                path: p,
            });
        }
        let shared = &self.inner.shared;
        let deadline = deadline(self.timeout);
        for chunk in data.chunks(STDIN_CHUNK) {
            let mut st = shared.lock();
            loop {
                if let Some(reason) = self.gone_reason(&st) {
                    return Err(Error::PortGone {
                        call: "stdin",
                        path: p,
                        reason,
                    });
                }
                let b = st.user_inbox(&p);
                if !b.execd {
                    return Err(Error::NotExecd {
                        call: "stdin",
                        path: p,
                    });
                }
                if b.stdin_closed {
                    return Err(Error::Closed {
                        call: "stdin",
                        path: p,
                    });
                }
                if b.stdin_inflight + chunk.len() as u64 <= u64::from(alcove_proto::STDIN_WINDOW) {
                    b.stdin_inflight += chunk.len() as u64;
                    break;
                }
                let (g, more) = shared.wait(st, deadline);
                st = g;
                if !more {
                    return Err(Error::Timeout {
                        call: "stdin",
                        path: p,
                        timeout: self.timeout.unwrap_or_default(),
                    });
                }
            }
            drop(st);
            let mut frame = Vec::with_capacity(chunk.len() + 32);
            encode_frame(&mut frame, Kind::Stdin, 0, &p, chunk).map_err(|e| Error::TooLarge {
                call: "stdin",
                path: p.clone(),
                reason: e.to_string(),
            })?;
            self.send_frame("stdin", &p, &frame)?;
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
        let deadline = deadline(Some(timeout));
        let shared = &self.inner.shared;
        let mut st = shared.lock();
        loop {
            let b = st.user_inbox(&p);
            match find(b) {
                Taken::Nothing => {}
                Taken::Closed => return Err(Error::Closed { call, path: p }),
                Taken::Item(consumed, item) => {
                    let credit = if b.execd && consumed > 0 {
                        take_credit(b, consumed)
                    } else {
                        None
                    };
                    if b.ended && b.items.is_empty() {
                        st.let_go(&p);
                    }
                    drop(st);
                    if let Some(n) = credit {
                        self.grant(&p, n);
                    }
                    return Ok(Some(item));
                }
            }
            if let Some(reason) = self.gone_reason(&st) {
                return Err(Error::PortGone {
                    call,
                    path: p,
                    reason,
                });
            }
            let (g, more) = shared.wait(st, deadline);
            st = g;
            if !more {
                return Ok(None);
            }
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

/// What a search of an inbox found.
enum Taken<T> {
    /// Nothing yet.
    Nothing,
    /// The stream asked for is closed and drained.
    Closed,
    /// An item, and how many bytes of output taking it consumed.
    Item(usize, T),
}

fn take_credit(b: &mut Inbox, n: usize) -> Option<u64> {
    b.consumed += n as u64;
    (b.consumed >= CREDIT_BATCH).then(|| std::mem::take(&mut b.consumed))
}

fn inbox<'a>(st: &'a mut State, path: &Path) -> &'a mut Inbox {
    if !st.inboxes.contains_key(path) {
        st.inboxes.insert(path.clone(), Inbox::default());
    }
    st.inboxes.get_mut(path).expect("just inserted")
}

fn push(b: &mut Inbox, m: Message) {
    // Consecutive output coalesces into one buffer.
    match (b.items.back_mut(), m) {
        (Some(Message::Stdout(acc)), Message::Stdout(d))
        | (Some(Message::Stderr(acc)), Message::Stderr(d)) => acc.extend_from_slice(&d),
        (_, m) => b.items.push_back(m),
    }
}

fn bytes(b: impl AsRef<[u8]>) -> ByteBuf {
    ByteBuf::from(b.as_ref())
}

fn bytes_list(v: &[impl AsRef<[u8]>]) -> Vec<ByteBuf> {
    v.iter().map(|s| ByteBuf::from(s.as_ref())).collect()
}

fn unexpected(call: &'static str, path: &[Pid], reply: &Reply) -> Error {
    Error::Protocol {
        call,
        path: Path::from(path),
        reason: format!("unexpected reply {reply:?}"),
    }
}

fn pid_reply(call: &'static str, path: &[Pid], reply: Reply) -> Result<Pid> {
    match reply {
        Reply::Pid(p) => Ok(p),
        other => Err(unexpected(call, path, &other)),
    }
}

fn ok_reply(call: &'static str, path: &[Pid], reply: Reply) -> Result<()> {
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

fn read_greeting(
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
        let spare = rx.spare(4096);
        match stdout.read(spare) {
            Ok(0) => return Err("the port exited before greeting".into()),
            Ok(n) => rx.commit(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the greeting: {e}")),
        }
    }
}

/// The reader thread: cuts the port's stdout into frames and files each
/// where it belongs. Ends when the port exits.
fn read_loop(shared: &Shared, mut stdout: ChildStdout, mut rx: Reassembler, mut child: Child) {
    let reason = loop {
        {
            let mut st = shared.lock();
            let mut any = false;
            while let Some(frame) = rx.next_frame() {
                any = true;
                match frame {
                    Ok(f) => dispatch(&mut st, f),
                    Err(e) => {
                        let m = Message::Notice(Notice::BadFrame(e));
                        push(inbox(&mut st, &Path::root()), m);
                    }
                }
            }
            if any {
                shared.cond.notify_all();
            }
        }
        let spare = rx.spare(64 << 10);
        match stdout.read(spare) {
            Ok(0) => break "the port closed its stdout".to_string(),
            Ok(n) => rx.commit(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break format!("reading from the port: {e}"),
        }
    };
    let status = match child.wait() {
        Ok(s) => format!("{reason}; it exited: {s}"),
        Err(e) => format!("{reason}; waiting for it: {e}"),
    };
    shared.lock().gone = Some(status);
    shared.cond.notify_all();
}

fn dispatch(st: &mut State, f: alcove_proto::FrameRef<'_>) {
    let h = f.header;
    let path = h.to_owned().path;
    match h.kind {
        Kind::Reply => {
            let result = f
                .decode::<std::result::Result<Reply, CallError>>()
                .unwrap_or_else(|e| Err(CallError::Malformed(e.to_string())));
            if let Some(p) = st.pending.get_mut(&h.id) {
                p.answer = Some(Answer::Reply(path, result));
            }
            // No one waits for it: the call timed out. Dropped.
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
        Kind::Stdout => push(inbox(st, &path), Message::Stdout(f.payload.to_vec())),
        Kind::Stderr => push(inbox(st, &path), Message::Stderr(f.payload.to_vec())),
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
