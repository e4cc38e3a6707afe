//! alcove-cgroup against the real kernel, through a real port.
//!
//! Tests that need root, or a controller, print `SKIP <test>: <reason>` and
//! return when they lack it (CI runs them as root). Every group is named
//! `alcove-test-*` and removed by a [`Cleanup`] guard, also when the test
//! fails; every process belongs to the test's `Drv` and ends with it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alcove_cgroup::{Cgroups, Error, Hierarchy, Limit, Version};
use alcove_client::{Drv, Errno, Event, Options, Pid};

/// Timeout of every call: a bug shows as an error, not a hang.
const TIMEOUT: Duration = Duration::from_secs(30);

fn drv() -> Drv {
    Drv::start(Options::default().timeout(TIMEOUT)).expect("starting the alcove port")
}

/// A group name no other test (or run) uses.
fn group(tag: &str) -> String {
    format!("alcove-test-{tag}-{}", std::process::id())
}

fn skip(test: &str, reason: &str) {
    println!("SKIP {test}: {reason}");
}

/// The effective UID of this process, from `/proc/self/status`.
fn euid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("the Uid: line of /proc/self/status")
}

fn require_root(test: &str) -> bool {
    let root = euid() == 0;
    if !root {
        skip(test, "needs root");
    }
    root
}

/// The hierarchy of `controller`, or `SKIP` when none has it.
fn require_controller(test: &str, cg: &Cgroups, controller: &str) -> Option<Hierarchy> {
    match cg.hierarchy(controller) {
        Ok(h) => Some(h.clone()),
        Err(e) => {
            skip(
                test,
                &format!("the {controller} controller is not mounted: {e}"),
            );
            None
        }
    }
}

/// Removes, when dropped, the group directories a test made (or may have
/// made), deepest last-made first, from this process: it works even when
/// the port is gone. A group still busy (its processes are ending with
/// their `Drv`) is retried for a while.
#[derive(Default)]
struct Cleanup {
    dirs: Vec<PathBuf>,
}

impl Cleanup {
    /// Registers `group` and its parents in `h`. Call it before creating.
    fn track(&mut self, h: &Hierarchy, group: &str) {
        let mut dir = h.mount().to_path_buf();
        for component in group.split('/') {
            dir.push(component);
            if !self.dirs.contains(&dir) {
                self.dirs.push(dir.clone());
            }
        }
    }

    fn track_all(&mut self, cg: &Cgroups, group: &str) {
        for h in cg.hierarchies() {
            self.track(h, group);
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for dir in self.dirs.iter().rev() {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match std::fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(e) if e.raw_os_error() == Some(Errno::EBUSY.raw()) => {
                        if Instant::now() > deadline {
                            eprintln!("cleanup: {} is still busy: {e}", dir.display());
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => {
                        eprintln!("cleanup: removing {}: {e}", dir.display());
                        break;
                    }
                }
            }
        }
    }
}

/// A temporary directory, removed with all it holds when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("alcove-cgroup-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A field of `/proc/<pid>/status`.
fn status_field(pid: Pid, field: &str) -> String {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/<pid>/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .to_owned()
}

/// The lines of `/proc/<pid>/cgroup`.
fn cgroup_lines(pid: Pid) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .expect("/proc/<pid>/cgroup")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The exit event of the child at `path`, skipping trapped signals.
fn exit_event(drv: &Drv, path: &[Pid]) -> Event {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match drv.event(path, left).expect("event") {
            Some(e @ (Event::TermSig { .. } | Event::ExitStatus { .. })) => return e,
            Some(Event::Signal { .. }) => {}
            None => panic!("no exit event from {path:?} within {TIMEOUT:?}"),
        }
    }
}

// ---- detection ------------------------------------------------------------------------

