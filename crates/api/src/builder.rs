//! Configuring a tracer before it starts.

use std::marker::PhantomData;
use std::time::Duration;

use interceptor_core::filter::FilterSpec;
use interceptor_core::poller::TransportKind;
use interceptor_core::settings::StartOptions;

use crate::error::{Error, ErrorKind};
use crate::protocol::{self, Protocol, Tcp, Udp};
use crate::tracer::Tracer;

/// How long [`TracerBuilder::start`] waits for the programs to attach.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How records travel from the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The BPF ring buffer, wakeups batched (the default).
    RingBuffer,
    /// Per-CPU perf buffers (the original's transport).
    PerfBuffer,
}

/// Configures and starts a [`Tracer`]. Made by [`tcp()`] or [`udp()`].
///
/// ```no_run
/// use std::time::Duration;
///
/// let tracer = ebpf_interceptor::tcp()
///     .filter("port=443")
///     .snapshot_interval(Some(Duration::from_secs(10)))
///     .start()?;
/// for event in tracer {
///     println!("{:?} {} {}", event.kind, event.comm, event.remote);
/// }
/// # Ok::<(), ebpf_interceptor::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TracerBuilder<P: Protocol> {
    options: StartOptions,
    filter: Option<String>,
    protocol: PhantomData<P>,
}

/// The filter spec's grammar, as [`TracerBuilder::filter`] takes it (for
/// help texts and messages).
pub const FILTER_GRAMMAR: &str = interceptor_core::filter::GRAMMAR;

/// Checks a filter spec without starting anything: the error
/// ([`ErrorKind::InvalidArgument`]) names the offending term. Paths in it
/// (`cgroup=`, `netns=`) must exist now.
///
/// ```
/// assert!(ebpf_interceptor::check_filter("port=80,port=443,family=4").is_ok());
/// let error = ebpf_interceptor::check_filter("port=http").unwrap_err();
/// assert_eq!(error.message(), "filter term \"port=http\": not a port (0 to 65535)");
/// ```
pub fn check_filter(spec: &str) -> Result<(), Error> {
    parse_filter(spec).map(drop)
}

fn parse_filter(spec: &str) -> Result<FilterSpec, Error> {
    FilterSpec::parse(spec).map_err(|e| Error::new(ErrorKind::InvalidArgument, e.to_string()))
}

/// A TCP tracer's builder: one event per connection that closes (or fails to
/// connect), and snapshots of live connections.
pub fn tcp() -> TracerBuilder<Tcp> {
    TracerBuilder::new()
}

/// A UDP tracer's builder: each socket's totals per send or receive call,
/// and at its close.
pub fn udp() -> TracerBuilder<Udp> {
    TracerBuilder::new()
}

impl<P: Protocol> TracerBuilder<P> {
    fn new() -> Self {
        Self {
            options: StartOptions::default(),
            filter: None,
            protocol: PhantomData,
        }
    }

    /// Forces an attach path ("fentry", "kprobe", "tp_btf", "raw_tp",
    /// "tracepoint"); by default the best the kernel supports.
    pub fn attach_path(mut self, name: &str) -> Self {
        self.options.attach_path = Some(name.to_owned());
        self
    }

    /// The in-kernel filter: comma-separated terms `pid=`, `uid=`, `comm=`,
    /// `port=`, `lport=`, `rport=`, `family=4|6`, `addr=CIDR`, `netns=`,
    /// `cgroup=PATH`; the same key ORs, different keys AND.
    pub fn filter(mut self, spec: &str) -> Self {
        self.filter = Some(spec.to_owned());
        self
    }

    /// The transport (the ring buffer by default).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.options.transport = Some(match transport {
            Transport::RingBuffer => TransportKind::RingBuffer,
            Transport::PerfBuffer => TransportKind::PerfBuffer,
        });
        self
    }

    /// Sockets tracked at once (default 65,536; at most 1,048,576).
    pub fn max_sockets(mut self, sockets: u32) -> Self {
        self.options.max_sockets = Some(sockets);
        self
    }

    /// Also reads the C libraries' environment variables
    /// (`EBPF_INTERCEPTOR_*`) for what this builder leaves unset.
    pub fn with_environment(mut self) -> Self {
        self.options.environment = true;
        self
    }

    /// Loads and attaches the programs and returns the running tracer. One
    /// tracer per protocol runs in a process at a time ([`ErrorKind::Busy`]
    /// otherwise).
    pub fn start(self) -> Result<Tracer<P>, Error> {
        let mut options = self.options;
        if let Some(spec) = &self.filter {
            options.filter = Some(parse_filter(spec)?);
        }
        if !protocol::claim::<P>() {
            return Err(Error::new(
                ErrorKind::Busy,
                "a tracer of this protocol is already running in this process",
            ));
        }
        // From here the tracer owns the session: dropping it (also on the
        // error path) cleans up and releases the claim.
        let tracer = Tracer::<P>::claimed();
        P::session().start_with(&options);
        P::session().wait_started(START_TIMEOUT)?;
        Ok(tracer)
    }
}

impl TracerBuilder<Tcp> {
    /// Live-connection snapshots every `every` (0.05 s to 1 day), or none;
    /// default 6 s.
    pub fn snapshot_interval(mut self, every: Option<Duration>) -> Self {
        self.options.periodic = Some(every);
        self
    }
}

impl TracerBuilder<Udp> {
    /// At most one event per socket per `every` (plus its close), or one
    /// event per call (`None`, the default).
    pub fn coalesce(mut self, every: Option<Duration>) -> Self {
        self.options.periodic = Some(every);
        self
    }
}
