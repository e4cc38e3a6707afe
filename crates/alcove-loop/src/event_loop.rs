//! The driver: one single-threaded mio loop per process.
//!
//! Decisions come from [`crate::route`]; this file performs them: it reads
//! and writes descriptors, forks, execs and reaps.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use alcove_proto::{
    Call, CallError, Cpid, Error as ProtoError, FrameRef, Greeting, HeaderRef, Kind, Notice,
    PROTOCOL_VERSION, Pid, Prefix, Reassembler, Reply, SigHandler, encode_message,
};
use alcove_sys::process::{Exit, Forked, Policy};
use alcove_sys::signal::{self, Disposition, NSIG};
use alcove_sys::{Errno, fd, fs};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use serde::Serialize;

use crate::options::{self, Options};
use crate::outq::OutQueue;
use crate::route::{self, ChildState, Refusal, Route};
use crate::serve;

const STDIN: Token = Token(usize::MAX - 1);
const STDOUT: Token = Token(usize::MAX - 2);
const WAKE: Token = Token(usize::MAX - 3);

/// Stop reading children while this much output waits for our reader...
const HIGH_WATER: usize = 8 << 20;
/// ...and start again below this.
const LOW_WATER: usize = 1 << 20;
/// Largest chunk of a child's stdout or stderr relayed in one frame.
const RELAY_CHUNK: usize = 256 << 10;
/// What a busy pipe grows to: one the other end keeps full is grown once.
const BIG_PIPE: usize = 1 << 20;
/// Output of a program is spliced, not copied, from this many bytes.
const SPLICE_MIN: usize = 32 << 10;
/// The longest prefix of a frame whose path is one pid.
const MAX_ONE_HOP_PREFIX: usize = alcove_proto::LEN_PREFIX + 1 + 10 + 1 + 5;
/// Bytes of stdin written to an exec'd child between two acknowledgements.
const ACK_BATCH: u64 = alcove_proto::STDIN_WINDOW as u64 / 4;

const SIGCHLD: i32 = 17;
const SIGPIPE: i32 = 13;
const SIGCONT: i32 = 18;
const SIGKILL: i32 = 9;
const CLONE_NEWPID: u64 = 0x2000_0000;
/// The signal a loop process gets when its parent dies (`SIGRTMAX`,
/// reserved: `sigaction` refuses it). Trapped without `SA_RESTART`, it
/// only interrupts a call that blocks in the kernel (a read of an empty
/// FIFO), so that the process sees its input end and shuts down.
pub const PARENT_GONE: i32 = 64;
/// How long a loop process that shuts down waits for the PID-namespace
/// inits it sent `signaloneof` (they handle it) to end their own way.
const INIT_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Ctl = 0,
    Stdout = 1,
    Stderr = 2,
    Stdin = 3,
}

fn token(slot: usize, role: Role) -> Token {
    Token(slot * 4 + role as usize)
}

fn role_of(token: Token) -> (usize, Role) {
    let role = match token.0 % 4 {
        0 => Role::Ctl,
        1 => Role::Stdout,
        2 => Role::Stderr,
        _ => Role::Stdin,
    };
    (token.0 / 4, role)
}

/// How a process starts its loop.
#[derive(Debug)]
pub struct Config {
    /// Length of its fork path.
    pub depth: u32,
    /// Its options.
    pub opts: Options,
    /// How many children it may have.
    pub childlimit: u32,
    /// Write end of the control pipe to its parent; `None` for the port.
    pub ctl: Option<OwnedFd>,
    /// Signals the user asked to trap, reported as events.
    pub trapped: [bool; NSIG],
    /// Signals the user asked to ignore, still ignored after exec.
    pub ignored: [bool; NSIG],
    /// The soft `RLIMIT_NOFILE`, as its parent knew it.
    pub nofile: u64,
    /// The tree runs `SCHED_BATCH` (it was `SCHED_OTHER`): an exec'd
    /// program gets `SCHED_OTHER` back.
    pub batch: bool,
}

/// An exec call that went down to a child and is not resolved yet.
#[derive(Debug, Clone, Copy)]
struct Exec {
    id: u64,
    /// The child wrote its last frame before calling exec: what follows on
    /// its stdout is the program's, if the exec succeeds.
    marker: bool,
    /// The child said on its control pipe that the exec failed.
    failed: bool,
}

#[derive(Debug)]
struct Child {
    pid: Pid,
    /// Cloned into a new PID namespace: it is that namespace's init.
    pidns: bool,
    state: ChildState,
    exec: Option<Exec>,
    /// Stdout carries the program's raw bytes, not frames.
    raw: bool,
    /// Stdout parsing stopped at the exec marker.
    paused: bool,
    stdin: Option<OwnedFd>,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    ctl: Option<OwnedFd>,
    stdin_q: OutQueue,
    stdin_total: u64,
    stdin_acked: u64,
    stdin_eof: bool,
    rx: Reassembler,
    /// Frames for the child that wait for its exec to resolve.
    held: Vec<u8>,
    /// Output the client can take: what it granted minus what was sent.
    credit: u64,
    /// Output the user lets through ([`Cpid::Flowcontrol`]): `None`
    /// unlimited.
    budget: Option<u64>,
    /// The program's first output, read along with the exec marker: relayed
    /// before anything else of its stdout, within its credit and budget.
    early: Vec<u8>,
    stdout_ready: bool,
    stderr_ready: bool,
    exit: Option<Exit>,
    exit_reported: bool,
    /// Its stdout pipe was grown for a busy program.
    stdout_grown: bool,
    /// Its stdin pipe was grown for a busy program.
    stdin_grown: bool,
    /// Its stdin is in the poller (bytes wait for room).
    stdin_watched: bool,
    /// Its stdout or stderr had no writer left when last polled: read to
    /// the end of file.
    stdout_hup: bool,
    stderr_hup: bool,
}

impl Child {
    /// How many bytes of the program's output may be relayed now: what
    /// the credit and the flow-control budget allow. A program that
    /// exited is drained whatever its budget.
    fn output_limit(&self) -> u64 {
        let budget = match self.exit {
            Some(_) => u64::MAX,
            None => self.budget.unwrap_or(u64::MAX),
        };
        self.credit.min(budget)
    }

    /// `n` bytes of the program's output were relayed.
    fn spend(&mut self, n: u64) {
        self.credit = self.credit.saturating_sub(n);
        if let Some(b) = &mut self.budget {
            *b = b.saturating_sub(n);
        }
    }

    /// The program keeps its stdout pipe full: give it room, once.
    fn grow_stdout(&mut self) {
        if !self.stdout_grown {
            self.stdout_grown = true;
            if let Some(f) = &self.stdout {
                let _ = fd::set_pipe_size(f, BIG_PIPE);
            }
        }
    }
}

/// One process's loop.
#[derive(Debug)]
pub struct Loop {
    rx: Reassembler,
    core: Core,
}

#[derive(Debug)]
struct Core {
    poll: Poll,
    depth: u32,
    opts: Options,
    childlimit: u32,
    pid: i32,
    /// Our parent's pid when we started (0 for the init of a PID namespace,
    /// whose parent is outside it).
    ppid: i32,
    out: OutQueue,
    ctl: Option<OwnedFd>,
    wake_r: OwnedFd,
    wake_w: OwnedFd,
    slots: Vec<Option<Child>>,
    free: Vec<usize>,
    by_pid: HashMap<i32, usize>,
    scratch: Vec<u8>,
    msg: Vec<u8>,
    trapped: [bool; NSIG],
    ignored: [bool; NSIG],
    /// `RLIMIT_NOFILE`, read at start and after each `setrlimit`.
    nofile: u64,
    /// Our stdout pipe was grown.
    stdout_grown: bool,
    /// Our stdout is in the poller: output is queued, waiting for room.
    stdout_watched: bool,
    /// Our stdout takes `splice` (it is a pipe or a socket).
    splice_ok: bool,
    /// We run `SCHED_BATCH` for the tree's sake (see [`Config::batch`]).
    batch: bool,
    /// The capacity of our stdout pipe, once asked (0: not yet).
    stdout_capacity: usize,
}