#[test]
fn detection_reads_the_mount_table_through_the_port() {
    let drv = drv();
    let cg = Cgroups::new(&drv, &[]).expect("detecting through the port");
    // The port runs in our mount namespace: it sees what we see.
    let ours = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert_eq!(
        cg.hierarchies(),
        alcove_cgroup::parse_mountinfo(&ours).unwrap()
    );
    // So does a child of the port.
    let child = drv.fork(&[]).unwrap();
    let below = Cgroups::new(&drv, &[child]).unwrap();
    assert_eq!(below.hierarchies(), cg.hierarchies());
    assert_eq!(below.path(), [child]);

    let controllers = cg.controllers().expect("listing the controllers");
    for (name, h) in &controllers {
        assert_eq!(cg.hierarchy(name).unwrap(), *h, "{name}");
    }
    println!("hierarchies: {:#?}", cg.hierarchies());
    println!(
        "controllers: {:?}",
        controllers.iter().map(|(c, _)| c).collect::<Vec<_>>()
    );
    let e = cg.hierarchy("no-such-controller").unwrap_err();
    assert!(matches!(e, Error::NoController { .. }), "{e}");
    assert!(e.to_string().contains("no-such-controller"), "{e}");
}

#[test]
fn a_v2_hierarchy_mounted_elsewhere_is_found_as_the_process_sees_it() {
    let test = "a_v2_hierarchy_mounted_elsewhere_is_found_as_the_process_sees_it";
    if !require_root(test) {
        return;
    }
    let mnt = TempDir::new("cg2");
    let mut cleanup = Cleanup::default();
    let drv = drv();
    let port = Cgroups::new(&drv, &[]).unwrap();

    // A child in its own mount namespace, where the v2 hierarchy is at a
    // temporary directory and nowhere else.
    let newns = drv.clone_define(&[], "CLONE_NEWNS").unwrap();
    let child = drv.clone(&[], newns).unwrap();
    let private =
        drv.mount_define(&[], "MS_REC").unwrap() | drv.mount_define(&[], "MS_PRIVATE").unwrap();
    drv.mount(&[child], "none", "/", "", private, "")
        .expect("making the child's mounts private");
    let target = mnt.0.as_os_str().as_encoded_bytes();
    if let Err(e) = drv.mount(&[child], "cgroup2", target, "cgroup2", 0, "") {
        skip(test, &format!("cannot mount cgroup2: {e}"));
        return;
    }
    for h in port
        .hierarchies()
        .iter()
        .filter(|h| h.version() == Version::V2)
    {
        drv.umount(&[child], h.mount().as_os_str().as_encoded_bytes())
            .expect("unmounting the usual v2 mount in the child");
    }

    let cg = Cgroups::new(&drv, &[child]).unwrap();
    let v2 = cg.v2().expect("the child sees a v2 hierarchy").clone();
    assert_eq!(
        v2,
        Hierarchy::V2 {
            mount: mnt.0.clone()
        }
    );
    assert_eq!(
        cg.hierarchies()
            .iter()
            .filter(|h| h.version() == Version::V2)
            .count(),
        1
    );
    // The port still sees it where it was.
    assert_eq!(
        port.v2().map(Hierarchy::mount),
        alcove_cgroup::parse_mountinfo(&std::fs::read_to_string("/proc/self/mountinfo").unwrap())
            .unwrap()
            .iter()
            .find(|h| h.version() == Version::V2)
            .map(Hierarchy::mount)
    );

    // A group made through the child's view is in the one v2 hierarchy.
    let g = group("elsewhere");
    cleanup.track(&v2, &g);
    if let Some(h) = port.v2() {
        cleanup.track(h, &g);
    }
    cg.create_in(&v2, &g).unwrap();
    assert!(cg.exists_in(&v2, &g).unwrap());
    if let Some(h) = port.v2() {
        assert!(
            h.mount().join(&g).is_dir(),
            "seen from the port's namespace too"
        );
    }
    cg.destroy_in(&v2, &g).unwrap();
    assert!(!cg.exists_in(&v2, &g).unwrap());
}

// ---- limits on the real kernel ----------------------------------------------------------

