//! A client for the privilege tests (`tests/tests/privileges.rs`), run by
//! them as an unprivileged user: it starts the port as told (under an exec
//! prefix such as `sudo -n`, or a setuid or capability copy given by
//! `--progname`) and reports what the port is and can do.
//!
//! ```text
//! priv_client [--exec PREFIX] --progname PATH [--env NAME=VALUE]...
//!             [--umask OCTAL] CHECK...
//! ```
//!
//! `--env` (repeated) gives the port that environment instead of ours
//! (`Options::env`); `--umask` sets our umask before the port starts, so
//! that the port's can be compared with it.
//!
//! Each check prints one `key=value` line, in order; the first that fails
//! prints `error=<check>: <why>` and the program exits 1 (0 when all
//! passed). The checks:
//!
//! | check | prints |
//! | --- | --- |
//! | `client_uid` | our real and effective uid: `client_uid=1001,1001` |
//! | `port_uid` | the port's real, effective and saved uid, from its `/proc/<pid>/status` (the pid is `getpid` in the port: under `sudo`, the client's child is sudo): `port_uid=1001,0,0` |
//! | `port_getuid` | `getuid(2)` in the port |
//! | `port_umask` | the port's umask, from its `/proc/<pid>/status`: `port_umask=0022` |
//! | `port_caps` | the port's effective capabilities (`CapEff`, hex) |
//! | `environ` | the port's environment, entries separated by spaces, each `%XX`-escaped (`%`, space, and bytes outside printable ASCII) |
//! | `newuts` | a child cloned with `CLONE_NEWUTS` sets its hostname to `alcove-priv` and reads it back: `newuts=alcove-priv` (`CAP_SYS_ADMIN`) |
//! | `chroot=DIR` | a child chroots into `DIR` and chdirs to `/`: `chroot=<getcwd>:<entries of />` (`CAP_SYS_CHROOT`) |
//! | `setid=ID` | a child calls `setgid(ID)` and `setuid(ID)`: `setid=<uid>,<gid>` (`CAP_SETGID`, `CAP_SETUID`) |
//! | `chrootex=BUSYBOX,ID` | the calls of the seed's chrootex (`examples/chrootex.rs`): a child sets its limits, chroots into the directory of `BUSYBOX`, drops to `ID` and execs `cat`; what it echoes: `chrootex=test test` |
//! | `nsex=BUSYBOX,ID,GROUP` | the calls of the seed's nsex (`examples/nsex.rs`), with cgroup `GROUP`: `nsex=pid:1 hostname:alcove<pid> uid:<ID> cgroups:<joined>/<hierarchies>`; the group is removed at the end, also on failure |
//! | `teardown=BUSYBOX,ID` | a chrootex sandbox execs `sleep`, then the `Drv` is dropped: `teardown=terminated` when the port's `SIGTERM` ended it, `teardown=alive:<pid>` when it could not |
#![forbid(unsafe_code)]

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alcove_client::{Drv, Event, Options, Pid, Rlimit};

type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "usage: priv_client [--exec PREFIX] --progname PATH [--env NAME=VALUE]... \
[--umask OCTAL] CHECK...";

/// Timeout of every call: a bug shows as an error, not a hang.
const TIMEOUT: Duration = Duration::from_secs(30);

fn err(what: impl Display) -> impl FnOnce(alcove_client::Error) -> String {
    move |e| format!("{what}: {e}")
}

#[derive(Debug)]
struct Args {
    exec: Option<String>,
    progname: PathBuf,
    env: Option<Vec<(String, String)>>,
    umask: Option<u32>,
    checks: Vec<String>,
}

