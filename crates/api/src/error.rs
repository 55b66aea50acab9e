//! Errors of the API: the library's own one-line message, and its kind.

use std::fmt;

use interceptor_core::failure::{Failure, FailureKind};

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Missing privilege: root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN.
    PermissionDenied,
    /// A bad option or filter spec.
    InvalidArgument,
    /// The running kernel lacks what every attach path needs.
    Unsupported,
    /// A tracer of this protocol is already running in this process (the
    /// library keeps one session per protocol per process).
    Busy,
    /// Anything else.
    Other,
}

/// An error, with the library's message naming the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message (what the C libraries print on stderr).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        let kind = match failure.kind {
            FailureKind::Permission => ErrorKind::PermissionDenied,
            FailureKind::InvalidArgument => ErrorKind::InvalidArgument,
            FailureKind::Unsupported => ErrorKind::Unsupported,
            FailureKind::None | FailureKind::Other => ErrorKind::Other,
        };
        Self::new(kind, failure.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