#[test]
fn a_memory_limit_gets_a_child_that_touches_more_killed() {
    let test = "a_memory_limit_gets_a_child_that_touches_more_killed";
    if !require_root(test) {
        return;
    }
    let mut cleanup = Cleanup::default();
    let drv = drv();
    let cg = Cgroups::new(&drv, &[]).unwrap();
    let Some(h) = require_controller(test, &cg, "memory") else {
        return;
    };
    let g = group("memory");
    cleanup.track(&h, &g);
    cg.create_in(&h, &g).unwrap();
    cg.set_limit(&g, Limit::Memory(Some(16 << 20))).unwrap();
    match h.version() {
        // As the seed does: memory and swap, allowed to fail.
        Version::V1 => {
            let _ = cg.set("memory", &g, "memory.memsw.limit_in_bytes", "16m");
            assert_eq!(
                cg.get("memory", &g, "memory.limit_in_bytes").unwrap(),
                "16777216"
            );
        }
        Version::V2 => {
            let _ = cg.set("memory", &g, "memory.swap.max", "0");
            assert_eq!(cg.get("memory", &g, "memory.max").unwrap(), "16777216");
        }
    }

    let child = drv.fork(&[]).unwrap();
    cg.add(&g, child).unwrap();
    assert_eq!(cg.procs_in(&h, &g).unwrap(), [child]);
    // dd's 64 MiB buffer, filled from /dev/zero: every page is touched.
    drv.execvp(
        &[child],
        "dd",
        &["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
    )
    .unwrap();
    assert_eq!(exit_event(&drv, &[child]), Event::TermSig { signum: 9 });

    if h.version() == Version::V1
        && let Ok(oom) = cg.get("memory", &g, "memory.oom_control")
        && let Some(n) = oom.lines().find_map(|l| l.strip_prefix("oom_kill "))
    {
        assert!(n.parse::<u64>().unwrap() >= 1, "{oom}");
    }
    // The child is gone: the group is empty and can go.
    cg.destroy(&g).unwrap();
    assert!(!cg.exists_in(&h, &g).unwrap());
}

#[test]
fn a_pids_limit_of_2_makes_a_further_fork_fail_with_eagain() {
    let test = "a_pids_limit_of_2_makes_a_further_fork_fail_with_eagain";
    if !require_root(test) {
        return;
    }
    let mut cleanup = Cleanup::default();
    let drv = drv();
    let cg = Cgroups::new(&drv, &[]).unwrap();
    let Some(h) = require_controller(test, &cg, "pids") else {
        return;
    };
    let g = group("pids");
    cleanup.track(&h, &g);
    cg.create_in(&h, &g).unwrap();
    cg.set_limit(&g, Limit::Pids(Some(2))).unwrap();
    assert_eq!(cg.get("pids", &g, "pids.max").unwrap(), "2");

    let child = drv.fork(&[]).unwrap();
    cg.add(&g, child).unwrap();
    let grandchild = drv.fork(&[child]).expect("the second process of the group");
    let e = drv
        .fork(&[child])
        .expect_err("a third process in the group");
    assert_eq!(e.errno(), Some(Errno::EAGAIN), "{e}");
    // Both are in the group, and the kernel counted the refusal.
    assert_eq!(cg.procs(&g).unwrap(), {
        let mut v = vec![child, grandchild];
        v.sort_by_key(|p| p.as_raw());
        v
    });
    if let Ok(events) = cg.get("pids", &g, "pids.events") {
        assert!(events.contains("max 1"), "{events}");
    }
    // The child is still healthy.
    assert_eq!(drv.getpid(&[child]).unwrap(), child);

    // A group with processes is not destroyed, and says why.
    let e = cg.destroy(&g).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::EBUSY), "{e}");
    assert!(
        matches!(&e, Error::Busy { procs, .. } if procs.contains(&child)),
        "{e}"
    );
}

