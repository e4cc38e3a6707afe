//! `alcove`: the port. Started by a client with its stdin and stdout as the
//! protocol's pipes.
#![deny(unsafe_code)]

use std::process::ExitCode;

use alcove_loop::{Config, Loop, Options, route};

const USAGE: &str = "usage: alcove [--maxchild N] [--maxforkdepth N] [--exit-status 0|1] \
[--sigchld 0|1] [--termsig 0|1] [--signaloneof N] [--verbose N]

The alcove port: serves the alcove-rs protocol on stdin and stdout.
It is started by a client (alcove-client's Drv), not by hand.";

fn parse() -> Result<Options, String> {
    let mut opts = Options::new(route::childlimit_for(alcove_loop::nofile()));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Err(String::new());
        }
        let opt = match arg.as_str() {
            "--maxchild" => alcove_proto::Opt::Maxchild,
            "--maxforkdepth" => alcove_proto::Opt::Maxforkdepth,
            "--exit-status" => alcove_proto::Opt::ExitStatus,
            "--sigchld" => alcove_proto::Opt::Sigchld,
            "--termsig" => alcove_proto::Opt::Termsig,
            "--signaloneof" => alcove_proto::Opt::Signaloneof,
            "--verbose" => alcove_proto::Opt::Verbose,
            _ => return Err(format!("unknown argument: {arg}")),
        };
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let value: i64 = value
            .parse()
            .map_err(|_| format!("{arg}: not a number: {value}"))?;
        opts.set(opt, value).map_err(|e| e.to_string())?;
    }
    Ok(opts)
}

/// `PATH` of a port started setuid, setgid or with file capabilities.
pub const SECURE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A port started setuid (or setgid, or with file capabilities) runs with
/// privileges its caller does not have: it keeps nothing of the caller's
/// environment but `TERM`, and sets `PATH` to [`SECURE_PATH`], so that no
/// `LD_*`, `PATH`, `IFS`, locale or `ALCOVE_*` variable of the caller
/// reaches the port or what it execs; it sets the umask to 022.
#[allow(
    unsafe_code,
    reason = "the environment is changed before anything else runs"
)]
fn sanitize_secure_exec() {
    if !alcove_sys::process::is_secure_exec() {
        return;
    }
    let keep: Vec<(std::ffi::OsString, std::ffi::OsString)> =
        std::env::vars_os().filter(|(k, _)| k == "TERM").collect();
    // SAFETY: the port is single-threaded (it has not started anything).
    unsafe {
        let _ = alcove_sys::env::clearenv();
        for (k, v) in keep {
            std::env::set_var(k, v);
        }
        std::env::set_var("PATH", SECURE_PATH);
    }
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
}

#[allow(unsafe_code, reason = "closing what nothing in this process owns yet")]
fn close_inherited() -> Result<(), alcove_sys::Errno> {
    // SAFETY: first thing in main: nothing owns a descriptor above 2 yet.
    unsafe { alcove_sys::fd::close_from(3) }
}

fn main() -> ExitCode {
    sanitize_secure_exec();
    let opts = match parse() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("alcove: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Nothing the client left open (a job server's pipe, a log file, a
    // socket) is held by the tree, let alone passed to exec'd programs.
    if let Err(e) = close_inherited() {
        eprintln!("alcove: close_range: {e}");
        return ExitCode::from(1);
    }
    let nofile = alcove_loop::nofile();
    let config = Config {
        depth: 0,
        childlimit: opts.maxchild.min(route::childlimit_for(nofile)),
        opts,
        ctl: None,
        trapped: [false; alcove_sys::signal::NSIG],
        ignored: [false; alcove_sys::signal::NSIG],
        nofile,
        batch: false,
    };
    match Loop::new(config) {
        Ok(l) => l.run(),
        Err(e) => {
            eprintln!("alcove: starting the loop: {e}");
            ExitCode::from(1)
        }
    }
}