/// What a new child needs to start its loop: its ends of the four pipes.
struct ChildInit {
    stdin: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
    ctl: OwnedFd,
    config: Config,
}

fn fatal(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("alcove[{}]: {what}: {e}", alcove_sys::process::getpid());
    alcove_sys::exit_now(1)
}

impl Loop {
    /// Sets up the process's loop: the poller, the signal pipe, and its
    /// own stdin and stdout made non-blocking. The port (a config without
    /// `ctl`) greets its client.
    pub fn new(config: Config) -> Result<Self, Errno> {
        let poll = Poll::new()?;
        let (wake_r, wake_w) = fd::pipe_nonblocking()?;
        signal::set_wake_fd(wake_w.as_fd());
        let mut config = config;
        if config.ctl.is_none() {
            // The port. A child inherits all this from its parent: the
            // handlers, pipes made non-blocking at birth, and the policy:
            // `SCHED_BATCH`, under which a loop process woken by a write
            // does not preempt the writer (which is about to wait anyway),
            // a context switch saved per hop of a relayed frame. A port
            // started under another policy than the default keeps it.
            if alcove_sys::process::policy() == Ok(Policy::Other) {
                config.batch = alcove_sys::process::set_policy(Policy::Batch).is_ok();
            }
            signal::sigaction(SIGCHLD, Disposition::Trap)?;
            signal::sigaction(SIGPIPE, Disposition::Ignore)?;
            signal::interrupting(PARENT_GONE)?;
            fd::set_nonblocking(fd::stdio(0), true)?;
            fd::set_nonblocking(fd::stdio(1), true)?;
        }
        // Not inherited: each process asks for its own.
        alcove_sys::process::set_parent_death_signal(PARENT_GONE)?;
        let registry = poll.registry();
        registry.register(&mut SourceFd(&0), STDIN, Interest::READABLE)?;
        registry.register(&mut SourceFd(&wake_r.as_raw_fd()), WAKE, Interest::READABLE)?;
        let greet = config.ctl.is_none();
        let mut core = Core {
            poll,
            depth: config.depth,
            opts: config.opts,
            childlimit: config.childlimit,
            pid: alcove_sys::process::getpid(),
            ppid: alcove_sys::process::getppid(),
            out: OutQueue::default(),
            ctl: config.ctl,
            wake_r,
            wake_w,
            slots: Vec::new(),
            free: Vec::new(),
            by_pid: HashMap::new(),
            scratch: Vec::new(),
            msg: Vec::new(),
            trapped: config.trapped,
            ignored: config.ignored,
            nofile: config.nofile,
            batch: config.batch,
            stdout_grown: false,
            stdout_watched: false,
            splice_ok: true,
            stdout_capacity: 0,
        };
        if greet {
            let greeting = Greeting {
                version: crate::VERSION.into(),
                protocol: PROTOCOL_VERSION,
                pid: Pid::from_raw(core.pid),
            };
            core.emit(Kind::Greeting, 0, &[], &greeting);
        }
        core.log(format_args!("loop up at depth {}", core.depth));
        Ok(Self {
            rx: Reassembler::new(),
            core,
        })
    }

    /// Runs the loop until its stdin closes, then exits the process.
    pub fn run(mut self) -> ! {
        let mut events = Events::with_capacity(256);
        loop {
            if let Err(e) = self.core.poll.poll(&mut events, None) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                fatal("epoll_wait", e);
            }
            for event in events.iter() {
                // The writer is gone: read to the end of file, even past a
                // short read (the hang-up edge will not come again).
                let hup = event.is_read_closed() || event.is_error();
                match event.token() {
                    STDIN => self.on_stdin(hup),
                    STDOUT => self.core.flush_out(),
                    WAKE => self.core.on_wake(),
                    t => {
                        let (slot, role) = role_of(t);
                        self.core.on_child_event(slot, role, hup);
                    }
                }
            }
        }
    }

    fn on_stdin(&mut self, hup: bool) {
        loop {
            let spare = self.rx.spare(16 << 10);
            let asked = spare.len();
            match rustix::io::read(fd::stdio(0), spare) {
                Ok(0) if self.rx.buffered() > 0 => {
                    // The stream ended inside a frame: it is dropped.
                    let have = self.rx.buffered() as u64;
                    self.core.protocol_error(ProtoError::Truncated { have })
                }
                Ok(0) => self.core.shutdown(0),
                Ok(n) => {
                    self.rx.commit(n);
                    while let Some(frame) = self.rx.next_frame() {
                        self.core.on_frame(frame);
                    }
                    if n < asked && !hup {
                        // A pipe read short is empty: the next write to it
                        // (or the close of its last writer) brings a new
                        // edge.
                        return;
                    }
                }
                Err(rustix::io::Errno::AGAIN) => return,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    self.core.log(format_args!("read stdin: {e}"));
                    self.core.shutdown(1)
                }
            }
        }
    }
}

impl Core {
    fn log(&self, args: std::fmt::Arguments<'_>) {
        if self.opts.verbose > 0 {
            eprintln!("alcove[{}]: {args}", self.pid);
        }
    }

    fn child(&mut self, slot: usize) -> Option<&mut Child> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    fn slot_of(&self, pid: Pid) -> Option<usize> {
        if pid.as_raw() <= 0 {
            return None;
        }
        self.by_pid.get(&pid.as_raw()).copied()
    }

    // ---- output to our reader ---------------------------------------------

    fn send_out(&mut self, parts: &[&[u8]]) {
        if let Err(e) = self.out.send(fd::stdio(1), parts) {
            self.log(format_args!("write stdout: {e}"));
            self.shutdown(0);
        }
        if !self.out.is_empty() {
            if !self.stdout_grown {
                // Our reader is slower than what we relay: a bigger pipe
                // takes fewer, larger writes.
                self.stdout_grown = true;
                self.stdout_capacity = fd::set_pipe_size(fd::stdio(1), BIG_PIPE).unwrap_or(0);
            }
            self.watch_stdout(true);
        }
    }

    /// Puts our stdout in the poller while output waits for room, and only
    /// then: a pipe polled for room all the time would wake us each time
    /// our reader reads.
    fn watch_stdout(&mut self, on: bool) {
        if on == self.stdout_watched {
            return;
        }
        self.stdout_watched = on;
        let registry = self.poll.registry();
        let r = if on {
            registry.register(&mut SourceFd(&1), STDOUT, Interest::WRITABLE)
        } else {
            registry.deregister(&mut SourceFd(&1))
        };
        if let Err(e) = r {
            fatal("epoll_ctl of stdout", e);
        }
    }

    fn emit<T: Serialize>(&mut self, kind: Kind, id: u64, path: &[Pid], msg: &T) {
        let mut buf = std::mem::take(&mut self.msg);
        buf.clear();
        match encode_message(&mut buf, kind, id, path, msg) {
            Ok(()) => self.send_out(&[&buf]),
            Err(e) => self.log(format_args!("dropped a {kind:?} frame: {e}")),
        }
        self.msg = buf;
    }

