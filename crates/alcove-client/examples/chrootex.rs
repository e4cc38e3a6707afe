//! The seed's "Creating a chroot": a sandbox made of process limits, a
//! chroot and an unprivileged user, running a static busybox.
//!
//! ```sh
//! # the seed's session: cat, then sh trying to create a file and to fork
//! cargo run -p alcove-client --example chrootex
//! # your own command, in the same sandbox (its stdio is yours)
//! cargo run -p alcove-client --example chrootex -- /bin/busybox sh -c 'echo $$; id'
//! ```
//!
//! The sandbox is chrooted into the directory of the program (`/bin` for
//! `/bin/busybox`, as in the seed), so the program must be statically
//! linked: Debian's `busybox-static` is. chroot and setuid need root: run
//! it as root, or it starts the port with `sudo -n`.

use std::time::{Duration, Instant};

use alcove_client::{Drv, Event, Pid, Rlimit};

mod common;

use common::{Result, argv, id, relay};

/// RLIMIT_FSIZE 0: no file can grow; RLIMIT_NOFILE 0: none can be opened;
/// RLIMIT_NPROC 1: no process can be forked by the sandbox's user.
fn setlimits(drv: &Drv, child: Pid) -> Result<()> {
    let fsize = drv.rlimit_define(&[], "RLIMIT_FSIZE")?;
    let nofile = drv.rlimit_define(&[], "RLIMIT_NOFILE")?;
    let nproc = drv.rlimit_define(&[], "RLIMIT_NPROC")?;
    let zero = Rlimit {
        cur: Some(0),
        max: Some(0),
    };
    drv.setrlimit(&[child], fsize, zero)?;
    drv.setrlimit(&[child], nofile, zero)?;
    drv.setrlimit(
        &[child],
        nproc,
        Rlimit {
            cur: Some(1),
            max: Some(1),
        },
    )?;
    Ok(())
}

fn chroot(drv: &Drv, child: Pid, path: &str) -> Result<()> {
    drv.chroot(&[child], path)?;
    drv.chdir(&[child], "/")?;
    Ok(())
}

fn drop_privs(drv: &Drv, child: Pid, id: u32) -> Result<()> {
    // The port's supplementary groups (root's, under sudo) go first.
    drv.setgroups(&[child], &[])?;
    drv.setgid(&[child], id)?;
    drv.setuid(&[child], id)?;
    Ok(())
}

/// Forks a child of the port, sandboxes it and execs `command` there.
/// Returns its PID.
fn sandbox(drv: &Drv, command: &[String]) -> Result<Pid> {
    let (path, args) = argv(command)?;
    let child = drv.fork(&[])?;
    setlimits(drv, child)?;
    chroot(drv, child, &path)?;
    drop_privs(drv, child, id())?;
    drv.execvp(&[child], &args[0], &args)?;
    Ok(child)
}

/// Stdout or stderr of `child` until a newline (or 5 s).
fn line(drv: &Drv, child: Pid, stderr: bool) -> Result<String> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !got.ends_with(b"\n") && Instant::now() < deadline {
        let chunk = if stderr {
            drv.stderr(&[child], Duration::from_millis(200))?
        } else {
            drv.stdout(&[child], Duration::from_millis(200))?
        };
        got.extend(chunk.unwrap_or_default());
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

fn session(drv: &Drv) -> Result<()> {
    let busybox = |cmd: &str| vec!["/bin/busybox".to_string(), cmd.to_string()];

    println!("1> Cat = chrootex:sandbox(Port).");
    let cat = sandbox(drv, &busybox("cat"))?;
    println!("{cat}");
    println!("2> alcove:stdin(Port, [Cat], \"test test\\n\").");
    drv.stdin(&[cat], b"test test\n")?;
    println!("3> alcove:stdout(Port, [Cat]).");
    print!("{}", line(drv, cat, false)?);

    println!("4> Sh = chrootex:sandbox(Port, [\"/bin/busybox\", \"sh\"]).");
    let sh = sandbox(drv, &busybox("sh"))?;
    println!("{sh}");
    println!("5> alcove:stdin(Port, [Sh], \"echo hello\\n\").");
    drv.stdin(&[sh], b"echo hello\n")?;
    print!("{}", line(drv, sh, false)?);

    println!("6> alcove:stdin(Port, [Sh], \"> foo\\n\").");
    drv.stdin(&[sh], b"> foo\n")?;
    print!("{}", line(drv, sh, true)?);

    println!("7> alcove:stdin(Port, [Sh], \"(echo forked)\\n\").");
    drv.stdin(&[sh], b"(echo forked)\n")?;
    print!("{}", line(drv, sh, true)?);

    println!("8> alcove:stdin(Port, [Sh], \"exit\\n\").");
    // A shell reading a pipe may already have given up after the failed
    // fork: then its stdin is closed, which is fine.
    let _ = drv.stdin(&[sh], b"exit\n");
    println!("9> alcove:event(Port, [Sh]).");
    let event = drv.event(&[sh], Duration::from_secs(5))?;
    println!("{event:?}");
    println!("10> alcove:event(Port).");
    let event = drv.event(&[], Duration::from_secs(5))?;
    println!("{event:?}");
    if let Some(Event::Signal { signum }) = event {
        println!("11> alcove:signal_constant(Port, {signum}).");
        println!("{}", drv.signal_constant(&[], signum)?);
    }
    Ok(())
}

/// Runs `command` in a sandbox with our stdio; returns its exit status.
fn run(drv: &Drv, command: &[String]) -> Result<i32> {
    let child = sandbox(drv, command)?;
    relay(drv, child)
}

fn main() -> Result<()> {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let drv = Drv::start(common::privileged())?;
    if command.is_empty() {
        session(&drv)
    } else {
        let status = run(&drv, &command)?;
        drop(drv);
        std::process::exit(status)
    }
}
