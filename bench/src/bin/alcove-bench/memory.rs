//! Memory: resident memory of the port and of an idle forked loop process,
//! against what alcove 1.0.1's C port uses, and the size of the stripped
//! port binary.

use std::process::Command;

use alcove_bench::record::Goal;
use alcove_bench::sys;
use alcove_client::Options;

use crate::{Cpu, Ctx, Res, Samples, ctx};

/// alcove 1.0.1's C port, as the issue measured it, in KiB: a forked child
/// (about 1.1 MiB `VmRSS`, 450 KiB `RssAnon`) and the port (about 1.7 MiB
/// `VmRSS`, 330 KiB `RssAnon`).
const ALCOVE_C: [(&str, &str, f64); 4] = [
    ("child", "VmRSS", 1.1 * 1024.0),
    ("child", "RssAnon", 450.0),
    ("port", "VmRSS", 1.7 * 1024.0),
    ("port", "RssAnon", 330.0),
];

pub(crate) fn run(c: &mut Ctx) -> Res<()> {
    if c.wants("memory") {
        resident(c)?;
    }
    if c.wants("binary") {
        binary(c)?;
    }
    Ok(())
}

/// `VmRSS` and `RssAnon` of a fresh port with one idle child, and of that
/// child, once per sample (a new port each time).
fn resident(c: &mut Ctx) -> Res<()> {
    c.pin(Cpu::Unpinned)?;
    let mut samples: Vec<Samples> = ALCOVE_C.iter().map(|_| Samples::default()).collect();
    for _ in 0..c.plan.samples {
        let drv = c.start(Options::default())?;
        let child = drv.fork(&[]).map_err(ctx("fork"))?;
        // The child answers: its loop is up and idle.
        drv.getpid(&[child]).map_err(ctx("getpid"))?;
        for ((who, field, reference), s) in ALCOVE_C.iter().zip(&mut samples) {
            let pid = match *who {
                "child" => child.as_raw() as u32,
                _ => drv.port_pid(),
            };
            let kib = sys::status_kib(pid, field).map_err(ctx(format!("{who} {field}")))?;
            s.alcove.push(kib as f64);
            s.floor.push(*reference);
            s.count += 1;
        }
        c.done(drv)?;
    }
    for ((who, field, _), s) in ALCOVE_C.iter().zip(&samples) {
        c.emit(
            &format!("mem_{who}_{}", field.to_lowercase()),
            &[],
            s,
            "KiB",
            &format!("alcove 1.0.1 C {who}"),
            Goal::Below(1.0),
        )?;
    }
    Ok(())
}

/// The size of the port binary, stripped: a stripped copy of it (by
/// `strip` or `objcopy`), or the binary itself when neither tool is there
/// (`cargo xtask dist` strips it already).
fn binary(c: &mut Ctx) -> Res<()> {
    std::fs::create_dir_all(&c.out_dir).map_err(ctx(c.out_dir.display()))?;
    let out = c.out_dir.join("alcove.stripped");
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(&c.alcove)
        .status()
        .is_ok_and(|s| s.success())
        || Command::new("objcopy")
            .arg("--strip-all")
            .arg(&c.alcove)
            .arg(&out)
            .status()
            .is_ok_and(|s| s.success());
    let measured = if stripped { out } else { c.alcove.clone() };
    let size = std::fs::metadata(&measured)
        .map_err(ctx(measured.display()))?
        .len();
    let s = Samples {
        alcove: vec![size as f64 / 1024.0],
        floor: Vec::new(),
        count: 1,
    };
    c.emit(
        "binary_size",
        &[("stripped", "yes".into())],
        &s,
        "KiB",
        "none measured (alcove 1.0.1's binary is not at hand)",
        Goal::None,
    )
}
