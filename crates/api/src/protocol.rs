//! The two protocols a tracer can follow, as types: each names its
//! library's machinery (one session per protocol per process, as the C
//! libraries have) and its typed event.

use std::sync::atomic::{AtomicBool, Ordering};

use interceptor_core::Interceptor;
use interceptor_tcp::TcpTracer;
use interceptor_udp::UdpTracer;

use crate::events::{TcpEvent, UdpEvent};

/// TCP: connections' closes, snapshots and failed connects.
#[derive(Debug, Clone, Copy)]
pub struct Tcp;

/// UDP: sockets' totals per call and at close.
#[derive(Debug, Clone, Copy)]
pub struct Udp;

/// What a protocol brings to a tracer. Implemented by [`Tcp`] and [`Udp`];
/// `Send` and `Sync`, so a [`Tracer`](crate::Tracer) of either can be moved
/// to the thread that reads it.
pub trait Protocol: sealed::Sealed + Send + Sync + 'static {
    /// The typed event.
    type Event: Send + 'static;
    #[doc(hidden)]
    type Machinery: interceptor_core::Tracer;
    #[doc(hidden)]
    fn session() -> &'static Interceptor<Self::Machinery>;
    #[doc(hidden)]
    fn in_use() -> &'static AtomicBool;
    #[doc(hidden)]
    fn event(raw: &<Self::Machinery as interceptor_core::Tracer>::Event) -> Self::Event;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Tcp {}
    impl Sealed for super::Udp {}
}

static TCP_SESSION: Interceptor<TcpTracer> = Interceptor::new();
static UDP_SESSION: Interceptor<UdpTracer> = Interceptor::new();
static TCP_IN_USE: AtomicBool = AtomicBool::new(false);
static UDP_IN_USE: AtomicBool = AtomicBool::new(false);

impl Protocol for Tcp {
    type Event = TcpEvent;
    type Machinery = TcpTracer;

    fn session() -> &'static Interceptor<TcpTracer> {
        &TCP_SESSION
    }

    fn in_use() -> &'static AtomicBool {
        &TCP_IN_USE
    }

    fn event(raw: &interceptor_tcp::TcpEventEx) -> TcpEvent {
        TcpEvent::from(raw)
    }
}

impl Protocol for Udp {
    type Event = UdpEvent;
    type Machinery = UdpTracer;

    fn session() -> &'static Interceptor<UdpTracer> {
        &UDP_SESSION
    }

    fn in_use() -> &'static AtomicBool {
        &UDP_IN_USE
    }

    fn event(raw: &interceptor_udp::UdpEventEx) -> UdpEvent {
        UdpEvent::from(raw)
    }
}

/// Claims the protocol's one session for a tracer; false if taken.
pub(crate) fn claim<P: Protocol>() -> bool {
    !P::in_use().swap(true, Ordering::AcqRel)
}

/// Gives it back.
pub(crate) fn release<P: Protocol>() {
    P::in_use().store(false, Ordering::Release);
}
