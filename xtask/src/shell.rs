//! Running commands: every shell-out is echoed to stderr, shell-quoted, before
//! it runs, and every failure names the command and how it ended.

use std::borrow::Cow;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use crate::procfs;

/// `s` quoted for a POSIX shell: as is when it holds only characters a shell
/// leaves alone, else in single quotes (a `'` inside becomes `'\''`).
pub fn quote(s: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-+=@%:,./".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
    }
}

/// The shell command line `cmd` stands for: directory, environment changes,
/// program and arguments, each quoted.
pub fn command_line(cmd: &Command) -> String {
    let mut words: Vec<String> = Vec::new();
    if let Some(dir) = cmd.get_current_dir() {
        words.push(format!("cd {} &&", quote(&dir.to_string_lossy())));
    }
    let mut set = Vec::new();
    let mut unset = Vec::new();
    for (key, value) in cmd.get_envs() {
        let key = key.to_string_lossy();
        match value {
            Some(value) => set.push(format!("{key}={}", quote(&value.to_string_lossy()))),
            None => unset.push(format!("-u {}", quote(&key))),
        }
    }
    if !unset.is_empty() {
        words.push("env".to_owned());
        words.extend(unset);
    }
    words.extend(set);
    words.push(quote(&cmd.get_program().to_string_lossy()).into_owned());
    words.extend(
        cmd.get_args()
            .map(|a| quote(&a.to_string_lossy()).into_owned()),
    );
    words.join(" ")
}

/// Runs `cmd` with inherited stdio after echoing it as `$ <command line>` to
/// stderr; an error unless it exits with status 0.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let line = command_line(cmd);
    eprintln!("$ {line}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not run `{line}`: {e}"))?;
    check(&line, status)
}

/// Like [`run`], but after `timeout` kills the command and every process
/// below it (found through `/proc`) and fails.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<(), String> {
    let line = command_line(cmd);
    eprintln!("$ {line}");
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not run `{line}`: {e}"))?;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| format!("waiting for `{line}`: {e}"))?
        {
            return check(&line, status);
        }
        if start.elapsed() >= timeout {
            break;
        }
        thread::sleep(Duration::from_millis(200));
    }
    let procs = procfs::processes(Path::new("/proc"));
    let mut pids = procfs::descendants(&procs, child.id());
    pids.push(child.id());
    eprintln!(
        "`{line}` still runs after {} s: killing it and the processes below it ({})",
        timeout.as_secs_f64(),
        pids.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    // The shell's builtin `kill`: Debian's minimal images lack /bin/kill.
    let killed = run(Command::new("sh")
        .arg("-c")
        .arg(r#"kill -9 "$@" 2>/dev/null; exit 0"#)
        .arg("sh")
        .args(pids.iter().map(u32::to_string)));
    let _ = child.kill();
    let status = child.wait();
    killed?;
    Err(format!(
        "`{line}` timed out after {} s and was killed ({})",
        timeout.as_secs_f64(),
        match status {
            Ok(status) => status.to_string(),
            Err(e) => format!("wait failed: {e}"),
        }
    ))
}

fn check(line: &str, status: ExitStatus) -> Result<(), String> {
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed: {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_bare() {
        for word in ["cargo", "--workspace", "-D", "a/b.rs", "K=v", "x:y,z@1%"] {
            assert_eq!(quote(word), word);
        }
    }

    #[test]
    fn other_words_are_single_quoted() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("-D warnings"), "'-D warnings'");
        assert_eq!(quote("${Status}"), "'${Status}'");
        assert_eq!(quote("a*"), "'a*'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("é"), "'é'");
    }

    #[test]
    fn command_line_shows_env_program_and_args() {
        let mut cmd = Command::new("cargo");
        cmd.args(["doc", "--workspace"])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(
            command_line(&cmd),
            "RUSTDOCFLAGS='-D warnings' cargo doc --workspace"
        );
    }

    #[test]
    fn command_line_shows_dir_and_removed_vars() {
        let mut cmd = Command::new("ls");
        cmd.current_dir("/a b").env_remove("X").arg("-l");
        assert_eq!(command_line(&cmd), "cd '/a b' && env -u X ls -l");
    }

    #[test]
    fn run_reports_the_command_and_its_status() {
        assert_eq!(run(&mut Command::new("true")), Ok(()));
        let err = run(Command::new("sh").args(["-c", "exit 3"])).unwrap_err();
        assert_eq!(err, "`sh -c 'exit 3'` failed: exit status: 3");
        let err = run(&mut Command::new("/nonexistent/xtask-no-such-program")).unwrap_err();
        assert!(
            err.starts_with("could not run `/nonexistent/xtask-no-such-program`: "),
            "{err}"
        );
    }

    #[test]
    fn a_command_past_its_timeout_is_killed_with_its_children() {
        let tmp = crate::procfs::fake::TempDir::new();
        let pid_file = tmp.path().join("pid");
        let start = Instant::now();
        let err = run_with_timeout(
            Command::new("sh")
                .args(["-c", r#"sleep 30 & echo $! > "$1"; wait"#, "sh"])
                .arg(&pid_file),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(err.contains("timed out after 0.3 s"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
        // The grandchild is gone too, or a zombie waiting for its reaper.
        let sleep_pid = std::fs::read_to_string(&pid_file).unwrap();
        let stat = format!("/proc/{}/stat", sleep_pid.trim());
        let gone = || match std::fs::read_to_string(&stat) {
            Err(_) => true,
            Ok(s) => s[s.rfind(')').unwrap() + 2..].starts_with('Z'),
        };
        while !gone() {
            assert!(start.elapsed() < Duration::from_secs(10), "sleep survived");
            thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            run_with_timeout(&mut Command::new("true"), Duration::from_secs(10)),
            Ok(())
        );
    }
}
