//! What a library shell needs from the core, in one import.

pub use crate::abi::{CStruct, HeaderSpec, RenderedStruct, copy_c_string, render_header};
pub use crate::addr::format_addr;
pub use crate::attach_path::{AttachPath, Program, Requirement};
pub use crate::clock::WallClock;
pub use crate::ffi::{DEQUEUE_DEFINES, copy_c_string_arg, guard};
pub use crate::loader::ObjectConfig;
pub use crate::record::KernelRecord;
pub use crate::settings::{StartOptions, capacity_from_env, env_text, shown};
pub use crate::stats::InterceptorStats;
pub use crate::tracer::{Tracer, TracerConfig};
pub use crate::{
    Interceptor, assert_counter_indices, c_api, c_struct, diag, encode_filter, exports, filter_map_bytes,
    interceptor_rodata, library_exports, write_interceptor_config,
};
