//! `--otlp URL`: every event as an OpenTelemetry log record, POSTed to
//! URL/v1/logs as OTLP/HTTP JSON by a thread of its own. Tracing hands
//! events to a bounded buffer ([`buffer`]) and never waits for the
//! collector; the sender batches, retries with backoff ([`backoff`]) and
//! counts what was exported, dropped and failed.

mod backoff;
mod buffer;
mod encode;
mod endpoint;
mod http;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use ebpf_interceptor::Event;

use crate::args::OtlpArgs;
use crate::summary::say;
pub use buffer::Counters;
use buffer::{Buffer, Next, Outcome};
use endpoint::Endpoint;
use http::{Client, Response};

/// How long the exit waits for the last batches to go out.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The exporter's settings, from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    endpoint: Endpoint,
    host_name: String,
    batch_size: usize,
    batch_delay: Duration,
    buffer_batches: usize,
    timeout: Duration,
}

impl Config {
    /// The settings `--otlp` and its companions say; `None` without `--otlp`.
    pub fn from_args(args: &OtlpArgs) -> Result<Option<Self>, String> {
        let Some(url) = &args.otlp else {
            return Ok(None);
        };
        let host_name = match &args.host_name {
            Some(name) if name.trim().is_empty() => return Err("--host-name is empty".to_owned()),
            Some(name) => name.clone(),
            None => this_host_name(),
        };
        Ok(Some(Self {
            endpoint: Endpoint::parse(url)?,
            host_name,
            batch_size: args.batch_size as usize,
            batch_delay: Duration::from_millis(args.batch_delay_ms),
            buffer_batches: args.buffer_batches as usize,
            timeout: Duration::from_secs_f64(args.timeout_secs),
        }))
    }
}

/// This host's name (uname's nodename).
fn this_host_name() -> String {
    let mut name = [0u8; 256];
    // SAFETY: a buffer of the size passed; gethostname NUL-terminates
    // within it when the name fits (it always does in 256 bytes on Linux).
    let rc = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) };
    let end = name.iter().position(|&b| b == 0).unwrap_or(0);
    if rc != 0 || end == 0 {
        return "unknown".to_owned();
    }
    String::from_utf8_lossy(&name[..end]).into_owned()
}

/// A running exporter.
pub struct Exporter {
    buffer: Arc<Buffer>,
    sender: Option<JoinHandle<()>>,
    url: String,
}

impl Exporter {
    /// Starts the sending thread.
    pub fn start(config: Config) -> std::io::Result<Self> {
        let buffer = Arc::new(Buffer::new(
            config.batch_size,
            config.batch_delay,
            config.buffer_batches,
        ));
        let url = config.endpoint.url();
        let shared = Arc::clone(&buffer);
        let sender = std::thread::Builder::new()
            .name("otlp-sender".into())
            .spawn(move || send_loop(&shared, &config))?;
        Ok(Self {
            buffer,
            sender: Some(sender),
            url,
        })
    }

    /// Hands an event over (copied; never blocks on the network).
    pub fn push(&self, event: &Event) {
        self.buffer.push(encode::Record {
            event: event.clone(),
            observed: SystemTime::now(),
        });
    }

    /// Counters now.
    pub fn counters(&self) -> Counters {
        self.buffer.counters()
    }

    /// Where records go.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends what is held, waiting at most `within` (plus the request under
    /// way), and returns the final counters.
    pub fn finish(mut self, within: Duration) -> Counters {
        self.buffer.close();
        self.buffer.wait_flushed(Instant::now() + within);
        if let Some(sender) = self.sender.take() {
            let _ = sender.join();
        }
        self.buffer.counters()
    }
}

/// The collector may be asked again later (OTLP/HTTP's retryable codes).
fn retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Records the collector refused, from an OTLP partial-success answer.
fn rejected_records(response: &Response) -> u64 {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&response.body) else {
        return 0;
    };
    let rejected = &answer["partialSuccess"]["rejectedLogRecords"];
    rejected
        .as_u64()
        .or_else(|| rejected.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// Says on stderr when exporting starts failing and when it recovers, once
/// per streak (the counts are in --stats and the summary).
struct FailureReport {
    url: String,
    failing_since: Option<u64>,
}

impl FailureReport {
    fn failed(&mut self, why: &str, failed_so_far: u64) {
        if self.failing_since.is_none() {
            say(format_args!(
                "ebpf-interceptor: otlp: export to {} failed: {why}; retrying with backoff (counted as failed; the oldest batches are dropped when the buffer is full)",
                self.url
            ));
            self.failing_since = Some(failed_so_far);
        }
    }

    fn recovered(&mut self, failed_so_far: u64) {
        if let Some(before) = self.failing_since.take() {
            say(format_args!(
                "ebpf-interceptor: otlp: exporting to {} again after {} failed requests",
                self.url,
                failed_so_far - before
            ));
        }
    }
}

fn send_loop(buffer: &Buffer, config: &Config) {
    let mut client = Client::new(config.endpoint.clone(), config.timeout);
    let mut backoff = backoff::Backoff::new();
    let mut report = FailureReport {
        url: config.endpoint.url(),
        failing_since: None,
    };
    while let Next::Send(batch) = buffer.take() {
        let body = encode::request(&config.host_name, &batch);
        let failed_so_far = buffer.counters().failed;
        let outcome = match client.post_json(body.as_bytes()) {
            Ok(response) if (200..300).contains(&response.status) => {
                backoff.succeeded();
                report.recovered(failed_so_far);
                Outcome::Accepted {
                    rejected: rejected_records(&response),
                }
            }
            Ok(response) if retryable(response.status) => {
                report.failed(&format!("HTTP {}", response.status), failed_so_far);
                Outcome::Failed {
                    retry_in: Some(backoff.failed(response.retry_after)),
                }
            }
            Ok(response) => {
                let answer = String::from_utf8_lossy(&response.body);
                say(format_args!(
                    "ebpf-interceptor: otlp: {} refused a batch of {} records with HTTP {} ({}); dropped",
                    report.url,
                    batch.len(),
                    response.status,
                    answer.chars().take(200).collect::<String>().trim()
                ));
                Outcome::Failed { retry_in: None }
            }
            Err(e) => {
                report.failed(&e.to_string(), failed_so_far);
                Outcome::Failed {
                    retry_in: Some(backoff.failed(None)),
                }
            }
        };
        buffer.settle(batch, outcome);
    }
}