/// The seed's way: the group in every hierarchy, the v1 keys, the PID
/// added everywhere.
#[test]
fn cpuset_pins_a_child_to_cpu_0_the_seeds_way() {
    let test = "cpuset_pins_a_child_to_cpu_0_the_seeds_way";
    if !require_root(test) {
        return;
    }
    let mut cleanup = Cleanup::default();
    let drv = drv();
    let cg = Cgroups::new(&drv, &[]).unwrap();
    let Some(h) = require_controller(test, &cg, "cpuset") else {
        return;
    };
    let g = group("seed");
    cleanup.track_all(&cg, &g);
    cg.create(&g).unwrap();
    for hier in cg.hierarchies() {
        assert!(
            cg.exists_in(hier, &g).unwrap(),
            "{}",
            hier.mount().display()
        );
    }
    cg.set("cpuset", &g, "cpuset.cpus", "0").unwrap();
    cg.set("cpuset", &g, "cpuset.mems", "0").unwrap();

    let child = drv.fork(&[]).unwrap();
    cg.add(&g, child).unwrap();
    assert_eq!(status_field(child, "Cpus_allowed_list"), "0");
    assert_eq!(cg.procs(&g).unwrap(), [child]);
    assert_eq!(cg.procs_in(&h, &g).unwrap(), [child]);
    // In every hierarchy.
    let lines = cgroup_lines(child);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with(&format!(":/{g}")))
            .count(),
        cg.hierarchies().len(),
        "{lines:#?}"
    );

    // Busy: nothing is moved silently.
    let e = cg.destroy(&g).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::EBUSY), "{e}");
    assert!(e.to_string().contains("EBUSY"), "{e}");
    assert!(cg.exists_in(&h, &g).unwrap());
    assert_eq!(
        status_field(child, "Cpus_allowed_list"),
        "0",
        "still in the group"
    );

    // Moved out, the group can go.
    cg.remove(&g, child).unwrap();
    cg.destroy(&g).unwrap();
    for hier in cg.hierarchies() {
        assert!(
            !cg.exists_in(hier, &g).unwrap(),
            "{}",
            hier.mount().display()
        );
    }
    assert_eq!(drv.getpid(&[child]).unwrap(), child);
}

/// A v1 cpuset group with no CPUs or memory nodes takes no process; `add`
/// fills them from the parent first, so that it works.
#[test]
fn add_fills_an_empty_v1_cpuset_from_the_parent() {
    let test = "add_fills_an_empty_v1_cpuset_from_the_parent";
    if !require_root(test) {
        return;
    }
    let mut cleanup = Cleanup::default();
    let drv = drv();
    let cg = Cgroups::new(&drv, &[]).unwrap();
    let Some(h) = require_controller(test, &cg, "cpuset") else {
        return;
    };
    if h.version() != Version::V1 {
        skip(test, "cpuset is not on a v1 hierarchy");
        return;
    }
    let top = group("cpuset");
    let g = format!("{top}/sub");
    cleanup.track(&h, &g);
    // Made by hand, not by `create`: both levels are empty.
    for dir in [&top, &g] {
        drv.mkdir(
            &[],
            h.mount().join(dir).as_os_str().as_encoded_bytes(),
            0o755,
        )
        .unwrap();
    }
    assert_eq!(cg.get_in(&h, &top, "cpuset.mems").unwrap(), "");
    assert_eq!(cg.get_in(&h, &g, "cpuset.mems").unwrap(), "");

    let child = drv.fork(&[]).unwrap();
    let raw = cg
        .set_in(&h, &g, "cgroup.procs", &child.to_string())
        .expect_err("joining an empty cpuset");
    assert_eq!(raw.errno(), Some(Errno::ENOSPC), "{raw}");

    cg.add(&g, child).unwrap();
    let root_mems = std::fs::read_to_string(h.mount().join("cpuset.mems")).unwrap();
    assert_eq!(cg.get_in(&h, &g, "cpuset.mems").unwrap(), root_mems.trim());
    assert_eq!(cg.procs(&g).unwrap(), [child]);
    cg.set_limit(&g, Limit::Cpus("0".into())).unwrap();
    assert_eq!(status_field(child, "Cpus_allowed_list"), "0");

    cg.remove(&g, child).unwrap();
    cg.destroy(&g).unwrap();

    // set_limit fills the empty parents too: a CPU set must lie within
    // the parent's, and an empty parent would refuse any.
    let g2 = format!("{top}/other");
    cleanup.track(&h, &g2);
    drv.mkdir(
        &[],
        h.mount().join(&g2).as_os_str().as_encoded_bytes(),
        0o755,
    )
    .unwrap();
    cg.set_in(&h, &top, "cpuset.cpus", "").unwrap();
    assert_eq!(cg.get_in(&h, &top, "cpuset.cpus").unwrap(), "");
    cg.set_limit(&g2, Limit::Cpus("0".into())).unwrap();
    let root_cpus = std::fs::read_to_string(h.mount().join("cpuset.cpus")).unwrap();
    assert_eq!(
        cg.get_in(&h, &top, "cpuset.cpus").unwrap(),
        root_cpus.trim()
    );
    assert_eq!(cg.get_in(&h, &g2, "cpuset.cpus").unwrap(), "0");

    cg.destroy(&g2).unwrap();
    cg.destroy(&top).unwrap();
    assert!(!cg.exists_in(&h, &top).unwrap());
}