fn parse() -> Result<Args> {
    let mut exec = None;
    let mut progname = None;
    let mut env: Option<Vec<(String, String)>> = None;
    let mut umask = None;
    let mut checks = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--exec" => exec = Some(value()?),
            "--progname" => progname = Some(PathBuf::from(value()?)),
            "--env" => {
                let v = value()?;
                let (k, v) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--env {v}: not NAME=VALUE"))?;
                env.get_or_insert_with(Vec::new)
                    .push((k.to_owned(), v.to_owned()));
            }
            "--umask" => {
                let v = value()?;
                umask = Some(u32::from_str_radix(&v, 8).map_err(|e| format!("--umask {v}: {e}"))?);
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => checks.push(arg),
        }
    }
    let progname = progname.ok_or("--progname is required")?;
    Ok(Args {
        exec,
        progname,
        env,
        umask,
        checks,
    })
}

fn options(args: &Args) -> Options {
    let mut opts = Options::default().progname(&args.progname).timeout(TIMEOUT);
    if let Some(prefix) = &args.exec {
        opts = opts.exec(prefix);
    }
    if let Some(env) = &args.env {
        opts = opts.env(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    opts
}

fn start(opts: &Options) -> Result<Drv> {
    Drv::start(opts.clone()).map_err(|e| e.to_string())
}

/// A field of `/proc/<pid>/status`.
fn proc_status(pid: Pid, field: &str) -> Result<String> {
    let file = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&file).map_err(|e| format!("reading {file}: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| format!("no {field} in {file}"))
}

/// `%XX` for `%`, space and bytes outside printable ASCII.
fn escape(b: &[u8]) -> String {
    b.iter()
        .map(|&c| match c {
            b'%' | b' ' => format!("%{c:02X}"),
            0x21..=0x7e => char::from(c).to_string(),
            _ => format!("%{c:02X}"),
        })
        .collect()
}

fn split3(value: &str, check: &str) -> Result<(String, u32, String)> {
    let mut it = value.splitn(3, ',');
    let busybox = it.next().unwrap_or_default().to_owned();
    let id = it
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{check}: want BUSYBOX,ID[,...]"))?;
    Ok((busybox, id, it.next().unwrap_or_default().to_owned()))
}

/// The directory to chroot into and the argv to exec there, as the seed's
/// `argv/1`: `/bin/busybox` gives `/bin` and `/busybox`.
fn sandbox_argv(busybox: &str, args: &[&str]) -> Result<(String, Vec<String>)> {
    let p = Path::new(busybox);
    let dir = p.parent().ok_or("busybox needs a directory")?;
    let name = p.file_name().ok_or("busybox needs a name")?;
    let mut argv = vec![format!("/{}", name.to_string_lossy())];
    argv.extend(args.iter().map(|s| s.to_string()));
    Ok((dir.to_string_lossy().into_owned(), argv))
}

/// The exec'd program's stdout until it ends with `until` (or 10 s).
fn read_until(drv: &Drv, child: &[Pid], until: &[u8]) -> Result<Vec<u8>> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !got.ends_with(until) {
        if Instant::now() > deadline {
            return Err(format!(
                "waiting for {:?}, got {:?}",
                String::from_utf8_lossy(until),
                String::from_utf8_lossy(&got)
            ));
        }
        if let Some(d) = drv
            .stdout(child, Duration::from_millis(200))
            .map_err(err("stdout"))?
        {
            got.extend(d);
        }
    }
    Ok(got)
}

// ---- the chrootex sequence ------------------------------------------------------

/// The seed's chrootex `sandbox/2`: fork, setlimits, chroot, drop_privs,
/// execvp. Returns the sandbox's pid.
fn chrootex_sandbox(drv: &Drv, busybox: &str, id: u32, args: &[&str]) -> Result<Pid> {
    let (dir, argv) = sandbox_argv(busybox, args)?;
    let child = drv.fork(&[]).map_err(err("fork"))?;
    let rlimit = |name: &str| drv.rlimit_define(&[], name).map_err(err(name));
    let zero = Rlimit {
        cur: Some(0),
        max: Some(0),
    };
    let one = Rlimit {
        cur: Some(1),
        max: Some(1),
    };
    for (name, limit) in [
        ("RLIMIT_FSIZE", zero),
        ("RLIMIT_NOFILE", zero),
        ("RLIMIT_NPROC", one),
    ] {
        drv.setrlimit(&[child], rlimit(name)?, limit)
            .map_err(err(format!("setrlimit {name}")))?;
    }
    chroot_drop_exec(drv, child, &dir, id, &argv)?;
    Ok(child)
}

/// The end of both examples' sandboxes: chroot into `dir`, drop the
/// supplementary groups, drop to `id`, exec `argv`.
fn chroot_drop_exec(drv: &Drv, child: Pid, dir: &str, id: u32, argv: &[String]) -> Result<()> {
    drv.chroot(&[child], dir).map_err(err("chroot"))?;
    drv.chdir(&[child], "/").map_err(err("chdir"))?;
    drv.setgroups(&[child], &[]).map_err(err("setgroups"))?;
    drv.setgid(&[child], id).map_err(err("setgid"))?;
    drv.setuid(&[child], id).map_err(err("setuid"))?;
    drv.execvp(&[child], &argv[0], argv)
        .map_err(err("execvp"))?;
    Ok(())
}

fn chrootex(drv: &Drv, value: &str) -> Result<String> {
    let (busybox, id, _) = split3(value, "chrootex")?;
    let cat = chrootex_sandbox(drv, &busybox, id, &["cat"])?;
    drv.stdin(&[cat], b"test test\n").map_err(err("stdin"))?;
    let out = read_until(drv, &[cat], b"\n")?;
    Ok(String::from_utf8_lossy(&out).trim_end().to_owned())
}

/// Whether `pid` is gone (or a zombie) within `limit`.
fn ends_within(pid: Pid, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                let rest = &s[s.rfind(')')? + 2..];
                rest.chars().next()
            });
        match state {
            None | Some('Z') | Some('X') => return true,
            Some(_) if Instant::now() >= deadline => return false,
            Some(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn teardown(opts: &Options, value: &str) -> Result<String> {
    let (busybox, id, _) = split3(value, "teardown")?;
    let drv = start(opts)?;
    let sleep = chrootex_sandbox(&drv, &busybox, id, &["sleep", "1000"])?;
    drop(drv);
    Ok(if ends_within(sleep, Duration::from_secs(5)) {
        "terminated".to_owned()
    } else {
        format!("alive:{sleep}")
    })
}

// ---- the nsex sequence ----------------------------------------------------------

/// A cgroup hierarchy: its mount point, whether it is v2, and (v1) the
/// controllers mounted there.
#[derive(Debug, Clone)]
struct Hierarchy {
    mount: PathBuf,
    v2: bool,
    controllers: Vec<String>,
}

/// The cgroup hierarchies of our mount namespace (the port's too).
fn hierarchies() -> Result<Vec<Hierarchy>> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("reading /proc/self/mountinfo: {e}"))?;
    Ok(info
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount = left.split(' ').nth(4)?;
            let mut right = right.split(' ');
            let fstype = right.next()?;
            let options = right.nth(1).unwrap_or_default();
            let v2 = match fstype {
                "cgroup" => false,
                "cgroup2" => true,
                _ => return None,
            };
            Some(Hierarchy {
                mount: PathBuf::from(mount.replace("\\040", " ")),
                v2,
                controllers: if v2 {
                    Vec::new()
                } else {
                    options.split(',').map(str::to_owned).collect()
                },
            })
        })
        .collect())
}

