//! The C libraries' `EBPF_INTERCEPTOR_*` variables are not this command's
//! settings: it takes options. A variable set in its environment is said
//! once on stderr with the option to use instead, so that a filter meant
//! for the libraries never lets everything through unannounced.

use std::collections::BTreeSet;

use ebpf_interceptor::environment::{Setting, TCP_VARIABLES, UDP_VARIABLES};

use crate::summary::say;

/// Which command reads its settings from options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `ebpf-interceptor`, `tcp`, `udp`.
    Trace,
    /// `top`: sets the intervals itself and has no `--max-sockets`.
    Top,
}

/// What `command` takes instead of the variable standing for `setting`.
fn instead(command: Command, setting: Setting) -> &'static str {
    match (setting, command) {
        (Setting::Filter, _) => "use --filter SPEC (or -p, -u, -c, -P, -L, -D, -4, -6, --cgroup, --netns)",
        (Setting::AttachPath, _) => "use --attach PATH",
        (Setting::Transport, _) => "use --transport ringbuf|perf",
        (Setting::MaxSockets, Command::Trace) => "use --max-sockets N",
        (Setting::SnapshotInterval, Command::Trace) => "use --snapshots SECS",
        (Setting::Coalesce, Command::Trace) => "use --coalesce MS",
        (Setting::MaxSockets, Command::Top) => "top uses the default",
        (Setting::SnapshotInterval | Setting::Coalesce, Command::Top) => "top sets it from --interval",
    }
}

/// Says, once each, which of the traced protocols' variables are set.
pub fn say_ignored(command: Command, tcp: bool, udp: bool) {
    let traced = tcp
        .then_some(TCP_VARIABLES)
        .into_iter()
        .flatten()
        .chain(udp.then_some(UDP_VARIABLES).into_iter().flatten());
    // The transport variable serves both libraries: said once.
    let mut said = BTreeSet::new();
    for (name, setting) in traced {
        if std::env::var_os(name).is_none() || !said.insert(name) {
            continue;
        }
        say(format_args!(
            "ebpf-interceptor: {name} is set but not read (the EBPF_INTERCEPTOR_* variables are the C libraries' settings): {}",
            instead(command, setting)
        ));
    }
}
