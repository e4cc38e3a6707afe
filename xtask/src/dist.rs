//! `cargo xtask dist`: the port as users should install it, a static
//! binary: no shared library to load, so it starts and forks faster and
//! stays smaller in memory (see BENCHMARKS.md), and a setuid copy does not
//! depend on the loader's secure mode.

use std::path::PathBuf;
use std::process::Command;

use crate::shell::run;

pub const USAGE: &str = "\
cargo xtask dist
    build the alcove port in release mode as a static, stripped binary
    (glibc's static-pie: `-C target-feature=+crt-static -C strip=symbols`)
    and copy it to target/dist/alcove";

/// The target triple this xtask was built for: the host's.
fn host() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".into())
}

/// Builds the static port; returns its path.
pub fn build() -> Result<PathBuf, String> {
    let host = host()?;
    // With an explicit --target, RUSTFLAGS reach only the target's crates,
    // not the build scripts and proc macros, which stay dynamic.
    run(Command::new("cargo")
        .env(
            "RUSTFLAGS",
            "-C target-feature=+crt-static -C strip=symbols",
        )
        .args(["build", "--release", "-p", "alcove-loop", "--bin", "alcove"])
        .args(["--target", &host]))?;
    let built = crate::bench::target_dir()
        .join(&host)
        .join("release/alcove");
    let dist = crate::bench::target_dir().join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    let out = dist.join("alcove");
    // Stripped by rustc itself (`-C strip=symbols`): no binutils needed.
    std::fs::copy(&built, &out)
        .map_err(|e| format!("copying {} to {}: {e}", built.display(), out.display()))?;
    Ok(out)
}

pub fn main(args: &[String]) -> Result<(), String> {
    if let Some(a) = args.first() {
        return Err(format!("unknown argument `{a}`\n\n{USAGE}"));
    }
    let out = build()?;
    println!("{}", out.display());
    Ok(())
}
