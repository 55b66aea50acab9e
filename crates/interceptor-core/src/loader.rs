//! Loading a library's BPF skeleton for one attach path: only the path's
//! programs are loaded, the transport and load-time settings are written
//! before loading (the library writes its `.rodata` through its skeleton's
//! types), then everything is attached and iterators are run. Choosing
//! programs, sizing maps and attaching stay generic, by name: the paths are
//! data, and a skeleton's own `attach()` cannot attach cgroup programs, give
//! an iterator its map, or let an optional program fail alone.

use std::cell::RefCell;
use std::io::Read as _;
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::path::PathBuf;

use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};

use libbpf_rs::{Iter, Link, Map, MapCore, MapHandle, Object, OpenObject, ProgramInput};

use crate::attach_path::{AttachKind, AttachPath, ResolvedProgram};
use crate::diag;
use crate::kernel::{CgroupRoot, KernelFacts};
use crate::poller::TransportKind;
use crate::tracepoint_events::{self, TracepointLink};
use crate::tracer::{LoadedSkeleton, Tracer, TracerConfig};
use crate::verifier;

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

/// Room for one opened skeleton: it borrows this for as long as it lives.
pub type SkeletonStorage = MaybeUninit<OpenObject>;

/// A library's programs, loaded and attached for one attach path.
pub struct LoadedProbes<'obj, T: Tracer> {
    // Declared first so they drop (detach) before the object and the cgroup.
    // In cells: the polling thread detaches them while its transport still
    // borrows the object, to drain what the programs emitted last.
    links: RefCell<Vec<Attachment>>,
    periodic: RefCell<Vec<PeriodicPass>>,
    skeleton: LoadedSkeleton<'obj, T>,
    /// The attach path in use.
    pub path: &'static AttachPath,
    _cgroup: Option<CgroupRoot>,
}

/// A pass the polling thread runs at the library's periodic interval.
enum PeriodicPass {
    /// An attached iterator, read to its end.
    Iterator(&'static str, Link),
    /// A map walker, run once with BPF_PROG_RUN.
    Walker(&'static str),
}

impl<T: Tracer> std::fmt::Debug for LoadedProbes<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedProbes")
            .field("path", &self.path.name)
            .field("links", &self.links.borrow().len())
            .finish_non_exhaustive()
    }
}

impl<T: Tracer> LoadedProbes<'_, T> {
    /// Detaches every hook and iterator, keeping the object and its maps (so
    /// records still in the ring can be drained and counters read), and
    /// returns once no program of this object is still running. A program on
    /// a tracepoint perf event takes an RCU grace period to detach (~15-50 ms
    /// here): those are detached in parallel, and the wait for programs still
    /// running elsewhere overlaps them.
    pub fn detach(&self) {
        self.periodic.borrow_mut().clear();
        let (slow, fast): (Vec<Attachment>, Vec<Attachment>) = self
            .links
            .borrow_mut()
            .drain(..)
            .partition(|a| matches!(a, Attachment::Tracepoint(_)));
        std::thread::scope(|scope| {
            for attachment in slow {
                // If no thread can be had, the drop happens here instead.
                let _ = std::thread::Builder::new().spawn_scoped(scope, move || drop(attachment));
            }
            drop(fast);
            wait_for_running_programs();
        });
    }

    /// The loaded object (maps and programs).
    pub fn object(&self) -> &Object {
        self.skeleton.object()
    }

    /// Runs every periodic pass of the path once.
    pub fn run_periodic(&self) -> Result<(), String> {
        for pass in self.periodic.borrow().iter() {
            match pass {
                PeriodicPass::Iterator(name, link) => run_iterator_link(name, link)?,
                PeriodicPass::Walker(name) => run_walker(self.object(), name)?,
            }
        }
        Ok(())
    }

    /// A map of the object.
    pub fn map(&self, name: &str) -> Result<Map<'_>, String> {
        self.object()
            .maps()
            .find(|map| map.name() == name)
            .ok_or_else(|| format!("map {name} is missing from the BPF object"))
    }

    /// A handle on a map that outlives borrows of the object (for stats
    /// read from other threads).
    pub fn map_handle(&self, name: &str) -> Result<MapHandle, String> {
        let map = self.map(name)?;
        MapHandle::try_from(&map).map_err(|e| format!("cannot duplicate map {name}: {e}"))
    }
}

