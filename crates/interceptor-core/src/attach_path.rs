//! The attach-path model. Each library lists its attach paths, best first:
//! named sets of programs that together deliver its events, each hooking the
//! kernel in its own way (tp_btf, fentry, kprobe, raw_tp, tracepoint). The
//! session tries them in order (or only the one an environment variable
//! forces) and keeps the first that loads and attaches; cheap checks reject
//! a path before any load when the kernel plainly lacks what it needs.

use crate::kernel::KernelFacts;

/// How one program of an attach path gets attached.
#[derive(Debug, Clone, Copy)]
pub enum Program {
    /// libbpf attaches it from its section name (tp_btf, raw_tp, tracepoint,
    /// kprobe, kretprobe, fentry, fexit).
    Auto(&'static str),
    /// One of several variants, chosen by how many arguments `function` has
    /// in the running kernel's BTF (fexit reads the return value from the slot
    /// after the last argument, so the prototype must match exactly).
    ByArity {
        /// Kernel function whose prototype decides.
        function: &'static str,
        /// (argument count, program name).
        variants: &'static [(usize, &'static str)],
    },
    /// Attached to the cgroup v2 root (found, or mounted if none is).
    Cgroup(&'static str),
    /// A BPF iterator, run to completion once after everything else is
    /// attached (to seed per-socket state for sockets that already exist).
    Iterator(&'static str),
    /// An iterator kept attached and run by the polling thread at the
    /// library's periodic interval (over a map's elements when `map` is set).
    /// Not loaded when the library has no periodic interval.
    PeriodicIterator {
        /// Program name.
        name: &'static str,
        /// The map it walks, for `iter/bpf_map_elem` programs.
        map: Option<&'static str>,
        /// A program doing the same work by walking `map` itself
        /// (`bpf_for_each_map_elem`, 5.13+), run with BPF_PROG_RUN instead,
        /// wherever the kernel has that helper: some kernels refuse map
        /// iterators (6.18 Firecracker builds: EPERM at load).
        walker: Option<&'static str>,
    },
    /// A program the path works without: if it cannot be attached, one line
    /// on stderr says why and what is lost (`lost`), and the path goes on.
    Optional {
        /// The program.
        program: &'static Program,
        /// What events lack without it.
        lost: &'static str,
    },
}

/// A program resolved for the running kernel.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedProgram {
    /// Program name in the object.
    pub name: &'static str,
    /// How it is attached.
    pub kind: AttachKind,
    /// `Some(what is lost)` when the path works without it.
    pub optional: Option<&'static str>,
}

/// How a resolved program is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachKind {
    /// From its section name.
    Auto,
    /// To the cgroup v2 root.
    Cgroup,
    /// Run once as an iterator.
    Iterator,
    /// Kept attached (to a map, if named) and run periodically.
    PeriodicIterator(Option<&'static str>),
    /// Run periodically with BPF_PROG_RUN (a map walker).
    PeriodicRun,
}

impl AttachKind {
    /// Whether it runs at the library's periodic interval.
    pub fn is_periodic(self) -> bool {
        matches!(self, Self::PeriodicIterator(_) | Self::PeriodicRun)
    }
}

impl Program {
    fn resolve(&self, kernel: &mut KernelFacts, optional: Option<&'static str>) -> Result<ResolvedProgram, String> {
        let (name, kind) = match *self {
            Self::Auto(name) => (name, AttachKind::Auto),
            Self::Cgroup(name) => (name, AttachKind::Cgroup),
            Self::Iterator(name) => (name, AttachKind::Iterator),
            Self::PeriodicIterator {
                walker: Some(walker), ..
            } if kernel.map_walks() => (walker, AttachKind::PeriodicRun),
            Self::PeriodicIterator { name, map, .. } => (name, AttachKind::PeriodicIterator(map)),
            Self::ByArity { function, variants } => {
                let arity = kernel.function_arity(function)?;
                let name = variants
                    .iter()
                    .find(|(count, _)| *count == arity)
                    .map(|(_, name)| *name)
                    .ok_or_else(|| format!("{function}() has {arity} arguments here, no program variant for that"))?;
                (name, AttachKind::Auto)
            }
            Self::Optional { program, lost } => return program.resolve(kernel, Some(lost)),
        };
        Ok(ResolvedProgram { name, kind, optional })
    }
}

/// Something an attach path needs from the kernel, checked before loading.
#[derive(Debug, Clone, Copy)]
pub enum Requirement {
    /// kprobes (`CONFIG_KPROBES`).
    Kprobes,
    /// A tracefs event, `category/name`.
    TracefsEvent(&'static str, &'static str),
    /// A function fentry/fexit programs load on (in the kernel's BTF, and
    /// not refused by the kernel), probed with a minimal program.
    FunctionTracing(&'static str),
    /// A tracepoint the kernel's BTF knows (`btf_trace_<name>`), for tp_btf
    /// and raw_tp programs.
    Tracepoint(&'static str),
}

/// A named set of programs that together deliver a library's events, on top
/// of the programs the library shares between all its attach paths.
#[derive(Debug)]
pub struct AttachPath {
    /// Name used by the override variable, the stats call and messages.
    pub name: &'static str,
    /// What the path hooks, for the debug output and the headers.
    pub description: &'static str,
    /// The path's own programs.
    pub programs: &'static [Program],
    /// Checked before loading.
    pub requires: &'static [Requirement],
}

/// The programs one attach path loads on the running kernel, and what its
/// optional programs that do not fit this kernel leave out.
#[derive(Debug)]
pub struct Resolution {
    /// Programs to load.
    pub programs: Vec<ResolvedProgram>,
    /// One line per optional program left out: why, and what is lost.
    pub left_out: Vec<String>,
}

impl AttachPath {
    /// Resolves the path's own programs followed by the library's `common`
    /// ones for the running kernel.
    pub fn resolve(&self, common: &[Program], kernel: &mut KernelFacts) -> Result<Resolution, String> {
        let mut resolution = Resolution {
            programs: Vec::with_capacity(self.programs.len() + common.len()),
            left_out: Vec::new(),
        };
        for program in self.programs.iter().chain(common) {
            match program.resolve(kernel, None) {
                Ok(program) => resolution.programs.push(program),
                Err(reason) => match program {
                    Program::Optional { lost, .. } => resolution.left_out.push(format!("{reason}; {lost}")),
                    _ => return Err(reason),
                },
            }
        }
        Ok(resolution)
    }

    /// Checks the path's requirements without loading anything.
    pub fn check(&self, kernel: &mut KernelFacts) -> Result<(), String> {
        for requirement in self.requires {
            match *requirement {
                Requirement::Kprobes => kernel.kprobes()?,
                Requirement::TracefsEvent(category, name) => kernel.tracefs_event(category, name)?,
                Requirement::FunctionTracing(function) => kernel.function_tracing(function)?,
                Requirement::Tracepoint(name) => kernel.tracepoint(name)?,
            }
        }
        Ok(())
    }
}

/// One line per attach path, "name: description", for headers and docs.
pub fn describe(paths: &[AttachPath]) -> String {
    paths
        .iter()
        .map(|path| format!("  {}: {}", path.name, path.description))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Finds the attach path called `name`.
pub fn find<'a>(paths: &'a [AttachPath], name: &str) -> Option<&'a AttachPath> {
    paths.iter().find(|path| path.name == name)
}

/// The names, best first, for messages.
pub fn names(paths: &[AttachPath]) -> Vec<&'static str> {
    paths.iter().map(|path| path.name).collect()
}
