//! UDP figures, each read against two references measured in the same run:
//! the floor (the library's hooks on the same attach path with programs that
//! return at once) and the peer (bpftrace with per-socket sum()/count()
//! maps). Every figure gives the throughput lost and the time added per
//! datagram pair, so loops of different speeds compare.

use testkit::udp::UdpEvent;

use crate::consumer::Dequeue;
use crate::floor;
use crate::loops::udp_loop;
use crate::options::Options;
use crate::overhead::{LibraryRun, Rounds, interleaved, library};
use crate::peers::{self, Bpftrace};
use crate::report::{Report, min_median, percent_and_ns, rounds_text};

/// The medians a figure is read against.
struct Reference {
    name: &'static str,
    lost: f64,
    ns: f64,
}

impl Reference {
    fn of(name: &'static str, rounds: &Rounds) -> Self {
        Self {
            name,
            lost: min_median(&rounds.lost).1,
            ns: min_median(&rounds.added_ns).1,
        }
    }
}

/// The peer script for this kernel, and what it hooks: the sock_*_length
/// tracepoints (6.3+), else the returns of the UDP send and receive
/// functions (the library's fentry path).
fn peer_script() -> (String, &'static str) {
    if std::path::Path::new("/sys/kernel/tracing/events/sock/sock_send_length").exists()
        || std::path::Path::new("/sys/kernel/debug/tracing/events/sock/sock_send_length").exists()
    {
        (
            peers::script("udp_socket_counters.bt"),
            "tracepoints sock:sock_send_length/sock_recv_length",
        )
    } else {
        (
            peers::script("udp_socket_counters.fexit.bt"),
            "kretfunc (fexit) on udp_sendmsg, udpv6_sendmsg, udp_recvmsg, udpv6_recvmsg (no sock_*_length tracepoints here)",
        )
    }
}

/// "floor +2.0 % (+120 ns/pair), peer +20.1 % (+1500 ns/pair)" (medians).
fn beside(references: &[Reference]) -> String {
    let parts: Vec<String> = references
        .iter()
        .map(|r| format!("{} {:+.1} % ({:+.0} ns/pair)", r.name, r.lost, r.ns))
        .collect();
    if parts.is_empty() {
        "no floor or peer measured".into()
    } else {
        format!("medians beside: {}", parts.join(", "))
    }
}

/// Figures 4f, 4p, 4, 4b, 4c and 4d.
pub fn run(report: &mut Report, options: &Options) {
    let n = options.udp_pairs;
    let workload = || udp_loop(n);
    let loop_text = format!("{n} sendto/recvfrom pairs of 64 B per round");
    let mut references = Vec::new();

    // The floor.
    let (rounds, started) = floor::measure(options.rounds, n, &workload, floor::udp::start);
    match started {
        Ok(path) => {
            report.add(
                "4f. UDP floor: the library's hooks, same attach path, programs that return at once",
                percent_and_ns(&rounds, "pair"),
                "-",
                format!(
                    "{loop_text}; attach path {path}, with the cgroup hooks the path uses; rounds: {}; untraced {:.0} pairs/s",
                    rounds_text(&rounds.lost),
                    n as f64 / rounds.untraced_secs
                ),
            );
            references.push(Reference::of("floor", &rounds));
        }
        Err(e) => report.add(
            "4f. UDP floor",
            ("n/a".into(), "n/a".into()),
            "-",
            format!("the floor object did not start: {e}"),
        ),
    }

    // The peer.
    let (script, hooks) = peer_script();
    let script = std::env::var("UDP_PEER_SCRIPT").unwrap_or(script);
    let (rounds, outputs) = interleaved(
        options.rounds,
        n,
        &workload,
        || Bpftrace::start(&script),
        |bpftrace| bpftrace.map(Bpftrace::stop),
    );
    match outputs.into_iter().collect::<Option<Vec<Vec<String>>>>() {
        Some(outputs) => {
            let counted: Vec<String> = outputs
                .iter()
                .map(|lines| {
                    format!(
                        "{}/{}",
                        peers::map_total(lines, "tx_datagrams"),
                        peers::map_total(lines, "rx_datagrams")
                    )
                })
                .collect();
            report.add(
                "4p. UDP peer: bpftrace per-socket sum()/count() maps (bench/udp_socket_counters*.bt)",
                percent_and_ns(&rounds, "pair"),
                "-",
                format!(
                    "{loop_text}; {hooks}; rounds: {}; \
                     datagrams counted per round (sent/received, all UDP sockets of the host) {}; {}",
                    rounds_text(&rounds.lost),
                    counted.join(", "),
                    peers::version()
                ),
            );
            references.push(Reference::of("peer", &rounds));
        }
        None => report.add(
            "4p. UDP peer: bpftrace per-socket counters (bench/udp_socket_counters.bt)",
            ("n/a".into(), "n/a".into()),
            "-",
            peers::not_started(),
        ),
    }

    for (label, env, goal, dequeue) in [
        (
            "4. UDP overhead, an event per call (default)",
            &[][..],
            "<= 10 %, < peer",
            Dequeue::Original,
        ),
        (
            "4b. UDP overhead, coalescing 100 ms",
            &[("EBPF_INTERCEPTOR_UDP_COALESCE_MS", "100")][..],
            "<= 5 %, < peer",
            Dequeue::Original,
        ),
        (
            "4c. UDP overhead, consumer on udpEvent_DequeueEx, an event per call",
            &[][..],
            "-",
            Dequeue::Ex,
        ),
        (
            "4d. UDP overhead of traffic a filter excludes (EBPF_INTERCEPTOR_UDP_FILTER=port=1)",
            &[("EBPF_INTERCEPTOR_UDP_FILTER", crate::figures::tcp::EXCLUDING_FILTER)][..],
            "<= 1 %",
            Dequeue::Ex,
        ),
    ] {
        let run = LibraryRun { env, dequeue };
        let (rounds, counts) = library::<UdpEvent>(options.rounds, n, &workload, &run);
        let (received, stats) = &counts[counts.len() - 1];
        let (shed, lost, emitted, path) = (stats.shed, stats.lost, stats.kernel_emitted, stats.attach_path());
        report.add(
            label,
            percent_and_ns(&rounds, "pair"),
            goal,
            format!(
                "{loop_text}; attach path {path}; rounds: {}; {}; last round emitted {emitted}, delivered {received}, shed {shed}, lost {lost}",
                rounds_text(&rounds.lost),
                beside(&references)
            ),
        );
    }
}
