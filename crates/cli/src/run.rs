//! The tracing commands (`ebpf-interceptor`, `tcp`, `udp`): start the
//! tracers, print and export each event, stop on a signal, `--count` or
//! `--duration`, drain, and say the counters on stderr.

use std::io::{self, BufWriter, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::{Duration, Instant};

use ebpf_interceptor::Event;

use crate::args::CommonTraceArgs;
use crate::environment;
use crate::failure::Failure;
use crate::filters;
use crate::otlp::{self, Exporter};
use crate::output::{Printer, Protocols};
use crate::signals::StopSignals;
use crate::summary::{otlp_line, say, tracer_line};
use crate::tracing::{CHANNEL_CAPACITY, Message, Running, TracerSettings};

/// A tracing command, whichever protocols it traces.
pub struct TraceCommand {
    pub common: CommonTraceArgs,
    /// TCP's snapshot interval in seconds (0: off); `None`: no TCP.
    pub snapshots: Option<f64>,
    /// UDP's coalescing in milliseconds (0: off); `None`: no UDP.
    pub coalesce_ms: Option<u64>,
}

/// Why the loop ended.
enum Stop {
    Signal(&'static str),
    Count,
    Duration,
    /// stdout was closed (a pipe's reader went away).
    OutputClosed,
    /// A reader ended on its own (its tracer stopped).
    TracerEnded(&'static str),
}

impl Stop {
    fn describe(&self) -> String {
        match self {
            Self::Signal(name) => format!("stopped by {name}"),
            Self::Count => "stopped at --count".to_owned(),
            Self::Duration => "stopped at --duration".to_owned(),
            Self::OutputClosed => "stopped: stdout was closed".to_owned(),
            Self::TracerEnded(protocol) => format!("stopped: the {protocol} tracer ended unexpectedly"),
        }
    }
}

/// Where each event goes, and how many went.
struct Sinks<W: Write> {
    printer: Printer<W>,
    exporter: Option<Exporter>,
    events: u64,
    limit: Option<u64>,
    own_pid: u32,
}

impl<W: Write> Sinks<W> {
    /// Prints and exports one event; `Some` when the loop must stop.
    fn event(&mut self, event: &Event) -> Result<Option<Stop>, Failure> {
        // This program's own sockets (its export connection) are not
        // reported: each export would otherwise cause more events.
        if event.pid() == self.own_pid || self.limit.is_some_and(|limit| self.events >= limit) {
            return Ok(None);
        }
        if let Err(e) = self.printer.event(event) {
            return output_error(e);
        }
        if let Some(exporter) = &self.exporter {
            exporter.push(event);
        }
        self.events += 1;
        Ok(self
            .limit
            .is_some_and(|limit| self.events >= limit)
            .then_some(Stop::Count))
    }

    fn flush(&mut self) -> Result<Option<Stop>, Failure> {
        match self.printer.flush() {
            Ok(()) => Ok(None),
            Err(e) => output_error(e),
        }
    }
}

fn output_error(error: io::Error) -> Result<Option<Stop>, Failure> {
    if error.kind() == io::ErrorKind::BrokenPipe {
        Ok(Some(Stop::OutputClosed))
    } else {
        Err(Failure::failed(format!("cannot write to stdout: {error}")))
    }
}

fn seconds(secs: f64) -> Option<Duration> {
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Runs a tracing command to its end.
pub fn trace(command: TraceCommand, signals: StopSignals) -> Result<(), Failure> {
    let common = &command.common;
    let filter = filters::spec(&common.filters);
    ebpf_interceptor::check_filter(&filter)?;
    let otlp = otlp::Config::from_args(&common.otlp).map_err(Failure::usage)?;
    environment::say_ignored(
        environment::Command::Trace,
        command.snapshots.is_some(),
        command.coalesce_ms.is_some(),
    );
    let settings = TracerSettings {
        tcp: command.snapshots.map(seconds),
        udp: command
            .coalesce_ms
            .map(|ms| (ms > 0).then(|| Duration::from_millis(ms))),
        filter: filter.clone(),
        attach: common.attach.clone(),
        transport: common.transport,
        max_sockets: common.max_sockets,
    };
    let (channel, messages) = sync_channel(CHANNEL_CAPACITY);
    let signal_channel = channel.clone();
    signals
        .spawn_waiter(move |name| {
            let _ = signal_channel.send(Message::Signal(name));
        })
        .map_err(|e| Failure::failed(format!("cannot start the signal thread: {e}")))?;
    let running = Running::start(&settings, &channel)?;
    drop(channel);
    let exporter = otlp
        .map(Exporter::start)
        .transpose()
        .map_err(|e| Failure::failed(format!("cannot start the OTLP exporter: {e}")))?;
    let protocols = Protocols {
        tcp: settings.tcp.is_some(),
        udp: settings.udp.is_some(),
    };
    say(status_line(protocols, &running, &filter, exporter.as_ref()));
    let ipv4_only = common.filters.ipv4 && !common.filters.ipv6;
    let mut sinks = Sinks {
        printer: Printer::new(common.output, protocols, ipv4_only, BufWriter::new(io::stdout().lock())),
        exporter,
        events: 0,
        limit: common.count,
        own_pid: std::process::id(),
    };
    let started = Instant::now();
    let mut finals = Vec::new();
    let stop = match sinks.printer.header() {
        Ok(()) => consume(&messages, &mut sinks, &running, common, started, &mut finals)?,
        Err(e) => output_error(e)?.unwrap_or(Stop::OutputClosed),
    };
    drain(&messages, &mut sinks, running, &mut finals)?;
    say(format_args!(
        "ebpf-interceptor: {} after {:.1} s: {} events",
        stop.describe(),
        started.elapsed().as_secs_f64(),
        sinks.events
    ));
    // TCP first, whichever reader ended first.
    finals.sort_by_key(|(protocol, _)| *protocol);
    for (protocol, stats) in &finals {
        say(tracer_line("", protocol, stats));
    }
    if let Some(exporter) = sinks.exporter.take() {
        let url = exporter.url().to_owned();
        let counters = exporter.finish(otlp::FLUSH_TIMEOUT);
        say(otlp_line("", &counters, &url));
    }
    match stop {
        Stop::TracerEnded(_) => Err(Failure::failed(stop.describe())),
        _ => Ok(()),
    }
}

fn status_line(protocols: Protocols, running: &Running, filter: &str, exporter: Option<&Exporter>) -> String {
    let what = match (protocols.tcp, protocols.udp) {
        (true, true) => "TCP and UDP",
        (true, false) => "TCP",
        _ => "UDP",
    };
    let paths: Vec<String> = running
        .stats()
        .iter()
        .map(|(protocol, stats)| format!("{protocol} {} {}", stats.attach_path, stats.transport))
        .collect();
    let mut line = format!(
        "ebpf-interceptor: tracing {what}, Ctrl-C to stop (attach: {})",
        paths.join(", ")
    );
    if !filter.is_empty() {
        line.push_str(&format!(" filter: {filter}"));
    }
    if let Some(exporter) = exporter {
        line.push_str(&format!(" otlp: {}", exporter.url()));
    }
    line
}

/// Handles messages until a stop; flushes stdout whenever the channel is
/// empty (so output is prompt when quiet and batched under load).
fn consume<W: Write>(
    messages: &Receiver<Message>,
    sinks: &mut Sinks<W>,
    running: &Running,
    common: &CommonTraceArgs,
    started: Instant,
    finals: &mut Finals,
) -> Result<Stop, Failure> {
    let deadline = common.duration.map(|secs| started + Duration::from_secs_f64(secs));
    let stats_every = common.stats.map(Duration::from_secs_f64);
    let mut next_stats = stats_every.map(|every| started + every);
    loop {
        let wake = [deadline, next_stats].into_iter().flatten().min();
        let received = match wake {
            Some(at) => messages.recv_timeout(at.saturating_duration_since(Instant::now())),
            None => messages.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let mut message = match received {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Ok(Stop::TracerEnded("every")),
        };
        while let Some(current) = message.take() {
            let stop = match current {
                Message::Event(event) => sinks.event(&event)?,
                Message::Signal(name) => Some(Stop::Signal(name)),
                Message::Ended { protocol, stats } => {
                    finals.push((protocol, stats));
                    Some(Stop::TracerEnded(protocol))
                }
                Message::Key(_) => None,
            };
            if let Some(stop) = stop {
                return Ok(stop);
            }
            message = messages.try_recv().ok();
        }
        if let Some(stop) = sinks.flush()? {
            return Ok(stop);
        }
        let now = Instant::now();
        if deadline.is_some_and(|at| now >= at) {
            return Ok(Stop::Duration);
        }
        if let (Some(at), Some(every)) = (next_stats, stats_every) {
            if now >= at {
                print_stats(running, sinks.exporter.as_ref());
                next_stats = Some(at + every);
            }
        }
    }
}

fn print_stats(running: &Running, exporter: Option<&Exporter>) {
    for (protocol, stats) in running.stats() {
        say(tracer_line("stats: ", protocol, &stats));
    }
    if let Some(exporter) = exporter {
        say(otlp_line("stats: ", &exporter.counters(), exporter.url()));
    }
}

/// Each tracer's final counters, as its reader ends.
type Finals = Vec<(&'static str, ebpf_interceptor::Stats)>;

/// Stops the readers and takes what they drained (printed and exported
/// unless the output was closed or --count was reached), collecting each
/// tracer's final counters.
fn drain<W: Write>(
    messages: &Receiver<Message>,
    sinks: &mut Sinks<W>,
    running: Running,
    finals: &mut Finals,
) -> Result<(), Failure> {
    running.stop();
    let mut output_open = true;
    while finals.len() < running.count() {
        match messages.recv() {
            Ok(Message::Event(event)) if output_open => {
                if let Some(Stop::OutputClosed) = sinks.event(&event)? {
                    output_open = false;
                }
            }
            Ok(Message::Ended { protocol, stats }) => finals.push((protocol, stats)),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    if output_open {
        sinks.flush()?;
    }
    running.join();
    Ok(())
}
