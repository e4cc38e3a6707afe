//! A client for the end-to-end SIGKILL test (`tests/tests/e2e.rs`, feature
//! `e2e`): builds sandboxes at depth 1 and 3 in the chroot directory given
//! as its argument, prints their PIDs on one line, then waits to be killed.
//!
//! - `[a]`: the chroot sandbox (limits, chroot, a high uid) running
//!   `/bin/busybox sleep 1000`, which SIGTERM kills;
//! - `[b, c, d]`: a namespace sandbox in the cgroup `alcove-test-e2e-<pid>`,
//!   with `proc` and a tmpfs mounted inside, running a busybox `sh` as PID 1
//!   that handles SIGTERM (`trap 'exit 0' TERM`);
//! - `[b, e, f]`: the same, running a plain `sh` as PID 1, which ignores
//!   SIGTERM (the kernel delivers a signal from an ancestor namespace to a
//!   namespace's init only if it has a handler, or the signal is SIGKILL),
//!   and does not read its stdin: only its parent's `signaloneof` option,
//!   set to 9, ends it.
//!
//! Output: `port=<pid> loops=<b>,<c>,<e> sandboxes=<a>,<d>,<f>
//! cgroup=<name>`

use std::io::Read;

use alcove_cgroup::Cgroups;
use alcove_client::{Drv, Opt, Options, Pid};
use alcove_tests::{
    NS_SANDBOX, drop_privs, enter_root, high_id, limit_sandbox, mount_proc, mount_tmpfs,
    private_mounts, raw,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Clones a namespace sandbox below `parent`, puts it in `group`, mounts
/// inside, chroots, drops privileges and runs `sh -c script` as its PID 1.
fn ns_sandbox(
    drv: &Drv,
    cg: &Cgroups,
    group: &str,
    parent: &[Pid],
    root: &std::path::Path,
    script: &str,
) -> Result<Pid> {
    let flags = drv.define(parent, &NS_SANDBOX)?;
    let child = drv.clone(parent, flags)?;
    let path = [parent, &[child]].concat();
    cg.add(group, child)?;
    private_mounts(drv, &path)?;
    mount_proc(drv, &path, root)?;
    mount_tmpfs(drv, &path, root, &format!("alcove-test-e2e-{child}"))?;
    drv.sethostname(&path, format!("alcove-test-e2e-{child}"))?;
    enter_root(drv, &path, root.as_os_str().as_encoded_bytes())?;
    drop_privs(drv, &path, high_id())?;
    drv.execvp(&path, "/bin/busybox", &["/bin/busybox", "sh", "-c", script])?;
    Ok(child)
}

fn main() -> Result<()> {
    let root = std::env::args_os()
        .nth(1)
        .ok_or("usage: e2e_client <chroot directory>")?;
    let root = std::path::Path::new(&root);
    let group = format!("alcove-test-e2e-{}", std::process::id());
    let drv = Drv::start(Options::default().timeout(alcove_tests::TIMEOUT))?;
    let cg = Cgroups::new(&drv, &[])?;
    cg.create(&group)?;

    // Depth 1: the chroot sandbox.
    let a = drv.fork(&[])?;
    limit_sandbox(&drv, &[a])?;
    enter_root(&drv, &[a], root.as_os_str().as_encoded_bytes())?;
    drop_privs(&drv, &[a], high_id())?;
    drv.execvp(&[a], "/bin/busybox", &["/bin/busybox", "sleep", "1000"])?;

    // Depth 3: two namespace sandboxes, below two loop processes.
    let b = drv.fork(&[])?;
    let c = drv.fork(&[b])?;
    let d = ns_sandbox(
        &drv,
        &cg,
        &group,
        &[b, c],
        root,
        "trap 'exit 0' TERM; while :; do /bin/busybox sleep 1; done",
    )?;
    let e = drv.fork(&[b])?;
    drv.setopt(&[b, e], Opt::Signaloneof, 9)?;
    let f = ns_sandbox(
        &drv,
        &cg,
        &group,
        &[b, e],
        root,
        "while :; do /bin/busybox sleep 1; done",
    )?;

    let list = |v: &[Pid]| {
        raw(v)
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "port={} loops={} sandboxes={} cgroup={group}",
        drv.port_pid(),
        list(&[b, c, e]),
        list(&[a, d, f]),
    );
    // Wait for the test to kill us (or close our stdin).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(())
}