/// Files, read and written by the port (with its privileges).
struct PortFiles<'a> {
    drv: &'a Drv,
    read: i32,
    write: i32,
}

impl<'a> PortFiles<'a> {
    fn new(drv: &'a Drv) -> Result<Self> {
        let flags = |names: &[&str]| {
            drv.define(&[], names)
                .map(|n| n as i32)
                .map_err(err("define"))
        };
        Ok(PortFiles {
            drv,
            read: flags(&["O_RDONLY", "O_CLOEXEC"])?,
            write: flags(&["O_WRONLY", "O_TRUNC", "O_CLOEXEC"])?,
        })
    }

    fn bytes(p: &Path) -> &[u8] {
        p.as_os_str().as_encoded_bytes()
    }

    fn read(&self, file: &Path) -> Result<String> {
        let what = file.display();
        let fd = self
            .drv
            .open(&[], Self::bytes(file), self.read, 0)
            .map_err(err(format!("open {what}")))?;
        let mut buf = Vec::new();
        let result = loop {
            match self.drv.read(&[], fd, 65536) {
                Ok(b) if b.is_empty() => break Ok(()),
                Ok(b) => buf.extend(b),
                Err(e) => break Err(format!("read {what}: {e}")),
            }
        };
        let _ = self.drv.close(&[], fd);
        result.map(|()| String::from_utf8_lossy(&buf).into_owned())
    }

