//! The floor of the UDP figures: libudpEvent's object with every program
//! returning at once (see the parent module).

/// The skeleton of the floor object.
#[allow(clippy::all, clippy::unwrap_used, clippy::expect_used, missing_docs, dead_code)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/udp_floor.skel.rs"));
}

use interceptor_core::filter::FilterSpec;
use interceptor_core::prelude::*;
use interceptor_udp::{UdpEvent, UdpEventEx, UdpTracer};
use skel::types::udp_config;

/// The UDP library with the floor object.
pub struct UdpFloorTracer;

impl Tracer for UdpFloorTracer {
    type Event = UdpEventEx;
    type Original = UdpEvent;
    type Skeleton = skel::UdpFloorSkelBuilder;
    type Settings = udp_config;
    const LIBRARY: &'static str = "udp-floor";
    const ATTACH_ENV: &'static str = UdpTracer::ATTACH_ENV;
    const FILTER_ENV: &'static str = UdpTracer::FILTER_ENV;
    const RING_BYTES: u32 = UdpTracer::RING_BYTES;
    const ATTACH_PATHS: &'static [AttachPath] = UdpTracer::ATTACH_PATHS;
    const COMMON_PROGRAMS: &'static [Program] = match option_env!("FLOOR_NO_CGROUP") {
        Some(_) => &[Program::Cgroup("udp_sock_release")],
        None => UdpTracer::COMMON_PROGRAMS,
    };

    fn configure(options: &StartOptions) -> Result<TracerConfig<udp_config>, String> {
        let library = UdpTracer::configure(options)?;
        Ok(TracerConfig {
            settings: udp_config {
                coalesce_ns: library.settings.coalesce_ns,
                task_storage_peers: library.settings.task_storage_peers,
                pending_set: library.settings.pending_set,
            },
            map_entries: library.map_entries,
            skipped_maps: library.skipped_maps,
            periodic: library.periodic,
        })
    }

    fn write_rodata(
        open: &mut skel::OpenUdpFloorSkel<'_>,
        object: &ObjectConfig,
        settings: &udp_config,
    ) -> Result<(), String> {
        let rodata = interceptor_rodata!(open, object)?;
        rodata.udp_config = *settings;
        Ok(())
    }

    fn convert(_sample: &[u8], _clock: &WallClock) -> Option<UdpEventEx> {
        // The floor's programs emit nothing.
        None
    }

    fn original(event: &UdpEventEx) -> UdpEvent {
        interceptor_udp::original(event)
    }

    fn encode_filter(spec: &FilterSpec, generation: u32) -> Vec<u8> {
        filter_map_bytes!(skel::types::filter, spec, generation)
    }
}

static FLOOR: Interceptor<UdpFloorTracer> = Interceptor::new();

/// Starts the UDP floor.
pub fn start() -> Result<super::Floor<UdpFloorTracer>, String> {
    super::Floor::start(&FLOOR)
}
