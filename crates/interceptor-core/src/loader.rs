//! Loading a library's BPF object for one attach plan: only the plan's
//! programs are loaded, the transport and load-time settings are written
//! before loading, then everything is attached and iterators are run.

use std::io::Read as _;

use libbpf_rs::btf::types::{DataSec, Var};
use std::os::fd::AsFd;

use libbpf_rs::{AsRawLibbpf, Btf, Iter, Link, MapCore, MapFlags, MapHandle, Object, ObjectBuilder, OpenObject};

use crate::attach::{AttachKind, AttachPlan, CgroupRoot, KernelFacts, ResolvedProgram};
use crate::diag;

/// Indices of the BPF-side counters (`enum interceptor_counter` in
/// bpf/interceptor_abi.h; a test checks them against the objects' BTF).
pub mod counter {
    /// Records handed to the ring or perf buffer.
    pub const EMITTED: u32 = 0;
    /// Records the ring or perf buffer refused.
    pub const LOST: u32 = 1;
    /// Per-socket map updates refused because the map was full.
    pub const MAP_FULL: u32 = 2;
    /// Events emitted without a known owner.
    pub const OWNER_UNKNOWN: u32 = 3;
    /// Number of counters.
    pub const COUNT: usize = 4;
}

/// How records travel from the kernel to the polling thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// BPF ring buffer (kernel 5.8+), wakeups batched.
    RingBuffer,
    /// Per-CPU perf buffers, one wakeup per record: the original's transport,
    /// kept as a fallback.
    PerfBuffer,
}

impl TransportKind {
    /// The name used by the override variable and the stats call.
    pub fn name(self) -> &'static str {
        match self {
            Self::RingBuffer => "ringbuf",
            Self::PerfBuffer => "perf",
        }
    }
}

/// The load-time settings every object carries (`struct interceptor_config`).
#[derive(Debug, Clone, Copy)]
pub struct ObjectConfig {
    /// Transport to use.
    pub transport: TransportKind,
    /// Ring buffer size in bytes (a power of two, at least a page).
    pub ring_bytes: u32,
    /// Pending bytes at which the ring buffer wakes the poller.
    pub wakeup_batch_bytes: u32,
}

/// A library's programs, loaded and attached for one plan.
pub struct LoadedProbes {
    // Declared first so they drop (detach) before the object and the cgroup.
    links: Vec<Link>,
    periodic: Vec<(&'static str, Link)>,
    /// The loaded object (maps and programs).
    pub object: Object,
    /// The plan in use.
    pub plan: &'static AttachPlan,
    _cgroup: Option<CgroupRoot>,
}

impl std::fmt::Debug for LoadedProbes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedProbes")
            .field("plan", &self.plan.name)
            .field("links", &self.links.len())
            .finish_non_exhaustive()
    }
}

impl LoadedProbes {
    /// Runs every map iterator of the plan once (the periodic work).
    pub fn run_periodic(&self) -> Result<(), String> {
        for (name, link) in &self.periodic {
            run_iterator_link(name, link)?;
        }
        Ok(())
    }

    /// A handle on a map that outlives borrows of the object (for stats
    /// read from other threads).
    pub fn map_handle(&self, name: &str) -> Result<MapHandle, String> {
        let map = self
            .object
            .maps()
            .find(|map| map.name() == name)
            .ok_or_else(|| format!("map {name} is missing from the BPF object"))?;
        MapHandle::try_from(&map).map_err(|e| format!("cannot duplicate map {name}: {e}"))
    }
}

/// Sums a per-CPU counter.
pub fn read_counter(counters: &MapHandle, index: u32) -> u64 {
    counters
        .lookup_percpu(&index.to_ne_bytes(), MapFlags::ANY)
        .ok()
        .flatten()
        .map(|per_cpu| {
            per_cpu
                .iter()
                .filter_map(|bytes| bytes.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_ne_bytes))
                .sum()
        })
        .unwrap_or(0)
}

/// Reads every counter.
pub fn read_counters(counters: &MapHandle) -> [u64; counter::COUNT] {
    std::array::from_fn(|i| read_counter(counters, i as u32))
}

fn describe(stage: &str, err: &libbpf_rs::Error) -> String {
    match diag::last_libbpf_warning() {
        Some(detail) => format!("{stage}: {err} ({detail})"),
        None => format!("{stage}: {err}"),
    }
}

