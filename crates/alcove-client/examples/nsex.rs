//! The seed's "Creating a Container Using Linux Namespaces": each sandbox
//! is cloned into new IPC, network, mount, PID and UTS namespaces, joins a
//! cgroup (CPU 0, 16 MiB of memory) made when the port starts, is chrooted
//! and dropped to a random high id, then runs a static busybox.
//!
//! ```sh
//! # the session: PID 1, its own hostname, only `lo`, the memory limit
//! cargo run -p alcove-client --example nsex
//! # your own command, in the same sandbox (its stdio is yours)
//! cargo run -p alcove-client --example nsex -- /bin/busybox sh
//! ```
//!
//! The cgroup works on v1, v2 or a hybrid, as the host has it (through
//! alcove-cgroup). Needs root (or starts the port with `sudo -n`).

use std::time::{Duration, Instant};

use alcove_cgroup::{Cgroups, Limit};
use alcove_client::{Drv, Pid};

mod common;

use common::{Result, argv, id, relay};

/// The group every sandbox joins.
const GROUP: &str = "alcove-nsex";

/// At start: a cgroup for our sandboxes, pinned to CPU 0, with 16 MiB.
fn start() -> Result<(Drv, Cgroups)> {
    let drv = Drv::start(common::privileged())?;
    let cg = Cgroups::new(&drv, &[])?;
    cg.create(GROUP)?;
    cg.set_limit(GROUP, Limit::Cpus("0".into()))?;
    cg.set_limit(GROUP, Limit::Mems("0".into()))?;
    cg.set_limit(GROUP, Limit::Memory(Some(16 << 20)))?;
    // Memory and swap, where the host accounts swap (v1); allowed to fail.
    let _ = cg.set("memory", GROUP, "memory.memsw.limit_in_bytes", "16m");
    Ok((drv, cg))
}

/// Clones a child in new namespaces, puts it in the cgroup, chroots it
/// into the directory of `command[0]`, drops its privileges and execs.
fn sandbox(drv: &Drv, cg: &Cgroups, command: &[String]) -> Result<Pid> {
    let (dir, args) = argv(command)?;

    let flags = drv.define(
        &[],
        &[
            "CLONE_NEWIPC",
            "CLONE_NEWNET",
            "CLONE_NEWNS",
            "CLONE_NEWPID",
            "CLONE_NEWUTS",
        ],
    )?;
    let child = drv.clone(&[], flags)?;
    cg.add(GROUP, child)?;
    drv.sethostname(&[child], format!("alcove{child}"))?;
    drv.chroot(&[child], &dir)?;
    drv.chdir(&[child], "/")?;
    let id = id();
    drv.setgroups(&[child], &[])?;
    drv.setgid(&[child], id)?;
    drv.setuid(&[child], id)?;
    drv.execvp(&[child], &args[0], &args)?;
    Ok(child)
}

/// Sends a command line to the shell and prints what comes back on
/// stdout, up to a line `END`.
fn ask(drv: &Drv, sh: Pid, command: &str) -> Result<String> {
    println!("$ {command}");
    drv.stdin(&[sh], format!("{command}; echo END\n").as_bytes())?;
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !out.ends_with(b"END\n") {
        if Instant::now() > deadline {
            return Err(format!("no answer to {command:?}").into());
        }
        if let Some(d) = drv.stdout(&[sh], Duration::from_millis(200))? {
            out.extend(d);
        }
    }
    let text = String::from_utf8_lossy(&out[..out.len() - 4]).into_owned();
    print!("{text}");
    Ok(text)
}

fn session(drv: &Drv, cg: &Cgroups) -> Result<()> {
    let sh = sandbox(drv, cg, &["/bin/busybox".into(), "sh".into()])?;
    println!(
        "sandbox {sh}: busybox sh, in the cgroup {GROUP}: {:?}",
        cg.procs(GROUP)?
    );
    let host = String::from_utf8_lossy(&drv.gethostname(&[])?).into_owned();

    let pid = ask(drv, sh, "echo $$")?;
    println!("  -> the shell is PID {} in its namespace", pid.trim());
    let name = ask(drv, sh, "hostname")?;
    println!(
        "  -> its hostname is its own ({}; the host's is {host})",
        name.trim()
    );
    let links = ask(drv, sh, "ip -o link | cut -d: -f2")?;
    let links: Vec<&str> = links.split_whitespace().collect();
    println!("  -> its network interfaces: {links:?}");
    let id = ask(drv, sh, "id -u")?;
    println!("  -> it runs as uid {}", id.trim());
    let mem = ask(
        drv,
        sh,
        "/busybox sh -c 'x=$(seq 1 10000000); echo ${#x}'; echo status=$?",
    )?;
    let status = mem.lines().last().unwrap_or_default();
    println!("  -> touching ~80 MB under a 16 MiB limit: {status} (137: killed)");

    drv.stdin(&[sh], b"exit\n")?;
    match drv.event(&[sh], Duration::from_secs(10))? {
        Some(e) => println!("sandbox {sh} exited: {e:?}"),
        None => println!("sandbox {sh} did not exit"),
    }
    Ok(())
}

/// Runs `command` in a sandbox with our stdio; returns its exit status.
fn run(drv: &Drv, cg: &Cgroups, command: &[String]) -> Result<i32> {
    let child = sandbox(drv, cg, command)?;
    relay(drv, child)
}

fn main() -> Result<()> {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let (drv, cg) = start()?;
    let result = if command.is_empty() {
        session(&drv, &cg).map(|()| 0)
    } else {
        run(&drv, &cg, &command)
    };
    // The sandboxes end with the port; then the group can go.
    drop(drv);
    let (drv, cg) = cleanup()?;
    drop((drv, cg));
    std::process::exit(result?)
}

/// Removes the group once its processes are gone.
fn cleanup() -> Result<(Drv, Cgroups)> {
    let drv = Drv::start(common::privileged())?;
    let cg = Cgroups::new(&drv, &[])?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match cg.destroy(GROUP) {
            Ok(()) => break,
            Err(alcove_cgroup::Error::Busy { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((drv, cg))
}
