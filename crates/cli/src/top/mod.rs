//! `ebpf-interceptor top`: a live per-process table of TCP and UDP
//! throughput, refreshed every interval, from TCP snapshots (four per
//! interval), closes and UDP events (coalesced to four per interval).

mod accounting;
mod table;
mod terminal;

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::{Duration, Instant, SystemTime};

use crate::args::{SortKey, TopArgs};
use crate::environment;
use crate::failure::Failure;
use crate::filters;
use crate::signals::StopSignals;
use crate::summary::{say, tracer_line};
use crate::time_text::rfc3339_nanos;
use crate::tracing::{CHANNEL_CAPACITY, Message, Running, TracerSettings};
use accounting::Accounting;
use table::Row;
use terminal::Screen;

/// Lines above the table on the interactive screen.
const TITLE_LINES: usize = 2;

/// Where tables go.
enum Display {
    Screen(Screen),
    /// Plain tables on stdout, one after another.
    Plain,
}

/// What the loop shows and how it was asked to end.
struct View {
    sort: SortKey,
    rows: Vec<Row>,
    window_end: SystemTime,
    interval: Duration,
    max_rows: Option<usize>,
}

impl View {
    fn lines(&self, interactive: bool) -> Vec<String> {
        let mut rows = self.rows.clone();
        table::sort(&mut rows, self.sort);
        let fit = if interactive {
            terminal::size().0.saturating_sub(TITLE_LINES + 1).max(1)
        } else {
            usize::MAX
        };
        let shown = self.max_rows.unwrap_or(usize::MAX).min(fit);
        let mut lines = vec![if interactive {
            format!(
                "ebpf-interceptor top - {} - every {:.1} s - sorted by {} - {} processes (q quits, s sorts)",
                crate::time_text::clock(self.window_end),
                self.interval.as_secs_f64(),
                table::sort_name(self.sort),
                rows.len()
            )
        } else {
            format!(
                "# time={} interval={:.3} sort={} processes={}",
                rfc3339_nanos(self.window_end),
                self.interval.as_secs_f64(),
                table::sort_name(self.sort),
                rows.len()
            )
        }];
        if interactive {
            lines.push(String::new());
        }
        lines.push(table::header());
        lines.extend(rows.iter().take(shown).map(|row| table::line(row, !interactive)));
        lines
    }
}

