//! The seed's Overview: fork a child of the port, fork below it, ask the
//! grandchild its PID, exec `/bin/cat` there and talk to it.
//!
//! `cargo run -p alcove-client --example quickstart`

use std::time::Duration;

use alcove_client::{Drv, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let drv = Drv::start(Options::default())?;

    let child1 = drv.fork(&[])?;
    let child2 = drv.fork(&[child1])?;
    let pid = drv.getpid(&[child1, child2])?;
    println!("fork path [{child1}, {child2}]: getpid answers {pid}");

    drv.execvp(&[child1, child2], "/bin/cat", &["/bin/cat"])?;
    drv.stdin(&[child1, child2], b"hello process\n")?;
    let out = drv
        .stdout(&[child1, child2], Duration::from_secs(5))?
        .ok_or("no answer from cat within 5 s")?;
    print!("{}", String::from_utf8_lossy(&out));
    Ok(())
}
