//! Starting the tracers and reading them: one thread per tracer moves its
//! events into one bounded channel, which the main loop consumes with the
//! signals (and, in `top`, the keys). A consumer that falls behind makes the
//! readers wait, the tracers' queues then shed their oldest events, and the
//! counters say so: memory stays bounded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::Duration;

use ebpf_interceptor::{Event, Protocol, Stats, StopHandle, Tracer, TracerBuilder, Transport};

use crate::args::TransportArg;
use crate::failure::Failure;

/// Messages of the main loop's channel.
pub enum Message {
    Event(Event),
    /// A stop signal arrived (its name).
    Signal(&'static str),
    /// A reader stopped after draining its tracer: its final counters.
    Ended {
        protocol: &'static str,
        stats: Stats,
    },
    /// A key pressed (top).
    Key(u8),
}

/// Room in the channel, in messages.
pub const CHANNEL_CAPACITY: usize = 4096;

/// How often a reader with nothing to read checks whether to stop.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// What to trace and how.
#[derive(Debug, Clone, Default)]
pub struct TracerSettings {
    /// Trace TCP, with snapshots every this often (`Some(None)`: none).
    pub tcp: Option<Option<Duration>>,
    /// Trace UDP, coalescing to one event per socket per this (`Some(None)`:
    /// one per call).
    pub udp: Option<Option<Duration>>,
    /// The filter spec (may be empty).
    pub filter: String,
    pub attach: Option<String>,
    pub transport: Option<TransportArg>,
    pub max_sockets: Option<u32>,
}

impl TracerSettings {
    fn configure<P: Protocol>(&self, mut builder: TracerBuilder<P>) -> TracerBuilder<P> {
        if !self.filter.is_empty() {
            builder = builder.filter(&self.filter);
        }
        if let Some(path) = &self.attach {
            builder = builder.attach_path(path);
        }
        if let Some(transport) = self.transport {
            builder = builder.transport(match transport {
                TransportArg::Ringbuf => Transport::RingBuffer,
                TransportArg::Perf => Transport::PerfBuffer,
            });
        }
        if let Some(sockets) = self.max_sockets {
            builder = builder.max_sockets(sockets);
        }
        builder
    }
}

struct Reader {
    protocol: &'static str,
    handle: StopHandle,
    thread: JoinHandle<()>,
}

/// The running tracers and their reader threads.
pub struct Running {
    readers: Vec<Reader>,
    stop: Arc<AtomicBool>,
}

impl Running {
    /// Starts the tracers (all of them before any reader, so a failure
    /// leaves nothing running), then a reader thread for each.
    pub fn start(settings: &TracerSettings, channel: &SyncSender<Message>) -> Result<Self, Failure> {
        let tcp = match settings.tcp {
            Some(snapshots) => Some(
                settings
                    .configure(ebpf_interceptor::tcp())
                    .snapshot_interval(snapshots)
                    .start()?,
            ),
            None => None,
        };
        let udp = match settings.udp {
            Some(coalesce) => Some(settings.configure(ebpf_interceptor::udp()).coalesce(coalesce).start()?),
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let mut running = Self {
            readers: Vec::new(),
            stop,
        };
        if let Some(tracer) = tcp {
            running.spawn("tcp", tracer, channel)?;
        }
        if let Some(tracer) = udp {
            running.spawn("udp", tracer, channel)?;
        }
        Ok(running)
    }

    fn spawn<P: Protocol>(
        &mut self,
        protocol: &'static str,
        tracer: Tracer<P>,
        channel: &SyncSender<Message>,
    ) -> Result<(), Failure>
    where
        P::Event: Into<Event>,
    {
        let handle = tracer.stop_handle();
        let stop = Arc::clone(&self.stop);
        let channel = channel.clone();
        let thread = std::thread::Builder::new()
            .name(format!("{protocol}-reader"))
            .spawn(move || read(protocol, tracer, &channel, &stop))
            .map_err(|e| Failure::failed(format!("cannot start a reader thread: {e}")))?;
        self.readers.push(Reader {
            protocol,
            handle,
            thread,
        });
        Ok(())
    }

    /// Counters of each tracer now.
    pub fn stats(&self) -> Vec<(&'static str, Stats)> {
        self.readers.iter().map(|r| (r.protocol, r.handle.stats())).collect()
    }

    /// Asks the readers to stop: each drains its tracer into the channel,
    /// then sends [`Message::Ended`].
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// How many readers there are (as many `Ended` messages will come).
    pub fn count(&self) -> usize {
        self.readers.len()
    }

    /// Waits for the readers after their `Ended` messages arrived.
    pub fn join(self) {
        for reader in self.readers {
            let _ = reader.thread.join();
        }
    }
}

fn read<P: Protocol>(protocol: &'static str, tracer: Tracer<P>, channel: &SyncSender<Message>, stop: &AtomicBool)
where
    P::Event: Into<Event>,
{
    while !stop.load(Ordering::Relaxed) {
        match tracer.next_timeout(STOP_CHECK) {
            Ok(Some(event)) => {
                if channel.send(Message::Event(event.into())).is_err() {
                    break;
                }
            }
            Ok(None) => {}
            Err(_) => break,
        }
    }
    let (rest, stats) = tracer.stop_and_drain();
    for event in rest {
        if channel.send(Message::Event(event.into())).is_err() {
            break;
        }
    }
    let _ = channel.send(Message::Ended { protocol, stats });
}
