//! Why a start (or a call) failed: a message naming the cause, one line, and
//! its kind, so callers that are not people (the Rust API, the bindings) can
//! tell a missing privilege from a bad argument without reading text.

use std::fmt;

/// The kind of a failure (`*_GetLastErrorKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum FailureKind {
    /// No failure.
    None = 0,
    /// Missing privilege (capabilities).
    Permission = 1,
    /// A bad setting: an environment variable, an option, a filter spec.
    InvalidArgument = 2,
    /// The kernel lacks what every attach path needs.
    Unsupported = 3,
    /// Anything else (a resource, an internal error).
    Other = 4,
}

impl FailureKind {
    /// From the value `*_GetLastErrorKind` returns.
    pub fn from_code(code: i32) -> Self {
        match code {
            1 => Self::Permission,
            2 => Self::InvalidArgument,
            3 => Self::Unsupported,
            4 => Self::Other,
            _ => Self::None,
        }
    }
}

/// A failure: its kind and its one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What kind of cause.
    pub kind: FailureKind,
    /// The message (what went to stderr).
    pub message: String,
}

impl Failure {
    /// A failure of `kind`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Tags a plain error message with `kind`.
    pub fn tag(kind: FailureKind) -> impl Fn(String) -> Self {
        move |message| Self::new(kind, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}
