//! The contract between the shared machinery and one library: what a
//! library adds (its BPF skeleton, attach paths, settings and event
//! conversion), and the load-time configuration its settings amount to.

use std::time::Duration;

use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use crate::abi::CStruct;
use crate::attach_path::{AttachPath, Program};
use crate::clock::WallClock;
use crate::filter::FilterSpec;
use crate::loader::ObjectConfig;
use crate::settings::StartOptions;

/// What a library adds to the shared machinery.
pub trait Tracer: 'static {
    /// The event the queue holds and `*_DequeueEx` hands out: the extended
    /// event (naturally aligned, every field of the original and more).
    type Event: CStruct + Send;
    /// The original's struct, byte for byte, for `DequeuePerfEvent`.
    type Original: CStruct;
    /// The library's generated skeleton builder (`XxxSkelBuilder`).
    type Skeleton: for<'obj> SkelBuilder<'obj> + Default;
    /// The library's own load-time settings, written into `.rodata`.
    type Settings: std::fmt::Debug + Clone + Send + 'static;
    /// Library name for messages, e.g. `libtcpEvent`.
    const LIBRARY: &'static str;
    /// Variable that forces an attach path, e.g. `EBPF_INTERCEPTOR_TCP_ATTACH`.
    const ATTACH_ENV: &'static str;
    /// Variable holding a filter spec, e.g. `EBPF_INTERCEPTOR_TCP_FILTER`.
    const FILTER_ENV: &'static str;
    /// Ring buffer size in bytes (a power of two).
    const RING_BYTES: u32;
    /// Attach paths, best first.
    const ATTACH_PATHS: &'static [AttachPath];
    /// Programs every attach path loads besides its own.
    const COMMON_PROGRAMS: &'static [Program];
    /// Library-specific settings for a start (its options, or the
    /// environment's variables when the options say so).
    fn configure(options: &StartOptions) -> Result<TracerConfig<Self::Settings>, String>;
    /// Writes the core's and the library's settings into the open
    /// skeleton's `.rodata` (typed: the skeleton declares the layout).
    fn write_rodata<'obj>(
        open: &mut <Self::Skeleton as SkelBuilder<'obj>>::Output,
        object: &ObjectConfig,
        settings: &Self::Settings,
    ) -> Result<(), String>;
    /// Converts one record from the kernel; `None` if it is malformed.
    fn convert(sample: &[u8], clock: &WallClock) -> Option<Self::Event>;
    /// The original's struct for an extended event.
    fn original(event: &Self::Event) -> Self::Original;
    /// The bytes of the skeleton's `struct filter` for `spec` (see
    /// [`encode_filter!`](crate::encode_filter)).
    fn encode_filter(spec: &FilterSpec, generation: u32) -> Vec<u8>;
}

/// The loaded skeleton of library `T`, borrowing its storage for `'obj`.
pub type LoadedSkeleton<'obj, T> = <<<T as Tracer>::Skeleton as SkelBuilder<'obj>>::Output as OpenSkel<'obj>>::Output;

/// A library's load-time configuration (what its environment variables
/// amount to).
#[derive(Debug, Clone, Default)]
pub struct TracerConfig<S> {
    /// The library's own `.rodata` settings.
    pub settings: S,
    /// Capacities of maps, overriding the object's (map name, entries).
    pub map_entries: Vec<(&'static str, u32)>,
    /// Maps the object declares that this configuration leaves unused: not
    /// created (a program's reference to one must be in code its `.rodata`
    /// settings make unreachable).
    pub skipped_maps: Vec<&'static str>,
    /// How often the polling thread runs the attach path's periodic
    /// iterators (never when `None`).
    pub periodic: Option<Duration>,
}

/// Writes the core's settings into a skeleton's `.rodata`: every object
/// declares `const volatile struct interceptor_config interceptor_config`,
/// and each skeleton has its own (identical) generated type for it.
#[macro_export]
macro_rules! write_interceptor_config {
    ($rodata:expr, $object:expr) => {{
        let object: &$crate::loader::ObjectConfig = $object;
        $rodata.interceptor_config.use_perf_buffer =
            u32::from(object.transport == $crate::poller::TransportKind::PerfBuffer);
        $rodata.interceptor_config.wakeup_batch_bytes = object.wakeup_batch_bytes;
    }};
}

/// An opened skeleton's `.rodata` with the core's settings written into it
/// ([`write_interceptor_config!`]), for the library's own settings; or the
/// error naming its absence.
#[macro_export]
macro_rules! interceptor_rodata {
    ($open:expr, $object:expr) => {
        match $open.maps.rodata_data.as_deref_mut() {
            Some(rodata) => {
                $crate::write_interceptor_config!(rodata, $object);
                Ok(rodata)
            }
            None => Err(String::from("the object has no .rodata")),
        }
    };
}
