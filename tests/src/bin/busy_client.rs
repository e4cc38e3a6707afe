//! A client for the reliability suite: builds 50 children at depths 1 to
//! 3, half of them exec'd, keeps all of them busy, prints their PIDs on one
//! line, then waits to be killed.
//!
//! Per group `i` of ten: loop processes `[a]`, `[a, b]` and `[a, b, e]`;
//! `yes` exec'd at `[a, b, c]` (its output floods the client, which does
//! not read it); `cat` exec'd at `[a, d]`, fed without end by a thread.
//! Four threads call `getpid` round the loop processes without pause. The
//! exec'd programs go into the cgroup directory given as the first
//! argument, if any.
//!
//! Output, once 1000 calls were answered:
//! `port=<pid> loops=<pid>,... execd=<pid>,... calls=<n>`

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use alcove_client::{Drv, Options, Pid};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cgroup = std::env::args().nth(1);
    let drv = Drv::start(Options::default().timeout(alcove_tests::TIMEOUT))?;
    let mut loops: Vec<Vec<Pid>> = Vec::new();
    let mut execd: Vec<Vec<Pid>> = Vec::new();
    for _ in 0..10 {
        let a = drv.fork(&[])?;
        let b = drv.fork(&[a])?;
        let c = drv.fork(&[a, b])?;
        let d = drv.fork(&[a])?;
        let e = drv.fork(&[a, b])?;
        for pid in [c, d] {
            if let Some(dir) = &cgroup {
                std::fs::write(format!("{dir}/cgroup.procs"), pid.to_string())?;
            }
        }
        drv.execvp(&[a, b, c], "yes", &["yes", "busy"])?;
        drv.execvp(&[a, d], "cat", &["cat"])?;
        loops.extend([vec![a], vec![a, b], vec![a, b, e]]);
        execd.extend([vec![a, b, c], vec![a, d]]);
    }
    assert_eq!(loops.len() + execd.len(), 50);

    let calls = Arc::new(AtomicU64::new(0));
    for t in 0..4 {
        let (drv, calls) = (Clone::clone(&drv), Arc::clone(&calls));
        let loops = loops.clone();
        std::thread::spawn(move || {
            for path in loops.iter().cycle().skip(t) {
                if drv.getpid(path).is_ok() {
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    for path in execd.iter().filter(|p| p.len() == 2) {
        let (drv, path) = (Clone::clone(&drv), path.clone());
        std::thread::spawn(move || {
            let chunk = vec![b'x'; 64 << 10];
            while drv.stdin(&path, &chunk).is_ok() {}
        });
    }
    while calls.load(Ordering::Relaxed) < 1000 {
        std::thread::yield_now();
    }
    let list = |v: &[Vec<Pid>]| {
        v.iter()
            .map(|p| p.last().expect("a child").to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "port={} loops={} execd={} calls={}",
        drv.port_pid(),
        list(&loops),
        list(&execd),
        calls.load(Ordering::Relaxed)
    );
    // Wait for the test to kill us (or close our stdin).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(())
}
