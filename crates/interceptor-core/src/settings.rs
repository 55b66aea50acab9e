//! The environment, read once per session at `AddProbe`: the transport, a
//! forced attach path and the library's own variables. A value that is not
//! valid UTF-8 is an error like any other bad value, and values are shown in
//! messages quoted, escaped and cut, so a message stays one readable line
//! whatever the value holds.

use std::fmt::Write as _;

use crate::attach_path::{self, AttachPath};
use crate::diag::DEBUG_ENV;
use crate::loader::ObjectConfig;
use crate::poller::TransportKind;
use crate::tracer::{Tracer, TracerConfig};

/// Overrides the transport (`ringbuf` or `perf`) for both libraries.
pub const TRANSPORT_ENV: &str = "EBPF_INTERCEPTOR_TRANSPORT";

/// Characters of a value shown in a message; the rest is cut.
const SHOWN_CHARS: usize = 64;

/// A variable's value; `None` when unset. A value that is not valid UTF-8
/// names the variable in the error.
pub fn env_text(name: &str) -> Result<Option<String>, String> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => value
            .into_string()
            .map(Some)
            .map_err(|raw| format!("{name}={} is not valid UTF-8 text", shown_bytes(raw.as_encoded_bytes()))),
    }
}

/// A value as messages show it: in double quotes, with control characters,
/// quotes and backslashes escaped, and cut after 64 characters (saying how
/// long it was).
pub fn shown(value: &str) -> String {
    shown_bytes(value.as_bytes())
}

fn shown_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    let mut count = 0;
    'chunks: for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if count == SHOWN_CHARS {
                break 'chunks;
            }
            out.extend(c.escape_debug());
            count += 1;
        }
        for byte in chunk.invalid() {
            if count == SHOWN_CHARS {
                break 'chunks;
            }
            let _ = write!(out, "\\x{byte:02x}");
            count += 1;
        }
    }
    out.push('"');
    if count == SHOWN_CHARS && out.len() < bytes.len() + 2 {
        let _ = write!(out, "... ({} bytes)", bytes.len());
    }
    out
}

/// Largest per-socket map capacity (`EBPF_INTERCEPTOR_*_MAX_SOCKETS`).
/// Maps are preallocated: see README "Environment variables" for what a
/// size costs in start-up time and kernel memory.
pub const MAX_SOCKETS_LIMIT: u32 = 1 << 20;

/// Reads a per-socket map capacity (`EBPF_INTERCEPTOR_*_MAX_SOCKETS`):
/// `None` keeps the object's 65,536.
pub fn capacity_from_env(variable: &str) -> Result<Option<u32>, String> {
    let value = env_text(variable)?;
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_SOCKETS_LIMIT).contains(&n) => Ok(Some(n)),
            _ => Err(format!(
                "{variable}={} is not a socket count; use 1 to {MAX_SOCKETS_LIMIT}",
                shown(text)
            )),
        },
    }
}

/// Settings read from the environment when a session starts; `S` is the
/// library's own `.rodata` settings.
#[derive(Debug, Clone)]
pub struct Settings<S> {
    /// The attach path the override variable forces, if any.
    pub forced_path: Option<&'static AttachPath>,
    /// What the core writes into every object.
    pub object: ObjectConfig,
    /// The library's own settings.
    pub tracer: TracerConfig<S>,
}

impl<S> Settings<S> {
    /// Reads the variables of library `T`.
    pub fn from_env<T: Tracer<Settings = S>>() -> Result<Self, String> {
        // Read by diag at every start; an unreadable value is said here.
        env_text(DEBUG_ENV)?;
        let transport = match env_text(TRANSPORT_ENV)?.as_deref() {
            None | Some("") | Some("ringbuf") => TransportKind::RingBuffer,
            Some("perf") => TransportKind::PerfBuffer,
            Some(other) => {
                return Err(format!(
                    "{TRANSPORT_ENV}={} is not a transport; use ringbuf or perf",
                    shown(other)
                ));
            }
        };
        let tracer = T::configure()?;
        let forced_path = match env_text(T::ATTACH_ENV)?.filter(|v| !v.is_empty() && v != "auto") {
            None => None,
            Some(name) => Some(attach_path::find(T::ATTACH_PATHS, &name).ok_or_else(|| {
                format!(
                    "{}={} is not an attach path; use auto or one of: {}",
                    T::ATTACH_ENV,
                    shown(&name),
                    attach_path::names(T::ATTACH_PATHS).join(", ")
                )
            })?),
        };
        Ok(Self {
            forced_path,
            object: ObjectConfig {
                transport,
                ring_bytes: T::RING_BYTES,
                // Wake the poller early only when an eighth of the ring is
                // pending; otherwise the drain timer collects records.
                wakeup_batch_bytes: T::RING_BYTES / 8,
            },
            tracer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_on_one_line_quoted_escaped_and_cut() {
        assert_eq!(shown("perf"), r#""perf""#);
        assert_eq!(shown("a\nb\"c\\"), r#""a\nb\"c\\""#);
        assert_eq!(shown("\u{1b}[31mred"), r#""\u{1b}[31mred""#);
        assert_eq!(shown_bytes(b"perf\xff"), r#""perf\xff""#);
        let long = "x".repeat(10_000);
        let text = shown(&long);
        assert_eq!(text, format!("\"{}\"... (10000 bytes)", "x".repeat(64)));
        assert!(!text.contains('\n'));
        assert_eq!(shown(&"y".repeat(64)), format!("\"{}\"", "y".repeat(64)));
    }
}