/// Writes a `.rodata` variable before loading. Offsets come from the opened
/// object's BTF (libbpf fixes them up at open; the ELF's BTF says 0).
fn write_rodata(open: &mut OpenObject, var_name: &str, bytes: &[u8]) -> Result<(), String> {
    let (offset, size) = {
        // SAFETY: the pointer comes from a live OpenObject borrowed for this
        // block; the BTF is only read while that borrow lasts.
        let raw = unsafe { open.as_libbpf_object().as_ref() };
        let btf = Btf::from_bpf_object(raw)
            .map_err(|e| format!("cannot read the object's BTF: {e}"))?
            .ok_or("the BPF object has no BTF")?;
        let section: DataSec<'_> = btf.type_by_name(".rodata").ok_or("the BPF object has no .rodata")?;
        section
            .iter()
            .find(|info| {
                btf.type_by_id::<Var<'_>>(info.ty)
                    .and_then(|var| var.name())
                    .is_some_and(|name| name == var_name)
            })
            .map(|info| (info.offset as usize, info.size))
            .ok_or_else(|| format!("{var_name} is not in the object's .rodata"))?
    };
    if size != bytes.len() {
        return Err(format!(
            "{var_name} is {size} bytes in the object, {} here",
            bytes.len()
        ));
    }
    let mut map = open
        .maps_mut()
        .find(|map| map.name().to_string_lossy().ends_with(".rodata"))
        .ok_or("the object's .rodata map is missing")?;
    let data = map.initial_value_mut().ok_or(".rodata has no initial value")?;
    data.get_mut(offset..offset + size)
        .ok_or(".rodata is shorter than its BTF says")?
        .copy_from_slice(bytes);
    Ok(())
}

fn configure_transport(open: &mut OpenObject, config: &ObjectConfig) -> Result<(), String> {
    let ring_bytes = match config.transport {
        TransportKind::RingBuffer => config.ring_bytes,
        // The ring buffer still exists (the program references it) but stays
        // at its minimum size.
        TransportKind::PerfBuffer => 4096,
    };
    let mut ring = open
        .maps_mut()
        .find(|map| map.name() == "events")
        .ok_or("the object has no events map")?;
    ring.set_max_entries(ring_bytes)
        .map_err(|e| format!("cannot size the ring buffer: {e}"))?;
    let use_perf = u32::from(config.transport == TransportKind::PerfBuffer);
    let mut interceptor_config = Vec::with_capacity(8);
    interceptor_config.extend_from_slice(&use_perf.to_ne_bytes());
    interceptor_config.extend_from_slice(&config.wakeup_batch_bytes.to_ne_bytes());
    write_rodata(open, "interceptor_config", &interceptor_config)
}