#[test]
fn a_v2_group_takes_a_child_and_is_destroyed_once_empty() {
    let test = "a_v2_group_takes_a_child_and_is_destroyed_once_empty";
    if !require_root(test) {
        return;
    }
    let mut cleanup = Cleanup::default();
    let drv = drv();
    let cg = Cgroups::new(&drv, &[]).unwrap();
    let Some(h) = cg.v2().cloned() else {
        skip(test, "no v2 hierarchy is mounted");
        return;
    };
    let g = group("v2");
    let g2 = group("v2-exit");
    cleanup.track(&h, &g);
    cleanup.track(&h, &g2);
    cg.create_in(&h, &g).unwrap();

    let child = drv.fork(&[]).unwrap();
    cg.add(&g, child).unwrap();
    assert_eq!(cg.procs_in(&h, &g).unwrap(), [child]);
    let lines = cgroup_lines(child);
    assert!(lines.contains(&format!("0::/{g}")), "{lines:#?}");

    // Busy: EBUSY, with the process named.
    let e = cg.destroy_in(&h, &g).unwrap_err();
    println!("destroying a busy group: {e}");
    assert_eq!(e.errno(), Some(Errno::EBUSY), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("EBUSY") && text.contains(&child.to_string()),
        "{text}"
    );
    assert!(
        matches!(&e, Error::Busy { procs, .. } if procs == &[child]),
        "{e}"
    );
    assert!(cg.exists_in(&h, &g).unwrap());
    assert_eq!(cg.procs_in(&h, &g).unwrap(), [child], "nothing moved");

    // Moved out, it can go.
    cg.remove(&g, child).unwrap();
    assert!(cgroup_lines(child).contains(&"0::/".to_owned()));
    assert_eq!(cg.procs_in(&h, &g).unwrap(), []);
    cg.destroy_in(&h, &g).unwrap();
    assert!(!cg.exists_in(&h, &g).unwrap());

    // Or once its process has exited.
    cg.create_in(&h, &g2).unwrap();
    let child2 = drv.fork(&[]).unwrap();
    cg.add_in(&h, &g2, child2).unwrap();
    drv.exit(&[child2], 0).unwrap();
    assert_eq!(exit_event(&drv, &[child2]), Event::ExitStatus { status: 0 });
    cg.destroy_in(&h, &g2).unwrap();
    assert!(!cg.exists_in(&h, &g2).unwrap());

    let e = cg.add(&g2, child).unwrap_err();
    assert!(matches!(e, Error::NoGroup { .. }), "{e}");
}

// ---- v2 controller files, against a fake root ------------------------------------------

/// Reads a file of the fake hierarchy.
fn text(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

fn touch(path: impl AsRef<Path>, content: &str) {
    std::fs::write(path.as_ref(), content)
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()));
}

