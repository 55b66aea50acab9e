//! The environment, read once per session at `AddProbe`: the transport, a
//! forced attach path and the library's own variables.

use crate::attach_path::{self, AttachPath};
use crate::loader::ObjectConfig;
use crate::poller::TransportKind;
use crate::tracer::{Tracer, TracerConfig};

/// Overrides the transport (`ringbuf` or `perf`) for both libraries.
pub const TRANSPORT_ENV: &str = "EBPF_INTERCEPTOR_TRANSPORT";

/// Reads a per-socket map capacity (`EBPF_INTERCEPTOR_*_MAX_SOCKETS`):
/// `None` keeps the object's 65,536.
pub fn capacity_from_env(variable: &str) -> Result<Option<u32>, String> {
    match std::env::var(variable).ok().as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=16_777_216).contains(&n) => Ok(Some(n)),
            _ => Err(format!("{variable}={text} is not a socket count; use 1 to 16777216")),
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
        let transport = match std::env::var(TRANSPORT_ENV).ok().as_deref() {
            None | Some("") | Some("ringbuf") => TransportKind::RingBuffer,
            Some("perf") => TransportKind::PerfBuffer,
            Some(other) => {
                return Err(format!(
                    "{TRANSPORT_ENV}={other} is not a transport; use ringbuf or perf"
                ));
            }
        };
        let tracer = T::configure()?;
        let forced_path = match std::env::var(T::ATTACH_ENV)
            .ok()
            .filter(|v| !v.is_empty() && v != "auto")
        {
            None => None,
            Some(name) => Some(attach_path::find(T::ATTACH_PATHS, &name).ok_or_else(|| {
                format!(
                    "{}={name} is not an attach path; use auto or one of: {}",
                    T::ATTACH_ENV,
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