    fn reply(&mut self, id: u64, path: &[Pid], result: Result<Reply, CallError>) {
        let mut buf = std::mem::take(&mut self.msg);
        buf.clear();
        let encoded = match encode_message(&mut buf, Kind::Reply, id, path, &result) {
            Err(ProtoError::TooLarge { len, max, .. }) => {
                let too_large: Result<Reply, CallError> = Err(CallError::TooLarge { len, max });
                encode_message(&mut buf, Kind::Reply, id, path, &too_large)
            }
            other => other,
        };
        match encoded {
            Ok(()) => self.send_out(&[&buf]),
            Err(e) => self.log(format_args!("dropped reply {id}: {e}")),
        }
        self.msg = buf;
    }

    fn flush_out(&mut self) {
        match self.out.flush(fd::stdio(1)) {
            Ok(true) => self.watch_stdout(false),
            Ok(false) => {}
            Err(e) => {
                self.log(format_args!("write stdout: {e}"));
                self.shutdown(0);
            }
        }
        if self.out.len() < LOW_WATER {
            self.resume_all();
        }
    }

    fn throttled(&self) -> bool {
        self.out.len() > HIGH_WATER
    }

    fn resume_all(&mut self) {
        for slot in 0..self.slots.len() {
            let ready = self
                .child(slot)
                .is_some_and(|c| c.stdout_ready || c.stderr_ready);
            if ready {
                self.pump(slot);
            }
        }
    }

    // ---- frames from our reader ----------------------------------------------

    fn on_frame(&mut self, frame: Result<FrameRef<'_>, ProtoError>) {
        let frame = match frame {
            Ok(f) => f,
            Err(e @ ProtoError::Oversize { .. }) => {
                // A length no client writes: the stream is garbage, or out
                // of step, and every frame cut from it from now on would
                // be a guess. Say so and stop, acting on nothing more.
                self.protocol_error(e)
            }
            Err(e) => return self.emit(Kind::Notice, 0, &[], &Notice::BadFrame(e)),
        };
        let h = frame.header;
        if !matches!(h.kind, Kind::Call | Kind::Stdin | Kind::Credit) {
            let e = ProtoError::Header(format!("a {:?} frame cannot go down the tree", h.kind));
            return self.emit(Kind::Notice, h.id, &[], &Notice::BadFrame(e));
        }
        let first = h.first();
        let slot = first.and_then(|p| self.slot_of(p));
        let state = slot.and_then(|s| self.slots[s].as_ref()).map(|c| c.state);
        match route::route(h.kind, h.path_len(), first, state) {
            Route::Local => self.local(frame),
            Route::Forward(pid) => {
                self.forward(slot.expect("routed to a child"), pid, h, frame.payload)
            }
            Route::Hold(_) => {
                let slot = slot.expect("routed to a child");
                match Prefix::of(&h, frame.payload.len()) {
                    Ok(prefix) => {
                        let c = self.child(slot).expect("routed to a child");
                        c.held.extend_from_slice(prefix.as_bytes());
                        c.held.extend_from_slice(frame.payload);
                    }
                    Err(e) => self.emit(Kind::Notice, h.id, &[], &Notice::BadFrame(e)),
                }
            }
            Route::Stdin(pid) => {
                self.child_send(slot.expect("routed to a child"), pid, &[frame.payload])
            }
            Route::Credit(_) => {
                let slot = slot.expect("routed to a child");
                match frame.decode::<u32>() {
                    Ok(n) => {
                        if let Some(c) = self.child(slot) {
                            c.credit = c.credit.saturating_add(n.into());
                        }
                        self.pump(slot);
                    }
                    Err(e) => self.emit(Kind::Notice, h.id, &[], &Notice::BadFrame(e)),
                }
            }
            Route::Refuse(pid, Refusal::BadPid) => {
                self.emit(Kind::Notice, h.id, &[pid], &Notice::BadPid)
            }
            Route::Refuse(pid, Refusal::Execd) => self.reply(h.id, &[pid], Err(CallError::Execd)),
        }
    }

    fn local(&mut self, frame: FrameRef<'_>) {
        let h = frame.header;
        match h.kind {
            Kind::Call => match frame.decode::<Call>() {
                Ok(call) => self.call(h.id, call),
                Err(e) => self.reply(h.id, &[], Err(CallError::Malformed(e.to_string()))),
            },
            _ => self.emit(Kind::Notice, h.id, &[], &Notice::NotExecd),
        }
    }

    fn forward(&mut self, slot: usize, pid: Pid, h: HeaderRef<'_>, payload: &[u8]) {
        let prefix = match Prefix::pop(&h, payload.len()) {
            Ok((_, prefix)) => prefix,
            Err(e) => return self.emit(Kind::Notice, h.id, &[], &Notice::BadFrame(e)),
        };
        if h.kind == Kind::Call && h.path_len() == 1 && Call::is_exec_payload(payload) {
            let c = self.child(slot).expect("forwarded to a child");
            c.state = ChildState::ExecPending;
            c.exec = Some(Exec {
                id: h.id,
                marker: false,
                failed: false,
            });
        }
        self.child_send(slot, pid, &[prefix.as_bytes(), payload]);
    }

    // ---- calls -----------------------------------------------------------------

    fn call(&mut self, id: u64, call: Call) {
        let result = match call {
            Call::Fork => self.spawn(None).map(Reply::Pid),
            Call::Clone { flags } => self.spawn(Some(flags)).map(Reply::Pid),
            Call::Execve { .. } | Call::Execvp { .. } => self.exec(id, call).map(|()| Reply::Ok),
            Call::Exit { status } if !(0..=255).contains(&status) => Err(CallError::BadArg(
                format!("exit status {status} is not in 0..=255 (the kernel keeps 8 bits)"),
            )),
            Call::Exit { status } => {
                self.reply(id, &[], Ok(Reply::Ok));
                let _ = self.out.flush_all(fd::stdio(1));
                self.end_execd_children();
                alcove_sys::exit_now(status)
            }
            Call::Getopt { opt } => Ok(Reply::Int(self.opts.get(opt, self.childlimit))),
            Call::Setopt { opt, value } => self.opts.set(opt, value).map(|()| Reply::Ok),
            Call::Pid => Ok(Reply::Pids(
                self.slots
                    .iter()
                    .flatten()
                    .filter(|c| c.exit.is_none())
                    .map(|c| c.pid)
                    .collect(),
            )),
            Call::Eof { pid } => self.eof(pid).map(|()| Reply::Ok),
            Call::Close { fd } => self.user_fd(fd).and_then(|_| {
                // SAFETY: not one of the loop's descriptors (checked), so
                // nothing in this process owns it but the client.
                unsafe { fs::close(fd) }
                    .map(|()| Reply::Ok)
                    .map_err(|e| CallError::Errno(e.raw()))
            }),
            Call::Read { fd, count } => self.user_fd(fd).and_then(|fd| {
                let max = alcove_proto::MAX_PAYLOAD as u64 - 64;
                if count > max {
                    return Err(CallError::BadArg(format!(
                        "read of {count} bytes: the largest reply holds {max}"
                    )));
                }
                fs::read(fd, count as usize)
                    .map(|b| Reply::Bytes(alcove_proto::ByteBuf(b)))
                    .map_err(|e| CallError::Errno(e.raw()))
            }),
            Call::Write { fd, data } => self.user_fd(fd).and_then(|fd| {
                fs::write(fd, data.as_slice())
                    .map(|n| Reply::Int(n as i64))
                    .map_err(|e| CallError::Errno(e.raw()))
            }),
            Call::Sigaction { signum, handler } => self.sigaction(signum, handler),
            Call::Setcpid { pid, opt, value } => self.setcpid(pid, opt, value).map(|()| Reply::Ok),
            Call::Getcpid { pid, opt } => self.getcpid(pid, opt).map(Reply::Int),
            call @ Call::Setrlimit { .. } => {
                let r = serve::serve(call);
                self.nofile = nofile();
                r
            }
            call @ (Call::Setuid { .. } | Call::Setgid { .. }) => {
                let r = serve::serve(call);
                // A change of credentials clears the parent-death signal.
                let _ = alcove_sys::process::set_parent_death_signal(PARENT_GONE);
                r
            }
            other => serve::serve(other),
        };
        self.reply(id, &[], result);
    }