/// Runs `top` until q, a signal, or the asked number of tables.
pub fn run(args: TopArgs, signals: StopSignals) -> Result<(), Failure> {
    let filter = filters::spec(&args.filters);
    ebpf_interceptor::check_filter(&filter)?;
    environment::say_ignored(environment::Command::Top, true, true);
    let interval = Duration::from_secs_f64(args.interval);
    // Four observations per interval keep every window covered; the lag
    // lets the observation after a window's end arrive before it is shown.
    let sample = (interval / 4).max(Duration::from_millis(50));
    let lag = sample + Duration::from_millis(150);
    let settings = TracerSettings {
        tcp: Some(Some(sample)),
        udp: Some(Some(sample)),
        filter,
        attach: args.attach.clone(),
        transport: args.transport,
        max_sockets: None,
    };
    let (channel, messages) = sync_channel(CHANNEL_CAPACITY);
    let signal_channel = channel.clone();
    signals
        .spawn_waiter(move |name| {
            let _ = signal_channel.send(Message::Signal(name));
        })
        .map_err(|e| Failure::failed(format!("cannot start the signal thread: {e}")))?;
    let running = Running::start(&settings, &channel)?;
    // Windows count from here, before anyone is told tracing began.
    let origin = (SystemTime::now(), Instant::now());
    let tables = if args.once { Some(1) } else { args.iterations };
    let interactive = tables.is_none() && terminal::is_terminal(libc::STDOUT_FILENO);
    let display = if interactive {
        let screen = Screen::enter().map_err(|e| Failure::failed(format!("cannot set up the terminal: {e}")))?;
        screen
            .spawn_key_reader(channel.clone())
            .map_err(|e| Failure::failed(format!("cannot read keys: {e}")))?;
        Display::Screen(screen)
    } else {
        say(format_args!(
            "ebpf-interceptor: top: tracing TCP and UDP, a table every {:.1} s, Ctrl-C to stop",
            interval.as_secs_f64()
        ));
        Display::Plain
    };
    drop(channel);
    let mut view = View {
        sort: args.sort,
        rows: Vec::new(),
        window_end: SystemTime::now(),
        interval,
        max_rows: args.rows.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let mut finals = Vec::new();
    let outcome = refresh_loop(
        &messages,
        &display,
        &mut view,
        origin,
        (interval, lag),
        tables,
        &mut finals,
    );
    // Leave the alternate screen before anything goes to stderr.
    drop(display);
    finish(&messages, running, &mut finals);
    let reason = outcome?;
    say(format_args!(
        "ebpf-interceptor: top {reason} after {:.1} s",
        origin.1.elapsed().as_secs_f64()
    ));
    finals.sort_by_key(|(protocol, _)| *protocol);
    for (protocol, stats) in &finals {
        say(tracer_line("", protocol, stats));
    }
    Ok(())
}

fn show(display: &Display, view: &View) -> io::Result<()> {
    match display {
        Display::Screen(screen) => screen.draw(&view.lines(true)),
        Display::Plain => {
            let mut out = io::stdout().lock();
            for line in view.lines(false) {
                writeln!(out, "{line}")?;
            }
            writeln!(out)?;
            out.flush()
        }
    }
}

/// Takes events into the accounting and shows a table per window, until a
/// stop; returns why it stopped.
fn refresh_loop(
    messages: &Receiver<Message>,
    display: &Display,
    view: &mut View,
    (origin, origin_instant): (SystemTime, Instant),
    (interval, lag): (Duration, Duration),
    tables: Option<u64>,
    finals: &mut Finals,
) -> Result<String, Failure> {
    let mut accounting = Accounting::new(origin, interval);
    let own_pid = std::process::id();
    let mut window: u64 = 0;
    loop {
        let show_at = origin_instant + interval.mul_f64((window + 1) as f64) + lag;
        match messages.recv_timeout(show_at.saturating_duration_since(Instant::now())) {
            Ok(Message::Event(event)) => {
                if event.pid() != own_pid {
                    accounting.observe(&event);
                }
            }
            Ok(Message::Signal(name)) => return Ok(format!("stopped by {name}")),
            Ok(Message::Key(b'q' | b'Q')) => return Ok("stopped by q".to_owned()),
            Ok(Message::Key(b's' | b'S')) => {
                view.sort = table::next_sort(view.sort);
                if let Display::Screen(_) = display {
                    show(display, view).map_err(screen_error)?;
                }
            }
            Ok(Message::Key(_)) => {}
            Ok(Message::Ended { protocol, stats }) => {
                finals.push((protocol, stats));
                return Err(Failure::failed(format!("the {protocol} tracer ended unexpectedly")));
            }
            Err(RecvTimeoutError::Disconnected) => return Ok("stopped".to_owned()),
            Err(RecvTimeoutError::Timeout) => {
                view.window_end = origin + interval.mul_f64((window + 1) as f64);
                view.rows = accounting
                    .take(window)
                    .into_iter()
                    .map(|(pid, comm, totals)| Row::new(pid, comm, &totals, interval))
                    .collect();
                match show(display, view) {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                        return Ok("stopped: stdout was closed".to_owned());
                    }
                    other => other.map_err(screen_error)?,
                }
                window += 1;
                if tables.is_some_and(|n| window >= n) {
                    let plural = if window == 1 { "" } else { "s" };
                    return Ok(format!("printed {window} table{plural}"));
                }
            }
        }
    }
}

fn screen_error(error: io::Error) -> Failure {
    Failure::failed(format!("cannot write to stdout: {error}"))
}

/// Each tracer's final counters, as its reader ends.
type Finals = Vec<(&'static str, ebpf_interceptor::Stats)>;

/// Stops the tracers (what they drained no longer matters) and collects
/// their final counters.
fn finish(messages: &Receiver<Message>, running: Running, finals: &mut Finals) {
    running.stop();
    while finals.len() < running.count() {
        match messages.recv() {
            Ok(Message::Ended { protocol, stats }) => finals.push((protocol, stats)),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    running.join();
}
