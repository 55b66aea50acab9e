//! UDP figures: overhead with an event per call and with coalescing.

use testkit::udp::UdpEvent;

use crate::consumer::Dequeue;
use crate::loops::udp_loop;
use crate::options::Options;
use crate::overhead::{LibraryRun, library};
use crate::report::{Report, percent, rounds_text};

/// Figures 4 and 4b.
pub fn run(report: &mut Report, options: &Options) {
    let n = options.udp_pairs;
    let workload = || udp_loop(n);
    for (label, env, goal) in [
        ("4. UDP overhead, an event per call (default)", &[][..], "-"),
        (
            "4b. UDP overhead, coalescing 100 ms",
            &[("EBPF_INTERCEPTOR_UDP_COALESCE_MS", "100")][..],
            "<= 5 %",
        ),
    ] {
        let run = LibraryRun {
            env,
            dequeue: Dequeue::Original,
        };
        let (rounds, counts) = library::<UdpEvent>(options.rounds, n, &workload, &run);
        let (received, stats) = &counts[counts.len() - 1];
        let (shed, lost) = (stats.shed, stats.lost);
        report.add(
            label,
            percent(&rounds),
            goal,
            format!(
                "{n} sendto/recvfrom pairs of 64 B per round; rounds: {}; untraced {:.0} pairs/s; last round delivered {received}, shed {shed}, lost {lost}",
                rounds_text(&rounds.lost),
                n as f64 / rounds.untraced_secs
            ),
        );
    }
}
