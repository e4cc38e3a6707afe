//! `cargo xtask deps`: installs what the tests need and the repository does
//! not build: a static busybox (the end-to-end tests exec it in fresh
//! namespaces, where a dynamic one finds no loader), `ip`, `sudo` and
//! `setcap`. Installs with apt-get, and only as root; otherwise says what it
//! skips.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::procfs;
use crate::shell::run;

const BUSYBOX: &str = "/bin/busybox";

/// A command the tests run and the Debian package that provides it.
const COMMANDS: [(&str, &str); 3] = [
    ("ip", "iproute2"),
    ("sudo", "sudo"),
    ("setcap", "libcap2-bin"),
];

pub fn main(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!(
            "`cargo xtask deps` takes no arguments, got `{arg}`"
        ));
    }
    ensure()
}

/// Installs whatever is missing; an error when an install fails or leaves
/// something missing.
pub fn ensure() -> Result<(), String> {
    let missing = find_missing();
    if missing.is_empty() {
        eprintln!("all present: static {BUSYBOX}, ip, sudo, setcap");
        return Ok(());
    }
    for (pkg, why) in &missing {
        eprintln!("missing {pkg}: {why}");
    }
    let why_not = if !procfs::is_root() {
        Some("not root")
    } else if which("apt-get").is_none() {
        Some("no apt-get")
    } else {
        None
    };
    if let Some(why_not) = why_not {
        for (pkg, _) in &missing {
            eprintln!("SKIP deps: {why_not}, not installing {pkg}");
        }
        return Ok(());
    }
    let pkgs: Vec<&str> = missing.iter().map(|(pkg, _)| *pkg).collect();
    if let Err(e) = apt_install(&pkgs) {
        eprintln!("{e}; updating the package lists and trying again");
        run(Command::new("apt-get").arg("update"))?;
        apt_install(&pkgs)?;
    }
    let still: Vec<String> = find_missing()
        .into_iter()
        .map(|(pkg, why)| format!("{pkg} ({why})"))
        .collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "still missing after apt-get install: {}",
            still.join(", ")
        ))
    }
}

fn apt_install(pkgs: &[&str]) -> Result<(), String> {
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "--no-install-recommends"])
        .args(pkgs))
}

/// The packages to install, each with why.
fn find_missing() -> Vec<(&'static str, String)> {
    let mut missing = Vec::new();
    if let Err(why) = static_busybox(Path::new(BUSYBOX)) {
        missing.push(("busybox-static", why));
    }
    for (command, pkg) in COMMANDS {
        if which(command).is_none() {
            missing.push((
                pkg,
                format!("no `{command}` in PATH or the sbin directories"),
            ));
        }
    }
    missing
}

/// `Ok` when `path` is a statically linked ELF executable.
fn static_busybox(path: &Path) -> Result<(), String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match elf_interpreter(&bytes) {
        Ok(None) => Ok(()),
        Ok(Some(interp)) => Err(format!(
            "{} is dynamically linked (interpreter {interp})",
            path.display()
        )),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The program interpreter (`PT_INTERP`) an ELF file asks for, `None` for a
/// static executable.
pub fn elf_interpreter(elf: &[u8]) -> Result<Option<String>, String> {
    const PT_INTERP: u32 = 3;
    if elf.get(..4) != Some(b"\x7fELF") {
        return Err("not an ELF file".into());
    }
    let wide = match elf.get(4) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err("unknown ELF class".into()),
    };
    let big = match elf.get(5) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err("unknown ELF byte order".into()),
    };
    let truncated = || "truncated ELF file".to_string();
    // Offsets come from the file: add with a check, read with `get`.
    let add = |a: u64, b: u64| a.checked_add(b).ok_or_else(truncated);
    let uint = |at: u64, len: u64| -> Result<u64, String> {
        let start = usize::try_from(at).map_err(|_| truncated())?;
        let end = usize::try_from(add(at, len)?).map_err(|_| truncated())?;
        let field = elf.get(start..end).ok_or_else(truncated)?;
        let fold = |v: u64, b: &u8| v << 8 | u64::from(*b);
        Ok(if big {
            field.iter().fold(0, fold)
        } else {
            field.iter().rev().fold(0, fold)
        })
    };
    // ELF64 and ELF32 differ in where the fields are and how wide.
    let (phoff, phentsize, phnum) = if wide {
        (uint(0x20, 8)?, uint(0x36, 2)?, uint(0x38, 2)?)
    } else {
        (uint(0x1c, 4)?, uint(0x2a, 2)?, uint(0x2c, 2)?)
    };
    for i in 0..phnum {
        let ph = add(phoff, i * phentsize)?;
        if uint(ph, 4)? != u64::from(PT_INTERP) {
            continue;
        }
        let (offset, filesz) = if wide {
            (uint(add(ph, 0x08)?, 8)?, uint(add(ph, 0x20)?, 8)?)
        } else {
            (uint(add(ph, 0x04)?, 4)?, uint(add(ph, 0x10)?, 4)?)
        };
        let start = usize::try_from(offset).map_err(|_| truncated())?;
        let end = usize::try_from(add(offset, filesz)?).map_err(|_| truncated())?;
        let path = elf.get(start..end).ok_or_else(truncated)?;
        let path = path.split(|&b| b == 0).next().unwrap_or_default();
        return Ok(Some(String::from_utf8_lossy(path).into_owned()));
    }
    Ok(None)
}