    fn write(&self, file: &Path, value: &str) -> Result<()> {
        let what = file.display();
        let fd = self
            .drv
            .open(&[], Self::bytes(file), self.write, 0)
            .map_err(err(format!("open {what}")))?;
        let result = self
            .drv
            .write(&[], fd, value)
            .map(|_| ())
            .map_err(|e| format!("write {value:?} to {what}: {e}"));
        let _ = self.drv.close(&[], fd);
        result
    }
}

/// The hierarchy of `controller`: a v1 one that mounts it, else the v2
/// one when its root lists it.
fn hierarchy_of<'h>(hs: &'h [Hierarchy], controller: &str) -> Option<&'h Hierarchy> {
    hs.iter()
        .find(|h| !h.v2 && h.controllers.iter().any(|c| c == controller))
        .or_else(|| {
            hs.iter().find(|h| {
                h.v2 && std::fs::read_to_string(h.mount.join("cgroup.controllers"))
                    .is_ok_and(|c| c.split_whitespace().any(|w| w == controller))
            })
        })
}

/// nsex's `start/0` and `sandbox/3`: the group in every hierarchy, its CPU,
/// memory-node and memory limits, then a child cloned into new namespaces,
/// moved into the group, named, chrooted, dropped to `id`, running
/// `busybox sh`. Returns the sandbox's pid.
fn nsex_sandbox(drv: &Drv, hs: &[Hierarchy], busybox: &str, id: u32, group: &str) -> Result<Pid> {
    let files = PortFiles::new(drv)?;
    for h in hs {
        let dir = h.mount.join(group);
        drv.mkdir(&[], PortFiles::bytes(&dir), 0o755)
            .map_err(err(format!("mkdir {}", dir.display())))?;
        if !h.v2 && h.controllers.iter().any(|c| c == "cpuset") {
            for key in ["cpuset.cpus", "cpuset.mems"] {
                let parent = files.read(&h.mount.join(key))?;
                files.write(&dir.join(key), parent.trim())?;
            }
        }
    }
    let limits = [
        ("cpuset", "cpuset.cpus", "cpuset.cpus", "0"),
        ("cpuset", "cpuset.mems", "cpuset.mems", "0"),
        ("memory", "memory.limit_in_bytes", "memory.max", "16777216"),
    ];
    for (controller, v1_key, v2_key, value) in limits {
        let h = hierarchy_of(hs, controller).ok_or_else(|| format!("no {controller} cgroup"))?;
        if h.v2 {
            files.write(
                &h.mount.join("cgroup.subtree_control"),
                &format!("+{controller}"),
            )?;
        }
        files.write(
            &h.mount.join(group).join(if h.v2 { v2_key } else { v1_key }),
            value,
        )?;
    }
    let flags = drv
        .define(
            &[],
            &[
                "CLONE_NEWIPC",
                "CLONE_NEWNET",
                "CLONE_NEWNS",
                "CLONE_NEWPID",
                "CLONE_NEWUTS",
            ],
        )
        .map_err(err("define"))?;
    let child = drv.clone(&[], flags).map_err(err("clone"))?;
    for h in hs {
        files.write(
            &h.mount.join(group).join("cgroup.procs"),
            &child.to_string(),
        )?;
    }
    drv.sethostname(&[child], format!("alcove{child}"))
        .map_err(err("sethostname"))?;
    let (dir, argv) = sandbox_argv(busybox, &["sh"])?;
    chroot_drop_exec(drv, child, &dir, id, &argv)?;
    Ok(child)
}

