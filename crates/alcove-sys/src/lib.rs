//! Thin safe wrappers over the Linux calls alcove-rs serves, and the
//! tables that map the names of their constants to this platform's numbers.
//!
//! Each module covers one family of calls; each function is a few lines
//! over [rustix], or over `libc` where rustix has no wrapper (`fork`,
//! `clone`, `execve`, `sigaction`, ...), and returns `Result<T, Errno>`.
//! Calls that are unsound for some arguments (`fork` in a multi-threaded
//! process) are `unsafe fn` with a `# Safety` section.
#![deny(unsafe_code)]

#[allow(unsafe_code, reason = "setuid and setgid through the C library")]
pub mod cred;
#[allow(
    unsafe_code,
    reason = "the environment is process-global: setenv and friends"
)]
pub mod env;
mod errno;
#[allow(unsafe_code, reason = "descriptor flags through fcntl on raw stdio")]
pub mod fd;
#[allow(unsafe_code, reason = "close and borrowed descriptors by number")]
pub mod fs;
#[allow(unsafe_code, reason = "mount through libc, for NULL arguments")]
pub mod mount;
#[allow(unsafe_code, reason = "unshare of a single-threaded process")]
pub mod ns;
#[allow(unsafe_code, reason = "prctl with pointer arguments")]
pub mod prctl;
#[allow(unsafe_code, reason = "fork, clone and exec through libc")]
pub mod process;
#[allow(unsafe_code, reason = "libc calls rustix does not wrap")]
mod raw;
#[allow(unsafe_code, reason = "getrlimit and setrlimit by raw resource number")]
pub mod rlimit;
#[allow(unsafe_code, reason = "sigaction and an async-signal-safe handler")]
pub mod signal;
pub mod table;
pub mod tables;

pub use errno::Errno;
pub use raw::exit_now;