/// A v2 hierarchy made of plain files: what is written is what is read.
/// The kernel makes a controller's files appear once the parent enables it;
/// here they are there from the start, and the test checks the writes.
#[test]
fn v2_limits_enable_their_controller_top_down_and_write_the_v2_file() {
    let root = TempDir::new("fake-v2");
    let drv = drv();
    let r = root.0.clone();
    let cg = Cgroups::with_hierarchies(&drv, &[], vec![Hierarchy::V2 { mount: r.clone() }]);
    let h = cg.hierarchies()[0].clone();
    touch(r.join("cgroup.controllers"), "cpuset memory pids\n");
    touch(r.join("cgroup.subtree_control"), "");
    touch(r.join("cgroup.procs"), "");

    let top = "alcove-test-fake";
    let g = "alcove-test-fake/sub";
    cg.create(g).unwrap();
    assert!(r.join(top).is_dir() && r.join(g).is_dir());
    cg.create(g).expect("creating again is fine");
    for dir in [top, g] {
        for file in [
            "cgroup.subtree_control",
            "cgroup.procs",
            "memory.max",
            "memory.high",
            "pids.max",
            "cpuset.cpus",
            "cpuset.mems",
        ] {
            touch(r.join(dir).join(file), "");
        }
    }
    let names: Vec<String> = cg
        .controllers()
        .unwrap()
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(names, ["cpuset", "memory", "pids"]);
    assert_eq!(cg.hierarchy("memory").unwrap(), &h);

    // memory: enabled in the root and in the parent, not in the group.
    cg.set_limit(g, Limit::Memory(Some(16 << 20))).unwrap();
    assert_eq!(text(r.join("cgroup.subtree_control")), "+memory");
    assert_eq!(text(r.join(top).join("cgroup.subtree_control")), "+memory");
    assert_eq!(text(r.join(g).join("cgroup.subtree_control")), "");
    assert_eq!(text(r.join(g).join("memory.max")), "16777216");
    assert_eq!(cg.get("memory", g, "memory.max").unwrap(), "16777216");

    // Already enabled (as the kernel lists it): left alone.
    touch(r.join("cgroup.subtree_control"), "cpu memory\n");
    touch(r.join(top).join("cgroup.subtree_control"), "memory\n");
    cg.set_limit(g, Limit::Memory(None)).unwrap();
    assert_eq!(text(r.join("cgroup.subtree_control")), "cpu memory\n");
    assert_eq!(text(r.join(top).join("cgroup.subtree_control")), "memory\n");
    assert_eq!(text(r.join(g).join("memory.max")), "max");

    // pids and cpuset, the same way.
    cg.set_limit(g, Limit::Pids(Some(2))).unwrap();
    assert_eq!(text(r.join("cgroup.subtree_control")), "+pids");
    assert_eq!(text(r.join(top).join("cgroup.subtree_control")), "+pids");
    assert_eq!(text(r.join(g).join("pids.max")), "2");
    cg.set_limit(g, Limit::Pids(None)).unwrap();
    assert_eq!(text(r.join(g).join("pids.max")), "max");
    cg.set_limit(g, Limit::Cpus("0-1".into())).unwrap();
    assert_eq!(text(r.join("cgroup.subtree_control")), "+cpuset");
    assert_eq!(text(r.join(g).join("cpuset.cpus")), "0-1");
    cg.set_limit(g, Limit::Mems("0".into())).unwrap();
    assert_eq!(text(r.join(g).join("cpuset.mems")), "0");

    // The seed's v1 keys, turned into intents, land in the v2 files.
    cg.set_limit(g, Limit::from_key("memory.limit_in_bytes", "16m").unwrap())
        .unwrap();
    assert_eq!(text(r.join(g).join("memory.max")), "16777216");
    assert_eq!(text(r.join("cgroup.subtree_control")), "+memory");

    // Raw set: a key of the controller enables it too; get trims the
    // final newline only.
    touch(r.join("cgroup.subtree_control"), "");
    touch(r.join(top).join("cgroup.subtree_control"), "");
    cg.set("memory", g, "memory.high", "8M").unwrap();
    assert_eq!(text(r.join("cgroup.subtree_control")), "+memory");
    assert_eq!(text(r.join(g).join("memory.high")), "8M");
    touch(r.join(g).join("memory.high"), "8388608\n");
    assert_eq!(cg.get("memory", g, "memory.high").unwrap(), "8388608");

    // add writes cgroup.procs of the group; remove, that of the root.
    cg.add(g, Pid::from_raw(4242)).unwrap();
    assert_eq!(text(r.join(g).join("cgroup.procs")), "4242");
    cg.remove(g, Pid::from_raw(4242)).unwrap();
    assert_eq!(text(r.join("cgroup.procs")), "4242");
    touch(r.join(g).join("cgroup.procs"), "12\n34\n");
    assert_eq!(cg.procs(g).unwrap(), [Pid::from_raw(12), Pid::from_raw(34)]);
    touch(r.join(g).join("cgroup.procs"), "12\nnot a pid\n");
    let e = cg.procs(g).unwrap_err();
    assert!(matches!(e, Error::Parse { .. }), "{e}");

    // A controller the hierarchy does not have.
    touch(r.join("cgroup.controllers"), "cpuset memory\n");
    let e = cg.set_limit(g, Limit::Pids(Some(1))).unwrap_err();
    assert!(
        matches!(&e, Error::NoController { controller, .. } if controller == "pids"),
        "{e}"
    );

    // A file that is not there: the step, the file and the errno.
    let e = cg.set("memory", g, "memory.swap.max", "0").unwrap_err();
    assert!(matches!(e, Error::Open { .. }), "{e}");
    assert_eq!(e.errno(), Some(Errno::ENOENT));
    let msg = e.to_string();
    assert!(
        msg.contains(&r.join(g).join("memory.swap.max").display().to_string()),
        "{msg}"
    );
    assert!(msg.contains("ENOENT"), "{msg}");
}

