//! The floor of the TCP figures: libtcpEvent's object with every program
//! returning at once (see the parent module).

/// The skeleton of the floor object.
#[allow(clippy::all, clippy::unwrap_used, clippy::expect_used, missing_docs, dead_code)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/tcp_floor.skel.rs"));
}

use interceptor_core::filter::FilterSpec;
use interceptor_core::prelude::*;
use interceptor_tcp::{TcpEvent, TcpEventEx, TcpTracer};

/// The TCP library with the floor object.
pub struct TcpFloorTracer;

impl Tracer for TcpFloorTracer {
    type Event = TcpEventEx;
    type Original = TcpEvent;
    type Skeleton = skel::TcpFloorSkelBuilder;
    type Settings = ();
    const LIBRARY: &'static str = "tcp-floor";
    const ATTACH_ENV: &'static str = TcpTracer::ATTACH_ENV;
    const FILTER_ENV: &'static str = TcpTracer::FILTER_ENV;
    const RING_BYTES: u32 = TcpTracer::RING_BYTES;
    const ATTACH_PATHS: &'static [AttachPath] = TcpTracer::ATTACH_PATHS;
    const COMMON_PROGRAMS: &'static [Program] = TcpTracer::COMMON_PROGRAMS;

    fn configure(options: &StartOptions) -> Result<TracerConfig<()>, String> {
        TcpTracer::configure(options)
    }

    fn write_rodata(open: &mut skel::OpenTcpFloorSkel<'_>, object: &ObjectConfig, _: &()) -> Result<(), String> {
        interceptor_rodata!(open, object).map(|_| ())
    }

    fn convert(_sample: &[u8], _clock: &WallClock) -> Option<TcpEventEx> {
        // The floor's programs emit nothing.
        None
    }

    fn original(event: &TcpEventEx) -> TcpEvent {
        interceptor_tcp::original(event)
    }

    fn encode_filter(spec: &FilterSpec, generation: u32) -> Vec<u8> {
        filter_map_bytes!(skel::types::filter, spec, generation)
    }
}

static FLOOR: Interceptor<TcpFloorTracer> = Interceptor::new();

/// Starts the TCP floor.
pub fn start() -> Result<super::Floor<TcpFloorTracer>, String> {
    super::Floor::start(&FLOOR)
}
