//! A client for the lifecycle tests: builds a tree with exec'd programs at
//! depth 1, 2 and 3, prints its PIDs on one line, then waits to be killed.
//!
//! Output: `port=<pid> loops=<pid>,<pid> execd=<pid>,<pid>,<pid>`

use std::io::Read;

use alcove_client::{Drv, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let drv = Drv::start(Options::default())?;
    let (loops, execd) = alcove_tests::build_tree(&drv)?;
    let list = |v: &[i32]| v.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    println!(
        "port={} loops={} execd={}",
        drv.port_pid(),
        list(&loops),
        list(&execd)
    );
    // Wait for the test to kill us (or close our stdin).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(())
}
