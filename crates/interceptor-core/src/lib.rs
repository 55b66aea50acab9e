//! The machinery shared by `libtcpEvent.so` and `libudpEvent.so`.
//!
//! Each library is a thin shell that implements [`Tracer`] (its BPF object,
//! attach paths and event conversion) and holds one [`Interceptor`] in a
//! `static`. Everything else lives here, one concept per module:
//!
//! - [`tracer`]: the contract a library implements, and its load-time config;
//! - [`settings`]: the environment read at `AddProbe`;
//! - [`filter`]: the in-kernel filter's spec, parsed and encoded;
//! - [`live_filter`]: the filter in force, changed while tracing;
//! - [`attach_path`]: the attach-path model;
//! - [`kernel`]: what the running kernel offers, privilege and mounts;
//! - [`loader`]: loading and attaching one attach path;
//! - [`tracepoint_events`]: tracefs tracepoints through pooled perf events;
//! - [`poller`]: transport, sink, drain loop and shed reports;
//! - [`session`]: the lifecycle (`AddProbe` .. `cleanup()`);
//! - [`stats`]: the counters and their assembly;
//! - [`queue`]: the bounded drop-oldest queue consumers read from;
//! - [`clock`] and [`addr`]: kernel time and addresses to the original's text;
//! - [`record`]: copying kernel records out of the buffers;
//! - [`abi`]: the C declarations the headers are generated from;
//! - [`ffi`] and [`exports`]: the exported functions' helpers and bodies;
//! - [`diag`]: stderr messages and libbpf's output;
//! - [`verifier`]: the verifier's work per program, said when debugging;
//! - [`failure`]: why a start or a call failed, and its kind;
//!
//! A library shell imports what it needs from [`prelude`].

pub mod abi;
pub mod addr;
pub mod attach_path;
pub mod clock;
pub mod diag;
pub mod exports;
pub mod failure;
pub mod ffi;
pub mod filter;
pub mod kernel;
pub mod live_filter;
pub mod loader;
pub mod poller;
pub mod prelude;
pub mod queue;
pub mod record;
pub mod session;
pub mod settings;
pub mod stats;
pub mod sync;
pub mod tracepoint_events;
pub mod tracer;
pub mod verifier;

pub use session::Interceptor;
pub use tracer::Tracer;
