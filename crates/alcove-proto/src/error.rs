use serde::{Deserialize, Serialize};

/// What can go wrong with a frame or a message.
///
/// One flat enum for the whole crate. It is serializable so that a process
/// can tell its client which frame it rejected ([`crate::Notice::BadFrame`]),
/// which makes it part of the wire format: variants are append-only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    /// The length prefix announces more than [`crate::MAX_FRAME`] bytes.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    Oversize {
        /// The announced body length.
        len: u64,
        /// [`crate::MAX_FRAME`].
        max: u64,
    },
    /// The length prefix announces an empty body: a frame needs a header.
    #[error("empty frame: a frame needs at least a header")]
    Empty,
    /// The header does not decode.
    #[error("malformed header: {0}")]
    Header(String),
    /// The header names a kind this side does not know.
    #[error("unknown frame kind {0}")]
    UnknownKind(u32),
    /// The fork path is longer than [`crate::MAX_PATH`].
    #[error("fork path of {len} pids exceeds the maximum of {max}")]
    PathTooLong {
        /// Number of pids.
        len: u64,
        /// [`crate::MAX_PATH`].
        max: u64,
    },
    /// The payload does not decode as the message its kind promises.
    #[error("malformed {what} payload: {reason}")]
    Payload {
        /// The message type expected.
        what: String,
        /// What postcard reported.
        reason: String,
    },
    /// A message does not encode within [`crate::MAX_PAYLOAD`].
    #[error("{what} of {len} bytes exceeds the maximum payload of {max} bytes")]
    TooLarge {
        /// The message type.
        what: String,
        /// Its encoded length, or a lower bound of it.
        len: u64,
        /// [`crate::MAX_PAYLOAD`].
        max: u64,
    },
    /// The stream ended inside a frame: what arrived of it is dropped,
    /// never acted on.
    #[error("the stream ended inside a frame, {have} bytes into it")]
    Truncated {
        /// The bytes of the frame that arrived (prefix included).
        have: u64,
    },
}
