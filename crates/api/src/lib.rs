//! The eBPF Event Interceptor's Rust API: every TCP connection and UDP flow
//! on a Linux host, with the process, user, addresses, ports, bytes,
//! packets, RTT, retransmits, error and container identity behind each one,
//! traced by CO-RE BPF programs (no compiler, no kernel headers at run time).
//!
//! The same machinery drives `libtcpEvent.so` and `libudpEvent.so` (the C
//! ABI) and the `ebpf-interceptor` command: one session per protocol per
//! process, started here by a builder.
//!
//! ```no_run
//! let tracer = ebpf_interceptor::tcp().filter("rport=443").start()?;
//! for event in tracer {
//!     println!(
//!         "{:?} pid {} ({}) {} -> {} rtt {:?} retransmits {}",
//!         event.kind, event.pid, event.comm, event.local, event.remote, event.srtt, event.total_retransmits
//!     );
//! }
//! # Ok::<(), ebpf_interceptor::Error>(())
//! ```
//!
//! Tracing needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN.

#![deny(missing_docs)]

mod builder;
pub mod environment;
mod error;
mod events;
mod messages;
mod protocol;
mod stats;
mod tracer;

pub use builder::{FILTER_GRAMMAR, TracerBuilder, Transport, check_filter, tcp, udp};
pub use error::{Error, ErrorKind};
pub use events::{Event, Role, TcpEvent, TcpEventKind, UdpEvent, UdpEventKind};
pub use messages::{set_print_failures, set_program_name};
pub use protocol::{Protocol, Tcp, Udp};
pub use stats::Stats;
pub use tracer::{StopHandle, Tracer};