fn ask(drv: &Drv, sh: Pid, command: &str) -> Result<String> {
    drv.stdin(&[sh], format!("{command}; echo END\n").as_bytes())
        .map_err(err("stdin"))?;
    let out = read_until(drv, &[sh], b"END\n")?;
    Ok(String::from_utf8_lossy(&out[..out.len() - 4])
        .trim()
        .to_owned())
}

fn nsex_session(
    drv: &Drv,
    hs: &[Hierarchy],
    busybox: &str,
    id: u32,
    group: &str,
) -> Result<String> {
    let sh = nsex_sandbox(drv, hs, busybox, id, group)?;
    let pid = ask(drv, sh, "echo $$")?;
    let hostname = ask(drv, sh, "hostname")?;
    let uid = ask(drv, sh, "id -u")?;
    let cgroups = std::fs::read_to_string(format!("/proc/{sh}/cgroup"))
        .map_err(|e| format!("reading /proc/{sh}/cgroup: {e}"))?;
    let joined = cgroups
        .lines()
        .filter(|l| l.ends_with(&format!("/{group}")))
        .count();
    drv.stdin(&[sh], b"exit\n").map_err(err("stdin"))?;
    match drv
        .event(&[sh], Duration::from_secs(10))
        .map_err(err("event"))?
    {
        Some(Event::ExitStatus { status: 0 }) => {}
        other => return Err(format!("the sandbox's shell ended with {other:?}")),
    }
    Ok(format!(
        "pid:{pid} hostname:{hostname} uid:{uid} cgroups:{joined}/{}",
        hs.len()
    ))
}

/// Removes the group where it exists, with a port of its own (as nsex's
/// `cleanup/0`), once the sandbox is gone.
fn nsex_cleanup(opts: &Options, hs: &[Hierarchy], group: &str) -> Result<()> {
    let dirs: Vec<PathBuf> = hs
        .iter()
        .map(|h| h.mount.join(group))
        .filter(|d| d.exists())
        .collect();
    if dirs.is_empty() {
        return Ok(());
    }
    let drv = start(opts)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    for dir in dirs {
        loop {
            match drv.rmdir(&[], PortFiles::bytes(&dir)) {
                Ok(()) => break,
                Err(e)
                    if e.errno() == Some(alcove_client::Errno::EBUSY)
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(format!("rmdir {}: {e}", dir.display())),
            }
        }
    }
    Ok(())
}

fn nsex(opts: &Options, value: &str) -> Result<String> {
    let (busybox, id, group) = split3(value, "nsex")?;
    if !group.starts_with("alcove-test") || group.contains('/') {
        return Err(format!(
            "nsex: the group must be alcove-test*, not {group:?}"
        ));
    }
    let hs = hierarchies()?;
    if hs.is_empty() {
        return Err("no cgroup hierarchy mounted".into());
    }
    let drv = start(opts)?;
    let result = nsex_session(&drv, &hs, &busybox, id, &group);
    // The sandbox ends with its port; then the group can go.
    drop(drv);
    let cleanup = nsex_cleanup(opts, &hs, &group);
    let out = result?;
    cleanup.map_err(|e| format!("cleanup: {e}"))?;
    Ok(out)
}

// ---- the checks -----------------------------------------------------------------

