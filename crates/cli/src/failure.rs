//! Why the command ends badly, and its exit status (README "Exit status").

use ebpf_interceptor::{Error, ErrorKind};

/// Bad usage: an unknown option, a bad value, a bad filter.
pub const USAGE: u8 = 1;
/// Tracing is not permitted: no root, or missing CAP_BPF, CAP_PERFMON or
/// CAP_NET_ADMIN.
pub const NOT_PERMITTED: u8 = 2;
/// Tracing could not start or failed otherwise.
pub const FAILED: u8 = 3;

/// A message for stderr and the exit status that goes with it.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: USAGE,
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            code: FAILED,
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let code = match error.kind() {
            ErrorKind::PermissionDenied => NOT_PERMITTED,
            ErrorKind::InvalidArgument => USAGE,
            ErrorKind::Unsupported | ErrorKind::Busy | ErrorKind::Other => FAILED,
        };
        Self {
            code,
            message: error.message().to_owned(),
        }
    }
}