/// A library's own load-time settings (what its environment variables
/// amount to).
#[derive(Debug, Clone, Default)]
pub struct TracerConfig {
    /// `.rodata` values written before loading.
    pub rodata: Vec<RodataValue>,
    /// Capacities of maps, overriding the object's (map name, entries).
    pub map_entries: Vec<(&'static str, u32)>,
    /// How often the polling thread runs the plan's map iterators (never
    /// when `None`).
    pub periodic: Option<std::time::Duration>,
}

/// A `.rodata` value a library sets before loading (its own settings).
#[derive(Debug, Clone)]
pub struct RodataValue {
    /// Variable name.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Opens `object_bytes`, loads the plan's programs and attaches them.
pub fn load_plan(
    object_bytes: &[u8],
    plan: &'static AttachPlan,
    kernel: &mut KernelFacts,
    config: &ObjectConfig,
    tracer: &TracerConfig,
) -> Result<LoadedProbes, String> {
    plan.check(kernel)?;
    let (programs, left_out) = plan.resolve(kernel)?;
    diag::clear_libbpf_output();

    let mut open = ObjectBuilder::default()
        .open_memory(object_bytes)
        .map_err(|e| describe("opening the BPF object failed", &e))?;
    let mut needs_tracefs = false;
    for mut program in open.progs_mut() {
        let keep = programs.iter().any(|p| program.name() == p.name);
        needs_tracefs |= keep && program.section().to_string_lossy().starts_with("tracepoint/");
        program.set_autoload(keep);
    }
    // libbpf finds tracepoint ids in tracefs; a host may not have it mounted.
    let tracefs = if needs_tracefs {
        kernel.tracefs().map(drop)
    } else {
        Ok(())
    };
    configure_transport(&mut open, config)?;
    for value in &tracer.rodata {
        write_rodata(&mut open, value.name, &value.bytes)?;
    }
    for &(name, entries) in &tracer.map_entries {
        let mut map = open
            .maps_mut()
            .find(|m| m.name() == name)
            .ok_or_else(|| format!("map {name} is missing from the BPF object"))?;
        map.set_max_entries(entries)
            .map_err(|e| format!("cannot size map {name}: {e}"))?;
    }
    let object = open
        .load()
        .map_err(|e| describe("loading the BPF programs failed", &e))?;

    for reason in left_out {
        diag::error(&reason);
    }
    let mut links = Vec::new();
    let mut periodic = Vec::new();
    let mut cgroup: Option<CgroupRoot> = None;
    for program in &programs {
        if let AttachKind::PeriodicIterator(map) = program.kind {
            match (attach_periodic_iterator(&object, program.name, map), program.optional) {
                (Ok(link), _) => periodic.push((program.name, link)),
                (Err(reason), Some(lost)) => diag::error(&format!("{reason}; {lost}")),
                (Err(reason), None) => return Err(reason),
            }
        }
    }
    let hooks = programs
        .iter()
        .filter(|p| matches!(p.kind, AttachKind::Auto | AttachKind::Cgroup));
    for program in hooks {
        let attached = attach_one(&object, program, &mut cgroup, &tracefs);
        match (attached, program.optional) {
            (Ok(link), _) => links.push(link),
            (Err(reason), Some(lost)) => diag::error(&format!("{reason}; {lost}")),
            (Err(reason), None) => return Err(reason),
        }
    }
    // After the hooks, so a socket opened meanwhile is seen by one or the other.
    for program in programs.iter().filter(|p| p.kind == AttachKind::Iterator) {
        match (run_iterator(&object, program.name), program.optional) {
            (Ok(()), _) => {}
            (Err(reason), Some(lost)) => diag::error(&format!("{reason}; {lost}")),
            (Err(reason), None) => return Err(reason),
        }
    }
    Ok(LoadedProbes {
        links,
        periodic,
        object,
        plan,
        _cgroup: cgroup,
    })
}

fn attach_one(
    object: &Object,
    program: &ResolvedProgram,
    cgroup: &mut Option<CgroupRoot>,
    tracefs: &Result<(), String>,
) -> Result<Link, String> {
    let name = program.name;
    let prog = object
        .progs_mut()
        .find(|p| p.name() == name)
        .ok_or_else(|| format!("program {name} is missing from the BPF object"))?;
    if program.kind == AttachKind::Cgroup {
        let root = match cgroup {
            Some(root) => root,
            None => cgroup.insert(CgroupRoot::open().map_err(|reason| format!("{name} not attached: {reason}"))?),
        };
        return prog
            .attach_cgroup(root.raw_fd())
            .map_err(|e| describe(&format!("attaching {name} to the cgroup v2 root failed"), &e));
    }
    if prog.section().to_string_lossy().starts_with("tracepoint/") {
        tracefs
            .clone()
            .map_err(|reason| format!("{name} not attached: {reason}"))?;
    }
    prog.attach()
        .map_err(|e| describe(&format!("attaching {name} failed"), &e))
}

fn attach_periodic_iterator(object: &Object, name: &str, map_name: Option<&str>) -> Result<Link, String> {
    let prog = object
        .progs_mut()
        .find(|p| p.name() == name)
        .ok_or_else(|| format!("iterator {name} is missing from the BPF object"))?;
    let Some(map_name) = map_name else {
        return prog
            .attach()
            .map_err(|e| describe(&format!("creating iterator {name} failed"), &e));
    };
    let map = object
        .maps()
        .find(|m| m.name() == map_name)
        .ok_or_else(|| format!("map {map_name} is missing from the BPF object"))?;
    prog.attach_iter(map.as_fd())
        .map_err(|e| describe(&format!("creating iterator {name} over {map_name} failed"), &e))
}

fn run_iterator(object: &Object, name: &str) -> Result<(), String> {
    let prog = object
        .progs_mut()
        .find(|p| p.name() == name)
        .ok_or_else(|| format!("iterator {name} is missing from the BPF object"))?;
    let link = prog
        .attach()
        .map_err(|e| describe(&format!("creating iterator {name} failed"), &e))?;
    run_iterator_link(name, &link)
}

/// Runs an iterator link to completion (its programs write nothing to the
/// seq file; the work is their side effects).
fn run_iterator_link(name: &str, link: &Link) -> Result<(), String> {
    let mut iter = Iter::new(link).map_err(|e| describe(&format!("starting iterator {name} failed"), &e))?;
    let mut sink = Vec::new();
    iter.read_to_end(&mut sink)
        .map_err(|e| format!("running iterator {name} failed: {e}"))?;
    Ok(())
}
