//! `cargo xtask`: the repository's tasks, in Rust instead of a Makefile.
//! Each subcommand is a module with `main(args) -> Result<(), String>`;
//! adding one is a module and a match arm in [`dispatch`].
#![forbid(unsafe_code)]

mod bench;
mod deps;
mod dist;
mod fuzz;
mod leaks;
mod procfs;
mod shell;
mod test;

use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
    test     the gate of the README and CI (see `cargo xtask test --help`)
    ci       the same as test
    deps     install busybox-static, iproute2, sudo, libcap2-bin if missing
    leaks    check that no test left an alcove process, mount, cgroup or
             temporary file behind
    bench    measure alcove beside its floors (see `cargo xtask bench --help`)
    fuzz     the frame decoder's and reassembler's fuzz properties: a
             million property-test cases, then cargo fuzz if installed
             (see `cargo xtask fuzz --help`)
    dist     build the port as a static binary: target/dist/alcove";

fn main() -> ExitCode {
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let result = match args {
        Ok(args) => dispatch(&args),
        Err(arg) => Err(format!("argument {arg:?} is not UTF-8")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> Result<(), String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(format!("no command given\n\n{USAGE}"));
    };
    // Every task runs from the workspace root, wherever cargo was called.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask is not inside a workspace")?;
    std::env::set_current_dir(root).map_err(|e| format!("cd {}: {e}", root.display()))?;
    match command.as_str() {
        "test" | "ci" => test::main(rest),
        "deps" => deps::main(rest),
        "leaks" => leaks::main(rest),
        "bench" => bench::main(rest),
        "dist" => dist::main(rest),
        "fuzz" => fuzz::main(rest),
        "help" | "-h" | "--help" => {
            println!("{USAGE}\n\n{}", test::USAGE);
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
}
