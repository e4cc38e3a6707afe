//! What the sandbox examples share: an id for the sandbox's user, whether
//! we are root, and running a command with our stdio.

use std::io::{Read, Write};
use std::time::Duration;

use alcove_client::{Drv, Event, Message, Options, Pid};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A random, high UID/GID unlikely to belong to anyone (the seed's
/// `16#f0000000 + rand(0..16#ffff)`).
pub fn id() -> u32 {
    let mut b = [0u8; 2];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut b);
    }
    0xf000_0000 + u32::from(u16::from_ne_bytes(b))
}

/// Options for a port that can chroot and setuid: as is when we are root,
/// else under `sudo -n`. `ALCOVE_EXEC` chooses another prefix (empty for
/// none: a setuid or capability binary named by `ALCOVE_BIN`).
pub fn privileged() -> Options {
    if let Ok(prefix) = std::env::var("ALCOVE_EXEC") {
        return Options::default().exec(&prefix);
    }
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    if root {
        Options::default()
    } else {
        Options::default().exec("sudo -n")
    }
}

/// `["/bin/busybox", "sh"]`: the directory to chroot into (`/bin`) and the
/// argv to exec there (`["/busybox", "sh"]`).
pub fn argv(command: &[String]) -> Result<(String, Vec<String>)> {
    let arg0 = std::path::Path::new(command.first().ok_or("no command")?);
    let dir = arg0.parent().ok_or("the command needs a directory")?;
    let name = arg0.file_name().ok_or("the command needs a name")?;
    let mut args = vec![format!("/{}", name.to_string_lossy())];
    args.extend(command[1..].iter().cloned());
    Ok((dir.to_string_lossy().into_owned(), args))
}

/// Relays our stdin to the exec'd program at `[child]`, and its stdout and
/// stderr to ours, until it exits; returns its exit status (128 + signal
/// when killed).
pub fn relay(drv: &Drv, child: Pid) -> Result<i32> {
    let input = Clone::clone(drv);
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 << 10];
        let mut stdin = std::io::stdin();
        while let Ok(n @ 1..) = stdin.read(&mut buf) {
            if input.stdin(&[child], &buf[..n]).is_err() {
                return;
            }
        }
        let _ = input.eof(&[child]);
    });
    loop {
        match drv.recv(&[child], Duration::from_secs(3600))? {
            Some(Message::Stdout(d)) => std::io::stdout().write_all(&d)?,
            Some(Message::Stderr(d)) => std::io::stderr().write_all(&d)?,
            Some(Message::Event(Event::ExitStatus { status })) => return Ok(status),
            Some(Message::Event(Event::TermSig { signum })) => return Ok(128 + signum),
            _ => {}
        }
        std::io::stdout().flush()?;
    }
}
