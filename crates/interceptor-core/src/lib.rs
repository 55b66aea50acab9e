//! The machinery shared by `libtcpEvent.so` and `libudpEvent.so`.
//!
//! Each library is a thin C ABI shell that implements [`Tracer`] (its BPF
//! object, attach plans and event conversion) and holds one
//! [`Interceptor`] in a `static`. Everything else lives here:
//!
//! - [`attach`]: attach plans and the checks that pick one per kernel;
//! - [`loader`]: loading a plan's programs, transport and load-time settings;
//! - [`session`]: lifecycle, the polling thread, stats;
//! - [`queue`]: the bounded drop-oldest queue consumers read from;
//! - [`clock`] and [`addr`]: kernel time and addresses to the original's text;
//! - [`abi`]: the C declarations the headers are generated from;
//! - [`ffi`]: helpers for the exported functions (panic containment, strings).

pub mod abi;
pub mod addr;
pub mod attach;
pub mod clock;
pub mod diag;
pub mod exports;
pub mod ffi;
pub mod layout;
pub mod loader;
pub mod queue;
pub mod record;
pub mod session;
pub mod stats;

pub use session::{Interceptor, Tracer};