    /// A descriptor the client may use: not 0, 1 or 2 (the protocol's and
    /// the relayed stderr), nor any the loop holds for itself or its
    /// children.
    fn user_fd(&self, fd: i32) -> Result<BorrowedFd<'static>, CallError> {
        if fd < 0 {
            return Err(CallError::Errno(Errno::EBADF.raw()));
        }
        let own = match fd {
            0 => Some("stdin, its protocol input"),
            1 => Some("stdout, its protocol output"),
            2 => Some("stderr, relayed to the client"),
            _ => self
                .internal_fds()
                .contains(&fd)
                .then_some("poller, signal pipe, control pipe or child pipes"),
        };
        if let Some(what) = own {
            return Err(CallError::BadArg(format!(
                "descriptor {fd} is the loop's own ({what})"
            )));
        }
        // SAFETY: a number the loop does not own; the kernel answers EBADF
        // if nothing is open there.
        Ok(unsafe { BorrowedFd::borrow_raw(fd) })
    }

    fn sigaction(&mut self, signum: i32, handler: Option<SigHandler>) -> Result<Reply, CallError> {
        if signum == PARENT_GONE {
            return Err(CallError::BadArg(format!(
                "signal {signum} is the loop's own: it learns by it that its parent is gone"
            )));
        }
        if signum == SIGCHLD {
            return Err(CallError::BadArg(
                "SIGCHLD is governed by the sigchld option (setopt), not sigaction".into(),
            ));
        }
        let current = match signal::disposition(signum).map_err(|e| CallError::Errno(e.raw()))? {
            Disposition::Trap => SigHandler::Trap,
            Disposition::Ignore => SigHandler::Ign,
            Disposition::Default | Disposition::Other => SigHandler::Dfl,
        };
        if let Some(h) = handler {
            if signum == SIGPIPE && h == SigHandler::Dfl {
                return Err(CallError::BadArg(
                    "SIGPIPE stays ignored or trapped in a loop process (a write to a closed pipe \
                     would kill it); exec resets it to the default"
                        .into(),
                ));
            }
            let d = match h {
                SigHandler::Dfl => Disposition::Default,
                SigHandler::Ign => Disposition::Ignore,
                SigHandler::Trap => Disposition::Trap,
            };
            signal::sigaction(signum, d).map_err(|e| CallError::Errno(e.raw()))?;
            self.trapped[signum as usize] = h == SigHandler::Trap;
            self.ignored[signum as usize] = h == SigHandler::Ign;
        }
        Ok(Reply::Handler(current))
    }

    /// The slot of a live child, or an error naming `pid` for `call`.
    fn child_slot(&self, call: &str, pid: Pid) -> Result<usize, CallError> {
        self.slot_of(pid)
            .filter(|&s| self.slots[s].as_ref().is_some_and(|c| c.exit.is_none()))
            .ok_or_else(|| {
                CallError::BadArg(format!("{call}: {pid} is not a child of this process"))
            })
    }

    fn setcpid(&mut self, pid: Pid, opt: Cpid, value: i64) -> Result<(), CallError> {
        let slot = self.child_slot("setcpid", pid)?;
        match opt {
            Cpid::Flowcontrol => {
                self.child(slot).expect("a child").budget = options::budget(value);
                // Resumed, perhaps: what waits in its pipes goes out.
                self.pump(slot);
            }
        }
        Ok(())
    }

    fn getcpid(&self, pid: Pid, opt: Cpid) -> Result<i64, CallError> {
        let slot = self.child_slot("getcpid", pid)?;
        let c = self.slots[slot].as_ref().expect("a child");
        Ok(match opt {
            Cpid::Flowcontrol => options::budget_value(c.budget),
        })
    }

    fn eof(&mut self, pid: Pid) -> Result<(), CallError> {
        let slot = self
            .slot_of(pid)
            .ok_or(CallError::Errno(Errno::ESRCH.raw()))?;
        let c = self.child(slot).expect("slot of a child");
        if c.stdin.is_none() || c.stdin_eof {
            return Err(CallError::Errno(Errno::EBADF.raw()));
        }
        c.stdin_eof = true;
        self.flush_child_stdin(slot);
        Ok(())
    }

    /// Forks (or clones) a child running this loop.
    fn spawn(&mut self, clone_flags: Option<u64>) -> Result<Pid, CallError> {
        let live = self
            .slots
            .iter()
            .flatten()
            .filter(|c| c.exit.is_none())
            .count();
        route::check_fork(self.depth, self.opts.maxforkdepth, live, self.childlimit)
            .map_err(|e| CallError::Errno(e.raw()))?;
        let errno = |e: Errno| CallError::Errno(e.raw());
        // Non-blocking from birth: the child makes its stderr blocking.
        let (stdin_r, stdin_w) = fd::pipe_nonblocking().map_err(errno)?;
        let (stdout_r, stdout_w) = fd::pipe_nonblocking().map_err(errno)?;
        let (stderr_r, stderr_w) = fd::pipe_nonblocking().map_err(errno)?;
        let (ctl_r, ctl_w) = fd::pipe_nonblocking().map_err(errno)?;

        let childlimit = self.opts.maxchild.min(route::childlimit_for(self.nofile));
        let mut internal = self.internal_fds();
        internal.extend([&stdin_w, &stdout_r, &stderr_r, &ctl_r].map(|f| f.as_raw_fd()));
        let mut init = Some(ChildInit {
            stdin: stdin_r,
            stdout: stdout_w,
            stderr: stderr_w,
            ctl: ctl_w,
            config: Config {
                depth: self.depth + 1,
                opts: self.opts.clone(),
                childlimit,
                ctl: None,
                trapped: self.trapped,
                ignored: self.ignored,
                nofile: self.nofile,
                batch: self.batch,
            },
        });
        // The child gets a copy of our state but never touches it: it
        // closes our descriptors and builds a loop of its own, so what is
        // queued for our reader is written once, by us.
        let pid = match clone_flags {
            None => {
                // SAFETY: the loop is single-threaded (see the crate docs).
                match unsafe { alcove_sys::process::fork() } {
                    Ok(Forked::Child) => child_main(init.take().expect("init"), &internal),
                    Ok(Forked::Parent(pid)) => pid,
                    Err(e) => return Err(errno(e)),
                }
            }
            Some(flags) => {
                let stack = stack_size();
                let mut start = || -> i32 { child_main(init.take().expect("init"), &internal) };
                // SAFETY: single-threaded loop; `clone` refuses flags that
                // would share memory, files or handlers.
                unsafe { alcove_sys::process::clone(flags, stack, &mut start) }.map_err(errno)?
            }
        };
        drop(init);
        let pid = Pid::from_raw(pid);
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        let registry = self.poll.registry();
        let reg = [
            (&ctl_r, Role::Ctl, Interest::READABLE),
            (&stdout_r, Role::Stdout, Interest::READABLE),
            (&stderr_r, Role::Stderr, Interest::READABLE),
        ];
        for (f, role, interest) in reg {
            if let Err(e) =
                registry.register(&mut SourceFd(&f.as_raw_fd()), token(slot, role), interest)
            {
                fatal("epoll_ctl", e);
            }
        }
        self.slots[slot] = Some(Child {
            pid,
            pidns: clone_flags.is_some_and(|f| f & CLONE_NEWPID != 0),
            state: ChildState::Control,
            exec: None,
            raw: false,
            paused: false,
            stdin: Some(stdin_w),
            stdout: Some(stdout_r),
            stderr: Some(stderr_r),
            ctl: Some(ctl_r),
            stdin_q: OutQueue::default(),
            stdin_total: 0,
            stdin_acked: 0,
            stdin_eof: false,
            rx: Reassembler::new(),
            held: Vec::new(),
            credit: 0,
            budget: self.opts.flowcontrol,
            early: Vec::new(),
            stdout_ready: false,
            stderr_ready: false,
            exit: None,
            exit_reported: false,
            stdout_grown: false,
            stdin_grown: false,
            stdin_watched: false,
            stdout_hup: false,
            stderr_hup: false,
        });
        self.by_pid.insert(pid.as_raw(), slot);
        self.log(format_args!("forked {pid} in slot {slot}"));
        Ok(pid)
    }

    /// The descriptors of this loop's own state, which a new child closes.
    fn internal_fds(&self) -> Vec<RawFd> {
        let mut fds = vec![
            self.poll.as_raw_fd(),
            self.wake_r.as_raw_fd(),
            self.wake_w.as_raw_fd(),
        ];
        fds.extend(self.ctl.as_ref().map(|f| f.as_raw_fd()));
        for c in self.slots.iter().flatten() {
            for f in [&c.stdin, &c.stdout, &c.stderr, &c.ctl]
                .into_iter()
                .flatten()
            {
                fds.push(f.as_raw_fd());
            }
        }
        fds
    }

    /// Replaces this process's image. Returns only on failure.
    fn exec(&mut self, id: u64, call: Call) -> Result<(), CallError> {
        if self.ctl.is_none() {
            return Err(CallError::BadArg(
                "exec in the port itself is not supported: fork a child and exec there".into(),
            ));
        }
        serve::check_exec(&call)?;
        // Everything we wrote before goes out first; then the marker that
        // tells our parent where our frames end.
        let stdout = fd::stdio(1);
        let mut buf = Vec::new();
        let marker = encode_message(&mut buf, Kind::Notice, id, &[], &Notice::Execd);
        if marker.is_err() || self.out.flush_all(stdout).is_err() {
            self.shutdown(1);
        }
        let mut q = OutQueue::default();
        if q.send(stdout, &[&buf])
            .and_then(|()| q.flush_all(stdout))
            .is_err()
        {
            self.shutdown(1);
        }
        for n in 0..=2 {
            let _ = fd::set_nonblocking(fd::stdio(n), false);
        }
        // Handlers are reset by exec itself; what the loop ignores for its
        // own sake (SIGPIPE) is not, nor is the signal mask.
        let sigpipe = !self.ignored[SIGPIPE as usize];
        if sigpipe {
            let _ = signal::sigaction(SIGPIPE, Disposition::Default);
        }
        signal::unblock_all();
        if self.batch {
            let _ = alcove_sys::process::set_policy(Policy::Other);
        }
        // The program leads a process group of its own: at shutdown its
        // parent signals the group, which reaches the program's children.
        let _ = alcove_sys::process::setpgid_self();
        // Our parent sends the program `signaloneof` when it shuts down; if
        // it is killed before it can (SIGKILL), the kernel sends it. The
        // init of a PID namespace would ignore it without a handler: it
        // gets SIGKILL (a parent that shuts down normally sends it
        // `signaloneof` first and waits a moment, see `shutdown`). Our
        // parent may have died already: then the tree is going, and so do
        // we.
        let death = match self.opts.signaloneof {
            0 => 0,
            _ if self.pid == 1 => SIGKILL,
            sig => sig,
        };
        let _ = alcove_sys::process::set_parent_death_signal(death);
        if death != 0 && alcove_sys::process::getppid() != self.ppid {
            alcove_sys::exit_now(0);
        }
        let errno = match &call {
            Call::Execve { path, argv, env } => {
                alcove_sys::process::execve(path.as_slice(), argv, env)
            }
            Call::Execvp { file, argv } => alcove_sys::process::execvp(file.as_slice(), argv),
            _ => unreachable!("exec called with {}", call.name()),
        };
        // Still here: the exec failed. Put the loop back as it was, and
        // tell the parent to read our frames again.
        for n in 0..=1 {
            let _ = fd::set_nonblocking(fd::stdio(n), true);
        }
        if sigpipe {
            let _ = signal::sigaction(SIGPIPE, Disposition::Ignore);
        }
        if self.batch {
            let _ = alcove_sys::process::set_policy(Policy::Batch);
        }
        let _ = alcove_sys::process::set_parent_death_signal(PARENT_GONE);
        if let Some(ctl) = &self.ctl {
            let _ = rustix::io::write(ctl, b"F");
        }
        Err(CallError::Errno(errno.raw()))
    }

    // ---- children ----------------------------------------------------------------

    fn on_child_event(&mut self, slot: usize, role: Role, hup: bool) {
        let Some(c) = self.child(slot) else { return };
        match role {
            Role::Ctl => self.on_ctl(slot),
            Role::Stdout => {
                c.stdout_ready = true;
                c.stdout_hup |= hup;
                self.pump(slot);
            }
            Role::Stderr => {
                c.stderr_ready = true;
                c.stderr_hup |= hup;
                self.pump(slot);
            }
            Role::Stdin => self.flush_child_stdin(slot),
        }
    }

    /// Writes a frame (or raw bytes) into a child's stdin.
    fn child_send(&mut self, slot: usize, pid: Pid, parts: &[&[u8]]) {
        let c = self.child(slot).expect("sending to a child");
        let Some(stdin) = &c.stdin else {
            return self.emit(Kind::Notice, 0, &[pid], &Notice::StdinClosed);
        };
        if c.stdin_eof {
            return self.emit(Kind::Notice, 0, &[pid], &Notice::StdinClosed);
        }
        let len: usize = parts.iter().map(|p| p.len()).sum();
        c.stdin_total += len as u64;
        if c.stdin_q.send(stdin, parts).is_err() {
            self.close_stdin(slot);
            return;
        }
        if !c.stdin_q.is_empty() {
            if c.raw && !c.stdin_grown {
                // The program's stdin is full: give it room, once.
                c.stdin_grown = true;
                let _ = fd::set_pipe_size(stdin, BIG_PIPE);
            }
            self.watch_stdin(slot, true);
        }
        self.ack_stdin(slot);
    }

    /// Puts a child's stdin in the poller while bytes wait for room in it,
    /// and only then (see [`Core::watch_stdout`]).
    fn watch_stdin(&mut self, slot: usize, on: bool) {
        let Some(c) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let Some(stdin) = &c.stdin else { return };
        if on == c.stdin_watched {
            return;
        }
        c.stdin_watched = on;
        let fd = stdin.as_raw_fd();
        let registry = self.poll.registry();
        let r = if on {
            registry.register(
                &mut SourceFd(&fd),
                token(slot, Role::Stdin),
                Interest::WRITABLE,
            )
        } else {
            registry.deregister(&mut SourceFd(&fd))
        };
        if let Err(e) = r {
            fatal("epoll_ctl of a child's stdin", e);
        }
    }

    fn flush_child_stdin(&mut self, slot: usize) {
        let Some(c) = self.child(slot) else { return };
        let Some(stdin) = &c.stdin else { return };
        match c.stdin_q.flush(stdin) {
            Ok(true) if c.stdin_eof && c.held.is_empty() => {
                self.ack_stdin(slot);
                self.close_stdin(slot);
            }
            Ok(drained) => {
                if drained {
                    self.watch_stdin(slot, false);
                }
                self.ack_stdin(slot);
            }
            Err(_) => self.close_stdin(slot),
        }
    }

    /// Tells the client how much of an exec'd child's stdin went into its
    /// pipe, in batches.
    fn ack_stdin(&mut self, slot: usize) {
        let c = self.child(slot).expect("a child");
        if !c.raw {
            return;
        }
        let written = c.stdin_total - c.stdin_q.len() as u64;
        let unacked = written - c.stdin_acked;
        if unacked >= ACK_BATCH || (c.stdin_q.is_empty() && c.stdin_eof && unacked > 0) {
            c.stdin_acked = written;
            let pid = c.pid;
            self.emit(Kind::Notice, 0, &[pid], &Notice::StdinAck(unacked as u32));
        }
    }

    fn close_stdin(&mut self, slot: usize) {
        let c = self.child(slot).expect("a child");
        if let Some(f) = c.stdin.take() {
            c.stdin_q.clear();
            let pid = c.pid;
            if std::mem::take(&mut c.stdin_watched) {
                let _ = self
                    .poll
                    .registry()
                    .deregister(&mut SourceFd(&f.as_raw_fd()));
            }
            drop(f);
            self.emit(Kind::Notice, 0, &[pid], &Notice::StdinClosed);
        }
    }

    fn on_ctl(&mut self, slot: usize) {
        let mut buf = [0u8; 64];
        loop {
            let Some(c) = self.child(slot) else { return };
            let Some(ctl) = &c.ctl else { return };
            match rustix::io::read(ctl, &mut buf[..]) {
                Ok(0) => {
                    let f = c.ctl.take().expect("ctl");
                    let _ = self
                        .poll
                        .registry()
                        .deregister(&mut SourceFd(&f.as_raw_fd()));
                    drop(f);
                    self.on_ctl_eof(slot);
                    return;
                }
                Ok(n) => {
                    if buf[..n].contains(&b'F') {
                        if let Some(exec) = &mut c.exec {
                            exec.failed = true;
                            if c.paused {
                                c.paused = false;
                                c.stdout_ready = true;
                            }
                        }
                        self.pump(slot);
                    }
                }
                Err(rustix::io::Errno::AGAIN) => return,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return,
            }
        }
    }

    /// The child exec'd or died: its control pipe closed.
    fn on_ctl_eof(&mut self, slot: usize) {
        let c = self.child(slot).expect("a child");
        if let Some(exec) = c.exec {
            if !exec.marker {
                // The marker may still be in the pipe: read up to it.
                c.stdout_ready = true;
                self.pump_frames(slot, true);
            }
            let c = self.child(slot).expect("a child");
            let exec = c.exec.expect("exec pending");
            if exec.marker && !exec.failed {
                return self.on_execd(slot, exec.id);
            }
        }
        let c = self.child(slot).expect("a child");
        if c.state != ChildState::Execd {
            c.state = ChildState::Gone;
            c.exec = None;
            c.paused = false;
            self.replay_held(slot);
        }
        self.pump(slot);
    }

    fn on_execd(&mut self, slot: usize, id: u64) {
        let c = self.child(slot).expect("a child");
        c.state = ChildState::Execd;
        c.exec = None;
        c.raw = true;
        c.paused = false;
        c.credit = alcove_proto::INITIAL_OUTPUT_CREDIT.into();
        c.stdin_acked = c.stdin_total;
        let pid = c.pid;
        // What the program wrote right after the marker, already read.
        let rx = std::mem::take(&mut c.rx);
        self.log(format_args!("{pid} exec'd"));
        self.emit(Kind::Notice, 0, &[pid], &Notice::Execd);
        self.reply(id, &[pid], Ok(Reply::Ok));
        // What follows the marker in the buffer is the program's first
        // output, read along with our child's last frames: it goes out
        // first, as flow control allows.
        let c = self.child(slot).expect("a child");
        c.early = rx.unparsed().to_vec();
        self.replay_held(slot);
        let c = self.child(slot).expect("a child");
        c.stdout_ready = true;
        self.pump(slot);
    }

    /// Routes again the frames held while the child's exec was pending.
    fn replay_held(&mut self, slot: usize) {
        let c = self.child(slot).expect("a child");
        if c.held.is_empty() {
            return;
        }
        let held = std::mem::take(&mut c.held);
        let mut rx = Reassembler::new();
        rx.feed(&held);
        while let Some(frame) = rx.next_frame() {
            self.on_frame(frame);
        }
        if let Some(c) = self.child(slot)
            && c.stdin_eof
        {
            self.flush_child_stdin(slot);
        }
    }

    /// Reads what a child wrote, as far as credit and our own backlog allow,
    /// then reports its exit if it has exited and everything is read.
    fn pump(&mut self, slot: usize) {
        let Some(c) = self.child(slot) else { return };
        if c.raw {
            self.pump_raw(slot, Role::Stdout);
        } else {
            self.pump_frames(slot, false);
        }
        self.pump_raw(slot, Role::Stderr);
        self.maybe_finish(slot);
    }

    /// Relays frames from a child that runs the loop. With `force`, reads
    /// even when our backlog is high (to find an exec marker).
    fn pump_frames(&mut self, slot: usize, force: bool) {
        loop {
            let throttled = !force && self.throttled();
            let c = self.child(slot).expect("a child");
            if c.paused || c.raw {
                return;
            }
            let pid = c.pid;
            let mut rx = std::mem::take(&mut c.rx);
            let stop = self.relay_frames(slot, pid, &mut rx);
            let c = self.child(slot).expect("a child");
            c.rx = rx;
            if stop || !c.stdout_ready || throttled {
                return;
            }
            let Some(stdout) = &c.stdout else {
                c.stdout_ready = false;
                return;
            };
            let spare = c.rx.spare(16 << 10);
            let asked = spare.len();
            match rustix::io::read(stdout, spare) {
                Ok(0) => {
                    c.stdout_ready = false;
                    self.close_output(slot, Role::Stdout);
                    return;
                }
                Ok(n) => {
                    c.rx.commit(n);
                    // Read short: drained (the frames are relayed first),
                    // unless the writer is gone and the end of file is due.
                    c.stdout_ready = n == asked || c.stdout_hup;
                }
                Err(rustix::io::Errno::AGAIN) => {
                    c.stdout_ready = false;
                    return;
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => {
                    c.stdout_ready = false;
                    self.close_output(slot, Role::Stdout);
                    return;
                }
            }
        }
    }

    /// Relays the whole frames buffered in `rx`. Returns true when it
    /// stopped at an exec marker.
    fn relay_frames(&mut self, slot: usize, pid: Pid, rx: &mut Reassembler) -> bool {
        while let Some(frame) = rx.next_frame() {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => {
                    self.log(format_args!("bad frame from {pid}: {e}"));
                    continue;
                }
            };
            let h = frame.header;
            let exec = self.child(slot).and_then(|c| c.exec);
            if let Some(exec) = exec
                && h.id == exec.id
                && h.path_len() == 0
            {
                if h.kind == Kind::Notice && frame.decode::<Notice>() == Ok(Notice::Execd) {
                    let c = self.child(slot).expect("a child");
                    let e = c.exec.as_mut().expect("exec");
                    e.marker = true;
                    if !e.failed {
                        c.paused = true;
                        return true;
                    }
                    continue;
                }
                if h.kind == Kind::Reply {
                    // The exec failed: the child is a loop again.
                    let c = self.child(slot).expect("a child");
                    c.exec = None;
                    if c.state == ChildState::ExecPending {
                        c.state = ChildState::Control;
                    }
                    self.relay_frame(pid, &h, frame.payload);
                    self.replay_held(slot);
                    continue;
                }
            }
            self.relay_frame(pid, &h, frame.payload);
        }
        false
    }

    fn relay_frame(&mut self, pid: Pid, h: &HeaderRef<'_>, payload: &[u8]) {
        match Prefix::push(h, pid, payload.len()) {
            Ok(prefix) => self.send_out(&[prefix.as_bytes(), payload]),
            Err(e) => self.log(format_args!("dropped a frame from {pid}: {e}")),
        }
    }

    fn relay_raw(&mut self, pid: Pid, kind: Kind, data: &[u8]) {
        match Prefix::new(kind, 0, &[pid], data.len()) {
            Ok(prefix) => self.send_out(&[prefix.as_bytes(), data]),
            Err(e) => self.log(format_args!("dropped output of {pid}: {e}")),
        }
    }

    /// Relays raw stdout (of an exec'd child) or stderr (of any child).
    fn pump_raw(&mut self, slot: usize, role: Role) {
        loop {
            if self.throttled() {
                return;
            }
            let Some(c) = self.slots[slot].as_mut() else {
                return;
            };
            let (ready, f) = match role {
                Role::Stdout => (c.stdout_ready, &c.stdout),
                _ => (c.stderr_ready, &c.stderr),
            };
            let limit = if c.raw {
                c.output_limit().min(RELAY_CHUNK as u64) as usize
            } else {
                RELAY_CHUNK
            };
            if role == Role::Stdout && !c.early.is_empty() {
                if limit == 0 {
                    return;
                }
                let n = limit.min(c.early.len());
                let early: Vec<u8> = c.early.drain(..n).collect();
                c.spend(n as u64);
                let pid = c.pid;
                self.relay_raw(pid, Kind::Stdout, &early);
                continue;
            }
            let Some(f) = f else { return };
            if !ready || limit == 0 {
                return;
            }
            if self.scratch.is_empty() {
                self.scratch = vec![0; RELAY_CHUNK];
            }
            let (pid, raw) = (c.pid, c.raw);
            let hup = match role {
                Role::Stdout => c.stdout_hup,
                _ => c.stderr_hup,
            };
            let kind = if role == Role::Stdout {
                Kind::Stdout
            } else {
                Kind::Stderr
            };
            if raw && self.splice_ok && self.out.is_empty() {
                // Zero copy: a header of the exact length, then the bytes
                // moved from the program's pipe into ours by the kernel.
                let avail = fd::readable_bytes(f).unwrap_or(0).min(limit);
                if avail >= SPLICE_MIN {
                    if self.stdout_capacity == 0 {
                        self.stdout_capacity = fd::pipe_size(fd::stdio(1)).unwrap_or(0);
                    }
                    let queued = fd::readable_bytes(fd::stdio(1)).unwrap_or(usize::MAX);
                    let room = self.stdout_capacity.saturating_sub(queued);
                    if room >= SPLICE_MIN + MAX_ONE_HOP_PREFIX {
                        let n = avail.min(room - MAX_ONE_HOP_PREFIX);
                        let Ok(prefix) = Prefix::new(kind, 0, &[pid], n) else {
                            return;
                        };
                        let header = prefix.as_bytes();
                        let sent = match rustix::io::write(fd::stdio(1), header) {
                            Ok(w) => w,
                            Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => 0,
                            Err(_) => self.shutdown(0),
                        };
                        if sent > 0 {
                            // The frame is begun: its bytes must follow.
                            let moved = if sent == header.len() {
                                match fd::splice(f, fd::stdio(1), n) {
                                    Ok(m) => m,
                                    Err(e) => {
                                        // Neither a pipe nor a socket on
                                        // our side: copy from now on.
                                        if e == Errno::EINVAL {
                                            self.splice_ok = false;
                                        }
                                        0
                                    }
                                }
                            } else {
                                let _ = self.out.send(fd::stdio(1), &[&header[sent..]]);
                                0
                            };
                            let rest = n - moved;
                            if rest > 0 {
                                if self.scratch.len() < rest {
                                    self.scratch.resize(RELAY_CHUNK.max(rest), 0);
                                }
                                let mut got = 0;
                                while got < rest {
                                    match rustix::io::read(f, &mut self.scratch[got..rest]) {
                                        Ok(0) => break,
                                        Ok(k) => got += k,
                                        Err(rustix::io::Errno::INTR) => {}
                                        Err(_) => break,
                                    }
                                }
                                // The kernel said the bytes were there, and
                                // only we read this pipe; the frame's length
                                // is kept whatever happens.
                                self.scratch[got..rest].fill(0);
                                let data = std::mem::take(&mut self.scratch);
                                self.send_out(&[&data[..rest]]);
                                self.scratch = data;
                            }
                            let c = self.slots[slot].as_mut().expect("a child");
                            c.spend(n as u64);
                            if n == limit {
                                c.grow_stdout();
                            }
                            continue;
                        }
                    }
                }
            }
            let Some(c) = self.slots[slot].as_mut() else {
                return;
            };
            let Some(f) = (match role {
                Role::Stdout => &c.stdout,
                _ => &c.stderr,
            }) else {
                return;
            };
            match rustix::io::read(f, &mut self.scratch[..limit]) {
                Ok(0) => {
                    self.set_ready(slot, role, false);
                    self.close_output(slot, role);
                    return;
                }
                Ok(n) => {
                    if raw {
                        c.spend(n as u64);
                    }
                    if n == RELAY_CHUNK && raw {
                        c.grow_stdout();
                    }
                    let data = std::mem::take(&mut self.scratch);
                    self.relay_raw(pid, kind, &data[..n]);
                    self.scratch = data;
                    if n < limit && !hup {
                        // Read short: drained.
                        self.set_ready(slot, role, false);
                        return;
                    }
                }
                Err(rustix::io::Errno::AGAIN) => {
                    self.set_ready(slot, role, false);
                    return;
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => {
                    self.set_ready(slot, role, false);
                    self.close_output(slot, role);
                    return;
                }
            }
        }
    }

    fn set_ready(&mut self, slot: usize, role: Role, ready: bool) {
        let c = self.child(slot).expect("a child");
        match role {
            Role::Stdout => c.stdout_ready = ready,
            _ => c.stderr_ready = ready,
        }
    }

    fn close_output(&mut self, slot: usize, role: Role) {
        let c = self.child(slot).expect("a child");
        let f = match role {
            Role::Stdout => c.stdout.take(),
            _ => c.stderr.take(),
        };
        let raw = c.raw;
        let pid = c.pid;
        if let Some(f) = f {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&f.as_raw_fd()));
            drop(f);
            if raw {
                let notice = if role == Role::Stdout {
                    Notice::StdoutClosed
                } else {
                    Notice::StderrClosed
                };
                self.emit(Kind::Notice, 0, &[pid], &notice);
            }
        }
    }

    /// Reports the exit of a reaped child once everything it wrote has been
    /// relayed, and frees its slot once nothing of it is left open.
    fn maybe_finish(&mut self, slot: usize) {
        let Some(c) = self.child(slot) else { return };
        let Some(exit) = c.exit else { return };
        let drained = c.ctl.is_none()
            && !c.paused
            && c.early.is_empty()
            && (c.stdout.is_none() || !c.stdout_ready)
            && (c.stderr.is_none() || !c.stderr_ready);
        if !drained {
            return;
        }
        if !c.exit_reported {
            c.exit_reported = true;
            c.state = ChildState::Gone;
            let pid = c.pid;
            self.close_stdin(slot);
            match exit {
                Exit::Status(status) if self.opts.exit_status => {
                    self.emit(
                        Kind::Event,
                        0,
                        &[pid],
                        &alcove_proto::Event::ExitStatus { status },
                    );
                }
                Exit::Signal(signum) if self.opts.termsig => {
                    self.emit(
                        Kind::Event,
                        0,
                        &[pid],
                        &alcove_proto::Event::TermSig { signum },
                    );
                }
                _ => {}
            }
            if self.opts.sigchld {
                self.emit(
                    Kind::Event,
                    0,
                    &[],
                    &alcove_proto::Event::Signal { signum: SIGCHLD },
                );
            }
            self.replay_held(slot);
        }
        let c = self.child(slot).expect("a child");
        if c.stdout.is_none() && c.stderr.is_none() && c.ctl.is_none() {
            let pid = c.pid;
            self.slots[slot] = None;
            self.free.push(slot);
            self.by_pid.remove(&pid.as_raw());
            self.log(format_args!("slot {slot} of {pid} freed"));
        }
    }

    // ---- signals -------------------------------------------------------------------

    /// Empties the signal self-pipe (what the signals are, the handler
    /// keeps in [`signal::take_pending`]).
    fn drain_wake(&self) {
        let mut buf = [0u8; 64];
        while matches!(rustix::io::read(&self.wake_r, &mut buf[..]), Ok(n) if n > 0) {}
    }

    fn on_wake(&mut self) {
        self.drain_wake();
        for signum in signal::take_pending() {
            if signum == SIGCHLD {
                self.reap();
            } else if self.trapped.get(signum as usize) == Some(&true) {
                self.emit(Kind::Event, 0, &[], &alcove_proto::Event::Signal { signum });
            }
        }
    }

    fn reap(&mut self) {
        while let Ok(Some((pid, exit))) = alcove_sys::process::reap_any() {
            let Some(slot) = self.slot_of(Pid::from_raw(pid)) else {
                continue;
            };
            self.log(format_args!("reaped {pid}: {exit:?}"));
            let c = self.child(slot).expect("a child");
            c.exit = Some(exit);
            // Everything it wrote is in its pipes now: read until they are
            // empty (or closed), short reads or not.
            c.stdout_ready = c.stdout.is_some();
            c.stderr_ready = c.stderr.is_some();
            c.stdout_hup = true;
            c.stderr_hup = true;
            self.on_ctl(slot);
            self.pump(slot);
        }
    }

    // ---- the end -----------------------------------------------------------------

    /// Sends `signaloneof` to the exec'd children; returns the PID-namespace
    /// inits among them that got it (they handle it) rather than SIGKILL.
    fn signal_execd_children(&self) -> Vec<i32> {
        let mut inits = Vec::new();
        if self.opts.signaloneof <= 0 {
            return inits;
        }
        for c in self.slots.iter().flatten() {
            if c.raw && c.exit.is_none() {
                let pid = c.pid.as_raw();
                let mut sig = self.opts.signaloneof;
                // The init of a PID namespace ignores, from outside, every
                // signal it has no handler for: it would outlive us.
                if c.pidns && !catches(pid, sig) {
                    sig = SIGKILL;
                }
                let group = alcove_sys::process::kill(-pid, sig).is_ok();
                let own = alcove_sys::process::kill(pid, sig).is_ok();
                if group || own {
                    let _ = alcove_sys::process::kill(pid, SIGCONT);
                }
                if c.pidns && sig != SIGKILL {
                    inits.push(pid);
                }
            }
        }
        inits
    }

    /// Signals the exec'd children, then gives the PID-namespace inits
    /// among them that handle the signal up to [`INIT_GRACE`] to end
    /// their own way: our exit sends them SIGKILL, their parent-death
    /// signal.
    fn end_execd_children(&self) {
        let mut inits = self.signal_execd_children();
        let deadline = std::time::Instant::now() + INIT_GRACE;
        loop {
            // Not reaped: whoever reaps us reaps them, and sees how they ended.
            inits.retain(|&pid| !alcove_sys::process::has_ended(pid));
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if inits.is_empty() || left.is_zero() {
                return;
            }
            // SIGCHLD writes a byte to the self-pipe.
            let _ = fd::wait_readable(&self.wake_r, Some(left));
            self.drain_wake();
        }
    }

    /// What our reader sent cannot be read as frames: tell it why (as far
    /// as our stdout takes it within a second), then shut down with status
    /// 2. Nothing of the stream from the bad frame on was acted upon.
    fn protocol_error(&mut self, e: ProtoError) -> ! {
        self.log(format_args!("protocol error: {e}"));
        self.emit(Kind::Notice, 0, &[], &Notice::BadFrame(e));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        let _ = self.out.flush_until(fd::stdio(1), Some(deadline));
        self.shutdown(2)
    }

    /// Our reader is gone: signal the exec'd children and exit. The loop
    /// children see their stdin close and do the same.
    fn shutdown(&mut self, status: i32) -> ! {
        self.log(format_args!("shutting down"));
        self.end_execd_children();
        alcove_sys::exit_now(status)
    }
}

