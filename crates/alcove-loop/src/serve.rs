//! Calls that need nothing of the loop's state: each is a syscall (or a
//! few) in this process.

use alcove_proto::{ByteBuf, Call, CallError, Pid, Reply};
use alcove_sys::Errno;

fn errno(e: Errno) -> CallError {
    CallError::Errno(e.raw())
}

/// Performs `call` in this process.
pub fn serve(call: Call) -> Result<Reply, CallError> {
    match call {
        Call::Getpid => Ok(Reply::Pid(Pid::from_raw(alcove_sys::process::getpid()))),
        Call::Kill { pid, signal } => alcove_sys::process::kill(pid, signal)
            .map(|()| Reply::Ok)
            .map_err(errno),
        Call::Version => Ok(Reply::Bytes(ByteBuf::from(crate::VERSION))),
        other => Err(CallError::BadArg(format!(
            "{} is not served here: it needs the loop's state",
            other.name()
        ))),
    }
}