fn describe(stage: &str, err: &libbpf_rs::Error) -> String {
    match diag::last_libbpf_warning() {
        Some(detail) => format!("{stage}: {err} ({detail})"),
        None => format!("{stage}: {err}"),
    }
}

/// Sizes one map of the open object.
fn set_map_entries(open: &mut OpenObject, name: &str, entries: u32) -> Result<(), String> {
    let mut map = open
        .maps_mut()
        .find(|m| m.name() == name)
        .ok_or_else(|| format!("map {name} is missing from the BPF object"))?;
    map.set_max_entries(entries)
        .map_err(|e| format!("cannot size map {name}: {e}"))
}

/// Leaves one map of the open object uncreated.
fn skip_map(open: &mut OpenObject, name: &str) -> Result<(), String> {
    let mut map = open
        .maps_mut()
        .find(|m| m.name() == name)
        .ok_or_else(|| format!("map {name} is missing from the BPF object"))?;
    map.set_autocreate(false)
        .map_err(|e| format!("cannot leave map {name} out: {e}"))
}

/// Waits until every BPF program that started before now has returned: they
/// run inside RCU read-side sections, and membarrier(MEMBARRIER_CMD_GLOBAL)
/// is a synchronize_rcu(). Where it is not available (nohz_full kernels),
/// the final drain's own loop waits for the last records instead.
pub fn wait_for_running_programs() {
    const MEMBARRIER_CMD_GLOBAL: libc::c_long = 1;
    // SAFETY: membarrier takes integer arguments only and touches no memory
    // of this process.
    let _ = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) };
}

/// Writes the filter into slot 0, the one in use after loading.
fn install_initial_filter(object: &Object, encoded: &[u8]) -> Result<(), String> {
    let slots = object
        .maps()
        .find(|map| map.name() == "filters")
        .ok_or("the object has no filters map")?;
    slots
        .update(&0u32.to_ne_bytes(), encoded, libbpf_rs::MapFlags::ANY)
        .map_err(|e| format!("writing the filter failed: {e}"))
}

/// What to do with a program that could not be attached: an optional one is
/// left out with one line on stderr, a required one fails the path.
fn required_or_said<V>(program: &ResolvedProgram, outcome: Result<V, String>) -> Result<Option<V>, String> {
    match (outcome, program.optional) {
        (Ok(value), _) => Ok(Some(value)),
        (Err(reason), Some(lost)) => {
            diag::error(&format!("{reason}; {lost}"));
            Ok(None)
        }
        (Err(reason), None) => Err(reason),
    }
}