/// Whether process `pid` has a handler for `signum` (`SigCgt` in
/// `/proc/<pid>/status`). Unknown counts as no.
fn catches(pid: i32, signum: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok());
    mask.is_some_and(|m| (1..=64).contains(&signum) && m & (1 << (signum - 1)) != 0)
}

/// The soft `RLIMIT_NOFILE`.
pub fn nofile() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}

fn stack_size() -> usize {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Stack);
    match limit.current {
        Some(n) if n > 0 && n < (256 << 20) => n as usize,
        _ => 8 << 20,
    }
}

/// The life of a new child: drop the parent's descriptors, take the new
/// pipes as stdin, stdout and stderr, and run a fresh loop.
fn child_main(init: ChildInit, internal: &[RawFd]) -> ! {
    signal::clear_wake_fd();
    let mut internal = internal.to_vec();
    // SAFETY: these belong to the parent's state, a copy of which this
    // process holds but never uses again.
    unsafe { fd::close_all(&mut internal) };
    let setup = || -> Result<(), Errno> {
        fd::dup_to_stdio(&init.stdin, 0)?;
        fd::dup_to_stdio(&init.stdout, 1)?;
        fd::dup_to_stdio(&init.stderr, 2)?;
        // The pipes were made non-blocking for the parent's ends; stderr
        // is written with blocking writes.
        fd::set_nonblocking(fd::stdio(2), false)?;
        Ok(())
    };
    if let Err(e) = setup() {
        fatal("dup2", e);
    }
    let ChildInit {
        stdin,
        stdout,
        stderr,
        ctl,
        mut config,
    } = init;
    drop((stdin, stdout, stderr));
    // What this process inherited stays usable by calls, but an exec'd
    // program gets none of it.
    if let Err(e) = fd::cloexec_from(3) {
        fatal("close_range", e);
    }
    config.ctl = Some(ctl);
    match Loop::new(config) {
        Ok(l) => l.run(),
        Err(e) => fatal("starting the loop", e),
    }
}