/// Where `command` is: in `PATH`, or in the sbin directories a non-login
/// root shell may lack.
fn which(command: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(command))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF file: header, one program header per type in `types`,
    /// and the interpreter path `/lib/ld.so` that a `PT_INTERP` points at.
    fn elf(wide: bool, big: bool, types: &[u32]) -> Vec<u8> {
        let put = |out: &mut Vec<u8>, at: usize, len: usize, v: u64| {
            if out.len() < at + len {
                out.resize(at + len, 0);
            }
            for i in 0..len {
                let shift = 8 * if big { len - 1 - i } else { i };
                out[at + i] = (v >> shift) as u8;
            }
        };
        let (ehsize, phentsize) = if wide { (64, 56) } else { (52, 32) };
        let interp_at = ehsize + types.len() * phentsize;
        let mut out = b"\x7fELF".to_vec();
        out.extend([if wide { 2 } else { 1 }, if big { 2 } else { 1 }, 1]);
        let n = types.len() as u64;
        if wide {
            put(&mut out, 0x20, 8, ehsize as u64);
            put(&mut out, 0x36, 2, phentsize as u64);
            put(&mut out, 0x38, 2, n);
        } else {
            put(&mut out, 0x1c, 4, ehsize as u64);
            put(&mut out, 0x2a, 2, phentsize as u64);
            put(&mut out, 0x2c, 2, n);
        }
        for (i, &ty) in types.iter().enumerate() {
            let ph = ehsize + i * phentsize;
            put(&mut out, ph, 4, u64::from(ty));
            if wide {
                put(&mut out, ph + 0x08, 8, interp_at as u64);
                put(&mut out, ph + 0x20, 8, 11);
            } else {
                put(&mut out, ph + 0x04, 4, interp_at as u64);
                put(&mut out, ph + 0x10, 4, 11);
            }
        }
        out.resize(interp_at, 0);
        out.extend(b"/lib/ld.so\0");
        out
    }

    #[test]
    fn finds_the_interpreter_of_a_dynamic_elf() {
        for wide in [true, false] {
            for big in [false, true] {
                let dynamic = elf(wide, big, &[6, 3, 1]);
                assert_eq!(
                    elf_interpreter(&dynamic),
                    Ok(Some("/lib/ld.so".into())),
                    "wide {wide} big {big}"
                );
                let fixed = elf(wide, big, &[1, 1, 2]);
                assert_eq!(elf_interpreter(&fixed), Ok(None), "wide {wide} big {big}");
            }
        }
    }

    #[test]
    fn rejects_what_is_not_elf() {
        assert_eq!(
            elf_interpreter(b"#!/bin/sh\n"),
            Err("not an ELF file".into())
        );
        assert_eq!(
            elf_interpreter(b"\x7fELF\x03\x01"),
            Err("unknown ELF class".into())
        );
        let mut short = elf(true, false, &[3]);
        short.truncate(80);
        assert_eq!(elf_interpreter(&short), Err("truncated ELF file".into()));
        // A program header table offset near the end of the address space.
        let mut wild = elf(true, false, &[3]);
        wild[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(elf_interpreter(&wild), Err("truncated ELF file".into()));
        wild[0x20..0x28].copy_from_slice(&(u64::MAX - 4).to_le_bytes());
        assert_eq!(elf_interpreter(&wild), Err("truncated ELF file".into()));
    }

    #[test]
    fn reads_a_real_executable() {
        // The test binary itself: static or not, it is a well-formed ELF.
        let me = env::current_exe().unwrap();
        let bytes = fs::read(&me).unwrap();
        assert!(elf_interpreter(&bytes).is_ok());
        assert!(static_busybox(Path::new("/nonexistent/busybox")).is_err());
    }

    #[test]
    fn which_finds_sh() {
        assert!(which("sh").is_some());
        assert!(which("xtask-no-such-command").is_none());
    }
}