/// A child of the port, which the closure uses and which exits afterwards.
fn in_child<T>(
    drv: &Drv,
    clone_flags: Option<&str>,
    f: impl FnOnce(Pid) -> Result<T>,
) -> Result<T> {
    let child = match clone_flags {
        None => drv.fork(&[]).map_err(err("fork"))?,
        Some(name) => {
            let flags = drv.clone_define(&[], name).map_err(err(name))?;
            drv.clone(&[], flags)
                .map_err(err(format!("clone {name}")))?
        }
    };
    let out = f(child);
    let _ = drv.exit(&[child], 0);
    let _ = drv.event(&[child], Duration::from_secs(5));
    out
}

fn check(drv: &Drv, opts: &Options, port: Pid, check: &str) -> Result<String> {
    let (name, value) = check.split_once('=').unwrap_or((check, ""));
    let out = match name {
        "client_uid" => format!(
            "{},{}",
            rustix::process::getuid().as_raw(),
            rustix::process::geteuid().as_raw()
        ),
        "port_uid" => {
            let uids = proc_status(port, "Uid")?;
            let f: Vec<&str> = uids.split_whitespace().take(3).collect();
            f.join(",")
        }
        "port_getuid" => drv.getuid(&[]).map_err(err("getuid"))?.to_string(),
        "port_umask" => proc_status(port, "Umask")?,
        "port_caps" => proc_status(port, "CapEff")?,
        "environ" => {
            let env = drv.environ(&[]).map_err(err("environ"))?;
            env.iter().map(|e| escape(e)).collect::<Vec<_>>().join(" ")
        }
        "newuts" => in_child(drv, Some("CLONE_NEWUTS"), |c| {
            drv.sethostname(&[c], "alcove-priv")
                .map_err(err("sethostname"))?;
            let name = drv.gethostname(&[c]).map_err(err("gethostname"))?;
            Ok(String::from_utf8_lossy(&name).into_owned())
        })?,
        "chroot" => in_child(drv, None, |c| {
            drv.chroot(&[c], value).map_err(err("chroot"))?;
            drv.chdir(&[c], "/").map_err(err("chdir"))?;
            let cwd = drv.getcwd(&[c]).map_err(err("getcwd"))?;
            let mut entries: Vec<String> = drv
                .readdir(&[c], "/")
                .map_err(err("readdir"))?
                .iter()
                .map(|e| String::from_utf8_lossy(e).into_owned())
                .filter(|e| e != "." && e != "..")
                .collect();
            entries.sort();
            Ok(format!(
                "{}:{}",
                String::from_utf8_lossy(&cwd),
                entries.join(",")
            ))
        })?,
        "setid" => {
            let id: u32 = value.parse().map_err(|e| format!("setid={value}: {e}"))?;
            in_child(drv, None, |c| {
                drv.setgid(&[c], id).map_err(err("setgid"))?;
                drv.setuid(&[c], id).map_err(err("setuid"))?;
                let uid = drv.getuid(&[c]).map_err(err("getuid"))?;
                let gid = drv.getgid(&[c]).map_err(err("getgid"))?;
                Ok(format!("{uid},{gid}"))
            })?
        }
        "chrootex" => chrootex(drv, value)?,
        "nsex" => nsex(opts, value)?,
        "teardown" => teardown(opts, value)?,
        _ => return Err(format!("unknown check; {USAGE}")),
    };
    Ok(format!("{name}={out}"))
}

fn run(args: &Args) -> Result<()> {
    if let Some(mask) = args.umask {
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask));
    }
    let opts = options(args);
    let drv = start(&opts)?;
    let port = drv.getpid(&[]).map_err(err("getpid"))?;
    for c in &args.checks {
        let line = check(&drv, &opts, port, c).map_err(|e| format!("{c}: {e}"))?;
        println!("{line}");
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let result = parse().and_then(|args| run(&args));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            println!("error={}", e.replace('\n', " "));
            std::process::ExitCode::FAILURE
        }
    }
}