/// Opens library `T`'s skeleton in `storage`, loads the programs of `path`
/// and the library's common programs, and attaches them.
pub fn load<'obj, T: Tracer>(
    storage: &'obj mut SkeletonStorage,
    path: &'static AttachPath,
    kernel: &mut KernelFacts,
    config: &ObjectConfig,
    tracer: &TracerConfig<T::Settings>,
    filter: &[u8],
) -> Result<LoadedProbes<'obj, T>, String> {
    path.check(kernel)?;
    let resolution = path.resolve(T::COMMON_PROGRAMS, kernel)?;
    // Periodic passes only for a library that runs them.
    let programs: Vec<ResolvedProgram> = resolution
        .programs
        .into_iter()
        .filter(|p| tracer.periodic.is_some() || !p.kind.is_periodic())
        .collect();
    diag::clear_libbpf_output();

    let mut open = T::Skeleton::default()
        .open(storage)
        .map_err(|e| describe("opening the BPF object failed", &e))?;
    T::write_rodata(&mut open, config, &tracer.settings)?;
    let open_object = open.open_object_mut();
    let mut needs_tracefs = false;
    for mut program in open_object.progs_mut() {
        let keep = programs.iter().any(|p| program.name() == p.name);
        needs_tracefs |= keep && program.section().to_string_lossy().starts_with("tracepoint/");
        program.set_autoload(keep);
    }
    // libbpf finds tracepoint ids in tracefs; a host may not have it mounted.
    let tracefs = if needs_tracefs {
        kernel.tracefs().map(|root| TracefsAttach {
            root,
            pooled: kernel.perf_links(),
        })
    } else {
        Err("tracefs is not needed".to_owned())
    };
    let ring_bytes = match config.transport {
        TransportKind::RingBuffer => config.ring_bytes,
        // The ring buffer still exists (the programs reference it) but stays
        // at its minimum size.
        TransportKind::PerfBuffer => 4096,
    };
    set_map_entries(open_object, "events", ring_bytes)?;
    for &(name, entries) in &tracer.map_entries {
        set_map_entries(open_object, name, entries)?;
    }
    for &name in &tracer.skipped_maps {
        skip_map(open_object, name)?;
    }
    let skeleton = open
        .load()
        .map_err(|e| describe("loading the BPF programs failed", &e))?;
    let object = skeleton.object();
    verifier::say_work(object);
    // In force before the first program runs.
    install_initial_filter(object, filter)?;

    for reason in resolution.left_out {
        diag::error(&reason);
    }
    let mut links = Vec::new();
    let mut periodic = Vec::new();
    let mut cgroup: Option<CgroupRoot> = None;
    for program in &programs {
        let pass = match program.kind {
            AttachKind::PeriodicIterator(map) => {
                required_or_said(program, attach_periodic_iterator(object, program.name, map))?
                    .map(|link| PeriodicPass::Iterator(program.name, link))
            }
            AttachKind::PeriodicRun => Some(PeriodicPass::Walker(program.name)),
            AttachKind::Auto | AttachKind::Cgroup | AttachKind::Iterator => None,
        };
        periodic.extend(pass);
    }
    let hooks = programs
        .iter()
        .filter(|p| matches!(p.kind, AttachKind::Auto | AttachKind::Cgroup));
    for program in hooks {
        if let Some(link) = required_or_said(program, attach_one(object, program, &mut cgroup, &tracefs))? {
            links.push(link);
        }
    }
    // After the hooks, so a socket opened meanwhile is seen by one or the other.
    for program in programs.iter().filter(|p| p.kind == AttachKind::Iterator) {
        required_or_said(program, run_iterator(object, program.name))?;
    }
    Ok(LoadedProbes {
        links: RefCell::new(links),
        periodic: RefCell::new(periodic),
        skeleton,
        path,
        _cgroup: cgroup,
    })
}

/// A hook attached by a session: a link, or a program on a pooled
/// tracepoint perf event. Held only to detach when dropped.
#[derive(Debug)]
#[allow(dead_code)]
enum Attachment {
    Link(Link),
    Tracepoint(TracepointLink),
}

/// How tracefs tracepoints are attached on this kernel.
struct TracefsAttach {
    root: PathBuf,
    /// Through pooled perf events (needs BPF perf links); otherwise
    /// libbpf's own, a perf event per attach closed at detach.
    pooled: bool,
}

fn attach_one(
    object: &Object,
    program: &ResolvedProgram,
    cgroup: &mut Option<CgroupRoot>,
    tracefs: &Result<TracefsAttach, String>,
) -> Result<Attachment, String> {
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
            .map(Attachment::Link)
            .map_err(|e| describe(&format!("attaching {name} to the cgroup v2 root failed"), &e));
    }
    let section = prog.section().to_string_lossy().into_owned();
    if let Some(tracepoint) = section.strip_prefix("tracepoint/") {
        let tracefs = tracefs
            .as_ref()
            .map_err(|reason| format!("{name} not attached: {reason}"))?;
        let (category, event) = tracepoint
            .split_once('/')
            .ok_or_else(|| format!("{name}: section {section} names no tracepoint"))?;
        if tracefs.pooled {
            return tracepoint_events::attach(&prog, &tracefs.root, category, event).map(Attachment::Tracepoint);
        }
    }
    prog.attach()
        .map(Attachment::Link)
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

/// Input of a walker: it runs as a tc program, whose context is a packet
/// (never read; the shortest the kernel accepts is an Ethernet header).
const WALKER_PACKET: [u8; 14] = [0; 14];

/// Runs a map walker once.
fn run_walker(object: &Object, name: &str) -> Result<(), String> {
    let prog = object
        .progs_mut()
        .find(|p| p.name() == name)
        .ok_or_else(|| format!("walker {name} is missing from the BPF object"))?;
    let input = ProgramInput {
        data_in: Some(&WALKER_PACKET),
        ..ProgramInput::default()
    };
    prog.test_run(input)
        .map(drop)
        .map_err(|e| describe(&format!("running {name} failed"), &e))
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
