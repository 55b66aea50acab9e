//! The environment, read once per session at `AddProbe`: the transport, a
//! forced attach path and the library's own variables. A value that is not
//! valid UTF-8 is an error like any other bad value, and values are shown in
//! messages quoted, escaped and cut, so a message stays one readable line
//! whatever the value holds.

use std::fmt::Write as _;

use crate::attach_path::{self, AttachPath};
use crate::diag::DEBUG_ENV;
use crate::filter::FilterSpec;
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

/// What a start asks for. Each option left `None` comes from the
/// environment when `environment` is set (the C ABI: variables read at
/// AddProbe), else from the default.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Read the environment for what is not set here.
    pub environment: bool,
    /// Force an attach path (`None`: the best one that works).
    pub attach_path: Option<String>,
    /// The transport.
    pub transport: Option<TransportKind>,
    /// The filter; it wins over one set by a call for this session.
    pub filter: Option<FilterSpec>,
    /// Capacity of the per-socket maps.
    pub max_sockets: Option<u32>,
    /// The library's periodic pass (TCP snapshots, UDP coalescing);
    /// `Some(None)` turns it off.
    pub periodic: Option<Option<std::time::Duration>>,
}

impl StartOptions {
    /// Everything from the environment, as AddProbe does.
    pub fn from_environment() -> Self {
        Self {
            environment: true,
            ..Self::default()
        }
    }

    /// A variable's value, if the environment is to be read.
    pub fn env(&self, name: &str) -> Result<Option<String>, String> {
        if self.environment { env_text(name) } else { Ok(None) }
    }

    /// The per-socket map capacity: the option, or `variable`.
    pub fn capacity(&self, variable: &str) -> Result<Option<u32>, String> {
        match self.max_sockets {
            Some(n) if (1..=MAX_SOCKETS_LIMIT).contains(&n) => Ok(Some(n)),
            Some(n) => Err(format!("{n} is not a socket count; use 1 to {MAX_SOCKETS_LIMIT}")),
            None if self.environment => capacity_from_env(variable),
            None => Ok(None),
        }
    }
}

/// Settings of one session, from its start options and the environment;
/// `S` is the library's own `.rodata` settings.
#[derive(Debug, Clone)]
pub struct Settings<S> {
    /// The attach path the override variable forces, if any.
    pub forced_path: Option<&'static AttachPath>,
    /// What the core writes into every object.
    pub object: ObjectConfig,
    /// The library's own settings.
    pub tracer: TracerConfig<S>,
    /// The filter the environment sets (it wins over one set by a call).
    pub filter: Option<FilterSpec>,
}

impl<S> Settings<S> {
    /// The settings of library `T` for `options`.
    pub fn resolve<T: Tracer<Settings = S>>(options: &StartOptions) -> Result<Self, String> {
        // Read by diag at every start; an unreadable value is said here.
        options.env(DEBUG_ENV)?;
        let transport_text = match options.transport {
            Some(kind) => Some(kind.name().to_owned()),
            None => options.env(TRANSPORT_ENV)?,
        };
        let transport = match transport_text.as_deref() {
            None | Some("") | Some("ringbuf") => TransportKind::RingBuffer,
            Some("perf") => TransportKind::PerfBuffer,
            Some(other) => {
                return Err(format!(
                    "{TRANSPORT_ENV}={} is not a transport; use ringbuf or perf",
                    shown(other)
                ));
            }
        };
        let tracer = T::configure(options)?;
        let path = match &options.attach_path {
            Some(name) => Some(name.clone()),
            None => options.env(T::ATTACH_ENV)?,
        };
        let forced_path = match path.filter(|v| !v.is_empty() && v != "auto") {
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
        let filter = match (&options.filter, options.env(T::FILTER_ENV)?) {
            (Some(spec), _) => Some(spec.clone()),
            (None, None) => None,
            (None, Some(text)) => Some(FilterSpec::parse(&text).map_err(|e| format!("{}: {e}", T::FILTER_ENV))?),
        };
        Ok(Self {
            filter,
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