#[test]
fn names_that_leave_the_tree_are_refused_before_any_call() {
    let root = TempDir::new("fake-names");
    let drv = drv();
    let r = root.0.join("hierarchy");
    std::fs::create_dir(&r).unwrap();
    touch(r.join("cgroup.controllers"), "memory\n");
    let cg = Cgroups::with_hierarchies(&drv, &[], vec![Hierarchy::V2 { mount: r.clone() }]);
    for bad in [
        "../escape",
        "/escape",
        "a/../../escape",
        "",
        "a//b",
        "a\0b",
        ".",
    ] {
        let e = cg.create(bad).unwrap_err();
        assert!(
            matches!(e, Error::Name { what: "group", .. }),
            "{bad:?}: {e}"
        );
        assert!(cg.set_limit(bad, Limit::Pids(None)).is_err());
        assert!(cg.add(bad, Pid::from_raw(1)).is_err());
        assert!(cg.destroy(bad).is_err());
    }
    cg.create("alcove-test-names").unwrap();
    for key in ["../cgroup.procs", "a/b", "", "..", "/etc/passwd"] {
        let e = cg.set("memory", "alcove-test-names", key, "1").unwrap_err();
        assert!(matches!(e, Error::Name { what: "key", .. }), "{key:?}: {e}");
        assert!(cg.get("memory", "alcove-test-names", key).is_err());
    }
    // Nothing was made outside the hierarchy.
    let mut made: Vec<_> = std::fs::read_dir(&root.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    made.sort();
    assert_eq!(made, ["hierarchy"]);

    // Destroying a group that is not there is fine; adding to it is not.
    cg.destroy("alcove-test-names").unwrap();
    cg.destroy("alcove-test-names").unwrap();
    let e = cg.add("alcove-test-names", Pid::from_raw(1)).unwrap_err();
    assert!(matches!(e, Error::NoGroup { .. }), "{e}");
    let empty = Cgroups::with_hierarchies(&drv, &[], Vec::new());
    assert!(matches!(empty.create("x"), Err(Error::NoHierarchy { .. })));
}
