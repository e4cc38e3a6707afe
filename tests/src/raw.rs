//! The port driven with raw frames, without alcove-client: for tests that
//! write what a client never would (any path, any id, any bytes) and look
//! at every frame that comes back.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use alcove_proto::{
    Call, CallError, Kind, Notice, Pid, Reassembler, Reply, encode_frame, encode_message,
};

/// A frame from the port, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Its kind.
    pub kind: Kind,
    /// Its id.
    pub id: u64,
    /// Its path, as the client sees it.
    pub path: Vec<Pid>,
    /// Its payload, undecoded.
    pub payload: Vec<u8>,
}

/// The port, its stdin, and the frames of its stdout as a thread reads
/// them. Dropping it closes the port's stdin (the port then ends its tree)
/// and waits for the port.
#[derive(Debug)]
pub struct RawPort {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: Receiver<Frame>,
}

impl RawPort {
    /// Starts the port and reads its greeting.
    pub fn start() -> RawPort {
        let bin = alcove_client::find_port().expect("the alcove binary");
        let mut child = Command::new(bin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting alcove");
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("a piped stdout");
        let (tx, frames) = channel();
        std::thread::spawn(move || {
            let mut rx = Reassembler::new();
            loop {
                while let Some(f) = rx.next_frame() {
                    let f = f.expect("the port writes well-formed frames");
                    let frame = Frame {
                        kind: f.header.kind,
                        id: f.header.id,
                        path: f.header.pids().collect(),
                        payload: f.payload.to_vec(),
                    };
                    if tx.send(frame).is_err() {
                        return;
                    }
                }
                match stdout.read(rx.spare(64 << 10)) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => rx.commit(n),
                }
            }
        });
        let mut port = RawPort {
            child,
            stdin,
            frames,
        };
        assert_eq!(port.next_frame().kind, Kind::Greeting);
        port
    }

    /// The port's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Writes bytes to the port's stdin.
    pub fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(bytes).expect("writing to the port");
        stdin.flush().expect("flushing to the port");
    }

    /// Writes bytes to the port's stdin, which the port may have closed
    /// already (after a protocol error): the error is the caller's.
    pub fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(bytes)?;
        stdin.flush()
    }

    /// Writes one call.
    pub fn call(&mut self, id: u64, path: &[Pid], call: &Call) {
        let mut v = Vec::new();
        encode_message(&mut v, Kind::Call, id, path, call).expect("encoding a call");
        self.send(&v);
    }

    /// Writes a `Call` frame with `payload` as it is (the typed API could
    /// not make it) and returns the reply to it.
    pub fn call_raw(&mut self, id: u64, path: &[Pid], payload: &[u8]) -> Result<Reply, CallError> {
        let mut v = Vec::new();
        encode_frame(&mut v, Kind::Call, id, path, payload).expect("framing a payload");
        self.send(&v);
        self.reply(id)
    }

    /// The next frame, which must be a notice: its id, path and notice.
    pub fn notice(&mut self) -> (u64, Vec<Pid>, Notice) {
        let f = self.next_frame();
        assert_eq!(f.kind, Kind::Notice, "{f:?}");
        let notice = postcard::from_bytes(&f.payload).expect("a notice payload");
        (f.id, f.path, notice)
    }

    /// The port and the process at `path` still answer `getpid`.
    pub fn healthy(&mut self, path: &[Pid]) {
        assert!(matches!(
            self.ask(900, &[], &Call::Getpid),
            Ok(Reply::Pid(_))
        ));
        let pid = *path.last().expect("a child's path");
        assert_eq!(self.ask(901, path, &Call::Getpid), Ok(Reply::Pid(pid)));
    }

    /// Ends the port's input, and nothing else.
    pub fn close_input(&mut self) {
        drop(self.stdin.take());
    }

    /// Every frame until the port closes its stdout (within 30 s), then
    /// the port's exit code.
    pub fn end(&mut self) -> (Vec<Frame>, Option<i32>) {
        let mut frames = Vec::new();
        loop {
            match self.frames.recv_timeout(Duration::from_secs(30)) {
                Ok(f) => frames.push(f),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(e) => panic!("the port did not close its stdout within 30 s: {e}"),
            }
        }
        let status = self.child.wait().expect("waiting for the port");
        (frames, status.code())
    }

    /// The next frame, within `limit`; `None` when none came.
    pub fn frame_within(&mut self, limit: Duration) -> Option<Frame> {
        match self.frames.recv_timeout(limit) {
            Ok(f) => Some(f),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("the port closed its stdout"),
        }
    }

    /// The next frame, within 30 s.
    pub fn next_frame(&mut self) -> Frame {
        self.frame_within(Duration::from_secs(30))
            .expect("a frame from the port within 30 s")
    }

    /// The reply to call `id`, skipping frames with id 0 (events, output,
    /// notices about children) that come before it.
    pub fn reply(&mut self, id: u64) -> Result<Reply, CallError> {
        loop {
            let f = self.next_frame();
            if f.id == 0 && f.kind != Kind::Reply {
                continue;
            }
            assert_eq!((f.kind, f.id), (Kind::Reply, id), "{f:?}");
            return postcard::from_bytes(&f.payload).expect("a reply payload");
        }
    }

    /// Calls `call` at `path` as `id` and returns its reply.
    pub fn ask(&mut self, id: u64, path: &[Pid], call: &Call) -> Result<Reply, CallError> {
        self.call(id, path, call);
        self.reply(id)
    }

    /// Forks a child of the process at `path`.
    pub fn fork(&mut self, id: u64, path: &[Pid]) -> Pid {
        match self.ask(id, path, &Call::Fork) {
            Ok(Reply::Pid(p)) => p,
            other => panic!("fork at {path:?}: {other:?}"),
        }
    }

    /// Closes the port's stdin and waits, up to `limit`, for it to exit;
    /// kills it if it does not.
    pub fn close(&mut self, limit: Duration) -> ExitStatus {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the port") {
                return status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let status = self.child.wait().expect("waiting for the port");
                panic!("the port did not exit within {limit:?} of its stdin closing: {status}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RawPort {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            drop(self.stdin.take());
            // A port that does not go on its own within 10 s is killed.
            for _ in 0..1000 {
                if self.child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
