//! Finding the `alcove` binary, and building it in a source checkout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const NAME: &str = "alcove";

/// Places an `alcove` binary may be, in order, after `$ALCOVE_BIN` and a
/// source checkout's own build.
fn candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        v.push(dir.join(NAME));
        if let Some(up) = dir.parent() {
            v.push(up.join(NAME));
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        v.extend(std::env::split_paths(&paths).map(|d| d.join(NAME)));
    }
    v
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The workspace this crate was compiled from, if it is an alcove-rs
/// source checkout that can build the binary.
fn workspace() -> Option<PathBuf> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.parent()?.parent()?;
    root.join("crates/alcove-loop/Cargo.toml")
        .is_file()
        .then(|| root.to_path_buf())
}

/// Finds the binary:
///
/// 1. `$ALCOVE_BIN`, if set;
/// 2. in a source checkout of alcove-rs, when the running program lives
///    under `target/<profile>/` (tests, examples), the checkout's own
///    binary, built (or brought up to date) with cargo once per process, so
///    that it always matches this client;
/// 3. an `alcove` next to the running program, or one directory up;
/// 4. `alcove` in `PATH`.
pub(crate) fn find() -> Result<PathBuf, String> {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    if let Some(p) = std::env::var_os("ALCOVE_BIN") {
        let p = PathBuf::from(p);
        return if is_executable(&p) {
            Ok(p)
        } else {
            Err(format!(
                "$ALCOVE_BIN={}: not an executable file",
                p.display()
            ))
        };
    }
    if let Some(root) = workspace()
        && let Some((target_dir, profile_dir)) = target_of_current_exe()
    {
        let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = built.as_ref() {
            return Ok(p.clone());
        }
        let bin = build(&root, &target_dir, &profile_dir)?;
        *built = Some(bin.clone());
        return Ok(bin);
    }
    let tried = candidates();
    tried
        .iter()
        .find(|p| is_executable(p))
        .cloned()
        .ok_or_else(|| not_found(&tried))
}

/// `(target dir, profile dir)` when the running program is under
/// `<target>/debug` or `<target>/release`.
fn target_of_current_exe() -> Option<(PathBuf, PathBuf)> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe
        .ancestors()
        .find(|d| {
            d.file_name()
                .is_some_and(|n| n == "debug" || n == "release")
        })?
        .to_path_buf();
    Some((profile_dir.parent()?.to_path_buf(), profile_dir))
}

fn build(root: &Path, target_dir: &Path, profile_dir: &Path) -> Result<PathBuf, String> {
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let bin = profile_dir.join(NAME);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args(["-p", "alcove-loop", "--bin", NAME])
        .arg("--target-dir")
        .arg(target_dir);
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .status()
        .map_err(|e| format!("building the alcove binary: running {cmd:?}: {e}"))?;
    if !status.success() || !is_executable(&bin) {
        return Err(format!(
            "building the alcove binary: {cmd:?} failed ({status})"
        ));
    }
    Ok(bin)
}

fn not_found(tried: &[PathBuf]) -> String {
    let first: Vec<String> = tried
        .iter()
        .take(2)
        .map(|p| p.display().to_string())
        .collect();
    format!(
        "no alcove binary found (looked at $ALCOVE_BIN, {} and in PATH); \
         install it (`cargo install alcove-loop`) or set Options::progname",
        first.join(", ")
    )
}
